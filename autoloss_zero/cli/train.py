"""Train a model (mmseg, mmdet or mmpose config), optionally with a
discovered loss (``autoloss-train``).

    autoloss-train configs/retrain/CONFIG.py \\
        --loss work_dirs/voc_miou/best/top1.py
    torchrun --nproc_per_node=4 tools/train.py CONFIG --launcher pytorch
    autoloss-train CONFIG --resume          # latest checkpoint in the work dir
    autoloss-train CONFIG --resume work_dirs/x/iter_4000.pth

``--loss`` (or a ``searched_loss = PATH`` entry in the config) puts the
snippet's ``searched_slots`` into the config, each slot keeping the config's
own ``loss_weight``.
"""
import argparse
import logging
import os.path as osp
from typing import List, Optional

from mmengine.config import Config
from mmengine.logging import print_log

from .common import (add_cfg_options, add_launcher, build_runner, guarded_main,
                     load_config, new_parser, resolve_work_dir, set_local_rank)
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser('Train a model')
    parser.add_argument('config', help='train config file path')
    parser.add_argument('--work-dir', help='the dir to save logs and models '
                        '(default: config work_dir, else work_dirs/<config>)')
    parser.add_argument(
        '--loss', help='searched-loss snippet (work_dirs/<search>/best/'
        'top1.py or tuned.py) to put into every slot it defines; overrides '
        'the config\'s `searched_loss`')
    parser.add_argument(
        '--resume', nargs='?', type=str, const='auto',
        help='resume from the given checkpoint, or without a path from the '
        'latest checkpoint in the work dir')
    parser.add_argument('--amp', action='store_true',
                        help='enable automatic-mixed-precision training')
    add_cfg_options(parser, 'train_cfg.max_iters=10')
    add_launcher(parser)
    args = parser.parse_args(argv)
    set_local_rank(args)
    return args


def _apply_loss(cfg: Config, args: argparse.Namespace) -> Config:
    """The ``--loss`` snippet, else the config's ``searched_loss``, put into
    the config's loss slots."""
    from autoloss_zero.search import apply_searched_loss
    snippet = args.loss or cfg.get('searched_loss')
    if snippet and not args.loss and not osp.isfile(snippet):
        raise FileNotFoundError(
            f'the config\'s searched_loss {snippet!r} does not exist: run '
            f'the search first, pass --loss PATH, or train with the '
            f'config\'s own losses with --cfg-options searched_loss=None')
    if snippet:
        cfg = apply_searched_loss(cfg, snippet)
        cfg.searched_loss = snippet
        print_log(f'searched loss from {snippet}', logger='current')
    return cfg


def _enable_amp(cfg: Config) -> None:
    wrapper = cfg.optim_wrapper.get('type', 'OptimWrapper')
    if wrapper == 'AmpOptimWrapper':
        print_log('AMP training is already enabled in the config.',
                  logger='current', level=logging.WARNING)
    elif wrapper != 'OptimWrapper':
        raise ValueError(f'--amp needs optim_wrapper.type OptimWrapper, '
                         f'the config has {wrapper!r}')
    else:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        cfg.optim_wrapper.loss_scale = 'dynamic'


def setup_config(args: argparse.Namespace) -> Config:
    """The training config: CLI options merged, loss applied, work dir set."""
    cfg = load_config(args.config, args.cfg_options)
    cfg.launcher = args.launcher
    cfg = _apply_loss(cfg, args)
    cfg.work_dir = resolve_work_dir(args.work_dir, cfg, args.config)
    if args.amp:
        _enable_amp(cfg)
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def run(argv: Optional[List[str]] = None):
    """Train; returns the Runner."""
    args = parse_args(argv)
    quiet(args.verbose)
    from autoloss_zero.datasets.check import check_data_roots
    cfg = setup_config(args)
    check_data_roots(cfg)
    runner = build_runner(cfg)
    runner.train()
    return runner


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
