"""A search its user cannot corrupt or mislead: the work-dir lock, resume
only with the archived config, validated settings, damaged archives, one
thread count, losses given as lists."""
import os
import signal
import subprocess
import sys
import time

import pytest
import torch
from mmengine.config import Config

from autoloss_zero.search import (Archive, Individual, LossSearch,
                                  SearchSettings)
from autoloss_zero.search.archive import ArchiveCorrupt
from autoloss_zero.search.execution import ProxyTrainer, inject_losses
from autoloss_zero.search.loop.lock import WorkDirLock, WorkDirLocked

from .conftest import tiny_search_config


def test_second_search_of_a_work_dir_is_refused_naming_the_holder(
        seg_search_cfg, tmp_path):
    first = LossSearch(seg_search_cfg, tmp_path)
    start = time.time()
    with pytest.raises(WorkDirLocked, match=f'in use by another search '
                       f'\\(pid {os.getpid()}, since '):
        LossSearch(seg_search_cfg, tmp_path, resume=True)
    assert time.time() - start < 5
    first.close()
    LossSearch(seg_search_cfg, tmp_path, resume=True).close()


def test_lock_of_a_killed_process_is_free_at_once(tmp_path):
    """flock dies with its process: a SIGKILLed search leaves no stale
    lock."""
    holder = subprocess.Popen([sys.executable, '-c', (
        'import sys, time\n'
        'from autoloss_zero.search.loop.lock import WorkDirLock\n'
        f'lock = WorkDirLock({str(tmp_path)!r}).acquire()\n'
        'print("locked", flush=True)\n'
        'time.sleep(60)\n')], stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == 'locked'
    with pytest.raises(WorkDirLocked, match=f'pid {holder.pid}'):
        WorkDirLock(tmp_path).acquire()
    assert WorkDirLock(tmp_path).holder().startswith(f'pid {holder.pid}')
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    lock = WorkDirLock(tmp_path).acquire()
    assert lock.holder().startswith(f'pid {os.getpid()}')
    lock.release()


def test_resume_with_another_metric_is_refused(seg_search_cfg, tmp_path):
    LossSearch(seg_search_cfg, tmp_path).run()
    saved = (tmp_path / 'search_config.py').read_text()
    changed = Config(seg_search_cfg.to_dict())
    changed.merge_from_dict({'search.target.metric': 'mAcc',
                             'val_evaluator.seg_metrics': ['mAcc']})
    with pytest.raises(ValueError, match="changed: search.target.metric: "
                       "'mIoU' -> 'mAcc'.*Only the budget may grow"):
        LossSearch(changed, tmp_path, resume=True)
    assert (tmp_path / 'search_config.py').read_text() == saved
    # the budget may grow
    grown = Config(seg_search_cfg.to_dict())
    grown.merge_from_dict({'search.budget.evaluations': 4})
    search = LossSearch(grown, tmp_path, resume=True)
    search.run()
    assert search.archive.num_trained() == 4
    shrunk = Config(seg_search_cfg.to_dict())
    shrunk.merge_from_dict({'search.budget.evaluations': 2})
    with pytest.raises(ValueError, match='search.budget.evaluations: 4 -> 2'):
        LossSearch(shrunk, tmp_path, resume=True)


@pytest.mark.parametrize('options,message', [
    ({'search.rejection.check_every': 0},
     r'search.rejection.check_every = 0 is invalid: expected an integer in '
     r'\[1, 30\]'),
    ({'search.rejection.steps': 0},
     'search.rejection.steps = 0 is invalid: expected an integer >= 1'),
    ({'search.rejection.eta': 5},
     r'search.rejection.eta = 5 is invalid: expected a number in \[-1.0, '
     r'1.0\]'),
    ({'search.branches.seg.eta': 1.5},
     'search.branches.seg.eta = 1.5 is invalid'),
    ({'search.budget.evaluations': -1},
     'search.budget.evaluations = -1 is invalid: expected an integer >= 1'),
    ({'search.rejection.lr': 0}, 'search.rejection.lr = 0 is invalid'),
    ({'search.rejection.samples': 0}, 'search.rejection.samples = 0'),
    ({'search.rejection.workers': 0}, 'search.rejection.workers = 0'),
    ({'search.evolution.p_copy': 1.5}, 'search.evolution.p_copy = 1.5'),
    ({'search.proxy.threads': 0}, 'search.proxy.threads = 0'),
    ({'search.executor': dict(type='slurm')},
     r"search.executor.type = 'slurm' is invalid: expected one of "
     r"\['local', 'process', 'ray'\]"),
    ({'search.branches.seg.paths': ['model.decode_head']},
     "'model.decode_head' is a 'DepthwiseSeparableASPPHead' config, not a "
     "loss config; name the loss inside it, e.g. "
     "model.decode_head.loss_decode"),
])
def test_invalid_settings_name_key_value_and_range(seg_search_cfg, options,
                                                   message):
    seg_search_cfg.merge_from_dict(options)
    with pytest.raises(ValueError, match=message):
        SearchSettings.from_config(seg_search_cfg)


def test_unreachable_eta_is_refused_after_the_capture(seg_search_cfg,
                                                      tmp_path):
    seg_search_cfg.merge_from_dict({'search.branches.seg.eta': 1.0})
    search = LossSearch(seg_search_cfg, tmp_path)
    with pytest.raises(ValueError, match=r'search.branches.seg.eta = 1.0 '
                       r'cannot be reached: the branch metric is 0\.\d+'):
        search.prepare()
    search.close()


def _archive_with_rows(path):
    archive = Archive(path)
    archive.add([dict(key=f's={i}', trees='{"s": "y"}', status='trained',
                      score=float(i)) for i in range(200)])
    return archive


def test_garbage_archive_names_the_path_and_the_way_out(tmp_path):
    path = tmp_path / 'search.sqlite'
    path.write_bytes(os.urandom(4096))
    with pytest.raises(ArchiveCorrupt, match=f'{path} is not a readable '
                       f'search archive .*no backup.*delete it'):
        Archive(path)


def test_truncated_archive_recovers_from_its_backup(tmp_path):
    path = tmp_path / 'search.sqlite'
    archive = _archive_with_rows(path)
    archive.backup()
    archive.db.execute('PRAGMA wal_checkpoint(TRUNCATE)')
    archive.close()
    data = path.read_bytes()
    path.write_bytes(data[:len(data) // 2])
    with pytest.raises(ArchiveCorrupt, match=f'restore its last backup .*mv '
                       f'{path}.bak {path}'):
        Archive(path)
    os.replace(f'{path}.bak', path)
    assert len(Archive(path).rows()) == 200


def test_every_proxy_training_runs_on_the_search_thread_count(
        seg_search_cfg, tmp_path):
    """The driver's thread count does not change a score: trainings run on
    search.proxy.threads."""
    settings = SearchSettings.from_config(seg_search_cfg)
    trainer = ProxyTrainer(seg_search_cfg, settings, tmp_path)
    ce = Individual({'seg': 'neg(mul(y,log(yhat)))'})
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        first = trainer.train(ce).score
        assert torch.get_num_threads() == 2  # restored after training
        torch.set_num_threads(1)
        assert trainer.train(ce).score == first
    finally:
        torch.set_num_threads(before)


CE_DICE = [dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=1.0),
           dict(type='DiceLoss', loss_weight=0.5)]


@pytest.mark.parametrize('keep', [(), ('DiceLoss', )])
def test_a_slot_holding_a_list_of_losses(tiny_data, tmp_path, keep):
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 1,
        'search.branches.seg.keep': list(keep)})
    cfg.model.decode_head.loss_decode = CE_DICE
    settings = SearchSettings.from_config(cfg)
    placed = inject_losses(cfg, settings).model.decode_head.loss_decode
    if keep:
        assert [d['type'] for d in placed] == ['SearchedSegLoss', 'DiceLoss']
        assert placed[1]['loss_weight'] == 0.5
    else:
        assert [d['type'] for d in placed] == ['SearchedSegLoss']
    summary = LossSearch(cfg, tmp_path).run()
    assert summary['counts']['baseline'] == 1
    snippet = Config.fromfile(str(tmp_path / 'best' / 'top1.py'))
    slot = snippet.searched_slots['model.decode_head.loss_decode']
    assert [d['type'] for d in slot] == [d['type'] for d in placed]
