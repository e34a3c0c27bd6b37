"""`/learn`: the index; `/learn/<slug>`: the six questions of docs/QUESTIONS.md as guided lessons.

Each lesson: the question in the asker's words, a short plain answer whose numbers come from the
engine, the interactive view preset to their exact numbers (embedded, not rebuilt), "now try"
steps that change one knob in the embedded view, and the code to reproduce it in both frameworks.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..core.cost import layer_cost
from ..core.forward import output_shape
from ..core.frameworks import build_layer
from ..core.shapes import axis_formulas
from ..core.trace import fit_check, show_shape, trace
from ..display import fmt, shape_text, term
from ..routes.trace import EXAMPLES
from ..snippets import keras_code, torch_code
from ..templating import cached_view, view_response

router = APIRouter(include_in_schema=False)


@dataclass
class Lesson:
    slug: str
    question: str  # the asker's words, shortened
    title: str
    answer: list[str]  # paragraphs, numbers filled in from the engine
    view: str  # the embedded view: /embed/...
    tries: list[tuple[str, str]]  # (what to do and what to notice, the view URL it loads)
    code: dict[str, str] = field(default_factory=dict)
    facts: dict[str, object] = field(default_factory=dict)  # the numbers, for tests and data-* attributes


def q(path: str, **params) -> str:
    return f"{path}?{urlencode(params, safe=',')}"


def lesson_1x1() -> Lesson:
    layer = build_layer("keras", {"type": "Conv1D", "filters": 64, "kernel_size": 1, "activation": "relu"},
                        (2, 10, 100))
    out, kernel = list(output_shape(layer)), list(layer.params[0].shape)
    params = layer_cost(layer).params
    base = dict(framework="keras", type="Conv1D", filters=64, kernel_size=1, activation="relu", input_shape="2,10,100")
    return Lesson(
        "1x1-conv", "What does Conv1D(filters=64, kernel_size=1, activation='relu') do before my LSTM? What is the "
        "1×1 ‘matrix’, what does filters=64 mean, does ReLU act on the conv output, and why use kernel size 1?",
        "A 1×1 convolution is a Dense layer applied at every position",
        [f"On an input of (batch, 10, 100) — 10 positions, 100 channels — the layer's kernel is "
         f"{shape_text(kernel)}: a 64 × 100 matrix W (plus 64 biases, {params:,} parameters). At every position t "
         f"it computes y[t] = relu(W · x[t] + b): the same Dense(64) applied to each position's 100 channels. "
         f"The output is {shape_text(['batch', *out[1:]])}.",
         "Nothing mixes across positions; everything mixes across channels. filters=64 is the number of output "
         "channels — the rows of W. ReLU acts after the sum and the bias. Kernel size 1 is useful to change the "
         "number of channels (here 100 → 64) cheaply, before a layer like an LSTM that is costly in its input size."],
        q("/embed/pointwise", **base),
        [("Set filters to 8: W becomes 8 × 100 and the output 8 channels per position; nothing else changes.",
          q("/embed/pointwise", **{**base, "filters": 8})),
         ("Switch to PyTorch: the same numbers, but the weight is (64, 100, 1) and the input (batch, 100, 10).",
          q("/embed/pointwise", framework="torch", type="Conv1d", in_channels=100, out_channels=64, kernel_size=1,
            activation="relu", input_shape="2,100,10")),
         ("Take the activation away: negative outputs stay negative.",
          q("/embed/pointwise", **{**base, "activation": "linear"}))],
        {"keras": "import keras\n\nconv = keras.layers.Conv1D(filters=64, kernel_size=1, activation='relu')\n"
                  "dense = keras.layers.Dense(64, activation='relu')\nx = keras.random.normal((2, 10, 100))\n"
                  "y = conv(x)\ndense.build((None, 100))\nkernel, bias = conv.get_weights()   # (1, 100, 64), (64,)\n"
                  "dense.set_weights([kernel[0], bias])\nprint(y.shape)                      # (2, 10, 64)\n"
                  "print(abs(y - dense(x)).max())     # 0: the same layer, position by position",
         "torch": "import torch\nfrom torch import nn\n\nconv = nn.Conv1d(100, 64, kernel_size=1)\n"
                  "linear = nn.Linear(100, 64)\nwith torch.no_grad():\n    linear.weight.copy_(conv.weight[:, :, 0])\n"
                  "    linear.bias.copy_(conv.bias)\n"
                  "x = torch.randn(2, 100, 10)          # (batch, channels, positions)\n"
                  "y = torch.relu(conv(x))\nprint(y.shape)                       # torch.Size([2, 64, 10])\n"
                  "print((y - torch.relu(linear(x.transpose(1, 2))).transpose(1, 2)).abs().max())  # ~0"},
        {"output_shape": out, "kernel": kernel, "params": params})


def lesson_output_length() -> Lesson:
    specs = [{"type": "Conv1d", "in_channels": 16, "out_channels": 32, "kernel_size": 5, "stride": 2}, {"type": "ReLU"},
             {"type": "MaxPool1d", "kernel_size": 2, "stride": 2}, {"type": "Dropout", "p": 0.25}]
    t = trace("torch", (4, 16, 100), specs)
    shapes = [list(r.output_shape) for r in t.rows]
    conv = build_layer("torch", specs[0], (4, 16, 100))
    formula = axis_formulas(conv.stages[0], (100,))[0]
    pool49 = build_layer("torch", {"type": "MaxPool1d", "kernel_size": 2}, (4, 32, 49))
    base = dict(framework="torch", type="Conv1d", in_channels=16, out_channels=32, kernel_size=5, stride=2,
                input_shape="1,16,100")
    return Lesson(
        "output-length", "How do I compute the output length of nn.Conv1d and nn.MaxPool1d in my stack?",
        "The output length: floor((L + 2·padding − dilation·(kernel − 1) − 1) / stride) + 1",
        [f"For Conv1d(16, 32, kernel_size=5, stride=2) on length 100: {formula.text}. The floor drops what no window "
         f"reaches: input position{'s' if len(formula.unreached) > 1 else ''} {', '.join(map(str, formula.unreached))} "
         f"{'are' if len(formula.unreached) > 1 else 'is'} never read.",
         f"MaxPool1d(2) uses stride = kernel_size when stride is not given (Keras pooling likewise uses pool_size). "
         f"The whole stack on (4, 16, 100): {' → '.join(str(tuple(s)) for s in shapes)}; the conv has "
         f"{t.rows[0].params:,} parameters. On length 49 the pool gives {output_shape(pool49)[2]}: "
         "the last position is dropped."],
        q("/embed/explore", **base),
        [("Set stride to 1: the length becomes 96 and every position is read.",
          q("/embed/explore", **{**base, "stride": 1})),
         ("Set padding to 2 (stride 2): floor((100 + 4 − 4 − 1) / 2) + 1 = 50.",
          q("/embed/explore", **{**base, "padding": 2})),
         ("Trace the whole stack, pool included.",
          q("/embed/trace", framework="torch", code=EXAMPLES["Q2: PyTorch Conv1d stack"][1], input_shape="4,16,100"))],
        {"torch": torch_code(conv.stages[0], (4, 16, 100), tuple(shapes[0])),
         "keras": keras_code(conv.stages[0], (4, 16, 100), tuple(shapes[0]))},
        {"shapes": shapes, "params": t.rows[0].params, "formula": formula.text, "pool49": output_shape(pool49)[2]})


def lesson_separable() -> Lesson:
    rows = []
    for c in (32, 64, 128):
        std = layer_cost(build_layer("torch", {"type": "Conv2d", "in_channels": c, "out_channels": c, "kernel_size": 3,
                                               "padding": 1}, (10, c, 512, 512)))
        sep = layer_cost(build_layer("keras", {"type": "SeparableConv2D", "filters": c, "kernel_size": 3,
                                               "padding": "same", "data_format": "channels_first"}, (10, c, 512, 512)))
        rows.append((c, sep.macs / std.macs, sep.total_bytes / std.total_bytes, std.intensity, sep.intensity))
    c, mac_ratio, byte_ratio, std_i, sep_i = rows[0]
    base = dict(framework="torch", in_channels=32, out_channels=32, kernel_size=3, padding="same",
                input_shape="10,32,512,512")
    return Lesson(
        "separable-slower", "MobileNet says a depthwise-separable conv needs about 1/9 of the FLOPs, but mine is "
        "slower: 0.78 s vs 1.42 s for 100 runs at 32 channels (TensorFlow, NCHW, batch 10, 512×512, 3×3).",
        "Fewer multiply-adds, more memory traffic",
        [f"At 32 channels the separable conv does {mac_ratio:.3f}× the multiply-accumulates (1/C_out + 1/k² = "
         f"1/32 + 1/9) — but it moves {byte_ratio:.2f}× the bytes: its depthwise stage writes an intermediate "
         "tensor as large as the input, and the 1×1 stage reads it back.",
         f"Per byte moved, the standard conv does {std_i:.0f} FLOPs, the separable one {sep_i:.1f}. Below a machine's "
         "ridge (peak FLOP/s ÷ bandwidth) an op waits on memory, not arithmetic: the depthwise stage does only 9 "
         "multiply-adds per value it loads. So the time follows the bytes, and the measured times do too."],
        q("/embed/cost", **base),
        [("Pick the laptop CPU: its ridge is lower, and the gap between the two shrinks.",
          q("/embed/cost", **{**base, "peak_gflops": 300, "bandwidth_gbs": 40})),
         ("Try 128 channels: the MAC ratio falls to 1/128 + 1/9, the byte ratio stays about 2.",
          q("/embed/cost", **{**base, "in_channels": 128, "out_channels": 128, "input_shape": "10,128,512,512"})),
         ("Use a 5×5 kernel: 1/k² becomes 1/25 and the depthwise stage gets more work per byte.",
          q("/embed/cost", **{**base, "kernel_size": 5}))],
        {"torch": "import time, torch\nfrom torch import nn\n\nc = 32\nstandard = nn.Conv2d(c, c, 3, padding=1)\n"
                  "separable = nn.Sequential(nn.Conv2d(c, c, 3, padding=1, groups=c), nn.Conv2d(c, c, 1))\n"
                  "x = torch.randn(10, c, 512, 512)\n"
                  "for name, layer in ((\"standard\", standard), (\"separable\", separable)):\n"
                  "    with torch.no_grad():\n        start = time.perf_counter()\n        for _ in range(10):\n"
                  "            layer(x)\n    print(name, (time.perf_counter() - start) / 10)",
         "keras": "import time, keras\n\nc = 32\nx = keras.random.normal((10, 512, 512, c))\n"
                  "for layer in (keras.layers.Conv2D(c, 3, padding='same'),\n"
                  "              keras.layers.SeparableConv2D(c, 3, padding='same')):\n"
                  "    layer(x)  # build\n    start = time.perf_counter()\n    for _ in range(10):\n        layer(x)\n"
                  "    print(layer.__class__.__name__, (time.perf_counter() - start) / 10)"},
        {"ratios": [(c, round(m, 6), round(b, 6)) for c, m, b, _, _ in rows]})


def lesson_weights() -> Lesson:
    keras_layer = build_layer("keras", {"type": "Conv2D", "filters": 32, "kernel_size": [3, 3]}, (1, 28, 28, 5))
    torch_layer = build_layer("torch", {"type": "Conv2d", "in_channels": 5, "out_channels": 32, "kernel_size": 3},
                              (1, 5, 28, 28))
    kshape, tshape = list(keras_layer.params[0].shape), list(torch_layer.params[0].shape)
    base = dict(framework="keras", type="Conv2D", filters=32, kernel_size="3,3", input_shape="1,28,28,5")
    return Lesson(
        "keras-weight-shape", "Why does model.layers[0].get_weights() look weird for Conv2D(32, (3, 3)) on an "
        "(x, y, z) input? I expected 32 matrices of 3×3.",
        "32 filters of 3×3×z, stored as (3, 3, z, 32) in Keras",
        [f"With z = 5 input channels, Keras' kernel is {shape_text(kshape)} = (kernel_h, kernel_w, in_channels, "
         f"filters), and the bias is (32,). Filter i is a[0][:, :, :, i], shape (3, 3, 5): one 3×3 slice per input "
         "channel.",
         f"PyTorch keeps the same numbers as {shape_text(tshape)} = (filters, in_channels, kernel_h, kernel_w): "
         f"filter i is weight[i]. Either way there are 32 × 5 slices of 3×3 — {layer_cost(keras_layer).params:,} "
         "parameters with the biases — not 32 matrices."],
        q("/embed/explore", **base),
        [("Switch to PyTorch: the same slices, now weight[f, c] of (32, 5, 3, 3).",
          q("/embed/explore", framework="torch", type="Conv2d", in_channels=5, out_channels=32, kernel_size="3,3",
            input_shape="1,5,28,28")),
         ("Set 2 input channels: each filter becomes 3×3×2, the kernel (3, 3, 2, 32).",
          q("/embed/explore", **{**base, "input_shape": "1,28,28,2"})),
         ("Show filter 7: its 5 slices are kernel[:, :, c, 7].", q("/embed/explore", **{**base, "f": 7}))],
        {"keras": keras_code(keras_layer.stages[0], (1, 5, 28, 28), (1, 32, 26, 26)) +
                  "\nfilter_0 = kernel[:, :, :, 0]   # (3, 3, 5)",
         "torch": torch_code(torch_layer.stages[0], (1, 5, 28, 28), (1, 32, 26, 26)) +
                  "\nfilter_0 = model.weight[0]       # (5, 3, 3)"},
        {"keras_kernel": kshape, "torch_weight": tshape, "params": layer_cost(keras_layer).params})


def lesson_samples() -> Lesson:
    _, code, _, extra = EXAMPLES["Q5: Keras Conv3D model"]
    from ..core.code import parse_model
    parsed = parse_model(code, "keras", {"depth_1": 16, "depth_2": 32})
    t = trace("keras", parsed.input_shape, parsed.layers)
    out = show_shape(t.rows[-1].output_shape, False)
    lines = fit_check((420420, 33, 33, 1), (60060, 1), parsed.input_shape, out)
    page = dict(framework="keras", code=code, var_depth_1=16, var_depth_2=32, **extra)
    return Lesson(
        "sample-count-mismatch", "Keras stops with ‘Input arrays should have the same number of samples as target "
        "arrays. Found 420420 input samples and 60060 target samples.’ My Conv3D model takes "
        "input_shape=(33, 33, 7, 1).",
        "Axis 0 counts samples in x and y alike: 420,420 = 7 × 60,060",
        [f"The model itself traces fine: "
         f"{' → '.join(str(tuple(show_shape(r.output_shape, False))) for r in t.rows[:2])} … "
         f"{tuple(show_shape(t.rows[4].output_shape, False))} after Flatten, {tuple(out)} at the end; "
         f"{t.total_params:,} parameters.",
         lines[2][1] + ".", lines[0][1] + "."],
        q("/embed/trace", **page),
        [("Give x the shape the model takes: (60060, 33, 33, 7, 1) — every line turns ✓.",
          q("/embed/trace", **{**page, "x_shape": "60060,33,33,7,1"})),
         ("Change depth_1 to 8: the first conv's parameters halve, the shapes stay.",
          q("/embed/trace", **{**page, "var_depth_1": 8})),
         ("Give y one label per image instead (420,420 samples): the counts agree, but each x sample still "
          "is one image where the model wants seven.", q("/embed/trace", **{**page, "y_shape": "420420,1"}))],
        {"keras": code + "\n# x: (420420, 33, 33, 1) images -> group 7 consecutive images per sample\n"
                         "x = x.reshape(60060, 7, 33, 33, 1).transpose(0, 2, 3, 1, 4)   # (60060, 33, 33, 7, 1)\n"
                         "model.fit(x, y)",
         "torch": "# PyTorch puts channels first: (N, C, D, H, W) = (60060, 1, 7, 33, 33)\n"
                  "x = torch.as_tensor(x).reshape(60060, 7, 33, 33, 1).permute(0, 4, 1, 2, 3)"},
        {"total_params": t.total_params, "flatten": show_shape(t.rows[4].output_shape, False), "output": out})


def lesson_filters() -> Lesson:
    layer = build_layer("keras", {"type": "Conv1D", "filters": 100, "kernel_size": 4, "padding": "same",
                                  "activation": "relu"}, (1, 50, 300))
    out, kernel, pads = list(output_shape(layer)), list(layer.params[0].shape), layer.stages[0].padding[0]
    small = build_layer("keras", {"type": "Conv1D", "filters": 5, "kernel_size": 3}, (3, 8, 3))
    pool = build_layer("keras", {"type": "MaxPooling1D", "pool_size": 3, "strides": 3}, output_shape(small))
    base = dict(framework="keras", type="Conv1D", filters=100, kernel_size=4, padding="same", activation="relu",
                input_shape="1,50,300")
    return Lesson(
        "filters-and-kernel-size", "What do filters and kernel_size of Conv1D do to my (sentence length × embedding "
        "size) matrix?",
        "kernel_size is the window's length in words; filters is how many windows you learn",
        [f"Conv1D expects (batch, length, channels): for 50 words with 300-dimensional embeddings, (batch, 50, 300). "
         f"Conv1D(filters=100, kernel_size=4, padding='same') gives {shape_text(['batch', *out[1:]])}, "
         f"kernel {shape_text(kernel)}: 100 windows, each 4 words long and 300 channels deep, sliding word by word.",
         f"Padding 'same' with an even kernel pads {pads[0]} before and {pads[1]} after. With a kernel of ones "
         f"every output is the sum of its window — a check anyone can do by hand: on (3, 8, 3), Conv1D(5, 3) gives "
         f"{shape_text(output_shape(small))}, then MaxPooling1D(3, strides=3) gives {shape_text(output_shape(pool))}."],
        q("/embed/explore", **base),
        [("Load the kernel of ones on the small example: each output is the sum of 3 rows × 3 channels.",
          q("/embed/explore", framework="keras", type="Conv1D", filters=5, kernel_size=3, input_shape="3,8,3",
            weights="ones")),
         ("Set kernel_size to 3 with 'same': now 1 word of padding on each side.",
          q("/embed/explore", **{**base, "kernel_size": 3})),
         ("Use 'valid' padding: the length drops to 50 − 4 + 1 = 47.",
          q("/embed/explore", **{**base, "padding": "valid"}))],
        {"keras": keras_code(layer.stages[0], (1, 300, 50), (1, 100, 50), "relu"),
         "torch": torch_code(layer.stages[0], (1, 300, 50), (1, 100, 50), "relu")},
        {"output_shape": out, "kernel": kernel, "pads": list(pads), "small": list(output_shape(small)),
         "pooled": list(output_shape(pool))})


def lesson_backprop() -> Lesson:
    """The numbers are the embedded /backprop's own (its engine run on its URL's state), the shapes the engine's."""
    from starlette.datastructures import QueryParams

    from . import backprop
    base = dict(framework="torch", type="Conv1d", in_channels=1, out_channels=1, kernel_size=2, input_shape="1,1,4",
                seed=5, paste_as="grad_output", paste="1,-2,3")
    state, _ = backprop.read_state(QueryParams(urlencode(base)))
    nums = backprop.run(state, build_layer("torch", backprop.layer_spec(state), state.input_shape))
    x, (w, b), g = nums["x"].ravel(), (t.ravel() for t in nums["weights"]), nums["g"].ravel()
    y, gx, (gw, gb) = nums["y"].ravel(), nums["gx"].ravel(), (t.ravel() for t in nums["gw"])
    row = lambda a: "[" + ", ".join(fmt(float(v)) for v in a) + "]"  # noqa: E731
    py = lambda a: "[" + ", ".join(repr(round(float(v), 4)) for v in a) + "]"  # as Python reads them  # noqa: E731
    padded = np.concatenate([[0.0], g, [0.0]])
    flipped = w[::-1]
    sums = ", ".join(f"{term(padded[i], flipped[0])} + {term(padded[i + 1], flipped[1])} = {fmt(float(gx[i]))}"
                     for i in range(len(x)))
    weight_sums = "; ".join(f"∂L/∂w[{j}] = " + " + ".join(term(x[i + j], g[i]) for i in range(len(g)))
                            + f" = {fmt(float(gw[j]))}" for j in range(2))
    big = build_layer("torch", {"type": "Conv2d", "in_channels": 3, "out_channels": 8, "kernel_size": 3,
                                "stride": 2}, (1, 3, 9, 9))
    big_out = list(output_shape(big))
    shapes = {"grad_output": big_out, "grad_input": [1, 3, 9, 9], "weight.grad": list(big.params[0].shape),
              "bias.grad": list(big.params[1].shape)}
    view = lambda **c: q("/embed/backprop", **c)  # noqa: E731
    conv2d = dict(framework="torch", type="Conv2d", in_channels=2, out_channels=2, kernel_size=3, stride=2,
                  padding=1, input_shape="1,2,5,5")
    return Lesson(
        "backprop-conv", "I have to write conv_backward by hand. What is the gradient of a convolution with "
        "respect to its input and its weights, and what shapes should they have?",
        "Backprop through a convolution is two convolutions",
        [f"Take PyTorch's Conv1d(1, 1, kernel_size=2) on x = {row(x)}, with weight w = {row(w)} and bias "
         f"{fmt(float(b[0]))}: "
         f"y[i] = x[i]·w[0] + x[i+1]·w[1] + b = {row(y)}. Let the upstream gradient ∂L/∂y be g = {row(g)}.",
         f"The input's gradient is a convolution of g: pad g with kernel − 1 = 1 zero on each side, {row(padded)}, "
         f"and slide the flipped kernel {row(flipped)} over it, one input cell at a time: {sums}. "
         f"So ∂L/∂x = {row(gx)}, the transposed convolution of g with the same weight.",
         f"The weights' gradient is a convolution too, of the input with g as the kernel: {weight_sums}. "
         f"The bias' gradient is the sum of g, {' + '.join(term(v, 1)[:-2] for v in g)} = {fmt(float(gb[0]))}.",
         f"Every gradient has the shape of what it is the gradient of. For Conv2d(3, 8, 3, stride=2) on "
         f"{shape_text([1, 3, 9, 9])}: grad_output {shape_text(shapes['grad_output'])} like the output, grad_input "
         f"{shape_text(shapes['grad_input'])} like the input, weight.grad {shape_text(shapes['weight.grad'])} and "
         f"bias.grad {shape_text(shapes['bias.grad'])} like the parameters. With a stride of 2 the upstream gradient "
         "is first dilated, one zero between neighbours, before the flipped kernel slides over it."],
        view(**base),
        [("Click an output instead: a gradient of 1 from output 1 alone lights the two inputs and both weights "
          "it depended on.", view(**{k: v for k, v in base.items() if not k.startswith("paste")}, upstream="cell",
                                  cell=1)),
         ("A 2D layer with stride 2 and padding 1: the upstream gradient gets zeros between its values, and the "
          "shapes of every gradient are listed under the stage.", view(**conv2d)),
         ("Max pooling has no weights: each gradient goes to its window's winner.",
          view(framework="torch", type="MaxPool2d", kernel_size=2, stride=2, input_shape="1,1,4,4"))],
        {"torch": "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n"
                  "conv = nn.Conv1d(1, 1, kernel_size=2)\nwith torch.no_grad():\n"
                  f"    conv.weight.copy_(torch.tensor([[{py(w)}]]))\n    conv.bias.fill_({py(b)[1:-1]})\n"
                  f"x = torch.tensor([[{py(x)}]], requires_grad=True)\n"
                  f"g = torch.tensor([[{py(g)}]])   # the upstream gradient dL/dy\n"
                  "conv(x).backward(g)\n"
                  f"print(x.grad)              # [[{py(gx)}]]\nprint(conv.weight.grad)    # [[{py(gw)}]]\n"
                  f"print(conv.bias.grad)      # {py(gb)}\n"
                  "# the same two numbers as convolutions:\n"
                  "print(F.conv_transpose1d(g, conv.weight))   # = x.grad\n"
                  "print(F.conv1d(x.detach(), g))              # = conv.weight.grad",
         "keras": ""},
        {"x": x.tolist(), "w": w.tolist(), "g": g.tolist(), "grad_input": gx.tolist(), "grad_weight": gw.tolist(),
         "grad_bias": gb.tolist(), "shapes": shapes})


LESSONS = {lesson.slug: lesson for lesson in (build() for build in (
    lesson_1x1, lesson_output_length, lesson_separable, lesson_weights, lesson_samples, lesson_filters,
    lesson_backprop))}
ORDER = list(LESSONS)  # docs/QUESTIONS.md order: Q1 … Q6


@router.get("/learn")
@cached_view
def learn_index(request: Request):
    """Every lesson: its question in the asker's words and the short answer it leads to."""
    return view_response(request, "learn_index.html", {"lessons": LESSONS}, path="/learn", query=None)


@router.get("/learn/{slug}")
@cached_view
def learn(request: Request, slug: str):
    lesson = LESSONS.get(slug)
    if lesson is None:
        return Response(f"no lesson {slug!r}; the lessons are: {', '.join(ORDER)}", status_code=404,
                        media_type="text/plain")
    number = ORDER.index(slug) + 1
    return view_response(request, "learn.html", {"lesson": lesson, "number": number, "lessons": LESSONS},
                         path=f"/learn/{slug}", query=None)
