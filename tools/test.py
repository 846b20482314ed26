"""Test (evaluate) a trained model on its config's test split.

    python tools/test.py CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
    python tools/test.py CONFIG CHECKPOINT --show-dir vis/   # draw predictions
    python -m torch.distributed.launch --nproc_per_node=4 tools/test.py CONFIG CKPT --launcher pytorch

Prints the metrics (e.g. mIoU) as a JSON line; ``--out`` also dumps the raw
predictions to a pickle for offline evaluation.
"""
import argparse
import json
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle threads sleep instead of spinning, which
# on a busy CPU makes training up to 20x faster (see README, Speed).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401  (registers modules; before mmpose)
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.evaluator import DumpResults  # noqa: E402
from mmengine.registry import RUNNERS  # noqa: E402
from mmengine.runner import Runner  # noqa: E402

#: visualisation hook type -> (switch key, output-folder key or None when
#: the visualizer's save_dir is used, as mmseg does).
VIS_HOOKS = {
    'SegVisualizationHook': ('draw', None),
    'DetVisualizationHook': ('draw', 'test_out_dir'),
    'PoseVisualizationHook': ('enable', 'out_dir'),
}


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description='Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics '
                        '(default: config work_dir, else work_dirs/<config>)')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw predictions into this dir')
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, key=value')
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args(argv)
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)
    if args.out is not None and not args.out.endswith(('.pkl', '.pickle')):
        raise ValueError(f'--out must be a .pkl or .pickle file, got '
                         f'{args.out!r}')
    return args


def enable_show_dir(cfg: Config, show_dir: str) -> None:
    """Switch the config's visualisation hook on, drawing into show_dir."""
    hook = cfg.get('default_hooks', {}).get('visualization')
    if hook is None or hook.get('type') not in VIS_HOOKS:
        raise KeyError(f'--show-dir needs default_hooks.visualization of a '
                       f'type in {sorted(VIS_HOOKS)}, the config has {hook}')
    switch, out_key = VIS_HOOKS[hook['type']]
    hook[switch] = True
    hook['interval'] = 1
    if out_key is not None:
        hook[out_key] = show_dir
    else:
        cfg.visualizer['save_dir'] = show_dir
        if not cfg.visualizer.get('vis_backends'):
            cfg.visualizer['vis_backends'] = [dict(type='LocalVisBackend')]


def main(argv=None):
    args = parse_args(argv)
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg = Config.fromfile(args.config)
    cfg.launcher = args.launcher
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    # work_dir: CLI > config > work_dirs/<config name>
    if args.work_dir is not None:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('./work_dirs',
                                osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_show_dir(cfg, args.show_dir)
    runner = (Runner.from_cfg(cfg) if 'runner_type' not in cfg else
              RUNNERS.build(cfg))
    if args.out is not None:
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    print(json.dumps({k: v for k, v in metrics.items()
                      if isinstance(v, (int, float, str))}))
    return metrics


if __name__ == '__main__':
    main()
