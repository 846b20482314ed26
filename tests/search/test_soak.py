"""The soak checker passes a consistent archive and flags broken ones.

The archives are written by hand in the form the engine commits: every row
together with the searcher state (``stats.generated``, the population of
scored candidates).
"""
import json

import pytest

from autoloss_zero.search import Archive
from ..support.soak import check_archive, finished_rows, run_soak

CE = json.dumps({'seg': 'neg(mul(y,log(yhat)))'})
BUDGET = 3


def build(path, rows, population=None, generated=None):
    """An archive holding the baseline, ``rows`` and a searcher state."""
    archive = Archive(path)
    archive.add([dict(key='baseline', trees='{}', status='baseline',
                      score=1.0, finished=1.0)])
    ids = archive.add([dict(dict(key=f'seg=k{i}', trees=CE,
                                 finished=10.0 + i), **r)
                       for i, r in enumerate(rows)])
    scored = [(i, r) for i, r in zip(ids, rows)
              if r['status'] in ('trained', 'equivalent', 'diverged')]
    if population is None:
        population = [[i, CE, r['score']] for i, r in scored]
    archive.add([], dict(stats=dict(generated=len(rows) if generated is None
                                    else generated),
                         searcher=dict(rng={}, population=population)))
    return archive, ids


def consistent(path):
    return build(path, [
        dict(status='rejected'),
        dict(status='trained', score=5.0),
        dict(status='rejected'),
        dict(status='equivalent', score=5.0),
        dict(status='failed', score=None),
        dict(status='trained', score=7.0),
    ])


def test_consistent_archive_passes(tmp_path):
    archive, _ = consistent(tmp_path / 'a.sqlite')
    assert check_archive(archive, BUDGET) == []
    before = finished_rows(tmp_path / 'a.sqlite')
    assert len(before) == 4
    assert check_archive(archive, BUDGET, before) == []
    # mid-search (after a kill): fewer trainings and a running row are fine
    archive.add([dict(key='seg=r', trees=CE, status='running')],
                dict(stats=dict(generated=7), searcher=archive.state()[
                    'searcher']))
    assert check_archive(archive, BUDGET + 1, before, final=False) == []
    problems = check_archive(archive, BUDGET + 1, before)
    assert any('still running' in p for p in problems), problems
    assert any('3 proxy trainings at the end, budget 4' in p for p in problems)


def test_lost_and_reevaluated_rows_are_flagged(tmp_path):
    archive, ids = consistent(tmp_path / 'a.sqlite')
    before = finished_rows(tmp_path / 'a.sqlite')
    # lost: a finished row disappeared
    archive.db.execute('DELETE FROM candidates WHERE id = ?', (ids[5], ))
    # duplicated: a finished row evaluated again (new finish time, score)
    archive.update(ids[1], dict(status='trained', score=6.0))
    problems = check_archive(archive, BUDGET, before)
    assert any(f'#{ids[5]}' in p and 'lost' in p for p in problems), problems
    assert any(f'#{ids[1]}' in p and 'changed' in p for p in problems)


def test_counts_and_budget_are_checked(tmp_path):
    archive, ids = build(tmp_path / 'a.sqlite', [
        dict(status='trained', score=5.0),
        dict(status='trained', score=6.0),
        dict(status='bogus', score=None),
        dict(status='trained', score=4.0),
        dict(status='trained', score=3.0),
    ])
    problems = check_archive(archive, BUDGET)
    assert any("unknown statuses ['bogus']" in p for p in problems), problems
    assert any('4 proxy trainings, more than the budget 3' in p
               for p in problems)


def test_searcher_state_must_match_rows(tmp_path):
    rows = [dict(status='trained', score=5.0),
            dict(status='trained', score=6.0),
            dict(status='diverged', score=0.0)]
    archive, ids = build(tmp_path / 'a.sqlite', rows,
                         population=[[1000, CE, 5.0], [3, CE, 9.0]],
                         generated=5)
    problems = check_archive(archive, BUDGET)
    assert any('generated 5 != 3 proposed rows' in p for p in problems)
    assert any('#1000, not a scored evaluated row' in p for p in problems)
    assert any(f'scores #{ids[1]} 9.0' in p for p in problems), problems
    assert any('missing from the searcher population' in p
               for p in problems)
    # an aged-out candidate is not missing when the window is full
    archive2, ids2 = build(tmp_path / 'b.sqlite', rows, population=[
        [ids[1], CE, 6.0], [ids[2], CE, 0.0]])
    assert check_archive(archive2, BUDGET, window=2) == []
    assert check_archive(archive2, BUDGET, window=3) != []


def test_soak_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match='process or ray'):
        run_soak('x.py', 2, 1, 'local', kill_worker=True)
    with pytest.raises(ValueError, match='executor must be one of'):
        run_soak('x.py', 2, 1, 'threads')
    consistent(tmp_path / 'search.sqlite')
    with pytest.raises(FileExistsError, match='fresh work dir'):
        run_soak('x.py', 2, 1, work_dir=tmp_path)
