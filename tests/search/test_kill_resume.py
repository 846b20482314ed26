"""A search SIGKILLed at any moment resumes and loses nothing.

The search runs as a subprocess (``tools/search.py``) and is killed during
proxy training, right after a candidate finished (between candidates, in
the rejection of the next one) and during the baseline; each time it is
resumed with ``--resume``. Because the RNG state and every finished
candidate are committed together, the final archive must equal that of an
uninterrupted search with the same seed: nothing lost, nothing duplicated.
"""
import signal
import sqlite3
import subprocess
import sys
import time

import pytest

from ..conftest import REPO
from .conftest import tiny_search_config

BUDGET = 6


def start(config, work_dir, resume=False):
    cmd = [sys.executable, 'tools/search.py', str(config), '--work-dir',
           str(work_dir)] + (['--resume'] if resume else [])
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def query(work_dir, sql):
    path = work_dir / 'search.sqlite'
    if not path.exists():
        return []
    try:
        db = sqlite3.connect(f'file:{path}?mode=ro', uri=True, timeout=5)
        try:
            return db.execute(sql).fetchall()
        finally:
            db.close()
    except sqlite3.OperationalError:  # schema not created yet
        return []


def evaluated(work_dir):
    """Proxy trainings archived (what the budget counts)."""
    return query(work_dir, "SELECT COUNT(*) FROM candidates WHERE status IN "
                 "('trained','diverged','failed')")[0][0] \
        if query(work_dir, 'SELECT 1 FROM candidates LIMIT 1') else 0


def kill_when(proc, condition, timeout=240):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f'search exited early ({proc.returncode}): '
                        f'{proc.stderr.read()[-2000:]}')
        if condition():
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            return
        time.sleep(0.05)
    proc.kill()
    pytest.fail('kill condition never met')


def finish(proc, timeout=600):
    _, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]


def history(work_dir):
    return query(work_dir, 'SELECT id, key, status, score, parent, '
                 'equivalent_to FROM candidates ORDER BY id')


@pytest.fixture
def config(tiny_data, tmp_path):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': BUDGET,
        'search.proxy.max_iters': 6,
    })
    path = tmp_path / 'tiny_search.py'
    cfg.dump(str(path))
    return path


def test_sigkill_and_resume_loses_nothing(config, tmp_path):
    reference = tmp_path / 'reference'
    finish(start(config, reference))
    expected = history(reference)
    assert evaluated(reference) == BUDGET

    work = tmp_path / 'killed'
    # 1. during the baseline / set-up (archive exists, nothing evaluated)
    kill_when(start(config, work), lambda: query(
        work, "SELECT 1 FROM candidates WHERE status = 'baseline'") == []
        and (work / 'search.sqlite').exists())
    # 2. during a proxy training
    kill_when(start(config, work, resume=True), lambda: query(
        work, "SELECT 1 FROM candidates WHERE status = 'running'") != [])
    # 3. right after a candidate finished: between candidates / rejection
    before = evaluated(work)
    kill_when(start(config, work, resume=True),
              lambda: evaluated(work) > before)
    # 4. during a proxy training again, then let it finish
    kill_when(start(config, work, resume=True), lambda: query(
        work, "SELECT 1 FROM candidates WHERE status = 'running'") != [])
    finish(start(config, work, resume=True))

    got = history(work)
    assert evaluated(work) == BUDGET
    assert query(work, "SELECT COUNT(*) FROM candidates WHERE status = "
                 "'running'")[0][0] == 0
    assert [r[1:] for r in got] == [r[1:] for r in expected]


def rejected(work_dir):
    rows = query(work_dir, "SELECT COUNT(*) FROM candidates WHERE status = "
                 "'rejected'")
    return rows[0][0] if rows else 0


@pytest.fixture
def strict_config(tiny_data, tmp_path):
    """Long rejection runs (a strict threshold), their draws committed
    every 0.2 s."""
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 3,
        'search.proxy.max_iters': 2,
        'search.branches.seg.eta': 0.7,
        'search.rejection.commit_every': 0.2,
    })
    path = tmp_path / 'strict_search.py'
    cfg.dump(str(path))
    return path


def test_sigkill_during_a_rejection_run_keeps_its_draws(strict_config,
                                                        tmp_path):
    reference = tmp_path / 'reference'
    finish(start(strict_config, reference))
    expected = history(reference)
    assert rejected(reference) >= 10, 'the rejection runs are too short'

    work = tmp_path / 'killed'

    def in_a_rejection_run():
        rows = history(work)
        return rejected(work) >= 3 and rows[-1][2] == 'rejected'

    kill_when(start(strict_config, work), in_a_rejection_run)
    before = history(work)  # committed during the run
    finish(start(strict_config, work, resume=True))
    got = history(work)
    assert [r[1:] for r in got] == [r[1:] for r in expected]
    assert got[:len(before)] == before  # kept, not drawn again


def test_sigterm_stops_with_one_line_and_status_143(config, tmp_path):
    work = tmp_path / 'terminated'
    proc = start(config, work)
    deadline = time.time() + 240
    while not query(work, "SELECT 1 FROM candidates WHERE status = "
                    "'running'") and time.time() < deadline:
        assert proc.poll() is None, proc.stderr.read()[-2000:]
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 143, err[-3000:]
    lines = err.strip().splitlines()
    assert len(lines) == 1, err[-3000:]
    assert lines[0].startswith('interrupted (SIGTERM) after ')
    assert lines[0].endswith('; resume with --resume')
    finish(start(config, work, resume=True))
    assert evaluated(work) == BUDGET
