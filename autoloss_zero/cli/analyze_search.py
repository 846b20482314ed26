"""Summarise a search: top-k losses, counts by status, rejection and
equivalence rates, time by stage (``autoloss-analyze``).

    autoloss-analyze work_dirs/voc_miou [--top 10] [--mode max] [--json]
"""
import argparse
import json
import os.path as osp
from typing import Dict, List, Optional

from .common import guarded_main, new_parser
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='search work dir (or its '
                        'search.sqlite)')
    parser.add_argument('--top', type=int, default=5,
                        help='rows of the top-k table')
    parser.add_argument('--mode', default='max', choices=['max', 'min'],
                        help="the search's target mode")
    parser.add_argument('--json', action='store_true',
                        help='print the summary as JSON instead of tables')
    return parser.parse_args(argv)


def run(argv: Optional[List[str]] = None) -> Dict:
    """Print the summary; returns it."""
    args = parse_args(argv)
    quiet(args.verbose)
    from autoloss_zero.search import Archive, analyze, format_analysis
    path = (args.work_dir if args.work_dir.endswith('.sqlite') else
            osp.join(args.work_dir, 'search.sqlite'))
    if not osp.isfile(path):
        raise FileNotFoundError(f'no search archive at {path}')
    summary = analyze(Archive(path), args.top, args.mode)
    print(json.dumps(summary, indent=1) if args.json else
          format_analysis(summary))
    return summary


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
