"""`/trace`: paste a model, see every layer's shape, parameters, MACs and receptive field, and why
it does not fit (docs/QUESTIONS.md Q2 and Q5). The code travels in the URL and is parsed, never run."""
from __future__ import annotations

import re
from urllib.parse import urlencode

from fastapi import Request
from starlette.datastructures import QueryParams

from ..core.code import MAX_CHARS, CodeError, detect_framework, parse_model
from ..core.shapes import csv
from ..core.trace import fit_check, show_shape, trace
from ..routes.explore import read_state as explore_state
from ..routes.pool import read_state as pool_state
from ..templating import view_response

EXAMPLES = {
    "Q5: Keras Conv3D model": (
        "keras", "model = models.Sequential()\n"
        "model.add(layers.Conv3D(depth_1, (3, 3, 1), activation='relu', input_shape=(33, 33, 7, 1)))\n"
        "model.add(layers.MaxPooling3D((2, 2, 1)))\n"
        "model.add(layers.Conv3D(depth_2, (3, 3, 1), activation='relu'))\n"
        "model.add(layers.MaxPooling3D((2, 2, 1)))\n"
        "model.add(layers.Flatten())\n"
        "model.add(layers.Dense(512, activation='relu'))\n"
        "model.add(layers.Dense(32, activation='relu'))\n"
        "model.add(layers.Dense(1, activation='sigmoid'))\n", "", {"x_shape": "420420,33,33,1", "y_shape": "60060,1"}),
    "Q2: PyTorch Conv1d stack": (
        "torch", "model = nn.Sequential(\n    nn.Conv1d(16, 32, kernel_size=5, stride=2),\n    nn.ReLU(),\n"
        "    nn.MaxPool1d(2, stride=2),\n    nn.Dropout(0.25),\n)\n", "4,16,100", {}),
    "PyTorch LeNet (tutorial)": (
        "torch", "class Net(nn.Module):\n    def __init__(self):\n        super().__init__()\n"
        "        self.conv1 = nn.Conv2d(3, 6, 5)\n        self.pool = nn.MaxPool2d(2, 2)\n"
        "        self.conv2 = nn.Conv2d(6, 16, 5)\n        self.fc1 = nn.Linear(16 * 5 * 5, 120)\n"
        "        self.fc2 = nn.Linear(120, 84)\n        self.fc3 = nn.Linear(84, 10)\n\n"
        "    def forward(self, x):\n        x = self.pool(F.relu(self.conv1(x)))\n"
        "        x = self.pool(F.relu(self.conv2(x)))\n        x = torch.flatten(x, 1)\n"
        "        x = F.relu(self.fc1(x))\n        x = F.relu(self.fc2(x))\n        x = self.fc3(x)\n        return x\n",
        "4,3,32,32", {}),
    "Q6: Keras Conv1D over word embeddings": (
        "keras", "inputs = keras.Input(shape=(50,), dtype='int32')\nx = layers.Embedding(20000, 300)(inputs)\n"
        "x = layers.Conv1D(filters=100, kernel_size=4, padding='same', activation='relu')(x)\n"
        "x = layers.GlobalMaxPooling1D()(x)\noutputs = layers.Dense(1, activation='sigmoid')(x)\n", "", {}),
}

KNOBS = ()  # the code, its shapes and its variables are read by trace_context
# What the generic tests read (app/views.py: ViewModule)
READS = ("code", "framework", "input_shape", "x_shape", "y_shape", "var_depth_1")  # query names read besides the knobs'
PAGES = ("",)
CHOICES = {}  # query names no knob reads, with values to try
AXES: dict[int, list[str]] = {}  # no dimension switch


def parse_shape(text: str | None, label: str) -> tuple[tuple | None, str | None]:
    """'None,33,33,7,1' -> (None, 33, 33, 7, 1); a message when it is not a shape."""
    if not text or not text.strip():
        return None, None
    parts = [p.strip() for p in text.strip("()[] ").split(",") if p.strip()]
    try:
        shape = tuple(None if p.lower() == "none" else int(p) for p in parts)
    except ValueError:
        return None, f"{label}: write comma-separated integers (None for an unknown batch), got {text!r}"
    if not 1 <= len(shape) <= 8 or any(v is not None and not 0 < v <= 2**31 for v in shape) or None in shape[1:]:
        return None, f"{label}: 1 to 8 positive integers, only the batch may be None; got {text!r}"
    return shape, None


CONVS = {f"Conv{d}{s}" for d in (1, 2, 3) for s in ("d", "D")}
POOLS = {f"{k}{d}" for k in ("MaxPool", "AvgPool") for d in ("1d", "2d")} | \
        {f"{k}Pooling{d}D" for k in ("Max", "Average") for d in (1, 2)}


def explorer_link(framework: str, spec: dict, input_shape: tuple) -> str | None:
    """/explore (a conv) or /pool (a pooling layer) preset to this layer and its real input, when that
    view can draw it."""
    view, read = ("/explore", explore_state) if spec.get("type") in CONVS else \
        ("/pool", pool_state) if spec.get("type") in POOLS else (None, None)
    if view is None:
        return None
    shape = (1, *input_shape[1:])
    query = {"framework": framework, **{k: csv(v) if isinstance(v, list) else
                                        str(v).lower() if isinstance(v, bool) else v for k, v in spec.items()},
             "input_shape": csv(shape)}
    query = urlencode(query, safe=",")
    _, errors = read(QueryParams(query))
    return None if errors else f"{view}?{query}"


def variable_value(text: str):
    """A value typed into a variable's field: a number, a tuple (comma-separated), True/False/None, or text
    (a string, quotes optional). Read by hand, never evaluated."""
    t = text.strip()
    if t in ("True", "False", "true", "false"):
        return t.lower() == "true"
    if t in ("None", "none"):
        return None
    if len(t) >= 2 and t[0] == t[-1] and t[0] in "'\"":
        return t[1:-1]
    if re.fullmatch(r"-?\d{1,10}", t):
        return int(t)
    if re.fullmatch(r"-?(\d+\.\d*|\.\d+|\d+)(e-?\d+)?", t):
        return float(t)
    inner = t.strip("()[] ")
    if "," in t and all(re.fullmatch(r"\s*(-?\d+|None)\s*", p) for p in inner.split(",") if p.strip()):
        return [None if p.strip() == "None" else int(p) for p in inner.split(",") if p.strip()]
    quoted = [re.fullmatch(r"\s*(['\"])([^'\"]*)\1\s*", p) for p in inner.split(",") if p.strip()]
    if t[:1] in "[(" and quoted and all(quoted):  # ['daisy', 'roses']: a list of strings (class_names)
        return [m.group(2) for m in quoted]
    return t


def trace_context(query) -> dict:
    framework = query.get("framework", "auto")
    code = query.get("code", "")
    chosen = query.get("model") or None
    variables, errors = {}, []
    for key, value in query.items():
        if key.startswith("var_") and value.strip():
            if len(value) > 200:
                errors.append(f"{key[4:]}: at most 200 characters, got {len(value)}")
                continue
            variables[key[4:]] = variable_value(value)
    if framework not in ("auto", "torch", "keras"):
        errors.append(f"framework: choose auto, torch or keras, got {framework!r}")
        framework = "auto"
    shape, err = parse_shape(query.get("input_shape"), "input_shape")
    x_shape, x_err = parse_shape(query.get("x_shape"), "x shape")
    y_shape, y_err = parse_shape(query.get("y_shape"), "y shape")
    errors += [e for e in (err, x_err, y_err) if e]
    ctx = {"code": code, "framework": framework, "input_text": query.get("input_shape", ""), "variables": variables,
           "x_text": query.get("x_shape", ""), "y_text": query.get("y_shape", ""), "examples": example_links(),
           "max_chars": MAX_CHARS, "errors": errors, "detected": detect_framework(code) if code else None,
           "chosen": chosen}
    if not code.strip():
        return ctx
    try:
        parsed = parse_model(code, None if framework == "auto" else framework, variables, shape, chosen)
    except CodeError as e:
        return {**ctx, "code_error": str(e)}
    fw = parsed.framework
    ctx.update(fw=fw, unresolved=parsed.unresolved, notes=parsed.notes, names=parsed.names,
               model_name=parsed.model_name, candidates=parsed.candidates, shape_why=parsed.needs_shape)
    if parsed.unresolved:
        return ctx
    shape = shape or parsed.input_shape
    if shape is None or (parsed.needs_shape and any(s is None for s in parsed.sources)):
        return {**ctx, "needs_shape": True}
    t = trace(fw, shape, parsed.layers, parsed.inputs, parsed.names, [tuple(s) for s in parsed.sources])
    rows = []
    for r in t.rows:
        rows.append({"r": r, "name": r.name, "shape": show_shape(r.output_shape, t.batch_known),
                     "settings": ", ".join(f"{k}={v!r}" for k, v in r.spec.items() if k not in ("type", "layers")),
                     "explore": explorer_link(fw, r.spec, r.input_shape),
                     "from": [("input" if i == -1 else f"input {-i}" if i < 0 else f"#{i}") for i in r.inputs],
                     "in_shapes": [show_shape(s, t.batch_known) for s in r.input_shapes]})
    failing = None
    if t.error:
        failing = {"index": t.error[0], "spec": parsed.layers[t.error[0]], "name": parsed.names[t.error[0]],
                   "message": t.error[1]}
    model_out = show_shape(t.rows[-1].output_shape, t.batch_known) if t.rows else None
    fit = fit_check(x_shape, y_shape, shape, model_out) if (x_shape or y_shape) and t.ok and model_out else []
    return {**ctx, "trace": t, "rows": rows, "failing": failing, "fit": fit, "shape": list(shape),
            "branches": t.branches, "graph": flow_graph(t, rows, failing),
            "total_macs": sum(r.macs for r in t.rows), "layout": "(N, C, …)" if fw == "torch" else "(N, …, C)"}


def flow_graph(t, rows, failing) -> list[dict]:
    """The data flow as a vertical graph: one box per row in execution order, each with the edges that feed it
    (where from, and the shape on the edge); a row whose output is not simply the next row's input says where it
    goes. Drawn only when the flow branches."""
    if not t.branches:
        return []
    used: dict[int, list[int]] = {}
    for r in t.rows:
        for i in r.inputs:
            used.setdefault(i, []).append(r.index)
    boxes = []
    for row in rows:
        r = row["r"]
        edges = [{"from": label, "shape": shape, "skip": src != r.index - 1}
                 for label, shape, src in zip(row["from"], row["in_shapes"], r.inputs)]
        to = [i for i in used.get(r.index, []) if i != r.index + 1]
        boxes.append({"index": r.index, "type": r.type, "name": row["name"], "edges": edges,
                      "merge": len(r.inputs) > 1, "to": to, "shape": row["shape"], "explore": row["explore"]})
    return boxes


def example_links() -> list[tuple[str, str]]:
    links = []
    for title, (fw, code, shape, extra) in EXAMPLES.items():
        q = {"framework": fw, "code": code, **({"input_shape": shape} if shape else {}), **extra}
        if "depth_1" in code:
            q.update(var_depth_1=16, var_depth_2=32)
        links.append((title, "/trace?" + urlencode(q)))
    return links


def trace_page(request: Request):
    ctx = trace_context(request.query_params)
    return view_response(request, "trace.html", ctx, path="/trace", query=request.url.query or None,
                         refused=bool(ctx["errors"]))
