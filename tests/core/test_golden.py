"""The engine against outputs recorded from real PyTorch and Keras (tests/golden/record.py).

CI reads the recorded files only; torch and keras are needed just to re-record them.
"""
import gzip
import json
from pathlib import Path

import numpy as np
import pytest

from app.core.forward import output_shape, run_layer
from app.core.frameworks import SpecError, build_layer

GOLDEN = Path(__file__).resolve().parents[1] / "golden"
CASES = json.loads(gzip.decompress((GOLDEN / "forward.json.gz").read_bytes()))["cases"]
REFUSALS = json.loads((GOLDEN / "refusals.json").read_text())
REFUSALS = REFUSALS["cases"]


def test_the_recording_is_broad():
    types = {(c["framework"], c["layer"]["type"]) for c in CASES}
    assert len(CASES) >= 400 and len(types) >= 40


@pytest.mark.parametrize("case", CASES, ids=[c["id"] for c in CASES])
def test_engine_matches_the_framework(case):
    x = np.array(case["input"], dtype=np.float32)
    layer = build_layer(case["framework"], case["layer"], x.shape)
    weights = [np.array(w, dtype=np.float32) for w in case["weights"]]
    assert [list(s) for s in layer.weight_shapes] == [list(w.shape) for w in weights]
    assert list(output_shape(layer)) == case["output_shape"]
    y = run_layer(layer, x, weights)
    expected = np.array(case["output"], dtype=np.float32)
    scale = max(1.0, float(np.abs(expected).max(initial=0)))
    np.testing.assert_allclose(y, expected, rtol=1e-4, atol=2e-5 * scale)


@pytest.mark.parametrize("case", REFUSALS, ids=[f"{r['framework']}-{r['layer']['type']}-{r['keyword']}-{i}"
                                                 for i, r in enumerate(REFUSALS)])
def test_engine_refuses_what_the_framework_refuses(case):
    with pytest.raises(SpecError) as err:
        build_layer(case["framework"], case["layer"], tuple(case["input_shape"]))
    assert err.value.field == case["keyword"], str(err.value)
    assert case["layer"]["type"] in str(err.value) or "layer type" in str(err.value)
