"""CMA-ES coefficient tuning: synthetic objective (fast) and one real,
killed and resumed tuning of a searched loss."""
import json
import math
import os
import signal
import sqlite3
import subprocess
import sys
import time

import pytest
import torch

from autoloss_zero.graph import Tree, evaluate, independent_coefficients
from autoloss_zero.search import Archive, Individual, ProxyResult
from autoloss_zero.search.tuning.cma import (CoefficientTuning,
                                             coefficient_layout,
                                             individual_at, tell_values)

from ..conftest import REPO
from .conftest import load_tool

CE = 'neg(mul(y,log(yhat)))'
TARGET = {0: 1.5, 4: 0.7}  # independent coefficients of CE: root and yhat


def synthetic(individual):
    """Score max 0 at the TARGET coefficients."""
    c = individual['seg'].coefficients
    return ProxyResult('trained', -sum((c[i] - v) ** 2
                                       for i, v in TARGET.items()), {},
                       seconds=0.0)


class Killed(BaseException):
    pass


@pytest.fixture
def archive(tmp_path):
    arch = Archive(tmp_path / 'search.sqlite')
    arch.add([dict(key=f'seg={CE}', trees=json.dumps({'seg': CE}),
                   status='trained', score=synthetic(Individual(
                       {'seg': CE})).score)])
    return arch


def _rows(tuning):
    return [(r['generation'], r['member'], r['coefficients'], r['score'],
             r['fvalue']) for r in tuning.rows()]


def test_layout_and_individual_at():
    base = Individual({'seg': CE})
    layout = coefficient_layout(base)
    assert layout == {'seg': independent_coefficients(Tree.parse(CE))}
    assert layout == {'seg': (0, 4)}
    ind = individual_at(base, layout, [2.0, 0.5])
    assert str(ind['seg']) == '2.0*neg(mul(y,log(0.5*yhat)))'
    with pytest.raises(ValueError, match='3 values'):
        individual_at(base, layout, [1, 2, 3])


def test_tell_values_failure_policy():
    res = [ProxyResult('trained', 50.0), ProxyResult('diverged', 0.0),
           ProxyResult('failed', None), ProxyResult('trained', 60.0),
           ProxyResult('trained', math.nan)]
    values = tell_values(res, 'max')
    assert values[0] == -50.0 and values[3] == -60.0
    assert values[1] == values[2] == values[4] == -50.0 + 50.0
    assert all(v > -50.0 for v in (values[1], values[2], values[4]))
    assert tell_values(res, 'min')[:4] == [50.0, 120.0, 120.0, 60.0]
    assert tell_values([ProxyResult('failed', None)] * 2, 'max') == [2.0, 2.0]


def test_improves_and_logs_failures(archive):
    calls = []

    def objective(ind):
        calls.append(ind)
        if len(calls) % 5 == 0:
            return ProxyResult('failed', None, reason='boom')
        return synthetic(ind)

    tuning = CoefficientTuning(archive, 1, objective, popsize=6, sigma0=0.3)
    result = tuning.run_until(8)
    assert result.generations == 8 and result.evaluations == 48
    assert len(calls) == 48
    assert result.best_score > result.base_score + 0.2
    c = result.best['seg'].coefficients
    assert abs(c[0] - 1.5) < 0.3 and abs(c[4] - 0.7) < 0.3
    rows = tuning.rows()
    failed = [r for r in rows if r['status'] == 'failed']
    assert len(failed) == 9
    for gen in range(8):
        told = [r['fvalue'] for r in rows if r['generation'] == gen]
        finite = [-r['score'] for r in rows if r['generation'] == gen
                  and r['status'] == 'trained']
        for r in rows:
            if r['generation'] == gen and r['status'] == 'failed':
                assert r['fvalue'] > max(finite)
        assert len(told) == 6
    with pytest.raises(FileExistsError, match='--resume'):
        CoefficientTuning(archive, 1, objective)


def test_resume_after_kill_is_exact(archive, tmp_path):
    """A run killed in generation 2 (after 3 of its members) and resumed
    equals an uninterrupted run; no member is evaluated twice."""
    full = Archive(tmp_path / 'full.sqlite')
    full.add([archive.get(1)])
    reference = CoefficientTuning(full, 1, synthetic, popsize=5)
    reference.run_until(4)

    calls = []

    def dies(ind):
        if len(calls) == 2 * 5 + 3:
            raise Killed()
        calls.append(ind)
        return synthetic(ind)

    with pytest.raises(Killed):
        CoefficientTuning(archive, 1, dies, popsize=5).run_until(4)
    assert len(archive.db.execute(
        'SELECT * FROM cma_evaluations').fetchall()) == 13
    resumed = CoefficientTuning(archive, 1, lambda i: (calls.append(i),
                                                       synthetic(i))[1],
                                popsize=5, resume=True)
    assert resumed.generation == 2
    resumed.run_until(4)
    assert len(calls) == 20  # 13 before the kill + 7 after, none twice
    assert _rows(resumed) == _rows(reference)


def test_untrained_candidate_refused(archive):
    archive.add([dict(key='x', trees=json.dumps({'seg': '1'}),
                      status='rejected')])
    with pytest.raises(ValueError, match='not a trained'):
        CoefficientTuning(archive, 2, synthetic)


def _state(db_path, run):
    db = sqlite3.connect(str(db_path), timeout=30)
    try:
        n = db.execute('SELECT COUNT(*) FROM cma_evaluations').fetchone()[0]
        row = db.execute('SELECT value FROM state WHERE name = ?',
                         (f'cma:{run}', )).fetchone()
    except sqlite3.OperationalError:  # table not created yet
        return 0, 0
    finally:
        db.close()
    return n, json.loads(row[0])['generation'] if row else 0


def test_real_tuning_killed_and_resumed(tiny_search):
    """tools/tune_coefficients.py on the tiny search's best loss: SIGKILL
    during generation 1, --resume; 2 x 4 evaluations, none lost or twice;
    stored trees reproduce the tuned losses exactly; best/tuned.py."""
    work_dir, config = tiny_search['work_dir'], tiny_search['config']
    archive = Archive(work_dir / 'search.sqlite')
    best = archive.best(1, 'max')[0]
    run = f'candidate{best["id"]}'
    args = [str(config), '--work-dir', str(work_dir), '--generations', '2',
            '--popsize', '4', '--sigma', '0.3']
    proc = subprocess.Popen([sys.executable, str(REPO / 'tools' /
                                                 'tune_coefficients.py')]
                            + args, cwd=str(REPO), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            env=dict(os.environ, OMP_NUM_THREADS='1'))
    try:
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None:
            n, gen = _state(work_dir / 'search.sqlite', run)
            if gen == 1 and n >= 5:  # in generation 1, one member done
                break
            time.sleep(0.05)
        assert proc.poll() is None, 'the tuning ended before it was killed'
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
    before = {(r['generation'], r['member']): r for r in map(
        dict, archive.db.execute('SELECT * FROM cma_evaluations'))}
    assert 5 <= len(before) < 8
    out = load_tool('tune_coefficients').main(args + ['--resume'])
    rows = [dict(r) for r in archive.db.execute(
        'SELECT * FROM cma_evaluations WHERE run = ? ORDER BY id', (run, ))]
    assert sorted((r['generation'], r['member']) for r in rows) == [
        (g, m) for g in range(2) for m in range(4)]
    for r in rows:  # the killed run's rows are kept as they were
        key = (r['generation'], r['member'])
        if key in before:
            assert {**r, 'fvalue': None} == {**before[key], 'fvalue': None}
        assert r['fvalue'] is not None
    assert _state(work_dir / 'search.sqlite', run) == (8, 2)
    base = Individual.from_json(best['trees'])
    layout = out['layout']
    leaves = {'yhat': torch.rand(2, 6, 4, 4, dtype=torch.float64),
              'y': torch.rand(2, 6, 4, 4, dtype=torch.float64)}
    for r in rows:
        stored = Individual.from_json(r['trees'])
        rebuilt = individual_at(base, layout, json.loads(r['coefficients']))
        assert stored == rebuilt
        for b in stored:
            assert torch.equal(evaluate(Tree.parse(str(stored[b])), leaves),
                               evaluate(rebuilt[b], leaves))
    result = out['result']
    assert result.evaluations == 8 and result.generations == 2
    snippet = (work_dir / 'best' / 'tuned.py').read_text()
    for b, tree in result.best.items():
        assert repr(str(tree)) in snippet
    assert 'searched_slots' in snippet and 'CMA-ES' in snippet
