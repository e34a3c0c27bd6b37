"""Scratch memory for the engine's temporaries (padded input, im2col columns, partial sums).

Fresh multi-megabyte temporaries freed at the end of every call make glibc hand the memory back to
the kernel and fault it in again on the next call, at sizes only its heuristics decide: measured,
889 page faults and 9× the time for one depthwise conv, 3,300 faults and 2× for a large one. So
each thread keeps one buffer per slot and reuses it. Rules: nothing returned to a caller is a view
of scratch memory, and a slot is used by one function call at a time (a thread runs one conv at a
time). Worker threads that exit take their buffers with them.
"""
from __future__ import annotations

import math
import threading

import numpy as np

KEEP_BYTES = 4 << 20  # a slot keeps at most this much per thread; larger requests get fresh memory
_local = threading.local()


def scratch(slot: str, shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float32 array of ``shape`` in this thread's buffer for ``slot``.

    >>> a = scratch("doc", (2, 3)); a[...] = 1
    >>> b = scratch("doc", (3,))  # the same memory again: a's contents are now b's
    >>> bool(np.shares_memory(a, b)), b.tolist()
    (True, [1.0, 1.0, 1.0])
    """
    size = math.prod(shape)
    if size * 4 > KEEP_BYTES:
        return np.empty(shape, dtype=np.float32)
    buffers = _local.__dict__.setdefault("buffers", {})
    buf = buffers.get(slot)
    if buf is None or buf.size < size:  # grow in powers of two: few reallocations
        buf = buffers[slot] = np.empty(min(1 << (size - 1).bit_length(), KEEP_BYTES // 4), np.float32)
    return buf[:size].reshape(shape)
