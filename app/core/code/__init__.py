"""Pasted model code -> the layers a forward pass runs, in order, and where each one's input comes from.

The code is parsed with ``ast`` and followed by a small interpreter that never executes it: values are
numbers, strings, tuples, lists and dicts the code writes itself; layers are specs in the framework's own
words; tensors are symbols that remember which layer made them. It follows what people write: Keras
Sequential lists, ``model.add`` chains and the functional API (branches, merges, models built inside
functions); PyTorch ``nn.Sequential`` and ``nn.Module`` classes, their own blocks, helper functions, layer
lists built in loops, and ``forward()`` as data flow (several variables, ``torch.cat``, ``+``, ``F.*``,
``view``/``size()``, loops over ``ModuleList``). What it cannot follow is named, never guessed.

Hostile input is bounded before and during the work: a length cap, ``ast.parse`` fenced against the
parser's own errors, a node cap, then caps on interpreter steps, call depth, numbers, list lengths and
layers. Nothing from the paste is imported, opened, evaluated or called outside this interpreter.

The package: ``values`` (the values a name can hold, the limits), ``evaluator`` (the bounded interpreter:
statements, expressions, calls, builtins, methods), ``torch_calls`` (torch.nn layers, helpers, the zoos,
tensors in forward()), ``keras_calls`` (Keras layers, old spellings, Input, Sequential/functional models) and
``model`` (which model the paste builds, and ``parse_model``).
"""
from ..frameworks.signatures import KERAS_ALIASES  # the one alias table the parser reads (tests check it)
from .model import detect_framework, parse_model
from .values import (
           MAX_CHARS,
           MAX_DEPTH,
           MAX_ITEMS,
           MAX_LAYERS,
           MAX_LIST,
           MAX_NODES,
           MAX_NUMBER,
           MAX_STEPS,
           CodeError,
           ParsedModel,
)

__all__ = ["KERAS_ALIASES", "MAX_CHARS", "MAX_DEPTH", "MAX_ITEMS", "MAX_LAYERS", "MAX_LIST", "MAX_NODES",
           "MAX_NUMBER", "MAX_STEPS", "CodeError", "ParsedModel", "detect_framework", "parse_model"]
