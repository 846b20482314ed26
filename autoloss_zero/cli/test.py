"""Test (evaluate) a trained model on its config's test split
(``autoloss-test``).

    autoloss-test CONFIG CHECKPOINT [--work-dir DIR] [--out preds.pkl]
    autoloss-test CONFIG CHECKPOINT --show-dir vis/   # draw predictions
    torchrun --nproc_per_node=4 tools/test.py CONFIG CKPT --launcher pytorch

Prints the metrics (e.g. mIoU) as a JSON line; ``--out`` also dumps the raw
predictions to a pickle for offline evaluation.
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional

from mmengine.config import Config

from .common import (add_cfg_options, add_launcher, build_runner, guarded_main,
                     load_config, new_parser, resolve_work_dir, set_local_rank)
from .quiet import quiet

#: visualisation hook type -> (switch key, output-folder key or None when
#: the visualizer's save_dir is used, as mmseg does).
VIS_HOOKS = {
    'SegVisualizationHook': ('draw', None),
    'DetVisualizationHook': ('draw', 'test_out_dir'),
    'PoseVisualizationHook': ('enable', 'out_dir'),
}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser('Test a model')
    parser.add_argument('config', help='test config file path')
    parser.add_argument('checkpoint', help='checkpoint file')
    parser.add_argument('--work-dir', help='the dir to save logs and metrics '
                        '(default: config work_dir, else work_dirs/<config>)')
    parser.add_argument('--out', help='dump predictions to this .pkl file')
    parser.add_argument('--show-dir', help='draw predictions into this dir')
    add_cfg_options(parser, 'test_dataloader.batch_size=1')
    add_launcher(parser)
    args = parser.parse_args(argv)
    set_local_rank(args)
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


def run(argv: Optional[List[str]] = None) -> Dict:
    """Evaluate the checkpoint; returns the metrics."""
    args = parse_args(argv)
    quiet(args.verbose)
    cfg = load_config(args.config, args.cfg_options)
    if not osp.isfile(args.checkpoint):
        raise FileNotFoundError(f'checkpoint {args.checkpoint!r} not found')
    cfg.launcher = args.launcher
    cfg.work_dir = resolve_work_dir(args.work_dir, cfg, args.config)
    cfg.load_from = args.checkpoint
    if args.show_dir:
        enable_show_dir(cfg, args.show_dir)
    runner = build_runner(cfg)
    if args.out is not None:
        from mmengine.evaluator import DumpResults
        runner.test_evaluator.metrics.append(
            DumpResults(out_file_path=args.out))
    metrics = runner.test()
    print(json.dumps({k: v for k, v in metrics.items()
                      if isinstance(v, (int, float, str))}))
    return metrics


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
