"""Multi-fidelity promotion (ASHA): the promotion rule on constructed
scores, ranking by the rung reached, the budget in full-length trainings,
the archive's rungs, resuming with a promotion in flight, and off = the
single-rung search. Engine tests score candidates with a fake executor (a
function of the tree and the training length), so they take seconds."""
import sqlite3
import zlib

import pytest

from autoloss_zero.registry import EXECUTORS
from autoloss_zero.search import Individual, LossSearch, SearchSettings
from autoloss_zero.search.archive import Archive
from autoloss_zero.search.archive.schema import SCHEMA_VERSION
from autoloss_zero.search.execution import ProxyResult
from autoloss_zero.search.execution.base import Executor
from autoloss_zero.search.loop.evolution import AgingEvolution
from autoloss_zero.search.loop.fidelity import (AshaScheduler, Promotion,
                                                RungResult)
from autoloss_zero.search.loop.settings import Evolution
from autoloss_zero.search.loop.stopping import SearchInterrupted

from .conftest import script_proposals, tiny_search_config

CE = 'neg(mul(y,log(yhat)))'


# -- the promotion rule ------------------------------------------------------
def simulate(ladder, scores, jobs):
    """Run ``jobs`` trainings one at a time as a search does: ASHA's
    promotion if any, else the next new candidate; returns the jobs as
    (candidate, rung). ``scores[c][rung]``: a score, or a status."""
    results, order, new = [], [], iter(sorted(scores))
    for _ in range(jobs):
        job = ladder.promotion(results)
        cand, rung = (job.candidate, job.rung) if job else (next(new), 0)
        order.append((cand, rung))
        value = scores[cand][rung]
        results.append(RungResult(cand, rung, 'trained', value)
                       if isinstance(value, float) else
                       RungResult(cand, rung, value, 0.0
                                  if value == 'diverged' else None))
    return order


def test_promotion_order_on_constructed_scores():
    ladder = AshaScheduler((1, 2, 4), reduction=2)
    scores = {1: {0: 0.5}, 2: {0: 0.9, 1: 0.6}, 3: {0: 0.7},
              4: {0: 0.8, 1: 0.65, 2: 0.7}, 5: {0: 0.95, 1: 0.1},
              6: {0: 0.2}, 7: {0: 0.3}}
    assert simulate(ladder, scores, 11) == [
        (1, 0), (2, 0),
        (2, 1),          # top 1 of 2 on rung 0: no waiting for more
        (3, 0), (4, 0),
        (4, 1),          # rung 0's top 2 of 4: 2 (promoted), 4
        (4, 2),          # rung 1's top 1 of 2: the highest rung goes first
        (5, 0),
        (5, 1),          # 0.95: in rung 0's top 2 of 5
        (6, 0), (7, 0),  # rung 1's top 1 of 3 is 4 (done): new ones
    ]


def test_highest_rung_first_then_best_not_yet_promoted():
    ladder = AshaScheduler((1, 2, 4), reduction=2)
    done = [RungResult(c, 0, 'trained', s)
            for c, s in ((1, 0.9), (2, 0.8), (3, 0.1), (4, 0.2))]
    done += [RungResult(1, 1, 'trained', 0.3),
             RungResult(2, 1, 'running', None)]
    # rung 1: 1 of 1 finished, top 0: nothing; rung 0: top 2 = 1, 2 (both
    # promoted): nothing either
    assert ladder.promotion(done) is None
    done[-1] = RungResult(2, 1, 'trained', 0.5)
    assert ladder.promotion(done) == Promotion(2, 2, 4)  # rung 1's best
    lower = AshaScheduler((1, 2, 4), 2, mode='min')  # lower is better
    assert lower.promotion(done) == Promotion(1, 2, 4)
    assert lower.promotion(done[:4]) == Promotion(3, 1, 2)


@pytest.mark.parametrize('status', ['diverged', 'failed'])
def test_diverged_and_failed_are_never_promoted(status):
    ladder = AshaScheduler((1, 4), reduction=2)
    score = 0.0 if status == 'diverged' else None
    bad = [RungResult(1, 0, status, score), RungResult(2, 0, status, score)]
    assert ladder.promotion(bad) is None
    # a diverged run ranks below every trained one; a failed one has no
    # score and does not count in the rung
    mixed = bad[:1] + [RungResult(2, 0, 'trained', -5.0)]
    assert ladder.promotion(mixed) == (
        Promotion(2, 1, 4) if status == 'diverged' else None)


def test_searcher_ranks_by_rung_then_score():
    evo = AgingEvolution({}, Evolution(population=2, window=3,
                                       tournament=1.0), seed=0)
    ind = Individual({})
    evo.tell(1, ind, 0.9)
    evo.tell(2, ind, 0.3, rung=1)
    assert evo.result.best_id == 2  # a longer rung beats a higher score
    assert evo._tournament()[0] == 2
    evo.update(1, 0.2, rung=1)
    assert evo.result.best_id == 2
    evo.update(1, 0.5, rung=1)
    assert evo.result == (1, 0.5, 2)  # updated in place, not told again
    state = evo.get_state()
    again = AgingEvolution({}, Evolution(population=2, window=3), seed=0)
    again.set_state(state)
    assert again.rungs == {1: 1, 2: 1} and again.result.best_id == 1
    for cand in (3, 4):
        evo.tell(cand, ind, 0.0)
    assert evo.rungs == {2: 1}  # member 1 aged out with its rung
    evo.update(1, 9.0, rung=1)  # aged out: nothing happens
    assert [m[0] for m in evo.population] == [2, 3, 4]


# -- settings ----------------------------------------------------------------
@pytest.mark.parametrize('options,error,message', [
    ({'rungs': (0.5, 0.25)}, ValueError, r'search.fidelity.rungs = \(0.5, '
     r'0.25\) is invalid: expected None or increasing fractions'),
    ({'rungs': (0.25, 0.5)}, ValueError, 'the last 1.0'),
    ({'rungs': (0.0, 1.0)}, ValueError, r'in \(0, 1\]'),
    ({'rungs': 'half'}, ValueError, "rungs = 'half' is invalid"),
    ({'reduction': 1}, ValueError, 'search.fidelity.reduction = 1 is '
     'invalid: expected an integer >= 2'),
    ({'rungs': (0.1, 1.0)}, ValueError, r'with search.proxy.max_iters = 2: '
     r'the rungs train \[0, 2\] iterations'),
    ({'eta': 3}, KeyError, r"unknown key\(s\) \['eta'\] in search.fidelity"),
])
def test_bad_fidelity_settings(seg_search_cfg, options, error, message):
    seg_search_cfg.merge_from_dict({'search.fidelity': options})
    with pytest.raises(error, match=message):
        SearchSettings.from_config(seg_search_cfg)


def test_default_and_single_rung_are_off(seg_search_cfg):
    assert not SearchSettings.from_config(seg_search_cfg).fidelity.enabled
    seg_search_cfg.merge_from_dict({'search.fidelity.rungs': [0.5, 1]})
    fidelity = SearchSettings.from_config(seg_search_cfg).fidelity
    assert fidelity.rungs == (0.5, 1.0) and fidelity.iterations(8) == (4, 8)


# -- the archive -------------------------------------------------------------
def test_rungs_table_and_best_prefers_the_highest_rung(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    a, b = archive.add([
        dict(key='a', trees='{}', status='trained', score=9.0, rung=0),
        dict(key='b', trees='{}', status='trained', score=1.0, rung=1)])
    archive.finish_rung(a, 0, 2, dict(status='trained', score=9.0),
                        dict(status='trained', score=9.0, rung=0))
    archive.start_rung(a, 1, 8)
    assert [r['status'] for r in archive.rung_rows()] == ['trained',
                                                          'running']
    assert archive.rung_iterations() == 2  # the running one is not spent
    archive.finish_rung(a, 1, 8, dict(status='diverged', score=0.0,
                                      metrics=dict(mIoU=0.0)),
                        dict(status='diverged', score=0.0, rung=1))
    assert archive.rung_rows('diverged')[0]['metrics'] == dict(mIoU=0.0)
    assert archive.rung_iterations() == 10
    assert [r['key'] for r in archive.best(2)] == ['b']
    archive.update(a, dict(status='trained', score=9.0, rung=0))
    assert [r['key'] for r in archive.best(2)] == ['b', 'a']


def test_version_2_archive_is_migrated(tmp_path):
    path = tmp_path / 's.sqlite'
    Archive(path).close()
    db = sqlite3.connect(str(path))
    db.executescript("DROP TABLE rungs; ALTER TABLE candidates DROP COLUMN "
                     "rung; UPDATE meta SET value = '2' WHERE name = "
                     "'schema_version';")
    db.close()
    archive = Archive(path)
    assert archive.found_version == 2 and SCHEMA_VERSION == 3
    assert archive.rung_rows() == [] and archive.rung_iterations() == 0
    archive.add([dict(key='a', trees='{}', status='trained', rung=1)])
    assert archive.rows()[0]['rung'] == 1


# -- the proxy ---------------------------------------------------------------
def test_a_short_rung_trains_like_a_shorter_proxy(tiny_data, tmp_path):
    """A rung of 2 of 4 iterations trains as a 2-iteration proxy does (same
    weights, data order, schedule fitted to the length), and the full
    length after it is unchanged."""
    from autoloss_zero.search.execution import ProxyTrainer
    ce = Individual({'seg': CE})

    def outcome(trainer, iterations=None):
        score = trainer.train(ce, iterations).score
        weights = [p.detach().clone() for p in trainer.model.parameters()]
        return score, weights, trainer.runner.optim_wrapper.get_lr()['lr']

    runs = {}
    for iters in (4, 2):
        cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
            'search.proxy.max_iters': iters})
        trainer = ProxyTrainer(cfg, SearchSettings.from_config(cfg),
                               tmp_path / str(iters))
        runs[iters] = [outcome(trainer)]
        if iters == 4:
            runs[4] += [outcome(trainer, 2), outcome(trainer)]

    def same(a, b):
        return a[0] == b[0] and a[2] == b[2] and all(
            (x == y).all() for x, y in zip(a[1], b[1]))

    assert same(runs[4][1], runs[2][0])  # the rung = the shorter proxy
    assert same(runs[4][2], runs[4][0])  # no trace of the rung after it
    assert not same(runs[4][0], runs[4][1])
    # each length's PolyLR ends at eta_min: fitted to the rung, not cut
    assert runs[4][1][2] == runs[4][0][2] == pytest.approx([1e-4])


# -- the search --------------------------------------------------------------
def fake_score(key: str, iterations: int) -> ProxyResult:
    """A score of (tree, length) whose ranks differ between lengths; one
    tree in 7 diverges."""
    h = zlib.crc32(f'{key}@{iterations}'.encode())
    if zlib.crc32(key.encode()) % 7 == 0:
        return ProxyResult('diverged', 0.0, reason='fake', seconds=0.5)
    score = h % 1000 / 10
    return ProxyResult('trained', score, dict(mIoU=score), seconds=1.0)


class FakeRungs(Executor):
    """Scores with :func:`fake_score`; ``stop`` (a class attribute: a
    function of the submitted candidate) interrupts the search as a kill
    would, with the training in flight."""

    capacity = 1
    stop = None

    def __init__(self, **kwargs):
        self.done, self.max_iters = [], kwargs['settings'].proxy.max_iters

    def submit(self, candidate):
        if FakeRungs.stop is not None and FakeRungs.stop(candidate):
            raise SearchInterrupted(15)
        self.done.append((candidate, fake_score(
            candidate.key, candidate.iterations or self.max_iters)))

    def wait(self):
        done, self.done = self.done, []
        return done


class FakeRungsTwo(FakeRungs):
    """Two workers; ``wait`` hands back the newest run only (the older one
    stays in flight)."""

    capacity = 2

    def wait(self):
        done = self.done[-1:]
        self.done = self.done[:-1]
        return done


FAKES = {'fake_rungs': FakeRungs, 'fake_rungs_2': FakeRungsTwo}


@pytest.fixture(autouse=True, scope='module')
def fake_executors():
    """The fake executors, registered for this module's tests only (other
    tests list the registered executor types)."""
    for name, cls in FAKES.items():
        EXECUTORS.register_module(name=name, module=cls, force=True)
    yield
    for name in FAKES:
        EXECUTORS._module_dict.pop(name, None)


def rung_config(tiny_data, budget=2, executor='fake_rungs', **fidelity):
    options = {
        'search.proxy.max_iters': 4, 'search.budget.evaluations': budget,
        'search.rejection.enabled': False,
        'search.executor': dict(type=executor)}
    if fidelity:
        options['search.fidelity'] = fidelity
    return tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **options)


def history(archive):
    """What a search decided: candidates and rung trainings, in order."""
    return ([(r['key'], r['status'], r['score'], r['rung'], r['parent'])
             for r in archive.rows()],
            [(r['candidate'], r['rung'], r['iterations'], r['status'],
              r['score']) for r in archive.rung_rows()])


@pytest.fixture(autouse=True)
def no_stop():
    yield
    FakeRungs.stop = None


def test_search_promotes_and_counts_the_budget_in_full_trainings(
        tiny_data, tmp_path):
    cfg = rung_config(tiny_data, budget=2, rungs=(0.25, 1.0), reduction=2)
    search = LossSearch(cfg, tmp_path, observers=[])
    # fake scores on 1 / 4 iterations: 63.1 / 9.6, 83.8 / 60.1, diverged,
    # 77.6 / 24.7
    trees = ['log(yhat)', 'yhat', 'exp(yhat)', 'y']
    script_proposals(search, [{'seg': t} for t in trees])
    summary = search.run()
    archive = search.archive
    ids = {r['key']: r['id'] for r in archive.rows()}
    one, two, bad, four = (ids[f'seg={t}'] for t in trees)
    # 1 + 1 iterations, the better of 2 for 4, 1 (diverged) + 1: 8
    # iterations = 2 full trainings; the next promotion (4, of the second
    # of the top 2 of 4) does not fit
    assert [(r['candidate'], r['rung'], r['iterations'], r['status'])
            for r in archive.rung_rows()] == [
        (one, 0, 1, 'trained'), (two, 0, 1, 'trained'),
        (two, 1, 4, 'trained'), (bad, 0, 1, 'diverged'),
        (four, 0, 1, 'trained')]
    assert archive.rung_iterations() == 8 and summary['spent'] == 2.0
    assert summary['trainings'] == 5 and archive.num_trained() == 4
    promoted = archive.get(two)
    assert (promoted['rung'], promoted['score']) == (1, 60.1)
    assert promoted['t_train'] == 2.0  # both rungs' seconds
    # ranked by rung reached, then score: 60.1 on rung 1 before 77.6 on 0
    assert [(b['id'], b['rung']) for b in summary['best'][:3]] == [
        (two, 1), (four, 0), (one, 0)]
    assert '# proxy mIoU (one run, rung 1): 60.1' in (
        tmp_path / 'best' / 'top1.py').read_text()
    assert 'rungs: 1 iterations 4 candidates, 4 iterations 1 candidates' \
        in summary['text']
    assert search.searcher.rungs == {two: 1}
    members = {m[0]: m[2] for m in search.searcher.population}
    assert members[two] == 60.1 and members[bad] == 0.0


def test_promotions_start_while_other_runs_are_in_flight(
        tiny_data, tmp_path):
    cfg = rung_config(tiny_data, budget=3, executor='fake_rungs_2',
                      rungs=(0.25, 1.0), reduction=2)
    search = LossSearch(cfg, tmp_path, observers=[])
    search.run()
    archive = search.archive
    promotions = [r for r in archive.rung_rows() if r['rung'] == 1]
    started = {r['id']: r['created'] for r in archive.rows()}
    # rung 0 of a candidate: from its row's creation to its rung-0 row's
    first = {r['candidate']: (started[r['candidate']], r['finished'])
             for r in archive.rung_rows() if r['rung'] == 0}
    overlapping = [(c, p['candidate']) for p in promotions
                   for c, (begin, end) in first.items()
                   if begin < p['created'] < end]
    assert promotions and overlapping  # no waiting for rung 0 to drain
    assert archive.rung_iterations() <= 3 * 4
    assert not archive.rows('running') and not archive.rung_rows('running')


def test_off_is_the_single_rung_search(tiny_data, tmp_path):
    runs = []
    for name, fidelity in [('absent', {}), ('none', dict(rungs=None)),
                           ('one', dict(rungs=(1.0, )))]:
        search = LossSearch(rung_config(tiny_data, budget=3, **fidelity),
                            tmp_path / name, observers=[])
        search.run()
        runs.append(history(search.archive))
    assert runs[0] == runs[1] == runs[2]
    candidates, rungs = runs[0]
    assert rungs == [] and all(c[3] is None for c in candidates)
    assert sum(c[1] == 'trained' or c[1] == 'diverged'
               for c in candidates) == 3


def test_resume_mid_rung_loses_and_repeats_nothing(tiny_data, tmp_path):
    cfg = rung_config(tiny_data, budget=3, rungs=(0.25, 0.5, 1.0),
                      reduction=2)
    reference = LossSearch(cfg, tmp_path / 'reference', observers=[])
    reference.run()
    expected = history(reference.archive)
    assert {r[1] for r in expected[1]} == {0, 1, 2}, 'no promotion to test'

    jobs = [(r[0], r[1]) for r in expected[1]]
    first_1, first_2 = jobs.index(next(j for j in jobs if j[1] == 1)), \
        jobs.index(next(j for j in jobs if j[1] == 2))
    new_after = next(i for i, j in enumerate(jobs)
                     if i > first_1 and j[1] == 0)
    work = tmp_path / 'killed'
    # killed with a promotion in flight, then with a new candidate in
    # flight, then with the longest rung in flight
    for kill in sorted({first_1, new_after, first_2}):
        FakeRungs.stop = lambda c, job=jobs[kill]: (c.id, c.rung) == job
        search = LossSearch(cfg, work, resume=(work / 'search.sqlite')
                            .exists(), observers=[])
        with pytest.raises(SearchInterrupted):
            search.run()
        running = search.archive.rows('running') + \
            search.archive.rung_rows('running')
        assert len(running) == 1
    FakeRungs.stop = None
    resumed = LossSearch(cfg, work, resume=True, observers=[])
    resumed.run()
    assert history(resumed.archive) == expected
