"""Figure dicts are built by hand for speed; plotly.py's own validators check them here."""
import html
import re

import numpy as np
import plotly.graph_objects as go
import pytest

from app.figures import as_2d, heatmap_grid


@pytest.mark.parametrize("shape, cols", [((3,), 1), ((3, 3), 2), ((2, 3, 3), 3), ((16, 4), 4)])
def test_heatmap_grid_is_a_valid_plotly_figure(shape, cols):
    panels = [(f"weight[{i}, 0]<br>kernel[:, :, 0, {i}]", np.random.default_rng(i).normal(size=shape)) for i in range(5)]
    fig = heatmap_grid(panels, cols=cols)
    go.Figure(fig)  # raises ValueError on any property plotly does not know
    assert len(fig["data"]) == 5 and len(fig["layout"]["annotations"]) == 5
    lo, hi = fig["layout"]["coloraxis"]["cmin"], fig["layout"]["coloraxis"]["cmax"]
    assert lo == -hi and hi == max(np.abs(a).max() for _, a in panels)
    for key, axis in fig["layout"].items():  # every panel inside the paper, none overlapping its title band
        if key.startswith(("xaxis", "yaxis")):
            assert 0 <= axis["domain"][0] < axis["domain"][1] <= 1


def test_the_validator_is_real():
    with pytest.raises(ValueError):
        go.Figure({"data": [{"type": "heatmap", "zz": [[1]]}]})


def test_depth_slices_sit_side_by_side_with_a_gap():
    a = np.arange(2 * 2 * 3).reshape(2, 2, 3)
    flat = as_2d(a)
    assert flat.shape == (2, 7) and np.isnan(flat[:, 3]).all()
    assert (flat[:, :3] == a[0]).all() and (flat[:, 4:] == a[1]).all()


@pytest.mark.parametrize("query, figures", [
    ("", ["weights", "maps"]), ("type=Conv3d&input_shape=1,2,4,4,4&kernel_size=2", ["weights", "maps"]),
    # picture level: the output's pictures are on the stage, no maps figure below it
    ("framework=keras&type=Conv1D&filters=100&kernel_size=4&padding=same&input_shape=1,50,300", ["weights"])])
def test_explorer_figures_are_valid(client, query, figures):
    """/explore/figure answers each figure as JSON that plotly accepts, cacheable; the page and its fragment
    point at it (with the layer's query) and carry none of its numbers."""
    page = client.get(f"/explore?{query}", headers={"HX-Request": "true"}).text
    srcs = [html.unescape(s) for s in re.findall(r'data-plot-src="([^"]+)"', page)]
    assert [s.rsplit("=", 1)[1] for s in srcs] == figures and "data-plot=" not in page
    for src in srcs:
        answer = client.get(src)
        assert answer.status_code == 200 and answer.headers["content-type"] == "application/json"
        assert "max-age" in answer.headers["cache-control"] and answer.headers["etag"]
        fig = answer.json()
        go.Figure(fig)
        assert fig["data"] and all(t["type"] == "heatmap" for t in fig["data"])


def test_explorer_figures_hold_the_engines_numbers(client):
    """The weights figure's panels are the kernel's slices, the maps figure's the output's channels (the engine's,
    as the page's grids print them)."""
    from starlette.datastructures import QueryParams

    from app.core.frameworks import build_layer
    from app.routes.explore import engine_run, layer_spec, read_state
    state = read_state(QueryParams("out_channels=2&in_channels=2&seed=7"))[0]
    _, y, w, _, _ = engine_run(state, build_layer("torch", layer_spec(state), state.input_shape))
    query = "in_channels=2&out_channels=2&seed=7"
    weights = client.get(f"/explore/figure?{query}&figure=weights").json()
    maps = client.get(f"/explore/figure?{query}&figure=maps").json()
    assert [np.array(t["z"]).tolist() for t in weights["data"]] == [w[f, c].tolist() for f in range(2) for c in range(2)]
    assert [np.array(t["z"]).tolist() for t in maps["data"]] == [y[0, f].tolist() for f in range(2)]


@pytest.mark.parametrize("query, words", [("figure=plot", "figure: weights or maps, got 'plot'"),
                                          ("kernel_size=9", "from 1 to 7 (7×7 is the largest kernel in common use), got '9'")])
def test_a_bad_figure_query_is_refused_by_name(client, query, words):
    answer = client.get(f"/explore/figure?{query}")
    assert answer.status_code == 422 and words in answer.text and "Traceback" not in answer.text
