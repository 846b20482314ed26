"""Tune the node coefficients of a discovered loss with CMA-ES (GLO)
(``autoloss-tune``).

    autoloss-tune configs/demo/voc_miou.py --rank 1 --generations 10 \\
        --popsize 8
    autoloss-tune work_dirs/voc_miou --resume     # after a kill

The first argument is the search config (its work dir: --work-dir, else the
config's work_dir, else work_dirs/<config name>) or a search work dir in
which a previous call stored the config (search_config.py). Evaluations go
to the search archive (table cma_evaluations); the best loss is written to
<work_dir>/best/tuned.py, usable with ``autoloss-train --loss``.
"""
import argparse
import os.path as osp
from typing import Dict, List, Optional, Tuple

from mmengine.config import Config

from .common import (add_cfg_options, guarded_main, load_config, new_parser,
                     resolve_work_dir)
from .quiet import quiet

STORED_CONFIG = 'search_config.py'


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(__doc__.split('\n')[0])
    parser.add_argument('target', help='search config, or a search work dir '
                        f'holding {STORED_CONFIG}')
    parser.add_argument('--work-dir', help='search work dir (default: config '
                        'work_dir, else work_dirs/<config name>)')
    parser.add_argument('--rank', type=int, default=1,
                        help='tune the rank-th best loss of the search')
    parser.add_argument('--generations', type=int, default=10,
                        help='CMA-ES generations in all (resume included)')
    parser.add_argument('--popsize', type=int, default=8,
                        help='CMA-ES population per generation')
    parser.add_argument('--sigma', type=float, default=0.5,
                        help='initial CMA-ES step size')
    parser.add_argument('--resume', action='store_true',
                        help='continue the tuning archived in the work dir')
    add_cfg_options(parser, 'search.proxy.max_iters=100')
    return parser.parse_args(argv)


def load_search_config(args: argparse.Namespace) -> Tuple[Config, str]:
    """(search config, work dir) from the CLI arguments.

    Raises:
        FileNotFoundError: the target is neither a config file nor a work dir
            holding ``search_config.py``.
    """
    if osp.isdir(args.target):
        path = osp.join(args.target, STORED_CONFIG)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{args.target} holds no {STORED_CONFIG}; pass the search '
                f'config instead (with --work-dir {args.target})')
        return (load_config(path, args.cfg_options),
                args.work_dir or args.target)
    if not osp.isfile(args.target):
        raise FileNotFoundError(f'{args.target!r} is neither a config file '
                                f'nor a search work dir')
    cfg = load_config(args.target, args.cfg_options)
    return cfg, resolve_work_dir(args.work_dir, cfg, args.target)


def run(argv: Optional[List[str]] = None) -> Dict:
    """Tune; returns ``tune_coefficients``' result (``result``, ``snippet``,
    ``layout``)."""
    args = parse_args(argv)
    quiet(args.verbose)
    from mmengine.logging import MMLogger

    from autoloss_zero.datasets.check import check_data_roots
    from autoloss_zero.graph import formula
    from autoloss_zero.search import tune_coefficients
    cfg, work_dir = load_search_config(args)
    check_data_roots(cfg)
    if not osp.isfile(osp.join(work_dir, 'search.sqlite')):
        raise FileNotFoundError(f'no search in {work_dir} (search.sqlite); '
                                f'run autoloss-search first')
    cfg.dump(osp.join(work_dir, STORED_CONFIG))
    logger = MMLogger.get_instance(
        f'autoloss_tune_{id(args)}', log_file=osp.join(work_dir, 'tuning.log'),
        log_level='INFO')
    out = tune_coefficients(cfg, work_dir, args.rank, args.generations,
                            args.popsize, args.sigma, args.resume, logger)
    result = out['result']
    for branch, tree in result.best.items():
        logger.info(f'tuned {branch}: {tree}')
        logger.info(f'    = {formula(tree)}')
    logger.info(f'proxy score {result.best_score:.4g} (untuned '
                f'{result.base_score:.4g}) after {result.generations} '
                f'generations, {result.evaluations} evaluations; '
                f'wrote {out["snippet"]}')
    return out


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
