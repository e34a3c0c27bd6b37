"""Convscope: convolution layers computed exactly as PyTorch and Keras do, shown step by step.

Installed, this package is ``convscope`` (in the checkout it is the directory ``app``). Importing it
is cheap: the notebook helpers load on first use, and nothing here imports torch or keras.

    import convscope
    convscope.show(torch.nn.Conv2d(3, 8, 3), input_shape=(1, 3, 12, 12))
"""
__version__ = "0.1.0"  # the one place: pyproject.toml reads it from here
__all__ = ["__version__", "configure", "show", "show_model", "trace_url", "view_url"]


def __getattr__(name: str):
    if name in __all__:
        from . import notebook
        return getattr(notebook, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
