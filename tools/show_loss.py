"""Show a loss: simplified formula, LaTeX, and plots of the loss and its
gradient against the predicted probability (PNG, GLO-style y=0/y=1 curves).

    python tools/show_loss.py 'neg(mul(y,log(yhat)))'
    python tools/show_loss.py work_dirs/voc_miou/best/top1.py --out-dir vis/
    python tools/show_loss.py BaikalLoss --num-classes 21
    python tools/show_loss.py work_dirs/voc_miou/best/top1.py --archive work_dirs/voc_miou/search.sqlite
"""
import argparse
import os.path as osp
import sys

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))
import autoloss_zero  # noqa: E402,F401  (registers the baseline losses)
from autoloss_zero.search.plots import (describe, load_losses,  # noqa: E402
                                        plot_losses, plot_search_progress)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
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
    if spec.endswith('.py'):
        return osp.splitext(osp.basename(spec))[0]
    if spec.isidentifier():
        return spec
    return 'tree'


def main(argv=None):
    args = parse_args(argv)
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


if __name__ == '__main__':
    main()
