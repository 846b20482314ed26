"""Train a model (mmseg, mmdet or mmpose config), optionally with a
discovered loss.

    python tools/train.py configs/retrain/CONFIG.py --loss work_dirs/voc_miou/best/top1.py
    python -m torch.distributed.launch --nproc_per_node=4 tools/train.py CONFIG --launcher pytorch
    python tools/train.py CONFIG --resume                 # latest checkpoint in the work dir
    python tools/train.py CONFIG --resume work_dirs/x/iter_4000.pth

``--loss`` (or a ``searched_loss = PATH`` entry in the config) puts the
snippet's ``searched_slots`` into the config, each slot keeping the config's
own ``loss_weight``.
"""
import argparse
import logging
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle threads sleep instead of spinning, which
# on a busy CPU makes training up to 20x faster (see README, Speed).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401  (registers modules; before mmpose)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import print_log  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

from autoloss_zero.datasets.check import check_data_roots  # noqa: E402
from autoloss_zero.search.apply_loss import apply_searched_loss  # noqa: E402


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Train a model')
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
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value (e.g. '
        'train_cfg.max_iters=10)')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    # torch >= 2.0 passes --local-rank to the script.
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    return args


def setup_config(args) -> Config:
    """The training config: CLI options merged, loss applied, work dir set."""
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
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
    # work_dir: CLI > config > work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    if args.amp:
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
    if args.resume == 'auto':
        cfg.resume, cfg.load_from = True, None
    elif args.resume is not None:
        cfg.resume, cfg.load_from = True, args.resume
    return cfg


def main(argv=None):
    args = parse_args(argv)
    cfg = setup_config(args)
    check_data_roots(cfg)
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg else
              RUNNERS.build(cfg))
    runner.train()
    return runner


if __name__ == '__main__':
    main()
