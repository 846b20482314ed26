"""Checks of the ``search`` settings, each error naming key, value and range.

Every setting is checked when the settings are built, before anything is
built or trained:

    >>> check_int('search.rejection.steps', 0, minimum=1)
    Traceback (most recent call last):
    ...
    ValueError: search.rejection.steps = 0 is invalid: expected an integer >= 1
"""
import math
from numbers import Integral, Real
from typing import Iterable, Mapping, Optional


def _fail(key: str, value, expected: str):
    raise ValueError(f'{key} = {value!r} is invalid: expected {expected}')


def check_keys(key: str, given: Mapping, allowed: Iterable[str]) -> None:
    """KeyError for keys of ``given`` that are not ``allowed``."""
    allowed = sorted(allowed)
    unknown = sorted(set(given) - set(allowed))
    if unknown:
        raise KeyError(f'unknown key(s) {unknown} in {key}; valid keys: '
                       f'{allowed}')


def check_int(key: str, value, minimum: int,
              maximum: Optional[int] = None) -> None:
    """``value`` is an integer in [minimum, maximum]."""
    expected = (f'an integer >= {minimum}' if maximum is None else
                f'an integer in [{minimum}, {maximum}]')
    if isinstance(value, bool) or not isinstance(value, Integral) or \
            value < minimum or (maximum is not None and value > maximum):
        _fail(key, value, expected)


def check_number(key: str, value, low: float, high: float = math.inf,
                 low_open: bool = False, high_open: bool = False) -> None:
    """``value`` is a real number in the interval from ``low`` to ``high``
    (open at either end as asked)."""
    interval = (('(' if low_open else '[') + f'{low}, {high}' +
                (')' if high_open or high == math.inf else ']'))
    if isinstance(value, bool) or not isinstance(value, Real) or \
            not math.isfinite(value):
        _fail(key, value, f'a finite number in {interval}')
    above = value > low if low_open else value >= low
    below = value < high if high_open else value <= high
    if not (above and below):
        _fail(key, value, f'a number in {interval}')


def check_choice(key: str, value, choices: Iterable) -> None:
    """``value`` is one of ``choices``."""
    choices = list(choices)
    if value not in choices:
        _fail(key, value, f'one of {choices}')


def check_rungs(key: str, value) -> None:
    """A ladder of training lengths: increasing fractions in (0, 1], the
    last 1.0 (the full length), or None (a single rung)."""
    expected = ('None or increasing fractions of search.proxy.max_iters in '
                '(0, 1], the last 1.0, e.g. (0.25, 1.0)')
    if value is None:
        return
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        _fail(key, value, expected)
    rungs = list(value)
    if not rungs or any(isinstance(r, bool) or not isinstance(r, Real)
                        or not 0 < r <= 1 for r in rungs) or rungs[-1] != 1 \
            or any(a >= b for a, b in zip(rungs, rungs[1:])):
        _fail(key, value, expected)


def check_eta(key: str, value) -> None:
    """A rejection threshold: a gain of a metric in [0, 1] lies in [-1, 1],
    so a threshold above 1 can never be reached."""
    check_number(key, value, -1.0, 1.0)


def check_loss_config(key: str, path: str, value) -> None:
    """``value`` (the config at ``path``) is a loss config: a dict with a
    ``type`` (or a list of them), not e.g. the head that holds the loss."""
    losses = value if isinstance(value, (list, tuple)) else [value]
    for loss in losses:
        if not isinstance(loss, Mapping) or 'type' not in loss:
            raise ValueError(f'{key}: {path!r} holds {loss!r}, not a loss '
                             f'config (a dict with a type, or a list of '
                             f'them)')
        kind = str(loss['type'])
        if 'loss' not in kind.lower() and not path.rpartition('.')[
                2].startswith('loss'):
            inner = sorted(k for k in loss if str(k).startswith('loss'))
            hint = (f'; name the loss inside it, e.g. {path}.{inner[0]!s}'
                    if inner else '')
            raise ValueError(f'{key}: {path!r} is a {kind!r} config, not a '
                             f'loss config{hint}')
