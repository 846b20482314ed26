"""The search loop end to end on tiny generated data."""
import json

import pytest
from mmengine.config import Config
from mmengine.registry import MODELS

from autoloss_zero.graph import TreeSyntaxError
from autoloss_zero.search import LossSearch, SearchSettings

from .conftest import script_proposals, tiny_search_config

CE = 'neg(mul(y,log(yhat)))'
OVERFLOW = 'mul(exp(exp(inv(yhat))),exp(exp(inv(yhat))))'


def scripted(search, trees):
    """Make the searcher propose ``trees`` in order (then the real ones)."""
    script_proposals(search, [{'seg': t} for t in trees])


@pytest.mark.parametrize('metric', [
    'miou', 'fwiou', 'macc', 'gacc', 'biou', 'bf1'])
def test_demo_search_end_to_end(metric, tiny_data, tmp_path):
    cfg = tiny_search_config(f'demo/voc_{metric}.py', tiny_data['voc'])
    summary = LossSearch(cfg, tmp_path).run()
    counts = summary['counts']
    assert counts['baseline'] == 1 and counts['running'] == 0
    # the budget counts proxy trainings (equivalent candidates are free)
    assert sum(counts[s] for s in ('trained', 'diverged', 'failed')) == 3
    assert (tmp_path / 'search.sqlite').is_file()
    assert (tmp_path / 'progress.png').stat().st_size > 10_000
    assert summary['best'], summary
    snippet = Config.fromfile(str(tmp_path / 'best' / 'top1.py'))
    slots = snippet.searched_slots
    assert set(slots) == {'model.decode_head.loss_decode',
                          'model.auxiliary_head.loss_decode'}
    assert slots['model.auxiliary_head.loss_decode']['loss_weight'] == 0.4
    assert snippet.searched_losses == summary['best'][0]['trees']
    MODELS.build(slots['model.decode_head.loss_decode'])  # the exported tree


def test_equivalent_candidate_reuses_the_score(seg_search_cfg, tmp_path):
    search = LossSearch(seg_search_cfg, tmp_path)
    scripted(search, [CE, 'neg(mul(log(yhat),y))', 'mul(y,neg(log(yhat)))'])
    search.run()
    rows = search.archive.rows(exclude=('rejected', 'baseline'))
    # equivalents are free: the search trains on until the budget is spent
    assert [r['status'] for r in rows[:3]] == ['trained', 'equivalent',
                                               'equivalent']
    assert search.archive.num_trained() == 3
    assert rows[1]['equivalent_to'] == rows[0]['id']
    assert rows[1]['score'] == rows[2]['score'] == rows[0]['score']
    assert rows[1]['t_train'] is None  # never trained


def test_diverging_candidate_is_recorded_and_search_goes_on(
        seg_search_cfg, tmp_path):
    seg_search_cfg.merge_from_dict({'search.rejection.enabled': False})
    search = LossSearch(seg_search_cfg, tmp_path)
    scripted(search, [OVERFLOW, CE])
    search.run()
    rows = search.archive.rows(exclude=('baseline', ))
    assert rows[0]['status'] == 'diverged'
    assert rows[0]['score'] == 0.0
    assert 'iteration 1 (early stop)' in rows[0]['reason']
    assert rows[1]['status'] == 'trained' and rows[1]['score'] > 0
    assert search.archive.num_trained() == 3


def test_same_seed_same_search(seg_search_cfg, tmp_path):
    runs = []
    for name in ('a', 'b'):
        search = LossSearch(seg_search_cfg, tmp_path / name)
        search.run()
        runs.append([(r['key'], r['status'], r['score'])
                     for r in search.archive.rows()])
    assert runs[0] == runs[1]


def test_screening_pool_gives_the_same_search(seg_search_cfg, tmp_path):
    """Parallel screening rewinds the RNG: same candidates as in-process."""
    runs = []
    for workers in (1, 2):
        seg_search_cfg.merge_from_dict({'search.rejection.workers': workers})
        search = LossSearch(seg_search_cfg, tmp_path / str(workers))
        search.run()
        runs.append([(r['key'], r['status'], r['score'], r['reason'])
                     for r in search.archive.rows()])
    assert runs[0] == runs[1]
    assert any(r[1] == 'rejected' for r in runs[0])


def test_existing_archive_needs_resume(seg_search_cfg, tmp_path):
    LossSearch(seg_search_cfg, tmp_path).run()
    with pytest.raises(FileExistsError, match='--resume'):
        LossSearch(seg_search_cfg, tmp_path)
    # resuming a finished search finishes at once with the same archive
    before = LossSearch(seg_search_cfg, tmp_path, resume=True)
    n = len(before.archive.rows())
    before.run()
    assert len(before.archive.rows()) == n


@pytest.mark.parametrize('options,error,message', [
    ({'search.target.metric': 'mIOU'}, ValueError, "unknown target metric"
     " 'mIOU'"),
    ({'search.target.mode': 'up'}, ValueError, "mode must be one of"),
    ({'search.branches.seg.paths': ['model.decode_head.loss_decoder']},
     KeyError, "has no key 'loss_decoder'"),
    ({'search.branches.seg.type': 'CrossEntropyLoss'}, ValueError,
     'not a registered searched-loss module'),
    ({'search.rejection.stepz': 3}, KeyError, "unknown key\\(s\\) "
     "\\['stepz'\\] in search.rejection"),
    ({'search.space.ops': ['add', 'foo']}, ValueError, 'foo'),
])
def test_bad_search_config(seg_search_cfg, options, error, message):
    seg_search_cfg.merge_from_dict(options)
    with pytest.raises(error, match=message):
        SearchSettings.from_config(seg_search_cfg)


def test_missing_data_root_fails_at_once(seg_search_cfg, tmp_path):
    seg_search_cfg.train_dataloader.dataset.data_root = 'data/demo_voc_nope'
    with pytest.raises(FileNotFoundError,
                       match="'data/demo_voc_nope' does not exist: generate"
                       " it with: python tools/make_demo_data.py --kind voc"):
        LossSearch(seg_search_cfg, tmp_path)
    assert not (tmp_path / 'search.sqlite').exists()


def test_malformed_tree_in_a_config_names_the_position():
    with pytest.raises(TreeSyntaxError, match='position'):
        MODELS.build(dict(type='SearchedSegLoss',
                          tree='neg(mul(y,log(yhat))'))


def test_archive_rows_hold_what_the_spec_lists(seg_search_cfg, tmp_path):
    search = LossSearch(seg_search_cfg, tmp_path)
    search.run()
    trained = search.archive.rows('trained')[0]
    assert json.loads(trained['trees'])['seg'] in trained['key']
    assert trained['fingerprint'].startswith('seg:')
    assert trained['gains']['seg'] >= 0.6
    assert trained['metrics']['mIoU'] == trained['score']
    assert trained['t_reject'] > 0 and trained['t_train'] > 0
    assert set(search.archive.state()) == {'searcher', 'stats'}


def test_archive_written_before_schema_versions_resumes(seg_search_cfg,
                                                        tmp_path):
    """An archive of the unversioned schema (as written before the archive
    had a version) is migrated on open and the search resumes from it."""
    import sqlite3
    cfg = seg_search_cfg
    cfg.merge_from_dict({'search.budget.evaluations': 2})
    LossSearch(cfg, tmp_path).run()
    db = sqlite3.connect(str(tmp_path / 'search.sqlite'))
    db.executescript('DROP TABLE meta; DROP TABLE cma_evaluations; '
                     'DROP TABLE seed_runs; '
                     'ALTER TABLE candidates DROP COLUMN origin;')
    db.close()
    cfg.merge_from_dict({'search.budget.evaluations': 3})
    search = LossSearch(cfg, tmp_path, resume=True)
    assert search.archive.found_version == 0
    search.run()
    assert search.archive.num_trained() == 3
