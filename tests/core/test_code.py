"""app.core.code.parse_model: pasted model code read with ``ast`` only, never executed.

Two halves:
- safety: hostile programs (deep nesting, long chains, huge literals, size caps, code that would run
  something if it were executed) are refused with a CodeError that says why, fast; property tests feed
  syntactically valid programs (hypothesmith), model-shaped programs and random text;
- reading: the ways people write models (Keras Sequential lists, model.add chains, the functional API,
  Input/InputLayer/input_shape=, every alias; PyTorch nn.Sequential, torch.nn spelled out, nn.Module
  classes with forward chains), constants and __init__ defaults, unresolved names, unknown layers.

Expected numbers are the recordings in tests/golden/traces.json (real Keras 3 and PyTorch 2) or are
computed here by the frameworks' documented formulas, never read back from the app.
"""
import ast
import json
import math
import re
import time
from pathlib import Path

import hypothesmith
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.code import MAX_CHARS, MAX_ITEMS, MAX_NODES, MAX_NUMBER, CodeError, ParsedModel, parse_model
from app.core.trace import show_shape, trace

MODELS = {m["id"]: m for m in json.loads(
    (Path(__file__).resolve().parents[1] / "golden" / "traces.json").read_text())["models"]}
FRAMEWORKS = ["torch", "keras"]
# generated programs are full of `"\d"`-style escapes and `3(4)` calls: ast.parse warns, and that is fine
pytestmark = pytest.mark.filterwarnings("ignore::SyntaxWarning", "ignore:invalid escape sequence:DeprecationWarning")
FAST = 3.0  # CPU seconds (time.process_time: a loaded CI machine's waits do not count); bench/hostile.py times them


def torch_with(arg: str) -> str:
    """A PyTorch model whose first layer argument is `arg`."""
    return f"import torch.nn as nn\nmodel = nn.Sequential(nn.Linear({arg}, 3))\n"


def keras_with(arg: str) -> str:
    """A Keras model whose first layer argument is `arg`."""
    return f"from keras import layers, models\nmodel = models.Sequential([layers.Dense({arg})])\n"


IN_LAYER = {"torch": torch_with, "keras": keras_with}
KEYWORD = {"torch": "in_features", "keras": "units"}  # the keyword the first positional argument fills
PLAIN = {"torch": torch_with("4"), "keras": keras_with("4")}


def refused(code: str, framework: str | None, variables: dict | None = None) -> str:
    """parse_model raises CodeError (nothing else) within FAST seconds; returns the message."""
    start = time.process_time()
    with pytest.raises(CodeError) as caught:
        parse_model(code, framework, variables)
    took = time.process_time() - start
    assert took < FAST, f"took {took:.2f} s"
    message = str(caught.value)
    assert len(message) > 15, message
    return message


def parsed_fast(code: str, framework: str | None, variables: dict | None = None, **options) -> ParsedModel:
    start = time.process_time()
    model = parse_model(code, framework, variables, **options)
    took = time.process_time() - start
    assert took < FAST, f"took {took:.2f} s"
    return model


def rows(model: ParsedModel, shape):
    t = trace(model.framework, tuple(shape), model.layers)
    return t, [(r.type, show_shape(r.output_shape, t.batch_known), r.params) for r in t.rows]


def golden_rows(model_id: str):
    return [(r["type"], r["output_shape"], r["params"]) for r in MODELS[model_id]["layers"]]


def count_nodes(code: str) -> int:
    return sum(1 for _ in ast.walk(ast.parse(code)))


# ================================================================= hostile input

@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("code, says", [
    ("(" * 10_000 + ")" * 10_000, r"nest|parenthes|deep"),
    ("[" * 19_000, r"nest|parenthes|deep|never closed"),     # under the length cap: the parser's own limit
    ("[" * 100_000, r"100,000 characters.*20,000"),          # over the length cap: refused before parsing
    ("f(" * 5_000 + ")" * 5_000, r"nest|parenthes|deep"),
    ("+".join(["a"] * 5_000), r"nest|deep|large"),
    ("x = " + "-" * 5_000 + "1\n", r"nest|deep|large"),
], ids=["parens-10000", "brackets-19000", "brackets-100000", "calls-5000", "chain-5000", "unary-5000"])
def test_deep_nesting_at_top_level_is_refused_fast(framework, code, says):
    assert re.search(says, refused(code, framework))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arg, says", [
    ("f(" * 5_000 + "1" + ")" * 5_000, r"nest|parenthes|deep"),
    ("+".join(["a"] * 5_000), r"nest|deep|large"),
    ("+".join(["1"] * 5_000), r"nest|deep|large"),
    ("(" * 5_000 + "1" + ")" * 5_000, r"nest|parenthes|deep"),
], ids=["calls-5000", "chain-names-5000", "chain-numbers-5000", "parens-5000"])
def test_deep_nesting_inside_a_layer_argument_is_refused_fast(framework, arg, says):
    assert re.search(says, refused(IN_LAYER[framework](arg), framework))


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_power_tower_is_never_evaluated(framework):
    # as a layer argument: named, not computed (10**10**10 has ten billion digits)
    message = refused(IN_LAYER[framework]("10**10**10"), framework)
    assert "10 ** 10 ** 10" in message and KEYWORD[framework] in message
    # as a constant a layer uses: explained where it is written, not computed and not asked for
    assert "10 ** 10 ** 10" in refused("n = 10**10**10\n" + IN_LAYER[framework]("n"), framework)
    # as a bare statement next to a model: ignored
    model = parsed_fast("10**10**10\n" + PLAIN[framework], framework)
    assert model.layers[0][KEYWORD[framework]] == 4


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("literal", ["1e400", "-1e400", "2147483649", "3.5e9", "65536 * 65536"])
def test_numbers_past_the_cap_are_refused_with_the_cap(framework, literal):
    message = refused(IN_LAYER[framework](literal), framework)
    assert "2^31" in message and KEYWORD[framework] in message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_numbers_at_the_cap_are_read(framework):
    model = parsed_fast(IN_LAYER[framework](str(MAX_NUMBER)), framework)
    assert model.layers[0][KEYWORD[framework]] == 2**31


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("where", ["argument", "constant"])
def test_int_with_ten_thousand_digits_is_refused(framework, where):
    big = "1" + "0" * 9_999
    code = IN_LAYER[framework](big) if where == "argument" else f"n = {big}\n" + IN_LAYER[framework]("n")
    assert re.search(r"digits|large|2\^31", refused(code, framework))


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("where", ["argument", "constant"])
def test_int_with_four_hundred_digits_is_refused(framework, where):
    big = "1" + "0" * 400  # > float max (1.8e308), under Python's 4,300-digit parsing limit
    code = IN_LAYER[framework](big) if where == "argument" else f"n = {big}\n" + IN_LAYER[framework]("n")
    assert "2^31" in refused(code, framework)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_length_cap_is_exact(framework):
    code = PLAIN[framework]
    at_cap = code + "#" * (MAX_CHARS - len(code))
    assert len(at_cap) == MAX_CHARS
    assert parsed_fast(at_cap, framework).layers[0][KEYWORD[framework]] == 4
    message = refused(at_cap + "#", framework)
    assert "20,001 characters" in message and "20,000" in message


def _padded_to(code: str, nodes: int) -> str:
    """`code` plus harmless statements, `nodes` syntax nodes in all (ast.walk counts), under MAX_CHARS."""
    line = "a+a+a+a+a+a+a+a\n"  # 30 nodes in 16 characters (the Module node is counted once)
    per_line = count_nodes(line) - 1
    missing = nodes - count_nodes(code)
    lines, rest = divmod(missing, per_line)
    tail = ""
    while rest:  # `1` is 2 nodes (Expr, Constant), `a` 3 (Expr, Name, Load)
        step = 3 if rest % 2 else 2
        tail += "a\n" if step == 3 else "1\n"
        rest -= step
    padded = code + line * lines + tail
    assert count_nodes(padded) == nodes and len(padded) < MAX_CHARS
    return padded


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_node_cap_is_exact(framework):
    at_cap = _padded_to(PLAIN[framework], MAX_NODES)
    assert parsed_fast(at_cap, framework).layers[0][KEYWORD[framework]] == 4
    over = _padded_to(PLAIN[framework], MAX_NODES + 1)
    assert "20,000 syntax nodes" in refused(over, framework)


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_code_that_would_run_commands_is_read_not_run(framework, tmp_path):
    marker = tmp_path / "pwned"
    run = f"__import__('os').system('touch {marker}')"
    write = f"open({str(marker)!r}, 'w').write('x')"
    # inside a layer argument: refused, with the expression named
    for payload in (run, write, f"eval({run!r})", f"exec({run!r})"):
        message = refused(IN_LAYER[framework](payload), framework)
        assert "cannot read" in message and KEYWORD[framework] in message
    # at top level, around a model that reads fine
    program = "\n".join([run, write, f"eval({run!r})", f"exec({write!r})", f"x = {run}", PLAIN[framework],
                         "class Evil:\n    def __del__(self):\n        " + run, "Evil()"])
    model = parsed_fast(program, framework)
    assert model.layers[0][KEYWORD[framework]] == 4
    assert not marker.exists()


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arg, shown", [
    ("eval('4')", "eval('4')"),
    ("(lambda: 4)()", "lambda"),
    ("int('4')", "int('4')"),
    ("open('f').read()", "open('f')"),
    ("(n := 4)", ":="),
], ids=["eval", "lambda", "call", "open", "walrus"])
def test_expressions_only_running_the_code_could_give_are_named(framework, arg, shown):
    message = refused(IN_LAYER[framework](arg), framework)
    assert shown in message and KEYWORD[framework] in message and "line 2" in message


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arg, value", [
    ("2 ** 3", 8), ("[i for i in range(4)][-1]", 3), ("8 if True else 2", 8), ("len([1, 2, 3])", 3),
    ("(2, 3)[1] * 2", 6), ("int(7.9)", 7), ("max(2, 5)", 5), ("sum(k for k in (1, 2))", 3),
])
def test_arithmetic_powers_lists_and_builtins_over_constants_are_read(framework, arg, value):
    assert parsed_fast(IN_LAYER[framework](arg), framework).layers[0][KEYWORD[framework]] == value


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("arg, asked", [("x if y else z", "y"), ("a.b", "a.b"), ("x[0]", "x")])
def test_names_the_code_does_not_define_are_asked_for(framework, arg, asked):
    assert asked in parsed_fast(IN_LAYER[framework](arg), framework).unresolved


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_double_star_kwargs_in_a_layer_call_are_read_from_a_dict_or_named(framework):
    call = {"torch": "nn.Sequential(nn.Linear(**cfg))", "keras": "models.Sequential([layers.Dense(**cfg)])"}[framework]
    cfg = {"torch": "{'in_features': 3, 'out_features': 2}", "keras": "{'units': 2}"}[framework]
    model = parsed_fast(f"cfg = {cfg}\nmodel = {call}\n", framework)
    assert model.layers[0][KEYWORD[framework] if framework == "keras" else "out_features"] == 2
    message = refused(f"cfg = load_config()\nmodel = {call}\n", framework)
    assert "**cfg" in message and ("Linear" if framework == "torch" else "Dense") in message


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_tuple_of_a_hundred_items_is_refused_and_sixteen_are_read(framework):
    ones = lambda n: "(" + ", ".join(["1"] * n) + ")"
    layer = {"torch": lambda t: f"import torch.nn as nn\nmodel = nn.Sequential(nn.Conv2d(3, 2, kernel_size={t}))",
             "keras": lambda t: f"from keras import layers\nmodel = keras.Sequential([layers.Conv2D(2, {t})])"}[framework]
    message = refused(layer(ones(100)), framework)
    assert "100 items" in message and f"at most {MAX_ITEMS}" in message and "kernel_size" in message
    model = parsed_fast(layer(ones(MAX_ITEMS)), framework)
    assert model.layers[0]["kernel_size"] == [1] * MAX_ITEMS


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("code", [
    "\ud800",
    torch_with("'\udcff'"),
    "model = nn.Sequential(nn.Linear(3, 2))  # \udfff\n",
    "\x00",
    torch_with("3\x00"),
    "model = nn.Sequential(nn.Linear(3, 2))\n\x00",
], ids=["lone-surrogate", "surrogate-in-string", "surrogate-in-comment", "nul", "nul-in-argument", "nul-at-end"])
def test_non_utf8_text_and_null_bytes_are_refused(framework, code):
    refused(code, framework)


@pytest.mark.parametrize("framework", FRAMEWORKS)
@pytest.mark.parametrize("where", ["argument", "constant"])
@pytest.mark.parametrize("operand", ["(1, 2)", "'same'"])
def test_unary_minus_on_a_tuple_or_a_string_is_refused(framework, where, operand):
    code = IN_LAYER[framework](f"-{operand}") if where == "argument" else \
        f"n = -{operand}\n" + IN_LAYER[framework]("n")
    message = refused(code, framework)
    assert "number" in message


def test_hostile_and_plain_code_parsed_at_once_from_many_threads():
    """The server parses in a thread pool: deep nesting in one request must not break another's parse."""
    from concurrent.futures import ThreadPoolExecutor

    hostile = ["(" * 10_000 + ")" * 10_000, "+".join(["a"] * 5_000), torch_with("f(" * 5_000 + "1" + ")" * 5_000),
               "x = " + "-" * 5_000 + "1\n"]

    deep_but_fine = torch_with("(" * 150 + "4" + ")" * 150)  # under the parser's 200-level limit

    def one(i):
        code = hostile[i % len(hostile)] if i % 2 else deep_but_fine
        try:
            return "model", parse_model(code, "torch").layers[0]["in_features"]
        except CodeError:
            return "refused", i % 2

    start = time.monotonic()
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, range(120)))
    assert time.monotonic() - start < 20
    assert results == [("refused", 1) if i % 2 else ("model", 4) for i in range(120)]


def test_not_python_says_where():
    message = refused("model = nn.Sequential(\n    nn.Linear(3, 2),\n    nn.ReLU(\n", "torch")
    assert "not Python" in message and "line" in message


def test_no_model_and_unknown_framework_are_explained():
    assert "found no model" in refused("x = 1\nprint(x)\n", "torch")
    assert "found no model" in refused("", "keras")
    assert "framework" in refused("x = 1\n", None)


# ================================================================= property tests

def _parse_or_code_error(code: str, framework: str | None):
    start = time.process_time()
    try:
        model = parse_model(code, framework)
    except CodeError as e:
        assert str(e)
        model = None
    took = time.process_time() - start
    assert took < FAST, f"took {took:.2f} s"
    if model is not None:
        assert isinstance(model, ParsedModel) and model.framework in FRAMEWORKS
        assert model.layers and len(model.names) == len(model.layers)
        assert all(isinstance(spec, dict) and isinstance(spec.get("type"), str) for spec in model.layers)
    return model


PROPERTY = settings(deadline=None, suppress_health_check=list(HealthCheck))


@settings(PROPERTY, max_examples=60)
@given(code=hypothesmith.from_grammar(), framework=st.sampled_from(FRAMEWORKS + [None]))
def test_grammar_generated_programs_parse_or_raise_code_error(code, framework):
    _parse_or_code_error(code, framework)


@settings(PROPERTY, max_examples=40)
@given(code=hypothesmith.from_node(), framework=st.sampled_from(FRAMEWORKS + [None]))
def test_node_generated_programs_parse_or_raise_code_error(code, framework):
    _parse_or_code_error(code, framework)


@settings(PROPERTY, max_examples=150)
@given(code=st.text(max_size=300), framework=st.sampled_from(FRAMEWORKS + [None]))
def test_random_text_parses_or_raises_code_error(code, framework):
    _parse_or_code_error(code, framework)


@settings(PROPERTY, max_examples=80)
@given(code=st.text(alphabet="()[]{},:+-*/=.\n 0123456789abnx'\"\\#@", max_size=200),
       framework=st.sampled_from(FRAMEWORKS))
def test_random_punctuation_around_a_model_parses_or_raises_code_error(code, framework):
    _parse_or_code_error(PLAIN[framework] + code, framework)


TORCH_TYPES = ["Conv1d", "Conv2d", "ConvTranspose2d", "MaxPool2d", "AvgPool1d", "Linear", "Flatten", "ReLU", "Dropout",
               "BatchNorm2d", "LSTM", "Embedding", "Upsample", "Sequential", "Transformer"]
KERAS_TYPES = ["Conv1D", "Conv2D", "SeparableConv2D", "MaxPooling2D", "Dense", "Flatten", "Dropout", "Reshape",
               "TimeDistributed", "Input", "InputLayer", "Bidirectional", "BatchNormalization"]
KEYWORDS = ["kernel_size", "stride", "padding", "in_features", "out_features", "filters", "strides", "units",
            "pool_size", "layer", "input_shape", "shape", "batch_size", "activation", "bias", "p", "target_shape"]
# integers up to 40 digits: past the 2^31 cap, but short of float's range (the 400-digit test is above)
atoms = st.one_of(st.integers(-3, 64).map(str), st.integers(-10**40, 10**40).map(str),
                  st.floats(allow_nan=False, allow_infinity=False).map(repr),
                  st.sampled_from(["None", "True", "False", "'same'", "'relu'", "''", "n", "depth", "x", "1e400",
                                   "-1", "0", "nn.ReLU()", "layers.Dense(2)", "f(x)", "x.size(0)", "*a", "'a' * 9"]))
expressions = st.recursive(atoms, lambda e: st.one_of(
    st.tuples(e, st.sampled_from([" + ", " - ", " * ", " / ", " // ", " % ", " ** "]), e).map(lambda t: f"({''.join(t)})"),
    st.lists(e, max_size=4).map(lambda xs: "(" + ", ".join(xs) + ("," if len(xs) == 1 else "") + ")"),
    st.lists(e, max_size=4).map(lambda xs: "[" + ", ".join(xs) + "]")), max_leaves=6)


@st.composite
def model_programs(draw):
    framework = draw(st.sampled_from(FRAMEWORKS))
    types, prefix = (TORCH_TYPES, "nn.") if framework == "torch" else (KERAS_TYPES, "layers.")
    calls = []
    for _ in range(draw(st.integers(1, 5))):
        args = draw(st.lists(expressions, max_size=3))
        keywords = draw(st.dictionaries(st.sampled_from(KEYWORDS), expressions, max_size=3))
        calls.append(f"{prefix}{draw(st.sampled_from(types))}("
                     + ", ".join([*args, *(f"{k}={v}" for k, v in keywords.items())]) + ")")
    constants = draw(st.lists(st.tuples(st.sampled_from(["n", "depth", "x"]), expressions), max_size=2))
    head = "".join(f"{name} = {value}\n" for name, value in constants)
    form = draw(st.sampled_from(["sequential", "add", "functional", "module"]))
    if framework == "torch" and form == "module":
        body = "".join(f"        self.l{i} = {c}\n" for i, c in enumerate(calls))
        forward = "".join(f"        x = self.l{i}(x)\n" for i in range(len(calls)))
        return framework, (f"{head}class Net(nn.Module):\n    def __init__(self, n=4):\n        super().__init__()\n"
                           f"{body}    def forward(self, x):\n{forward}        return x\n")
    if framework == "torch":
        return framework, head + "model = nn.Sequential(" + ", ".join(calls) + ")\n"
    if form == "add":
        return framework, head + "model = keras.Sequential()\n" + "".join(f"model.add({c})\n" for c in calls)
    if form == "functional":
        return framework, head + "inputs = keras.Input(shape=(8, 3))\nx = inputs\n" + "".join(f"x = {c}(x)\n" for c in calls)
    return framework, head + "model = keras.Sequential([" + ", ".join(calls) + "])\n"


@settings(PROPERTY, max_examples=250)
@given(program=model_programs())
def test_model_shaped_programs_parse_or_raise_code_error(program):
    framework, code = program
    model = _parse_or_code_error(code, framework)
    if model is None:
        return
    stack = [*model.layers]  # every value the specs hold is plain data within the caps
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            stack += value.values()
        elif isinstance(value, list):
            assert len(value) <= MAX_ITEMS
            stack += value
        else:
            assert value is None or isinstance(value, (bool, int, float, str)), value
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                assert math.isfinite(value) and abs(value) <= MAX_NUMBER


# ================================================================= Keras forms

Q5_ROWS = golden_rows("keras-q5-conv3d")
Q5_LAYERS = ["Conv3D({f}16, (3, 3, 1), activation='relu'{extra})", "MaxPooling3D((2, 2, 1))",
             "Conv3D(32, (3, 3, 1), activation='relu')", "MaxPooling3D(pool_size=(2, 2, 1))", "Flatten()",
             "Dense(512, activation='relu')", "Dense(32, activation='relu')", "Dense(1, activation='sigmoid')"]


def q5(prefix: str, extra: str = "") -> list[str]:
    return [prefix + layer.format(f="", extra=extra if i == 0 else "") for i, layer in enumerate(Q5_LAYERS)]


Q5_SPELLINGS = {
    "sequential-list-layers": "from keras import layers\nmodel = keras.Sequential([\n    "
                              + ",\n    ".join(q5("layers.", ", input_shape=(33, 33, 7, 1)")) + ",\n])\n",
    "sequential-list-input-first": "model = keras.Sequential([keras.Input(shape=(33, 33, 7, 1)), "
                                   + ", ".join(q5("keras.layers.")) + "])\n",
    "tf-keras-add-chain": "import tensorflow as tf\nmodel = tf.keras.models.Sequential()\n"
                          + "".join(f"model.add({c})\n" for c in q5("tf.keras.layers.", ", input_shape=(33, 33, 7, 1)")),
    "bare-names-inputlayer": "model = Sequential()\nmodel.add(InputLayer(input_shape=(33, 33, 7, 1)))\n"
                             + "".join(f"model.add({c})\n" for c in q5("")),
    "inputlayer-shape": "model = Sequential([InputLayer(shape=(33, 33, 7, 1)), " + ", ".join(q5("")) + "])\n",
    "functional": "inputs = keras.Input(shape=(33, 33, 7, 1))\nx = inputs\n"
                  + "".join(f"x = {c}(x)\n" for c in q5("layers.")) + "model = keras.Model(inputs, x)\n",
    "functional-in-a-function": "def build_model():\n    inputs = Input((33, 33, 7, 1))\n"
                                "    x = Conv3D(16, (3, 3, 1), activation='relu')(inputs)\n"
                                + "".join(f"    x = {c}(x)\n" for c in q5("")[1:])
                                + "    return Model(inputs=inputs, outputs=x)\n",
    "shape-from-a-constant": "shape = (33, 33, 7, 1)\nmodel = keras.Sequential()\n"
                             + "".join(f"model.add({c})\n" for c in q5("layers.", ", input_shape=shape")),
}


@pytest.mark.parametrize("spelling", Q5_SPELLINGS)
def test_keras_forms_and_aliases_give_the_recorded_q5_trace(spelling):
    model = parsed_fast(Q5_SPELLINGS[spelling], "keras")
    assert model.unresolved == []
    assert model.input_shape == (None, 33, 33, 7, 1)  # Keras' unknown batch
    assert [s["type"] for s in model.layers] == [r[0] for r in Q5_ROWS]  # Input/InputLayer are not rows
    t, got = rows(model, model.input_shape)
    assert t.ok and got == Q5_ROWS
    assert t.total_params == MODELS["keras-q5-conv3d"]["total_params"] == 4_150_529


def test_keras_input_with_batch_size_keeps_the_batch():
    model = parsed_fast("inputs = keras.Input(shape=(20, 4), batch_size=8)\n"
                        "x = layers.Conv1D(6, 3, strides=2)(inputs)\nx = layers.Flatten()(x)\n"
                        "outputs = layers.Dense(2)(x)\nmodel = keras.Model(inputs, outputs)\n", "keras")
    assert model.input_shape == (8, 20, 4)
    length = (20 - 3) // 2 + 1  # valid padding: floor((L − k) / s) + 1 = 9
    t, got = rows(model, model.input_shape)
    assert got == [("Conv1D", [8, length, 6], 3 * 4 * 6 + 6),             # k·C_in·filters + filters
                   ("Flatten", [8, length * 6], 0),
                   ("Dense", [8, 2], length * 6 * 2 + 2)]                 # n_in·units + units
    assert t.ok and t.batch_known


def test_keras_input_with_an_unknown_length_asks_for_the_input_shape():
    code = "inputs = keras.Input(shape=(None, 8))\nx = layers.Conv1D(4, 3)(inputs)\n"
    model = parsed_fast(code, "keras")
    assert model.input_shape is None and "Input" in model.needs_shape and "input_shape" in model.needs_shape
    model = parsed_fast(code, "keras", input_shape=(None, 20, 8))
    t, got = rows(model, model.input_shape)
    assert t.ok and got == [("Conv1D", [None, 20 - 3 + 1, 4], 3 * 8 * 4 + 4)]


# ================================================================= PyTorch forms

LENET_INIT = ("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
              "        self.conv1 = nn.Conv2d(3, 6, 5)\n        self.pool = nn.MaxPool2d(2, 2)\n"
              "        self.conv2 = nn.Conv2d(6, 16, 5)\n        self.fc1 = nn.Linear(16 * 5 * 5, 120)\n"
              "        self.fc2 = nn.Linear(120, 84)\n        self.fc3 = nn.Linear(84, 10)\n\n"
              "    def forward(self, x):\n        x = self.pool(F.relu(self.conv1(x)))\n"
              "        x = self.pool(F.relu(self.conv2(x)))\n        x = {flatten}\n"
              "        x = F.relu(self.fc1(x))\n        x = F.relu(self.fc2(x))\n        x = self.fc3(x)\n"
              "        return x\n")
LENET = MODELS["torch-lenet-tutorial-flatten"]  # input (4, 3, 32, 32)
SHAPE_ONLY = {"ReLU", "Flatten", "view"}


def weighted(got):
    return [r for r in got if r[0] not in SHAPE_ONLY]


@pytest.mark.parametrize("flatten", ["torch.flatten(x, 1)", "x.flatten(1)", "x.view(-1, 16 * 5 * 5)",
                                     "x.reshape(-1, 400)", "x.view(4, 400)"])
def test_module_class_forward_chains_give_the_recorded_lenet(flatten):
    model = parsed_fast("import torch\nimport torch.nn as nn\nimport torch.nn.functional as F\n\n"
                        + LENET_INIT.format(flatten=flatten), "torch")
    assert model.notes == []
    t, got = rows(model, LENET["input_shape"])
    assert t.ok
    assert weighted(got) == golden_rows("torch-lenet-tutorial-flatten")
    assert [n for n in model.names if n] == [r["name"] for r in LENET["layers"]]  # pool is called twice
    assert got[6][1] == [4, 400]  # the flatten keeps the batch: 16·5·5 = 400
    assert t.total_params == LENET["total_params"] == 62_006


def test_view_with_the_batch_size_keeps_the_batch():
    model = parse_model(LENET_INIT.format(flatten="x.view(x.size(0), -1)"), "torch")
    t, got = rows(model, LENET["input_shape"])
    assert t.ok and got[6][1] == [4, 400]
    assert weighted(got) == golden_rows("torch-lenet-tutorial-flatten")


def test_view_with_the_wrong_count_changes_the_batch_and_says_so():
    # PyTorch itself does not complain: 4·16·5·5 = 1,600 values viewed as (-1, 16·4·4 = 256) is not whole,
    # but (-1, 100) is: 16 rows of 100, four per sample; the batch changes from 4 to 16
    model = parsed_fast(LENET_INIT.format(flatten="x.view(-1, 100)").replace("16 * 5 * 5", "100"), "torch")
    t, got = rows(model, LENET["input_shape"])
    assert t.ok and got[6][1] == [16, 100] and got[-1][1] == [16, 10]
    note = t.rows[6].note
    assert "4" in note and "16" in note and "batch" in note
    bad = parsed_fast(LENET_INIT.format(flatten="x.view(-1, 16 * 4 * 4)"), "torch")
    t, _ = rows(bad, LENET["input_shape"])
    assert not t.ok and t.error[0] == 6 and "1,600" in t.error[1] and "256" in t.error[1]


@pytest.mark.parametrize("head, prefix", [("import torch.nn as nn\n", "nn."), ("import torch\n", "torch.nn."),
                                          ("from torch import nn\n", "nn.")])
def test_sequential_spellings_give_the_recorded_q2_trace(head, prefix):
    code = head + (f"model = {prefix}Sequential(\n    {prefix}Conv1d(16, 32, kernel_size=5, stride=2),\n"
                   f"    {prefix}ReLU(),\n    {prefix}MaxPool1d(2, stride=2),\n    {prefix}Dropout(0.25),\n)\n")
    model = parsed_fast(code, "torch")
    assert model.names == ["0", "1", "2", "3"]
    t, got = rows(model, (4, 16, 100))
    length = (100 + 2 * 0 - 1 * (5 - 1) - 1) // 2 + 1  # Q2's formula: 48
    assert got == golden_rows("torch-q2-conv1d-sequential") == [
        ("Conv1d", [4, 32, length], 16 * 32 * 5 + 32), ("ReLU", [4, 32, length], 0),
        ("MaxPool1d", [4, 32, length // 2], 0), ("Dropout", [4, 32, length // 2], 0)]
    assert t.ok and t.total_params == 2_592


def test_spelled_out_torch_nn_matches_the_recording():
    model = parsed_fast(MODELS["torch-spelled-out-torch-nn-strided"]["code"], "torch")
    _, got = rows(model, MODELS["torch-spelled-out-torch-nn-strided"]["input_shape"])
    assert got == golden_rows("torch-spelled-out-torch-nn-strided")


def test_nested_sequentials_in_a_module_are_named_by_path():
    model = parsed_fast("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                        "        self.features = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU(), nn.MaxPool2d(2))\n"
                        "        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(8 * 3 * 3, 10))\n"
                        "    def forward(self, x):\n        return self.classifier(self.features(x))\n", "torch")
    assert model.names == ["features.0", "features.1", "features.2", "classifier.0", "classifier.1"]
    _, got = rows(model, (1, 3, 8, 8))
    side = (8 - 3 + 1) // 2  # conv valid: 6; pool 2: 3
    assert got[-1] == ("Linear", [1, 10], 8 * side * side * 10 + 10)


def test_forward_that_is_not_a_chain_is_followed_as_data_flow():
    model = parsed_fast("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
                        "        self.b = nn.Conv2d(4, 4, 3)\n        self.a = nn.Conv2d(1, 4, 3)\n"
                        "    def forward(self, x):\n        if x is None:\n            return x\n"
                        "        return self.b(self.a(x))\n", "torch")
    assert model.names == ["a", "b"] and model.notes == []  # forward's order, not __init__'s


# ================================================================= names, constants, defaults

def test_constants_defined_in_the_code_are_used():
    model = parsed_fast("num_classes = 10\na, b = 1, 2\nhidden = num_classes * 3\n"
                        "model = nn.Sequential(nn.Conv2d(a, 4, 3, stride=b), nn.Flatten(),\n"
                        "                      nn.Linear(4 * 3 * 3, hidden), nn.Linear(hidden, num_classes))\n", "torch")
    assert model.unresolved == []
    side = (7 - 3) // 2 + 1  # floor((H − k) / s) + 1 = 3
    _, got = rows(model, (2, 1, 7, 7))
    assert got == [("Conv2d", [2, 4, side, side], 1 * 4 * 9 + 4), ("Flatten", [2, 36], 0),
                   ("Linear", [2, 30], 36 * 30 + 30), ("Linear", [2, 10], 30 * 10 + 10)]


def test_init_defaults_are_the_plain_constructor_and_variables_override_them():
    code = ("class Net(nn.Module):\n    def __init__(self, in_ch=3, num_classes=7, *, width=16):\n"
            "        super().__init__()\n        self.conv = nn.Conv2d(in_ch, width, 3, padding=1)\n"
            "        self.pool = nn.AdaptiveAvgPool2d(1)\n        self.fc = nn.Linear(width, num_classes)\n"
            "    def forward(self, x):\n        x = self.pool(F.relu(self.conv(x)))\n"
            "        x = torch.flatten(x, 1)\n        return self.fc(x)\n")
    model = parsed_fast(code, "torch")
    assert model.unresolved == []
    _, got = rows(model, (2, 3, 9, 9))
    assert got[0] == ("Conv2d", [2, 16, 9, 9], 3 * 16 * 9 + 16)  # padding 1 keeps 9
    assert got[-1] == ("Linear", [2, 7], 16 * 7 + 7)
    _, got = rows(parsed_fast(code, "torch", {"num_classes": 4, "width": 8}), (2, 3, 9, 9))
    assert got[0] == ("Conv2d", [2, 8, 9, 9], 3 * 8 * 9 + 8) and got[-1] == ("Linear", [2, 4], 8 * 4 + 4)


def test_variables_win_over_constants_in_the_code():
    model = parsed_fast("n = 8\nmodel = nn.Sequential(nn.Linear(3, n))\n", "torch", {"n": 5})
    assert model.layers[0]["out_features"] == 5


def test_unresolved_names_are_reported_in_order_then_supplied():
    m = MODELS["keras-q5-conv3d-depth-variables"]
    model = parsed_fast(m["code"], "keras")
    assert model.unresolved == ["depth_1", "depth_2", "num_hidden"]  # in the order the code uses them
    assert model.layers[0]["filters"] is None
    partly = parsed_fast(m["code"], "keras", {"depth_1": 16})
    assert partly.unresolved == ["depth_2", "num_hidden"]
    model = parsed_fast(m["code"], "keras", m["variables"])
    assert model.unresolved == []
    t, got = rows(model, model.input_shape)
    assert got == golden_rows("keras-q5-conv3d-depth-variables") and t.total_params == m["total_params"]


def test_unresolved_names_in_arithmetic_and_tuples():
    model = parsed_fast("model = nn.Sequential(nn.Conv1d(c_in, 8, (k,)), nn.Linear(c_in * 2, n_out))", "torch")
    assert model.unresolved == ["c_in", "k", "n_out"]
    model = parsed_fast("model = nn.Sequential(nn.Conv1d(c_in, 8, k), nn.ReLU())", "torch", {"c_in": 3, "k": 5})
    _, got = rows(model, (1, 3, 20))
    assert got == [("Conv1d", [1, 8, 20 - 5 + 1], 3 * 8 * 5 + 8), ("ReLU", [1, 8, 16], 0)]


# ================================================================= unknown layers, framework detection

def _first_problem(code, framework, shape):
    """The message a user sees: the CodeError, or the trace's error."""
    try:
        model = parse_model(code, framework)
    except CodeError as e:
        return str(e)
    t = trace(model.framework, shape, model.layers)
    assert not t.ok, "an unknown layer must not trace as if it were known"
    return t.error[1]


UNKNOWN = re.compile(r"not (a|an|one of the) .*layers?|unknown|not supported|does not (know|trace)|cannot trace",
                     re.IGNORECASE)


@pytest.mark.parametrize("code, framework, shape, name", [
    ("model = keras.Sequential([layers.Input(shape=(10, 8)), layers.ConvLSTM1D(filters=4, kernel_size=3)])",
     "keras", None, "ConvLSTM1D"),
    ("model = nn.Sequential(nn.Linear(8, 8), nn.Transformer(d_model=8, nhead=2))", "torch", (2, 8), "Transformer"),
    ("model = keras.Sequential([layers.Input(shape=(10, 8)), layers.MultiHeadAttention(num_heads=2, key_dim=4)])",
     "keras", None, "MultiHeadAttention"),
])
def test_unknown_layers_with_keywords_are_named(code, framework, shape, name):
    message = _first_problem(code, framework, shape or (None, 10, 8))
    assert name in message and UNKNOWN.search(message), message


@pytest.mark.parametrize("code, framework, name", [
    ("model = keras.Sequential([layers.Input(shape=(10, 8)), layers.ConvLSTM1D(4, 3)])", "keras",
     "ConvLSTM1D"),
    ("model = nn.Sequential(nn.Linear(8, 8), nn.Transformer(8, 2))", "torch", "Transformer"),
], ids=["keras-ConvLSTM1D", "torch-Transformer"])
def test_unknown_layers_called_positionally_are_named(code, framework, name):
    message = _first_problem(code, framework, (2, 10, 8))
    assert name in message and "positional" not in message and UNKNOWN.search(message), message


@pytest.mark.parametrize("code, framework", [
    ("import torch.nn as nn\nmodel = nn.Sequential(nn.Linear(3, 2))", "torch"),
    (("class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.fc = nn.Linear(3, 2)\n"
      "    def forward(self, x):\n        return self.fc(x)\n"), "torch"),
    ("from tensorflow import keras\nmodel = keras.Sequential([keras.layers.Dense(2)])", "keras"),
    ("model = Sequential()\nmodel.add(Dense(2, input_shape=(3,)))", "keras"),
])
def test_framework_is_detected_when_not_given(code, framework):
    assert parsed_fast(code, None).framework == framework


# ================================================================= data flow, blocks, helpers, bounds

def _trace(model: ParsedModel, shape):
    t = trace(model.framework, tuple(shape), model.layers, model.inputs, model.names, model.sources)
    return t, [(r.type, show_shape(r.output_shape, t.batch_known), r.params) for r in t.rows]


BLOCKS = '''
import torch
import torch.nn as nn
import torch.nn.functional as F

def conv_bn(cin, cout, stride=1):
    return nn.Sequential(nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout))

class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.body = conv_bn(cin, cout, stride)
        self.skip = nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout else nn.Identity()

    def forward(self, x):
        return F.relu(self.body(x) + self.skip(x))

class Net(nn.Module):
    def __init__(self, widths=(8, 16, 32)):
        super().__init__()
        self.stem = nn.Conv2d(3, widths[0], 3, padding=1)
        blocks, cin = [], widths[0]
        for i, w in enumerate(widths):
            blocks.append(Block(cin, w, 1 if i == 0 else 2))
            cin = w
        self.blocks = nn.ModuleList(blocks)
        self.head = nn.Linear(cin * 2 ** 2, 10)

    def forward(self, x):
        x = self.stem(x)
        for block in self.blocks:
            x = block(x)
        x = F.adaptive_avg_pool2d(x, 2)
        return self.head(x.view(x.size(0), -1))
'''


def test_blocks_helpers_and_module_lists_follow_each_call_site():
    model = parsed_fast(BLOCKS, "torch", input_shape=(2, 3, 16, 16))
    t, got = _trace(model, (2, 3, 16, 16))
    assert t.ok and model.model_name == "Net"  # the class no other class uses
    named = [(n, row) for n, row in zip(model.names, got) if n]
    assert [n for n, _ in named] == ["stem", "blocks.0.body.0", "blocks.0.body.1", "blocks.0.skip",
                                     "blocks.1.body.0", "blocks.1.body.1", "blocks.1.skip",
                                     "blocks.2.body.0", "blocks.2.body.1", "blocks.2.skip", "head"]
    side = [16, (16 + 2 - 3) // 2 + 1, ((16 + 2 - 3) // 2 + 1 + 2 - 3) // 2 + 1]  # 16, 8, 4
    assert named[3][1] == ("Identity", [2, 8, 16, 16], 0)  # 8 -> 8 at stride 1: no projection
    assert named[6][1] == ("Conv2d", [2, 16, side[1], side[1]], 8 * 16 + 16)  # 1x1 skip, stride 2
    adds = [row for row, spec in zip(got, model.layers) if spec["type"] == "add"]
    assert [a[1] for a in adds] == [[2, 8, 16, 16], [2, 16, side[1], side[1]], [2, 32, side[2], side[2]]]
    assert got[-1] == ("Linear", [2, 10], 32 * 4 * 10 + 10)
    assert t.branches


def test_a_merge_that_does_not_fit_is_never_ok_and_shows_both_shapes():
    code = BLOCKS.replace("nn.Conv2d(cin, cout, 1, stride)", "nn.Conv2d(cin, cout, 1)")  # the skip forgets the stride
    model = parsed_fast(code, "torch", input_shape=(2, 3, 16, 16))
    t, _ = _trace(model, (2, 3, 16, 16))
    assert not t.ok
    index, message = t.error
    assert model.layers[index]["type"] == "add"
    assert "[2, 16, 8, 8] and [2, 16, 16, 16]" in message and "axis 2 is 8 vs 16" in message, message
    assert "Conv2d blocks.1.body.0" in message  # where the 8 came from


def test_keras_merges_functions_and_shapes_from_arguments():
    code = ("import keras\nfrom keras import layers\n\n"
            "def make_model(input_shape, n=2 ** 3):\n"
            "    inputs = keras.Input(shape=input_shape)\n"
            "    a = layers.Conv2D(n, 3, padding='same')(inputs)\n"
            "    b = layers.Conv2D(n, 1)(inputs)\n"
            "    x = layers.Add()([a, b])\n"
            "    x = layers.Concatenate()([x, inputs])\n"
            "    x = layers.GlobalAvgPool2D()(x)\n"
            "    return keras.Model(inputs, layers.Dense(len([1, 2, 3]))(x))\n\n"
            "size = (12, 12)\nmodel = make_model(size + (4,))\n")
    model = parsed_fast(code, "keras")
    assert model.input_shape == (None, 12, 12, 4)
    t, got = _trace(model, model.input_shape)
    assert t.ok and got == [("Conv2D", [None, 12, 12, 8], 3 * 3 * 4 * 8 + 8), ("Conv2D", [None, 12, 12, 8], 4 * 8 + 8),
                            ("Add", [None, 12, 12, 8], 0), ("Concatenate", [None, 12, 12, 12], 0),
                            ("GlobalAveragePooling2D", [None, 12], 0), ("Dense", [None, 3], 12 * 3 + 3)]
    assert [r.inputs for r in t.rows] == [(-1,), (-1,), (0, 1), (2, -1), (3,), (4,)]
    bad = parsed_fast(code.replace("padding='same'", "padding='valid'"), "keras")
    t, _ = _trace(bad, bad.input_shape)
    assert not t.ok and t.error[0] == 2 and "[None, 10, 10, 8] and [None, 12, 12, 8]" in t.error[1]


def test_shapes_from_data_are_asked_for_as_the_input_shape():
    code = ("import keras\nimport numpy as np\nx_train = np.load('x.npy')\n"
            "inputs = keras.Input(shape=x_train.shape[1:])\nx = keras.layers.Conv1D(4, 3)(inputs)\n"
            "model = keras.Model(inputs, x)\n")
    model = parsed_fast(code, "keras")
    assert model.input_shape is None and "x_train.shape[1:]" in model.needs_shape and "input_shape" in model.needs_shape
    model = parsed_fast(code, "keras", input_shape=(None, 9, 2))
    assert _trace(model, model.input_shape)[1] == [("Conv1D", [None, 7, 4], 3 * 2 * 4 + 4)]


def test_variables_take_tuples_strings_booleans_and_dotted_names():
    code = ("import torch.nn as nn\nnz = int(opt.nz)\n"
            "model = nn.Sequential(nn.Conv2d(nz, 4, args.k, padding=args.pad, bias=args.bias))\n")
    assert parsed_fast(code, "torch").unresolved == ["opt.nz", "args.k", "args.pad", "args.bias"]
    model = parsed_fast(code, "torch", {"opt.nz": 3, "args.k": [3, 1], "args.pad": "same", "args.bias": False})
    assert model.layers[0] == {"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": [3, 1],
                               "padding": "same", "bias": False}


def test_several_models_are_named_and_one_can_be_chosen():
    code = BLOCKS + "\nclass Other(nn.Module):\n    def __init__(self):\n        super().__init__()\n" \
                    "        self.fc = nn.Linear(4, 2)\n    def forward(self, x):\n        return self.fc(x)\n"
    model = parsed_fast(code, "torch")
    assert model.model_name == "Other" and set(model.candidates) == {"Block", "Net", "Other"}
    assert any("Net" in n and "Other" in n for n in model.notes)
    chosen = parsed_fast(code, "torch", model="Net", input_shape=(1, 3, 8, 8))
    assert chosen.model_name == "Net" and chosen.names[-1] == "head"


@pytest.mark.parametrize("forward, says", [
    ("return self.conv(x).unbind(1)[0]", "unbind"),  # chunk is followed (ShuffleNetV2)
    ("return self.attn(self.conv(x))", "Attention"),
    ("return x @ x", "@"),
    ("return self.conv(x) if x.sum() > 0 else x", "tensor"),
])
def test_what_forward_does_that_cannot_be_followed_is_named(forward, says):
    code = ("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv = nn.Conv2d(3, 4, 3)\n        self.attn = Attention(4)\n"
            f"    def forward(self, x):\n        {forward}\n")
    message = refused(code, "torch")
    assert says in message and "line" in message


@pytest.mark.parametrize("body", [
    "def f(n):\n    return f(n + 1)\nmodel = f(0)\n",
    "layers = []\nfor i in range(1000):\n    for j in range(1000):\n        layers.append(i)\nmodel = nn.Sequential(nn.Linear(2, 2))\n",
    ("class A(nn.Module):\n    def __init__(self):\n        super().__init__()\n        self.a = A()\n"
     "    def forward(self, x):\n        return x\n"),
    "x = [1]\nfor _ in range(40):\n    x = x + x\n",
])
def test_recursion_and_loops_are_bounded(body):
    start = time.process_time()
    try:
        parse_model("import torch.nn as nn\n" + body, "torch")
    except CodeError as e:
        assert re.search(r"steps|deep|items|model|numbers", str(e)), str(e)
    assert time.process_time() - start < FAST


def test_a_whole_training_script_around_the_model_is_read_past():
    code = ("import torch\nimport torch.nn as nn\nfrom torch.utils.data import DataLoader\n"
            "train_loader = DataLoader(dataset, batch_size=64, shuffle=True)\n"
            "device = 'cuda' if torch.cuda.is_available() else 'cpu'\n"
            "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.fc = nn.Linear(784, 10)\n    def forward(self, x):\n        return self.fc(x.view(x.size(0), -1))\n"
            "model = Net().to(device)\noptimizer = torch.optim.SGD(model.parameters(), lr=0.01)\n"
            "for epoch in range(1000):\n    for images, labels in train_loader:\n        loss = criterion(model(images), labels)\n"
            "        loss.backward()\n")
    model = parsed_fast(code, "torch", input_shape=(2, 1, 28, 28))
    assert model.unresolved == [] and model.names == [None, "fc"]  # the view, then the module
    assert _trace(model, (2, 1, 28, 28))[1][-1] == ("Linear", [2, 10], 7850)


@pytest.mark.parametrize("code, framework, words", [
    ("import timm\nmodel = timm.create_model('resnet18', pretrained=False)\n", "torch",
     ["timm.create_model", "paste the model's own code"]),
    ("import torchvision\nmodel = torchvision.models.vit_b_16(weights=None)\n", "torch",
     ["`torchvision.models.vit_b_16` is not a model Convscope knows", "resnet18", "efficientnet_b7"]),
    ("from keras.applications import NASNetMobile\nmodel = NASNetMobile(weights=None)\n", "keras",
     ["`keras.applications.NASNetMobile` is not a model Convscope knows", "ResNet50", "EfficientNetB7"]),
    (("import keras\nclass M(keras.Model):\n    def __init__(self):\n        super().__init__()\n"
      "        self.d = keras.layers.Dense(3)\n    def call(self, x):\n        return self.d(x)\nmodel = M()\n"), "keras",
     ["subclassed Keras model", "keras.Input"]),
    (("import tensorflow as tf\ninputs = tf.keras.Input((8,))\nx = tf.reshape(inputs, (-1, 2, 4))\n"
      "model = tf.keras.Model(inputs, x)\n"), "keras", ["tf.reshape", "layers.Reshape"]),
])
def test_refusals_say_what_to_do(code, framework, words):
    message = refused(code, framework)
    assert all(w in message for w in words), message


def test_the_pastes_own_example_input_and_build_call_give_the_input_shape():
    code = ("import torch\nimport torch.nn as nn\nmodel = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten())\n"
            "x = torch.randn(2, 3, 8, 8)\nprint(model(x).shape)\n")
    model = parsed_fast(code, "torch")
    assert model.input_shape == (2, 3, 8, 8) and model.notes
    assert _trace(model, model.input_shape)[1][-1] == ("Flatten", [2, 4 * 6 * 6], 0)
    assert parsed_fast(code, "torch", input_shape=(1, 3, 5, 5)).input_shape is None  # the request wins
    keras = ("from keras import layers, models\nmodel = models.Sequential([layers.Conv2D(4, 3), layers.Flatten()])\n"
             "model.build((None, 8, 8, 3))\nmodel.summary()\n")
    model = parsed_fast(keras, "keras")
    assert model.input_shape == (None, 8, 8, 3)
    assert _trace(model, model.input_shape)[1][-1] == ("Flatten", [None, 6 * 6 * 4], 0)


# ---- issue 22: published code as people paste it


@pytest.mark.parametrize("model_id, framework", [("torch-q2-conv1d-sequential", "torch"), ("keras-q5-conv3d", "keras")])
def test_a_bare_model_expression_traces_like_the_assigned_one(model_id, framework):
    """`nn.Sequential(...)` on its own (the output-length question's snippet), no `model = ` in front."""
    golden = MODELS[model_id]
    code = golden["code"].replace("model = nn.Sequential(", "nn.Sequential(")
    if framework == "keras":  # the same layers listed in one Sequential([...]) expression
        lines = golden["code"].splitlines()
        layers = [ln[len("model.add("):-1] for ln in lines if ln.startswith("model.add(")]
        code = "\n".join(lines[:2]) + "\nSequential([\n    " + ",\n    ".join(layers) + ",\n])\n"
    assert "model =" not in code
    model = parsed_fast(code, framework)
    shape = golden["input_shape"] if framework == "torch" else model.input_shape
    t, got = rows(model, shape)
    assert t.ok and got == golden_rows(model_id)
    assert model.model_name.endswith("Sequential(…)")


SIGNATURES = json.loads((Path(__file__).resolve().parents[2] / "app" / "core" / "frameworks" /
                         "signatures.json").read_text())


def test_the_signature_table_is_recorded_from_the_frameworks_the_goldens_come_from():
    meta = json.loads((Path(__file__).resolve().parents[1] / "golden" / "traces.json").read_text())["meta"]
    assert SIGNATURES["meta"]["keras"] == meta["keras"] and meta["torch"].startswith(SIGNATURES["meta"]["torch"])
    assert SIGNATURES["meta"]["generated_by"] == "tests/golden/record_signatures.py"


@pytest.mark.parametrize("framework", FRAMEWORKS)
def test_every_layer_type_the_tracer_traces_is_in_the_positional_table(framework):
    from app.core.frameworks.signatures import POSITIONAL
    from app.core.trace import supported_types
    classes = [t for t in supported_types(framework) if t[:1].isupper()]  # view, cat, index: tensor operations
    missing = [t for t in classes if t not in POSITIONAL[framework]]
    assert missing == [] and len(classes) > 60


@pytest.mark.parametrize("framework, call, spec", [
    ("torch", "nn.Softshrink(0.3)", {"type": "Softshrink", "lambd": 0.3}),  # read as lambd, not dropped
    ("torch", "nn.Hardshrink(0.25)", {"type": "Hardshrink", "lambd": 0.25}),
    ("torch", "nn.Conv1d(4, 8, 3, 1, 1, 2, 2, False, 'reflect')",
     {"type": "Conv1d", "in_channels": 4, "out_channels": 8, "kernel_size": 3, "stride": 1, "padding": 1,
      "dilation": 2, "groups": 2, "bias": False, "padding_mode": "reflect"}),
    ("torch", "nn.LSTM(16, 32, 2, True, True)",
     {"type": "LSTM", "input_size": 16, "hidden_size": 32, "num_layers": 2, "bias": True, "batch_first": True}),
    ("keras", "layers.Conv1D(8, 3, 1, 'same', None, 2)",
     {"type": "Conv1D", "filters": 8, "kernel_size": 3, "strides": 1, "padding": "same", "data_format": None,
      "dilation_rate": 2}),
    ("keras", "layers.GlobalAveragePooling1D('channels_last')",
     {"type": "GlobalAveragePooling1D", "data_format": "channels_last"}),
    ("keras", "layers.MaxPool1D(2)", {"type": "MaxPooling1D", "pool_size": 2}),  # the alias is the class
])
def test_positional_arguments_fill_the_frameworks_parameters(framework, call, spec):
    head = "import torch.nn as nn\nmodel = nn.Sequential(" if framework == "torch" else \
        "from keras import layers, models\nmodel = models.Sequential([layers.Input((20, 4)), "
    model = parsed_fast(head + call + (")" if framework == "torch" else "])") + "\n", framework)
    assert model.layers[-1] == spec


def test_a_layer_the_tables_do_not_hold_is_never_read_without_its_arguments():
    model = parsed_fast("import torch.nn as nn\nmodel = nn.Sequential(nn.Conv1d(4, 8, 3), nn.MyShrink(0.3))\n", "torch")
    t = trace("torch", (1, 4, 20), model.layers)
    assert not t.ok and "MyShrink" in t.error[1]


def test_one_no_effect_keyword_list_and_one_keras_alias_table():
    from app.core import code
    from app.core import trace as tracer
    from app.core.frameworks import keras as keras_front
    from app.core.frameworks.signatures import KERAS_ALIASES, NO_EFFECT
    assert keras_front._NO_EFFECT is NO_EFFECT and set(tracer._KERAS_NO_EFFECT) == set(NO_EFFECT)
    assert tracer.KERAS_ALIASES is KERAS_ALIASES is code.KERAS_ALIASES
    assert KERAS_ALIASES == SIGNATURES["keras_aliases"]
    assert {"kernel_initializer", "recurrent_regularizer", "device", "dtype", "name"} <= set(NO_EFFECT)
    # a regularizer object Convscope cannot read is dropped, wherever the keyword is spelled
    model = parsed_fast("from keras import layers, models, regularizers\nmodel = models.Sequential([layers.Input((8,)), "
                        "layers.Dense(4, recurrent_regularizer=regularizers.l2(1e-4))])\n", "keras")
    assert model.layers == [{"type": "Dense", "units": 4}]


def test_keras_1_spellings_read_as_keras_3_with_a_note():
    """Q5 as Keras 1 wrote it: Convolution3D(16, 3, 3, 1) is Conv3D(16, (3, 3, 1)), not strides (3, 1)."""
    code = MODELS["keras-q5-conv3d"]["code"].replace("Conv3D(16, (3, 3, 1), activation='relu'",
                                                     "Convolution3D(16, 3, 3, 1, activation='relu', border_mode='valid'")
    code = code.replace("Conv3D(32, (3, 3, 1)", "Convolution3D(nb_filter=32, kernel_dim1=3, kernel_dim2=3, kernel_dim3=1"
                        ).replace("Conv3D, ", "Conv3D, Convolution3D, ").replace("Dense(512", "Dense(output_dim=512")
    assert "Convolution3D(16, 3, 3, 1" in code
    model = parsed_fast(code, "keras")
    _, got = rows(model, model.input_shape)
    assert got == golden_rows("keras-q5-conv3d")
    notes = " ".join(model.notes)
    for old, new in [("Convolution3D(16, 3, 3, 1)", "Conv3D(16, (3, 3, 1))"), ("border_mode", "padding"),
                     ("nb_filter", "filters"), ("output_dim", "units"), ("kernel_dim1/kernel_dim2/kernel_dim3", "kernel_size")]:
        assert f"{old} is Keras 1/2's spelling: read as {new}" in notes


def test_keras_1_functional_model_input_output_and_subsample():
    code = ("from keras.layers import Input, Convolution2D, Flatten, Dense\nfrom keras.models import Model\n"
            "inp = Input(shape=(32, 32, 3))\nx = Convolution2D(8, 3, 3, subsample=(2, 2), border_mode='same', "
            "init='he_normal', dim_ordering='tf')(inp)\nx = Flatten()(x)\nout = Dense(10, bias=False)(x)\n"
            "model = Model(input=inp, output=out)\n")
    model = parsed_fast(code, "keras")
    assert model.layers[0] == {"type": "Conv2D", "filters": 8, "kernel_size": [3, 3], "strides": [2, 2],
                               "padding": "same", "kernel_initializer": "he_normal", "data_format": "channels_last"}
    t, got = rows(model, model.input_shape)
    assert t.ok and got[0][1] == [None, 16, 16, 8] and got[-1] == ("Dense", [None, 10], 16 * 16 * 8 * 10)
    assert any("input is Keras 1/2's spelling: read as inputs" in n for n in model.notes)


@pytest.mark.parametrize("call, says", [("merge([a, b], mode='concat')", "layers.concatenate"),
                                        ("Merge([a, b], mode='sum')", "layers.add")])
def test_keras_1_merges_are_refused_naming_the_modern_word(call, says):
    code = (f"from keras.layers import Input, Dense, merge, Merge\nfrom keras.models import Model\n"
            f"a = Input(shape=(4,))\nb = Input(shape=(4,))\nm = {call}\nmodel = Model(input=[a, b], output=Dense(1)(m))\n")
    assert says in refused(code, "keras")


def test_a_data_dependent_input_shape_takes_the_requests():
    code = ("from tensorflow import keras\nfrom tensorflow.keras import layers\n"
            "inputs = layers.Input(shape=(x_train.shape[1], x_train.shape[2]))\nx = layers.LSTM(64)(inputs)\n"
            "model = keras.Model(inputs, layers.Dense(1)(x))\n")
    without = parsed_fast(code, "keras")
    assert without.unresolved == [] and "Input(shape=(x_train.shape[1], x_train.shape[2])) comes from data" in \
        without.needs_shape
    model = parsed_fast(code, "keras", input_shape=(None, 30, 5))
    assert model.needs_shape is None and model.input_shape == (None, 30, 5)
    assert any("comes from data: traced with the given input_shape [None, 30, 5]" in n for n in model.notes)
    t, got = rows(model, model.input_shape)
    assert got == [("LSTM", [None, 64], 4 * (64 * (5 + 64) + 64)), ("Dense", [None, 1], 65)]


@pytest.mark.parametrize("wrapped, shape, params", [
    # torch.nn.utils: weight_g has the weight's size along dim (1 when dim is None or -1), weight_v the weight's
    ("weight_norm(nn.Conv1d(4, 8, 3))", (1, 4, 9), 8 * 4 * 3 + 8 + 8),
    ("weight_norm(nn.ConvTranspose1d(5, 6, 3))", (1, 5, 9), 5 * 6 * 3 + 6 + 5),  # its weight is (in, out, k)
    ("nn.utils.weight_norm(nn.Linear(16, 5), dim=None)", (1, 16), 16 * 5 + 5 + 1),
    ("weight_norm(nn.Conv2d(4, 8, 3), dim=1)", (1, 4, 9, 9), 8 * 4 * 9 + 8 + 4),
    ("weight_norm(nn.Conv2d(4, 8, 3, groups=2), name='weight', dim=-1)", (1, 4, 9, 9), 8 * 2 * 9 + 8 + 1),
    ("spectral_norm(nn.Conv1d(8, 8, 3))", (1, 8, 9), 8 * 8 * 3 + 8),  # weight_orig; u and v are buffers
])
def test_weight_norm_and_spectral_norm_wrap_the_layer_with_torchs_parameters(wrapped, shape, params):
    code = ("import torch.nn as nn\nfrom torch.nn.utils import weight_norm, spectral_norm\n"
            f"model = nn.Sequential({wrapped})\n")
    model = parsed_fast(code, "torch")
    t, got = rows(model, shape)
    assert t.ok and got[0][0] == model.layers[0]["type"] and got[0][2] == params
    assert "weight_norm(nn.Embedding" not in code
    with pytest.raises(CodeError, match="weight_norm"):
        parse_model(code.replace(wrapped, "weight_norm(lambda x: x)"), "torch")


@pytest.mark.parametrize("loop", ["for layer in self.children():\n            x = layer(x)",
                                  "for name, layer in self.named_children():\n            x = layer(x)"])
def test_forward_loops_over_children(loop):
    code = ("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.conv = nn.Conv2d(3, 8, 3)\n        self.act = nn.ReLU()\n        self.pool = nn.MaxPool2d(2)\n"
            "        for m in self.modules():\n            if isinstance(m, nn.Conv2d):\n"
            "                nn.init.kaiming_normal_(m.weight)\n"
            f"    def forward(self, x):\n        {loop}\n        return x\n")
    model = parsed_fast(code, "torch")
    t, got = rows(model, (1, 3, 10, 10))
    assert model.names == ["conv", "act", "pool"]
    assert got == [("Conv2d", [1, 8, 8, 8], 3 * 8 * 9 + 8), ("ReLU", [1, 8, 8, 8], 0), ("MaxPool2d", [1, 8, 4, 4], 0)]


@pytest.mark.parametrize("test, bias", [("isinstance(norm, functools.partial)", False),
                                        ("type(norm) == functools.partial", False),
                                        ("isinstance(nn.BatchNorm2d(3), nn.modules.batchnorm._BatchNorm)", False),
                                        ("isinstance(3, int) and not isinstance(norm, nn.Module)", False),
                                        ("isinstance(norm, nn.Conv2d)", True)])
def test_partial_type_and_isinstance_on_layers(test, bias):
    code = ("import functools\nimport torch.nn as nn\nnorm = functools.partial(nn.BatchNorm2d, affine=False)\n"
            f"bias = not ({test})\nmodel = nn.Sequential(nn.Conv2d(3, 4, 3, bias=bias), norm(4))\n")
    model = parsed_fast(code, "torch")
    assert model.layers == [{"type": "Conv2d", "in_channels": 3, "out_channels": 4, "kernel_size": 3, "bias": bias},
                            {"type": "BatchNorm2d", "num_features": 4, "affine": False}]


def test_a_pasted_class_wins_over_an_import_of_its_name():
    code = ("import torch.nn as nn\nclass Block(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
            "        self.fc = nn.Linear(4, 2)\n    def forward(self, x):\n        return self.fc(x)\n"
            "from pkg.blocks import Block\nmodel = Block()\n")
    model = parsed_fast(code, "torch")
    assert model.names == ["fc"] and any("`from pkg.blocks import Block` would replace the pasted Block" in n
                                         for n in model.notes)


RESNET_FILE = MODELS["torch-resnet18"]["code"].replace("\nmodel = resnet18()\n", "\n")


@pytest.mark.parametrize("choose, golden", [("resnet18()", "torch-resnet18"), ("resnet18", "torch-resnet18"),
                                            ("resnet34()", "torch-resnet34")])
def test_the_request_names_the_factory_to_build(choose, golden):
    """torchvision's resnet.py pasted without a call: `"model": "resnet18()"` builds what the recording built."""
    assert "model =" not in RESNET_FILE.split("def resnet18")[1]
    if golden == "torch-resnet34":
        assert MODELS[golden]["code"].replace("\nmodel = resnet34()\n", "\n") == RESNET_FILE
    model = parsed_fast(RESNET_FILE, "torch", model=choose)
    shape = MODELS[golden]["input_shape"]
    t = trace("torch", tuple(shape), model.layers, model.inputs, model.names)
    got = [(r.name, r.type, list(r.output_shape), r.params) for r in t.rows if r.name is not None]
    assert got == [(r["name"], r["type"], r["output_shape"], r["params"]) for r in MODELS[golden]["layers"]]
    assert t.total_params == MODELS[golden]["total_params"] and model.model_name == "resnet18()" if "18" in choose else True
    assert not any("builds no model itself" in n for n in model.notes)  # the request chose: no guess to own up to


def test_a_file_that_builds_nothing_traces_the_last_factory_and_says_so():
    model = parsed_fast(RESNET_FILE, "torch", input_shape=(1, 3, 224, 224))
    assert model.model_name == "resnet50()" and model.candidates[:3] == ["resnet18()", "resnet34()", "resnet50()"]
    note = next(n for n in model.notes if "builds no model itself" in n)
    assert "traced resnet50()" in note and "resnet18()" in note and "resnet34()" in note and "choose another" in note
    assert "BasicBlock" not in model.candidates[:3] and "ResNet" in model.candidates


def test_a_class_built_with_its_own_defaults_says_so():
    code = ("import torch.nn as nn\nclass Net(nn.Module):\n    def __init__(self, n=4):\n        super().__init__()\n"
            "        self.fc = nn.Linear(8, n)\n    def forward(self, x):\n        return self.fc(x)\n")
    model = parsed_fast(code, "torch")
    assert any("traced Net()" in n and "defaults" in n for n in model.notes)
    assert not any("builds no model" in n for n in parsed_fast(code + "model = Net(3)\n", "torch").notes)
    chosen = parsed_fast(code, "torch", model="Net(n=2)")
    assert chosen.layers == [{"type": "Linear", "in_features": 8, "out_features": 2}] and chosen.model_name == "Net(n=2)"
    with pytest.raises(CodeError, match="model: 'Nope\\(\\)' is not"):
        parse_model(code, "torch", model="Nope()")


def test_a_keras_model_function_called_as_the_request_writes_it():
    code = MODELS["keras-io-oxford-pets-segmentation"]["code"]
    model = parsed_fast(code, "keras", model="get_model((64, 96), 5)")
    assert model.model_name == "get_model((64, 96), 5)" and model.input_shape == (None, 64, 96, 3)
    t = trace("keras", model.input_shape, model.layers, model.inputs, model.names, model.sources)
    assert t.ok and show_shape(t.rows[-1].output_shape, t.batch_known) == [None, 64, 96, 5]


def test_keras2_conv2d_sizes_are_traced_as_keras_3_reads_them_with_a_note():
    """Conv2D(32, 3, 3): Keras 3 reads strides=3 (its own positional order, recorded in signatures.json); Keras 2's
    legacy interface read nb_row, nb_col. The trace is Keras 3's, and the note says what Keras 2 meant."""
    code = ("from keras.layers import Conv2D\nfrom keras.models import Sequential\nmodel = Sequential()\n"
            "model.add(Conv2D(32, 3, 3, activation='relu', input_shape=(28, 28, 1)))\n")
    model = parse_model(code, "keras")
    assert model.layers[0]["strides"] == 3 and model.layers[0]["kernel_size"] == 3
    assert _trace(model, (None, 28, 28, 1))[1][-1] == ("Conv2D", [None, 9, 9, 32], 320)  # (28 - 3) // 3 + 1
    note = " ".join(model.notes)
    assert "Conv2D(32, 3, 3): Keras 3 reads the third number as strides=3" in note
    assert "kernel_size=(3, 3), stride 1" in note and "write Conv2D(32, (3, 3))" in note
    assert not parse_model(code.replace("3, 3, activation", "(3, 3), activation"), "keras").notes
