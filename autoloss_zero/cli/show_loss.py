"""Show a loss: simplified formula, LaTeX, and plots of the loss and its
gradient against the predicted probability (PNG, GLO-style y=0/y=1 curves)
(``autoloss-show-loss``).

    autoloss-show-loss 'neg(mul(y,log(yhat)))'
    autoloss-show-loss work_dirs/voc_miou/best/top1.py --out-dir vis/
    autoloss-show-loss BaikalLoss --num-classes 21
    autoloss-show-loss work_dirs/voc_miou/best/top1.py \\
        --archive work_dirs/voc_miou/search.sqlite
"""
import argparse
import os.path as osp
from typing import List, Optional

from .common import guarded_main, new_parser
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(__doc__.split('\n')[0])
    parser.add_argument('loss', help='tree string, best/*.py snippet, or a '
                        'registered loss name (e.g. BaikalLoss)')
    parser.add_argument('--out-dir', default='work_dirs/show_loss',
                        help='folder of the PNGs')
    parser.add_argument('--name', help='file name prefix (default: from the '
                        'loss argument)')
    parser.add_argument('--num-classes', type=int, default=21,
                        help='C of the C-class curves (besides C=2)')
    parser.add_argument('--archive', help='search.sqlite: also write the '
                        'search-progress plot')
    parser.add_argument('--metric', default='mIoU',
                        help='target metric name for the progress plot')
    parser.add_argument('--mode', default='max', choices=['max', 'min'])
    parser.add_argument('--no-plot', action='store_true',
                        help='print the formulas only')
    return parser.parse_args(argv)


def default_name(spec: str) -> str:
    """File name prefix of a loss argument: snippet stem, loss name or
    ``tree``."""
    if spec.endswith('.py'):
        return osp.splitext(osp.basename(spec))[0]
    if spec.isidentifier():
        return spec
    return 'tree'


def run(argv: Optional[List[str]] = None) -> List[str]:
    """Print the formulas, write the plots; returns the PNG paths."""
    args = parse_args(argv)
    quiet(args.verbose)
    from autoloss_zero.search import (describe, load_losses, plot_losses,
                                      plot_search_progress)
    losses = load_losses(args.loss)
    for line in describe(losses):
        print(line)
    paths = []
    if not args.no_plot:
        paths += plot_losses(losses, args.out_dir,
                             args.name or default_name(args.loss),
                             args.num_classes)
    if args.archive:
        paths.append(plot_search_progress(
            args.archive, osp.join(args.out_dir, 'progress.png'),
            args.metric, args.mode))
    for path in paths:
        print(f'wrote {path}')
    return paths


#: the console script: status 0, 2 for a user error (one line), 130/143
#: for a search stopped by a signal.
main = guarded_main(run)
