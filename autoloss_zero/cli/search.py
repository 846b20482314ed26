"""Search loss functions with AutoLoss-Zero (``autoloss-search``).

    autoloss-search configs/demo/voc_miou.py
    autoloss-search configs/voc_miou.py --work-dir work_dirs/x --resume
    autoloss-search configs/demo/voc_miou.py --executor process
    autoloss-search configs/voc_miou.py --ray-address auto
"""
import argparse
from typing import Dict, List, Optional

from mmengine.config import Config

from .common import (add_cfg_options, guarded_main, load_config, new_parser,
                     resolve_work_dir)
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(__doc__.split('\n')[0])
    parser.add_argument('config', help='search config file')
    parser.add_argument('--work-dir', help='output folder (default: config '
                        'work_dir, else work_dirs/<config name>)')
    parser.add_argument('--resume', action='store_true',
                        help='continue the search archived in the work dir')
    parser.add_argument('--evaluations', type=int,
                        help='override search.budget.evaluations')
    parser.add_argument('--executor', choices=['local', 'process', 'ray'],
                        help='override search.executor.type (the other '
                        'executor options are kept only if the type is the '
                        "config's; --cfg-options apply after)")
    parser.add_argument('--ray-address', help='Ray cluster address (auto: '
                        'the running one); implies --executor ray')
    parser.add_argument('--init-from', metavar='WORK_DIR',
                        help='warm start: the top-k trees of the search in '
                        'WORK_DIR begin the initial population (as '
                        'search.seed_trees, marked in the archive)')
    add_cfg_options(parser, 'search.seed=1')
    return parser.parse_args(argv)


def apply_executor(cfg: Config, executor: Optional[str],
                   ray_address: Optional[str]) -> None:
    """Put ``--executor``/``--ray-address`` into ``cfg.search.executor``.

    Raises:
        ValueError: ``--ray-address`` with an executor other than ray.
    """
    if ray_address is not None:
        if executor not in (None, 'ray'):
            raise ValueError(f'--ray-address needs --executor ray, got '
                             f'--executor {executor}')
        executor = 'ray'
    if executor is None:
        return
    options = dict(cfg.search.get('executor') or dict(type='local'))
    if options.get('type') != executor:
        options = dict(type=executor)
    if ray_address is not None:
        options['address'] = ray_address
    cfg.search.executor = options


def run(argv: Optional[List[str]] = None) -> Dict:
    """Run (or resume) the search; returns its summary (``text`` printed)."""
    args = parse_args(argv)
    quiet(args.verbose)
    from autoloss_zero.search import LossSearch
    cfg = load_config(args.config)
    apply_executor(cfg, args.executor, args.ray_address)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.evaluations is not None:
        cfg.search.setdefault('budget', {})['evaluations'] = args.evaluations
    if args.init_from is not None:
        from autoloss_zero.search.loop.warm_start import (add_seed_trees,
                                                          seed_trees_from)
        add_seed_trees(cfg.search, seed_trees_from(
            args.init_from, cfg.search.get('top_k', 5),
            cfg.search.get('target', {}).get('mode', 'max')))
    work_dir = resolve_work_dir(args.work_dir, cfg, args.config)
    summary = LossSearch(cfg, work_dir, resume=args.resume).run()
    print(summary['text'])
    return summary


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
