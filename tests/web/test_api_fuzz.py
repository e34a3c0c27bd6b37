"""No request body makes /api/forward answer anything but 200 or a clear 422 (never a 500)."""
import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.frameworks import keras, torch

TYPES = {"torch": torch.LAYER_TYPES, "keras": keras.LAYER_TYPES}
KEYWORDS = sorted({*torch.CONV_DEFAULTS, *torch.TRANSPOSED_DEFAULTS, *torch.MAXPOOL_DEFAULTS, *torch.AVGPOOL_DEFAULTS,
                   "filters", "strides", "dilation_rate", "use_bias", "activation", "data_format", "pool_size",
                   "depth_multiplier", "negative_slope", "alpha", "max_value", "threshold", "approximate", "beta"})
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(-3, 9), st.floats(allow_nan=False, allow_infinity=False),
                         st.sampled_from(["same", "valid", "causal", "zeros", "reflect", "circular", "relu", "gelu",
                                          "channels_first", "channels_last", "none", "tanh", ""]))
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=8)


@st.composite
def requests(draw):
    framework = draw(st.sampled_from(["torch", "keras"]))
    layer = {"type": draw(st.sampled_from(TYPES[framework]))}
    layer.update(draw(st.dictionaries(st.sampled_from(KEYWORDS), json_values, max_size=6)))
    rank = draw(st.integers(1, 5))
    shape = draw(st.lists(st.integers(1, 6), min_size=rank, max_size=rank))
    body = {"framework": framework, "layer": layer, "input": np.ones(shape).tolist()}
    if draw(st.booleans()):
        body["weights"] = draw(st.lists(json_values, max_size=3))
    return body


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(body=requests())
def test_forward_answers_200_or_a_named_422(client, body):
    r = client.post("/api/forward", json=body)
    assert r.status_code in (200, 422), (r.status_code, r.text[:300])
    if r.status_code == 422:
        d = r.json()["detail"][0]
        assert d["loc"][0] == "body" and len(d["msg"]) > 10
