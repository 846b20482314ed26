"""Soak a search: SIGKILL its driver (and workers) at random, resume, check.

    python tools/soak_search.py configs/demo/voc_miou.py --budget 6 --kills 3
    python tools/soak_search.py configs/demo/voc_miou.py --budget 8 \\
        --kills 4 --executor process --kill-worker \\
        --cfg-options search.proxy.max_iters=20

Exit code 1 when the archive is inconsistent (a finished candidate lost or
evaluated twice, counts that disagree, budget not met, runs left running).
"""
import argparse
import os
import os.path as osp
import sys

# Before torch loads OpenMP: idle threads sleep instead of spinning, which
# on a busy CPU makes training up to 20x faster (see README, Speed).
os.environ.setdefault('OMP_WAIT_POLICY', 'PASSIVE')

# The soak harness is test support (tests/support/soak.py), not library code:
# this developer tool runs from a checkout, with the repository importable.
sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
from tests.support.soak import EXECUTORS, run_soak  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config', help='search config file')
    parser.add_argument('--budget', type=int, required=True,
                        help='evaluations of the search')
    parser.add_argument('--kills', type=int, required=True,
                        help='driver SIGKILLs before the final run')
    parser.add_argument('--executor', choices=EXECUTORS,
                        help="override search.executor.type")
    parser.add_argument('--kill-worker', action='store_true',
                        help='also kill a worker in every run (process, ray)')
    parser.add_argument('--ray-address', help='Ray cluster (default: a local '
                        'instance started for the soak)')
    parser.add_argument('--work-dir', help='fresh output folder (default: a '
                        'temporary one)')
    parser.add_argument('--min-delay', type=float, default=0.0,
                        help="earliest kill, seconds after a run's first "
                        'commit to the archive')
    parser.add_argument('--max-delay', type=float, default=20.0,
                        help="latest kill, seconds after a run's first "
                        'commit to the archive')
    parser.add_argument('--timeout', type=float, default=3600.0,
                        help='seconds a run may take to its first commit '
                        '(the final run: to its end)')
    parser.add_argument('--seed', type=int, default=0,
                        help='seed of the kill moments')
    parser.add_argument('--cfg-options', nargs='+', default=[],
                        help='key=value overrides for tools/search.py')
    return parser.parse_args()


def main():
    args = parse_args()
    if not osp.isfile(args.config):
        raise FileNotFoundError(f'config file {args.config!r} not found')
    report = run_soak(
        osp.abspath(args.config), args.budget, args.kills, args.executor,
        kill_worker=args.kill_worker, work_dir=args.work_dir,
        seed=args.seed, min_delay=args.min_delay, max_delay=args.max_delay,
        timeout=args.timeout, ray_address=args.ray_address,
        cfg_options=args.cfg_options)
    print(report.text)
    sys.exit(0 if report.ok else 1)


if __name__ == '__main__':
    main()
