"""Tune the node coefficients of a discovered loss with CMA-ES (GLO).

    python tools/tune_coefficients.py configs/demo/voc_miou.py --rank 1 --generations 10 --popsize 8
    python tools/tune_coefficients.py work_dirs/voc_miou --resume     # after a kill

The first argument is the search config (its work dir: --work-dir, else the
config's work_dir, else work_dirs/<config name>) or a search work dir in
which a previous call stored the config (search_config.py). Evaluations go
to the search archive (table cma_evaluations); the best loss is written to
<work_dir>/best/tuned.py, usable with tools/train.py --loss.
"""
import argparse
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle threads sleep instead of spinning, which
# on a busy CPU makes training up to 20x faster (see README, Speed).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401
from mmengine.config import Config, DictAction  # noqa: E402
from mmengine.logging import MMLogger  # noqa: E402

from autoloss_zero.datasets.check import check_data_roots  # noqa: E402
from autoloss_zero.graph import formula  # noqa: E402
from autoloss_zero.search.cma_tuning import tune_coefficients  # noqa: E402

STORED_CONFIG = 'search_config.py'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
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
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. search.proxy.max_iters=100')
    return parser.parse_args(argv)


def load_config(args):
    """(search config, work dir) from the CLI arguments."""
    if osp.isdir(args.target):
        work_dir = args.work_dir or args.target
        path = osp.join(args.target, STORED_CONFIG)
        if not osp.isfile(path):
            raise FileNotFoundError(
                f'{args.target} holds no {STORED_CONFIG}; pass the search '
                f'config instead (with --work-dir {args.target})')
        cfg = Config.fromfile(path)
    elif osp.isfile(args.target):
        cfg = Config.fromfile(args.target)
        work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
            'work_dirs', osp.splitext(osp.basename(args.target))[0])
    else:
        raise FileNotFoundError(f'{args.target!r} is neither a config file '
                                f'nor a search work dir')
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    return cfg, work_dir


def main(argv=None):
    args = parse_args(argv)
    cfg, work_dir = load_config(args)
    check_data_roots(cfg)
    if not osp.isfile(osp.join(work_dir, 'search.sqlite')):
        raise FileNotFoundError(f'no search in {work_dir} (search.sqlite); '
                                f'run tools/search.py first')
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


if __name__ == '__main__':
    main()
