"""Clean stops: SIGINT (Ctrl-C) and SIGTERM end a search between commits.

Inside :func:`stop_on_signals` either signal raises
:class:`SearchInterrupted` in the main thread; the search then closes its
pools and workers (whatever it had committed stays), and the tools print one
line and exit with ``128 + signal`` (130, 143). A second signal during that
clean-up is ignored. Worker processes call :func:`ignore_interrupts`: a
Ctrl-C reaches the whole process group, and only the driver should act.
"""
import signal
import threading
from contextlib import contextmanager
from typing import Iterator, Optional

SIGNALS = (signal.SIGINT, signal.SIGTERM)


class SearchInterrupted(BaseException):
    """The search was stopped by a signal; resume it with ``--resume``.

    A ``BaseException`` like ``KeyboardInterrupt``, so that no handler of
    ordinary errors (a failed candidate's) takes it for one.

    Args:
        signum: the signal received.
        evaluated: proxy trainings archived when it stopped (set by the
            search).
    """

    def __init__(self, signum: int, evaluated: Optional[int] = None):
        super().__init__(signum)
        self.signum = signum
        self.evaluated = evaluated

    @property
    def exit_code(self) -> int:
        """The shell's code for death by this signal: 130, 143."""
        return 128 + self.signum

    def __str__(self) -> str:
        done = '' if self.evaluated is None else \
            f' after {self.evaluated} proxy trainings'
        return (f'interrupted ({signal.Signals(self.signum).name}){done}; '
                f'resume with --resume')


def _raise(signum, frame):
    for sig in SIGNALS:  # no second interruption during the clean-up
        signal.signal(sig, signal.SIG_IGN)
    raise SearchInterrupted(signum)


@contextmanager
def stop_on_signals() -> Iterator[None]:
    """SIGINT and SIGTERM raise :class:`SearchInterrupted` (main thread
    only; elsewhere this does nothing)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = {sig: signal.signal(sig, _raise) for sig in SIGNALS}
    try:
        yield
    finally:
        for sig, handler in old.items():
            signal.signal(sig, handler)


def ignore_interrupts() -> None:
    """In a worker process: leave Ctrl-C to the driver."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
