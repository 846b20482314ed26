"""The tools hide the known third-party advice, and --verbose shows it."""
import logging
import os
import subprocess
import sys
import warnings

import pytest
from mmengine.logging import MMLogger, print_log

from autoloss_zero.cli.quiet import (KNOWN_LOG_WARNINGS, KNOWN_WARNINGS,
                                     quiet, warning_options)

from ..conftest import REPO

#: what each hidden warning looks like in a terminal
WALL = ('pkg_resources is deprecated', 'build_loss`` would be deprecated',
        'The draw is False', 'Default ``avg_non_ignore`` is False',
        'For binary segmentation', 'The prefix is not set in metric class')


def _warned(verbose, message, category, module):
    """The warnings recorded when ``module`` warns ``message`` after
    ``quiet(verbose)``."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.resetwarnings()
        warnings.simplefilter('always')
        quiet(verbose)
        warnings.warn_explicit(message, category, 'file.py', 1,
                               module=module)
    return [str(w.message) for w in caught]


@pytest.mark.parametrize('message,category,module', KNOWN_WARNINGS)
def test_known_warnings_hidden_unless_verbose(message, category, module,
                                              monkeypatch):
    monkeypatch.delenv('PYTHONWARNINGS', raising=False)
    module = module or 'importlib'
    assert _warned(False, f'{message} ...', category, module) == []
    assert _warned(True, f'{message} ...', category, module) == [
        f'{message} ...']
    # other messages of that module, and that message elsewhere, still show
    assert _warned(False, 'something else', category, module) == [
        'something else']
    if module != 'importlib':
        assert _warned(False, f'{message} ...', category, 'mine') == [
            f'{message} ...']


def test_child_processes_inherit_the_filters(monkeypatch):
    """quiet() exports the filters in PYTHONWARNINGS (spawned workers read
    it at start-up), and Python accepts every entry."""
    monkeypatch.setenv('PYTHONWARNINGS', 'default::DeprecationWarning')
    quiet()
    assert os.environ['PYTHONWARNINGS'] == (
        warning_options() + ',default::DeprecationWarning')
    code = ';'.join(
        ['import warnings'] + [
            f'warnings.warn_explicit({m + " ..."!r}, {c.__name__}, "f.py", '
            f'1, module={m and mod or "x"!r})'
            for m, c, mod in KNOWN_WARNINGS] +
        ['warnings.warn_explicit("shown", UserWarning, "f.py", 1)'])
    proc = subprocess.run([sys.executable, '-c', code], capture_output=True,
                          text=True, timeout=60)
    assert proc.returncode == 0
    assert proc.stderr.count('Warning') == 1 and 'shown' in proc.stderr


@pytest.mark.parametrize('known', KNOWN_LOG_WARNINGS)
def test_mmengine_log_warnings_hidden(known, monkeypatch):
    monkeypatch.delenv('PYTHONWARNINGS', raising=False)
    before = MMLogger.get_instance(f'quiet_test_before_{known}')
    quiet()
    after = MMLogger.get_instance(f'quiet_test_after_{known}')
    for logger in (before, after):
        records = []
        handler = logging.Handler()
        handler.emit = records.append
        logger.handlers = [handler]
        print_log(f'{known} ...', logger=logger, level=logging.WARNING)
        print_log('a warning of our own', logger=logger,
                  level=logging.WARNING)
        assert [r.getMessage() for r in records] == ['a warning of our own']


def _tool(name, *args):
    """Run tools/<name> as a user would (no PYTHONWARNINGS of ours)."""
    env = {k: v for k, v in os.environ.items() if k != 'PYTHONWARNINGS'}
    proc = subprocess.run([sys.executable, f'tools/{name}', *args], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc


@pytest.mark.parametrize('verbose', [False, True])
def test_search_reads_well(tiny_data, tmp_path, verbose):
    """A one-evaluation demo search: no advice on stderr or in the log
    lines, unless --verbose."""
    root = tiny_data['voc']
    options = [f'{k}.dataset.data_root={root}' for k in (
        'train_dataloader', 'val_dataloader', 'test_dataloader')] + [
        'search.budget.evaluations=1', 'search.proxy.max_iters=2',
        'search.evolution.population=2', 'search.rejection.workers=1',
        'search.rejection.eta=0.0', 'search.rejection.samples=2',
        'search.rejection.steps=10', 'train_dataloader.batch_size=2',
        'search.verdict.seeds=0']
    proc = _tool('search.py', 'configs/demo/voc_miou.py', '--work-dir',
                 str(tmp_path / 'search'), *['--verbose'] * verbose,
                 '--cfg-options', *options)
    assert 'best proxy mIoU' in proc.stdout
    shown = [w for w in WALL if w in proc.stderr + proc.stdout]
    if verbose:  # (the metric prefix advice is fixed at its root)
        assert shown == list(WALL[:4])
    else:
        assert shown == [] and 'Warning' not in proc.stderr, proc.stderr


def test_pose_training_reads_well(tiny_data, tmp_path):
    """tools/train.py on the pose demo (mmpose's and mmengine's advice)."""
    root = tiny_data['coco']
    options = [f'{k}.dataset.data_root={root}/' for k in (
        'train_dataloader', 'val_dataloader', 'test_dataloader')] + [
        'train_cfg.max_iters=2', 'train_cfg.val_interval=2',
        'default_hooks.checkpoint.interval=2', 'train_dataloader.batch_size=2',
        f'val_evaluator.ann_file={root}/annotations/'
        'person_keypoints_val2017.json']
    proc = _tool('train.py', 'configs/demo/td-hm_r18_demo-coco.py',
                 '--work-dir', str(tmp_path / 'pose'), '--cfg-options',
                 *options)
    assert (tmp_path / 'pose' / 'iter_2.pth').is_file()
    assert proc.stderr == '' and ' - WARNING - ' not in proc.stdout, (
        proc.stderr + proc.stdout)[-3000:]
