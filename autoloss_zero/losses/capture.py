"""Capture mode: record what each head passes its searched loss.

The rejection protocol needs the heads' real inputs (logits, targets, weights,
avg_factor) without knowing anything about the task. Under :func:`capture`,
every :class:`~autoloss_zero.losses.SearchedLoss` appends a detached
:class:`~autoloss_zero.losses.canvas.Canvas` of each call to the recorder;
outside the context nothing is recorded and nothing is kept.

Example:
    >>> with capture() as records:
    ...     model.loss(inputs, data_samples)
    >>> records['decode']  # list of (module, Canvas), one per call
"""
import contextlib
import contextvars
from collections import defaultdict
from typing import Dict, Iterator, List, Tuple

_RECORDER: contextvars.ContextVar = contextvars.ContextVar(
    'autoloss_capture', default=None)


@contextlib.contextmanager
def capture() -> Iterator[Dict[str, List[Tuple[object, object]]]]:
    """Record every searched-loss call inside the block, keyed by branch."""
    records: Dict[str, list] = defaultdict(list)
    token = _RECORDER.set(records)
    try:
        yield records
    finally:
        _RECORDER.reset(token)


def record(branch: str, module, canvas) -> None:
    """Append ``(module, canvas.detached())`` if a capture is active."""
    records = _RECORDER.get()
    if records is not None:
        records[branch].append((module, canvas.detached()))


def is_capturing() -> bool:
    """Whether a :func:`capture` block is active in this context."""
    return _RECORDER.get() is not None
