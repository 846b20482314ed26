"""The progress display: plain lines off a terminal, a live bar with ETA on
one, driven by a fake search."""
import io
import logging
import sys
from types import SimpleNamespace

import pytest
from rich.console import Console

from autoloss_zero.search.reporting.observers import build_observers
from autoloss_zero.search.reporting.progress import SearchProgress, clock_text
from autoloss_zero.search.reporting.tracking import SearchTracker


class FakeArchive:
    """What the observers read of an archive: trained rows and a baseline."""

    def __init__(self, baseline=70.0):
        self.scores, self.base = [], baseline
        self.rejected = self.equivalent = 0

    def num_trained(self):
        return len(self.scores)

    def counts(self):
        return dict(rejected=self.rejected, equivalent=self.equivalent,
                    trained=len(self.scores), diverged=0, failed=0,
                    running=0, baseline=1)

    def best(self, k, mode='max'):
        ranked = sorted(((i, s) for i, s in enumerate(self.scores, 1)
                         if s is not None), key=lambda s: -s[1])
        return [dict(id=i, score=s) for i, s in ranked[:k]]

    def baseline(self):
        return None if self.base is None else dict(id=0, score=self.base)


class Clock:

    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def fake_search(evaluations=10, hours=None, logger=None):
    settings = SimpleNamespace(
        target=SimpleNamespace(metric='mIoU', mode='max'),
        evaluations=evaluations, budget=SimpleNamespace(hours=hours),
        top_k=3)
    return SimpleNamespace(archive=FakeArchive(), settings=settings,
                           stats=dict(generated=0, seconds=0.0),
                           logger=logger or logging.getLogger('fake'))


def train(search, score, status='trained'):
    search.archive.scores.append(score)
    n = len(search.archive.scores)
    return SimpleNamespace(id=n, key=f'seg=k{n}', status=status, score=score,
                           t_train=1.0, origin=None, individual=None)


def plain_console():
    return Console(file=io.StringIO(), width=200)


def test_clock_text():
    assert clock_text(0) == '0:00:00'
    assert clock_text(59.6) == '0:01:00'
    assert clock_text(3 * 3600 + 62) == '3:01:02'
    assert clock_text(None) == clock_text(float('nan')) == '-:--:--'


def test_plain_mode_prints_one_line_per_training():
    console, clock = plain_console(), Clock()
    progress = SearchProgress(console, clock=clock)
    search = fake_search()
    assert not progress.interactive
    progress.on_start(search)
    clock.now += 30
    progress.on_candidate(search, train(search, 71.5))
    clock.now += 30
    progress.on_screening(search, 40, 1200, 600.0)  # the log has these
    progress.on_candidate(search, train(search, 69.0))
    equivalent = SimpleNamespace(id=3, key='seg=k1', status='equivalent',
                                 score=71.5, t_train=None)
    progress.on_candidate(search, equivalent)  # free: no line
    progress.on_finish(search, dict(text='done'))
    progress.close()
    assert console.file.getvalue().splitlines() == [
        '[1/10 trainings] elapsed 0:00:30, ETA 0:04:30, best mIoU 71.50 '
        '(baseline 70.00, +1.50)',
        '[2/10 trainings] elapsed 0:01:00, ETA 0:04:00, best mIoU 71.50 '
        '(baseline 70.00, +1.50)',
    ]


def test_eta_is_capped_by_the_hours_budget_and_resume_counts_this_run():
    clock = Clock()
    progress = SearchProgress(plain_console(), clock=clock)
    search = fake_search(evaluations=100, hours=1.0)
    search.archive.scores = [60.0] * 10  # a resumed search
    search.stats['seconds'] = 1800.0
    progress.on_start(search)
    state = progress.state(search)
    assert state['eta'] == pytest.approx(1800.0)  # no training yet: hours
    clock.now += 10
    progress.on_candidate(search, train(search, 61.0))
    state = progress.state(search)
    # 89 trainings at 10 s (this run's pace) = 890 s < 1790 s left
    assert state['eta'] == pytest.approx(890.0)
    assert state['trained'] == 11 and state['best'] == 61.0
    clock.now += 5
    progress.on_candidate(search, train(search, 62.0))
    # the pace since the first training: 5 s (the set-up before it is out)
    assert progress.state(search)['eta'] == pytest.approx(88 * 5.0)
    clock.now += 4
    assert progress.state(search)['eta'] == pytest.approx(88 * 5.0 - 4)
    clock.now += 1800  # the hours budget is spent before the trainings
    assert progress.state(search)['eta'] == 0.0


def test_no_baseline_and_no_score_yet():
    search = fake_search()
    search.archive.base = None
    progress = SearchProgress(plain_console(), clock=Clock())
    progress.on_start(search)
    assert progress.plain_line(progress.state(search)) == \
        '[0/10 trainings] elapsed 0:00:00, ETA -:--:--'


def test_terminal_mode_renders_the_bar_with_eta_and_log_lines_above():
    out = io.StringIO()
    console = Console(file=out, force_terminal=True, width=150,
                      color_system=None)
    logger = logging.getLogger('test_progress_live')
    logger.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    logger.addHandler(handler)
    stdout = sys.stdout
    try:
        clock = Clock()
        progress = SearchProgress(console, clock=clock, auto_refresh=False)
        search = fake_search(logger=logger)
        assert progress.interactive
        progress.on_start(search)
        assert handler.stream is not stdout  # routed through the display
        clock.now += 60
        logger.warning('a log line of the search')
        progress.on_candidate(search, train(search, 72.25))
        clock.now += 20
        progress.live.refresh()  # between events: the ETA counts down
        assert 'elapsed 0:01:20 ETA 0:08:40' in out.getvalue()
        progress.on_screening(search, 7, 300, 150.0)
        text = out.getvalue()
        assert 'search' in text and '1/10' in text and 'trainings' in text
        assert 'ETA 0:09:00' in text and 'elapsed 0:01:00' in text
        assert '━' in text  # the bar
        assert 'best mIoU 72.25 (baseline 70.00, +2.25)' in text
        assert 'last #1 trained 72.25' in text
        assert 'screening: 300 trees screened, 150/min' in text
        assert 'a log line of the search' in text
        progress.on_finish(search, dict(text='done'))
    finally:
        progress.close()
        logger.removeHandler(handler)
    assert handler.stream is stdout and sys.stdout is stdout
    assert progress.live is None


def test_build_observers_gives_progress_and_tracking(tmp_path):
    settings = SimpleNamespace(visualizer=dict(
        type='Visualizer', vis_backends=[dict(type='LocalVisBackend')]))
    observers = build_observers(settings, tmp_path, logging.getLogger('x'))
    assert [type(o) for o in observers] == [SearchProgress, SearchTracker]
    for observer in observers:
        observer.close()
