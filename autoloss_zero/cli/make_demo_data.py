"""Generate the seeded demo data sets in VOC, Cityscapes and COCO layouts
(``autoloss-make-demo-data``).

    autoloss-make-demo-data                     # all kinds into data/
    autoloss-make-demo-data --kind voc --num-train 16 --size 64
    autoloss-make-demo-data --kind cityscapes --size 128 64 --force

Kind K goes to ``OUT/demo_K`` (``data/demo_voc``, ...). A second run with the
same parameters does nothing; defaults live in
``autoloss_zero.datasets.DEMO_DEFAULTS``.
"""
import argparse
import time
from pathlib import Path
from typing import Dict, List, Optional

from autoloss_zero.datasets import (DEMO_DEFAULTS, DEMO_KINDS, demo_data_root,
                                    generate_demo_data)
from autoloss_zero.datasets.demo import MARKER

from .common import guarded_main, new_parser
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(
        'Write the seeded demo data sets (textured shapes with occlusion, '
        'thin structures and a rare class) in real formats.')
    parser.add_argument('--kind', default='all', choices=[*DEMO_KINDS, 'all'],
                        help='which data set (default: all)')
    parser.add_argument('--out', default='data',
                        help='parent folder; kind K is written to OUT/demo_K')
    parser.add_argument('--num-train', type=int, default=None,
                        help='training images (default: per kind)')
    parser.add_argument('--num-val', type=int, default=None,
                        help='validation images (default: per kind)')
    parser.add_argument('--size', type=int, nargs='+', default=None,
                        metavar='PX', help='image size: S (square) or W H')
    parser.add_argument('--seed', type=int, default=None,
                        help='random seed (default: per kind)')
    parser.add_argument('--force', action='store_true',
                        help='regenerate even if up to date, and overwrite '
                        'unmarked folders')
    args = parser.parse_args(argv)
    if args.size is not None and len(args.size) > 2:
        parser.error(f'--size takes S or W H, got {args.size}')
    return args


def count_files(root: Path) -> int:
    return sum(1 for p in root.rglob('*')
               if p.is_file() and not p.name.startswith('.'))


def run(argv: Optional[List[str]] = None) -> Dict[str, str]:
    """Generate; returns {kind: config data_root}."""
    args = parse_args(argv)
    quiet(args.verbose)
    size = None
    if args.size is not None:
        size = args.size[0] if len(args.size) == 1 else tuple(args.size)
    kinds = DEMO_KINDS if args.kind == 'all' else (args.kind, )
    roots = {}
    for kind in kinds:
        root = Path(args.out) / Path(DEMO_DEFAULTS[kind]['root']).name
        marker = root / MARKER
        before = marker.stat().st_mtime_ns if marker.exists() else None
        start = time.perf_counter()
        generate_demo_data(kind, root, num_train=args.num_train,
                           num_val=args.num_val, size=size, seed=args.seed,
                           force=args.force)
        elapsed = time.perf_counter() - start
        state = ('up to date' if marker.stat().st_mtime_ns == before else
                 f'generated in {elapsed:.1f} s')
        roots[kind] = demo_data_root(kind, root)
        print(f'{kind:<10} {root}: {count_files(root)} files, {state}; '
              f'config data_root={roots[kind]}')
    return roots


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
