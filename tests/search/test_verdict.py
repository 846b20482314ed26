"""Results to trust: the paired statistics, the multi-seed verdict of a
search, a budget spent on training, warm-start trees, multi-seed tuning."""
import json
import math

import numpy as np
import pytest
from mmengine.config import Config
from scipy import stats

from autoloss_zero.search import Individual, LossSearch, ProxyResult
from autoloss_zero.search.loop.stopping import SearchInterrupted
from autoloss_zero.search.tuning import multi_seed_score
from autoloss_zero.search.verdict import compare, load_verdicts, mean_ci

from .conftest import tiny_search_config

CE = 'neg(mul(y,log(yhat)))'
BASE = [60.1, 62.3, 58.7, 61.0, 59.4]


@pytest.mark.parametrize('shift,verdict', [
    ([2.1, 1.8, 2.4, 2.0, 1.9], 'better'),
    ([0.3, -0.4, 0.1, -0.2, 0.25], 'no significant difference'),
    ([-2.1, -1.8, -2.4, -2.0, -1.9], 'worse'),
])
def test_verdict_on_constructed_cases_matches_scipy(shift, verdict):
    cand = [b + s for b, s in zip(BASE, shift)]
    result = compare(cand, BASE)
    assert result.verdict == verdict
    assert result.t_p == pytest.approx(stats.ttest_rel(cand, BASE).pvalue)
    assert result.wilcoxon_p == pytest.approx(stats.wilcoxon(cand,
                                                             BASE).pvalue)
    diff = np.subtract(cand, BASE)
    assert result.diff_mean == pytest.approx(diff.mean())
    half = stats.t.ppf(0.975, 4) * diff.std(ddof=1) / math.sqrt(5)
    assert result.diff_ci == pytest.approx((diff.mean() - half,
                                            diff.mean() + half))
    # lower is better: the same numbers mean the opposite
    flipped = {'better': 'worse', 'worse': 'better'}.get(verdict, verdict)
    assert compare(cand, BASE, mode='min').verdict == flipped


def test_mean_ci_against_scipy_interval():
    values = [3.0, 4.5, 2.5, 5.0]
    mean, (lo, hi) = mean_ci(values)
    ref = stats.t.interval(0.95, 3, loc=np.mean(values),
                           scale=stats.sem(values))
    assert mean == pytest.approx(3.75)
    assert (lo, hi) == pytest.approx(ref)


def test_constant_differences_and_bad_input():
    assert compare([2.0, 3.0], [1.0, 2.0]).verdict == 'better'
    assert compare([2.0, 3.0], [2.0, 3.0]).verdict == \
        'no significant difference'
    with pytest.raises(ValueError, match='same >= 2 seeds'):
        compare([1.0], [1.0])
    with pytest.raises(ValueError, match="mode must be 'max' or 'min'"):
        compare([1.0, 2.0], [1.0, 2.0], mode='up')


def _verdict_search(tiny_data, tmp_path, **overrides):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 2, 'search.verdict.seeds': 2,
        'search.verdict.top_k': 1, **overrides})
    return cfg, LossSearch(cfg, tmp_path)


def test_search_ends_with_a_multi_seed_verdict(tiny_data, tmp_path):
    cfg, search = _verdict_search(tiny_data, tmp_path)
    summary = search.run()
    archive = search.archive
    runs = archive.seed_runs()
    top = summary['best'][0]
    # the top-1 and the baseline, on seeds 1 and 2 (not the search's 0)
    assert sorted((r['candidate'], r['seed']) for r in runs) == sorted(
        (c, s) for c in (top['id'], archive.baseline()['id'])
        for s in (1, 2))
    assert all(r['status'] in ('trained', 'diverged') for r in runs)
    verdicts = load_verdicts(archive)
    assert top['verdict'] == verdicts[top['id']].to_dict()
    assert verdicts[top['id']].seeds == 2
    assert f'verdict #{top["id"]}: mIoU' in summary['text']
    header = (tmp_path / 'best' / 'top1.py').read_text()
    assert '# verdict: mIoU' in header and 'paired t-test' in header
    assert (tmp_path / 'verdict.png').stat().st_size > 5_000


def test_interrupted_verdict_resumes_where_it_stopped(
        tiny_data, tmp_path, monkeypatch):
    cfg, search = _verdict_search(tiny_data, tmp_path)
    from autoloss_zero.search.verdict import reevaluation
    original = reevaluation.Reevaluation._train

    def stop_after_one(self, todo, executor):
        executor.submit(todo.popleft())
        for candidate, result in executor.wait():
            self.archive.finish_seed_run(candidate.id, dict(
                status=result.status, score=result.score))
        raise SearchInterrupted(15)

    monkeypatch.setattr(reevaluation.Reevaluation, '_train', stop_after_one)
    with pytest.raises(SearchInterrupted):
        search.run()
    done = {r['id']: r['finished'] for r in search.archive.seed_runs()
            if r['status'] != 'running'}
    assert len(done) == 1
    monkeypatch.setattr(reevaluation.Reevaluation, '_train', original)
    resumed = LossSearch(cfg, tmp_path, resume=True)
    resumed.run()
    runs = resumed.archive.seed_runs()
    assert len(runs) == 4 and all(r['status'] != 'running' for r in runs)
    assert {r['id']: r['finished'] for r in runs
            if r['id'] in done} == done  # not trained again
    assert load_verdicts(resumed.archive)


def test_equivalent_candidates_are_free_and_hours_stop(tiny_data, tmp_path):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 50, 'search.budget.hours': 1e-9})
    search = LossSearch(cfg, tmp_path)
    summary = search.run()
    assert search.archive.num_trained() <= 1  # the hour ran out at once
    assert 'proxy trainings (budget 50; equivalent ones are free)' in \
        summary['text']


def test_seed_trees_are_screened_and_marked(tiny_data, tmp_path):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 2,
        'search.seed_trees': dict(seg=['1', CE])})
    search = LossSearch(cfg, tmp_path)
    search.run()
    rows = search.archive.rows(exclude=('baseline', ))
    # the constant '1' cannot move the prediction: rejected, like any tree
    assert (rows[0]['trees'], rows[0]['status'], rows[0]['origin']) == (
        json.dumps({'seg': '1'}), 'rejected', 'seed')
    seeded = [r for r in rows if r['origin'] == 'seed' and
              r['status'] != 'rejected']
    assert [json.loads(r['trees'])['seg'] for r in seeded] == [CE]
    assert all(r['origin'] in ('random', 'evolved') for r in rows
               if r not in seeded and r['status'] != 'rejected')
    state = search.archive.state()['searcher']
    assert state['seeded'] == 2


def test_seed_trees_name_branches_and_parse(seg_search_cfg):
    from autoloss_zero.graph import TreeSyntaxError
    from autoloss_zero.search import SearchSettings
    cfg = Config(seg_search_cfg.to_dict())
    cfg.merge_from_dict({'search.seed_trees': dict(rpn=[CE])})
    with pytest.raises(KeyError, match=r"unknown branch\(es\) \['rpn'\]"):
        SearchSettings.from_config(cfg)
    cfg = Config(seg_search_cfg.to_dict())
    cfg.merge_from_dict({'search.seed_trees': dict(seg=['neg(('])})
    with pytest.raises(TreeSyntaxError):
        SearchSettings.from_config(cfg)


class _Trainers:
    """Records which seeds each individual was trained on."""

    def __init__(self):
        self.seeds = []

    def train(self, candidate):
        self.seeds.append(candidate.seed)
        return ProxyResult('trained', 10.0 + candidate.seed, seconds=1.0)


def test_cma_members_are_scored_on_more_than_one_seed():
    trainers = _Trainers()
    result = multi_seed_score(trainers, Individual({'seg': CE}), [0, 1000])
    assert trainers.seeds == [0, 1000]
    assert result.status == 'trained' and result.score == 510.0
    assert result.metrics['scores'] == [10.0, 1010.0]


def test_init_from_an_earlier_search(tiny_data, tmp_path):
    from autoloss_zero.cli.search import run
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 2})
    config = tmp_path / 'tiny.py'
    cfg.dump(str(config))
    first = run([str(config), '--work-dir', str(tmp_path / 'a')])
    best = [b['trees']['seg'] for b in first['best']]
    run([str(config), '--work-dir', str(tmp_path / 'b'), '--init-from',
         str(tmp_path / 'a'), '--evaluations', '1'])
    from autoloss_zero.search import Archive
    rows = Archive(tmp_path / 'b' / 'search.sqlite').rows(
        exclude=('baseline', ))
    seeded = [json.loads(r['trees'])['seg'] for r in rows
              if r['origin'] == 'seed']
    assert seeded[0] == best[0]
    with pytest.raises(FileNotFoundError, match='no search archive'):
        run([str(config), '--work-dir', str(tmp_path / 'c'), '--init-from',
             str(tmp_path / 'nope')])
