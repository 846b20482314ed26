"""Search loss functions with AutoLoss-Zero.

    python tools/search.py configs/demo/voc_miou.py
    python tools/search.py configs/voc_miou.py --work-dir work_dirs/x --resume
    python tools/search.py configs/demo/voc_miou.py --executor process
    python tools/search.py configs/voc_miou.py --ray-address auto
"""
import argparse
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle threads sleep instead of spinning, which
# on a busy CPU makes training up to 20x faster (see README, Speed).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

from mmengine.config import Config, DictAction  # noqa: E402

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401
import autoloss_zero.search.executors  # noqa: E402,F401 (process, ray)
from autoloss_zero.search import LossSearch  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='search config file')
    parser.add_argument('--work-dir', help='output folder (default: '
                        'work_dirs/<config name>)')
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
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction,
        help='override config entries, e.g. search.seed=1')
    return parser.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    cfg = Config.fromfile(args.config)
    if args.ray_address is not None:
        if args.executor not in (None, 'ray'):
            raise ValueError(f'--ray-address needs --executor ray, got '
                             f'--executor {args.executor}')
        args.executor = 'ray'
    if args.executor is not None:
        executor = dict(cfg.search.get('executor') or dict(type='local'))
        if executor.get('type') != args.executor:
            executor = dict(type=args.executor)
        if args.ray_address is not None:
            executor['address'] = args.ray_address
        cfg.search.executor = executor
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    if args.evaluations is not None:
        cfg.search.setdefault('budget', {})['evaluations'] = args.evaluations
    work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    summary = LossSearch(cfg, work_dir, resume=args.resume).run()
    print(summary['text'])


if __name__ == '__main__':
    main()
