"""Figure dicts are built by hand for speed; plotly.py's own validators check them here."""
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


@pytest.mark.parametrize("query", ["", "type=Conv3d&input_shape=1,2,4,4,4&kernel_size=2",
                                   "framework=keras&type=Conv1D&filters=100&kernel_size=4&padding=same&input_shape=1,50,300"])
def test_explorer_figures_are_valid(query):
    from starlette.datastructures import QueryParams

    from app.routes.explore import explore_context, read_state
    ctx = explore_context(read_state(QueryParams(query))[0])
    go.Figure(ctx["weights_figure"])
    go.Figure(ctx["maps_figure"])
