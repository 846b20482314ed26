"""Summarise a search: top-k losses, counts by status, rejection and
equivalence rates, time by stage.

    python tools/analyze_search.py work_dirs/voc_miou [--top 10] [--mode max] [--json]
"""
import argparse
import json
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401
from autoloss_zero.search import Archive  # noqa: E402
from autoloss_zero.search.analysis import (analyze,  # noqa: E402
                                           format_analysis)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('work_dir', help='search work dir (or its '
                        'search.sqlite)')
    parser.add_argument('--top', type=int, default=5,
                        help='rows of the top-k table')
    parser.add_argument('--mode', default='max', choices=['max', 'min'],
                        help="the search's target mode")
    parser.add_argument('--json', action='store_true',
                        help='print the summary as JSON instead of tables')
    return parser.parse_args(argv)


def main(argv=None):
    args = parse_args(argv)
    path = (args.work_dir if args.work_dir.endswith('.sqlite') else
            osp.join(args.work_dir, 'search.sqlite'))
    if not osp.isfile(path):
        raise FileNotFoundError(f'no search archive at {path}')
    summary = analyze(Archive(path), args.top, args.mode)
    print(json.dumps(summary, indent=1) if args.json else
          format_analysis(summary))
    return summary


if __name__ == '__main__':
    main()
