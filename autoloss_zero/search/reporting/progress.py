"""The live progress of a search: trainings against the budget with an ETA,
the best score against the baseline, the screening rate.

On a terminal it is a ``rich`` bar kept below the log lines (the search
log's console lines are routed above it); elsewhere (a file, a pipe, a
test) it prints one plain line per proxy training, adding to the log's line
(:func:`log_line`) only what that lacks: elapsed time and ETA.
"""
import logging
import math
import sys
import time
from typing import Callable, Dict, List, Optional, Tuple

from rich.console import Console, Group
from rich.live import Live
from rich.progress import (BarColumn, MofNCompleteColumn, Progress,
                           ProgressColumn, TaskProgressColumn, TextColumn)
from rich.text import Text

from ..archive import TRAINED
from ..loop.fidelity import budget_spent, trainings_done
from ..loop.observers import SearchObserver


def clock_text(seconds: Optional[float]) -> str:
    """``h:mm:ss`` of a duration; ``-:--:--`` when unknown.

    >>> clock_text(3725.2), clock_text(None)
    ('1:02:05', '-:--:--')
    """
    if seconds is None or not math.isfinite(seconds):
        return '-:--:--'
    seconds = max(0, int(round(seconds)))
    return f'{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}'


def _fmt(value: Optional[float]) -> str:
    return 'n/a' if value is None or not math.isfinite(value) else \
        f'{value:.2f}'


def budget_text(spent) -> str:
    """Trainings spent: ``3`` (a count), ``2.25`` (full-length trainings of
    a multi-fidelity search)."""
    return str(spent) if isinstance(spent, int) else f'{spent:.2f}'


def log_line(search, candidate, result=None) -> str:
    """The search log's line for an evaluated ``candidate``: budget spent,
    outcome, best and baseline, counts, seconds. With multi-fidelity
    promotion (``search.ladder``) a training's line names its rung and
    ``result`` (a rung's outcome; the candidate may keep an older one)."""
    archive, settings, ladder = search.archive, search.settings, \
        search.ladder
    counts = archive.counts()
    best = archive.best(1, settings.target.mode)
    base = archive.baseline()
    outcome = candidate if result is None else result
    reason = outcome.reason if candidate.status != 'equivalent' else None
    if ladder is None:
        done = (f'{sum(counts[s] for s in TRAINED)}/{settings.evaluations} '
                f'trainings')
        what = candidate.status
    else:
        done = (f'{budget_text(budget_spent(archive, settings))}/'
                f'{settings.evaluations} trainings, '
                f'{trainings_done(archive, settings)} rung trainings')
        what = 'equivalent' if result is None else (
            f'rung {candidate.rung}/{ladder.top} ({candidate.iterations} it)'
            f' {result.status}')
    seconds = candidate.t_train if result is None else result.seconds
    return (f'[{done}] #{candidate.id} {what} {settings.target.metric}='
            f'{_fmt(outcome.score)} (best '
            f'{_fmt(best[0]["score"] if best else None)}, baseline '
            f'{_fmt(base["score"] if base else None)}) | generated '
            f'{search.stats["generated"]}: rejected {counts["rejected"]}, '
            f'equivalent {counts["equivalent"]}, trained {counts["trained"]},'
            f' diverged {counts["diverged"]}, failed {counts["failed"]} | '
            f'{seconds or 0.0:.1f}s {candidate.key}'
            + (f' ({reason})' if reason else ''))


class SearchProgress(SearchObserver):
    """Progress display of a search.

    The ETA is the remaining trainings at this run's pace: the time per
    training since the first one (the set-up before it, proxy build and
    baseline, does not count; with one training only, the time since the
    start), or the remaining wall-clock budget (``search.budget.hours``)
    when that ends first.

    Args:
        console: where to draw; default a console on stdout. A terminal
            console (``console.is_terminal``) gets the live bar, any other
            plain lines.
        clock: seconds, monotonic (injectable for tests).
        auto_refresh: redraw the bar 4 times a second (else only on events).
    """

    def __init__(self, console: Optional[Console] = None,
                 clock: Callable[[], float] = time.monotonic,
                 auto_refresh: bool = True):
        self.console = console if console is not None else Console()
        self.clock, self.auto_refresh = clock, auto_refresh
        self.live: Optional[Live] = None
        self.progress: Optional[Progress] = None
        self.info = Text()
        self._rerouted: List[Tuple[logging.StreamHandler, object]] = []
        self._screening = self._last = ''
        self._start = self._trained_at_start = 0
        #: (time, trainings) at the first and the latest training seen.
        self._first: Optional[Tuple[float, int]] = None
        self._latest: Optional[Tuple[float, int]] = None
        self._eta: Tuple[Optional[float], float] = (None, 0.0)
        self._hours_left: Optional[float] = None

    @property
    def interactive(self) -> bool:
        """Whether the live bar is drawn (the console is a terminal)."""
        return self.console.is_terminal

    # -- hooks ---------------------------------------------------------------
    def on_start(self, search) -> None:
        settings = search.settings
        self._start = self.clock()
        self._trained_at_start = budget_spent(search.archive, settings)
        self._first = self._latest = None
        hours = getattr(settings.budget, 'hours', None)
        self._hours_left = (hours * 3600 - search.stats.get('seconds', 0.0)
                            if hours else None)
        if not self.interactive:
            return
        self.progress = Progress(
            TextColumn('[bold]search[/]'), BarColumn(), MofNCompleteColumn(),
            TextColumn('trainings'), TaskProgressColumn(), _TimeColumn(self),
            console=self.console)
        self.task = self.progress.add_task(
            'search', total=settings.evaluations,
            completed=self._trained_at_start)
        self.live = Live(Group(self.progress, self.info),
                         console=self.console, auto_refresh=self.auto_refresh,
                         refresh_per_second=4, redirect_stdout=True,
                         redirect_stderr=True)
        self.live.start()
        self._reroute(search.logger)
        self._update(search)

    def on_candidate(self, search, candidate) -> None:
        self._screening = ''
        trained = budget_spent(search.archive, search.settings)
        if trained > (self._latest or (0, self._trained_at_start))[1]:
            self._latest = (self.clock(), trained)
            self._first = self._first or self._latest
        self._last = (f'last #{candidate.id} {candidate.status} '
                      f'{_fmt(candidate.score)}')
        state = self._update(search)
        if self.live is None and candidate.status in TRAINED:
            self.console.print(self.plain_line(state), markup=False,
                               highlight=False, soft_wrap=True)

    def on_screening(self, search, rejected: int, screened: int,
                     per_minute: float) -> None:
        self._screening = (f'screening: {screened} trees screened, '
                           f'{per_minute:.0f}/min, {rejected} rejected in a '
                           f'row')
        if self.live is not None:
            self._update(search)

    def on_finish(self, search, summary: Dict) -> None:
        self._screening = 'finished'
        if self.live is not None:
            self._update(search)
        self.close()

    def close(self) -> None:
        """Stop the bar (its last state stays on screen), restore the log's
        console streams (idempotent)."""
        for handler, stream in self._rerouted:
            handler.setStream(stream)
        self._rerouted = []
        if self.live is not None:
            self.live.stop()
            self.live = None

    # -- state ---------------------------------------------------------------
    def state(self, search) -> Dict:
        """Trainings, budget, best and baseline scores, elapsed and ETA
        seconds (None before the first training of this run)."""
        archive, settings = search.archive, search.settings
        trained, total = budget_spent(archive, settings), \
            settings.evaluations
        now = self.clock()
        elapsed = now - self._start
        eta = None
        if self._latest is not None:
            (t_ref, n_ref), (t_new, n_new) = self._first, self._latest
            if n_new == n_ref:  # one training (or one burst) so far
                t_ref, n_ref = self._start, self._trained_at_start
            pace = (t_new - t_ref) / (n_new - n_ref)
            eta = max(max(total - trained, 0) * pace - (now - t_new), 0.0)
        if self._hours_left is not None:
            left = max(self._hours_left - elapsed, 0.0)
            eta = left if eta is None else min(eta, left)
        best = archive.best(1, settings.target.mode)
        base = archive.baseline()
        return dict(trained=trained, total=total, elapsed=elapsed, eta=eta,
                    metric=settings.target.metric,
                    best=best[0]['score'] if best else None,
                    baseline=base['score'] if base else None)

    @staticmethod
    def plain_line(state: Dict) -> str:
        """The line printed per training when not on a terminal."""
        line = (f'[{budget_text(state["trained"])}/{state["total"]} '
                f'trainings] elapsed '
                f'{clock_text(state["elapsed"])}, ETA '
                f'{clock_text(state["eta"])}')
        return line + _versus(state)

    def times(self) -> Tuple[float, Optional[float]]:
        """Elapsed and ETA seconds now (the ETA of the last event, counted
        down since)."""
        now = self.clock()
        eta, at = self._eta
        return now - self._start, None if eta is None else \
            max(eta - (now - at), 0.0)

    def _update(self, search) -> Dict:
        state = self.state(search)
        self._eta = (state['eta'], self.clock())
        if self.progress is not None:
            self.progress.update(self.task, completed=state['trained'])
            parts = [_versus(state).lstrip(', '), self._last, self._screening]
            self.info.plain = ' | '.join(p for p in parts if p)
            self.live.refresh()
        return state

    def _reroute(self, logger: Optional[logging.Logger]) -> None:
        """Send the logger's console lines through the live display (which
        prints them above the bar) instead of under it."""
        consoles = {}
        for stream in ('stdout', 'stderr'):
            redirected = getattr(sys, stream)  # rich's proxy while live
            original = getattr(redirected, 'rich_proxied_file', None)
            if original is not None:
                consoles[id(original)] = redirected
        for handler in getattr(logger, 'handlers', []):
            if type(handler) is logging.StreamHandler and \
                    id(handler.stream) in consoles:
                old = handler.setStream(consoles[id(handler.stream)])
                self._rerouted.append((handler, old))


class _TimeColumn(ProgressColumn):
    """``elapsed 0:01:00 ETA 0:09:00``, ticking between events."""

    def __init__(self, display: SearchProgress):
        super().__init__()
        self.display = display

    def render(self, task) -> Text:
        elapsed, eta = self.display.times()
        return Text(f'elapsed {clock_text(elapsed)} ETA {clock_text(eta)}')


def _versus(state: Dict) -> str:
    """``, best mIoU 71.23 (baseline 70.10, +1.13)`` or ''."""
    best, base = state['best'], state['baseline']
    if best is None and base is None:
        return ''
    text = f', best {state["metric"]} {_fmt(best)} (baseline {_fmt(base)}'
    if best is not None and base is not None and math.isfinite(best) \
            and math.isfinite(base):
        text += f', {best - base:+.2f}'
    return text + ')'


__all__ = ['SearchProgress', 'clock_text']
