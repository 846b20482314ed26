"""Forward+backward time of loss trees against ``F.cross_entropy``.

Everything is measured in one run on the same tensor (logits of shape
(N, C, H, W), default (8, 21, 128, 128), labels with ~5% ignored pixels) and
reported as a ratio to ``F.cross_entropy(logits, label, ignore_index=255)``:

* the CE tree ``neg(mul(y,log(yhat)))`` on softmax/one-hot leaves,
* random trees of the paper's initialisation (full, depth 3),
* random trees of the maximum size (``max_nodes`` = 31 nodes).

Each time is the median over ``--repeats`` runs after ``--warmup`` runs.

    python benchmarks/graph_eval.py            # full size
    python benchmarks/graph_eval.py --quick    # seconds, small tensor
"""
import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

from autoloss_zero.graph import (SearchSpace, Tree, evaluate, random_tree,
                                 reduce_loss)
from autoloss_zero.graph.generate import random_tree_of_size

IGNORE = 255


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--size', type=int, nargs=4, default=[8, 21, 128, 128],
                        metavar=('N', 'C', 'H', 'W'))
    parser.add_argument('--repeats', type=int, default=10)
    parser.add_argument('--warmup', type=int, default=2)
    parser.add_argument('--trees', type=int, default=10,
                        help='random trees per kind')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument('--threads', type=int, default=None,
                        help='torch intra-op threads (default: torch)')
    parser.add_argument('--quick', action='store_true',
                        help='size 2 21 32 32, 5 repeats, 4 trees per kind, '
                        '1 thread unless --threads is given')
    args = parser.parse_args()
    if args.quick:
        args.size, args.repeats, args.warmup, args.trees = [2, 21, 32, 32], \
            5, 1, 4
        args.threads = args.threads or 1
    return args


def timed(fn, repeats, warmup):
    """Median seconds of ``fn()`` over ``repeats`` runs."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main():
    args = parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    generator = torch.Generator().manual_seed(args.seed)
    n, c, h, w = args.size
    logits = torch.randn(n, c, h, w, generator=generator, requires_grad=True)
    label = torch.randint(0, c, (n, h, w), generator=generator)
    label[torch.rand(n, h, w, generator=generator) < 0.05] = IGNORE
    valid = label != IGNORE
    y = F.one_hot(torch.where(valid, label, 0), c).permute(0, 3, 1,
                                                           2).float()

    def reference():
        F.cross_entropy(logits, label, ignore_index=IGNORE).backward()
        logits.grad = None

    def tree_loss(tree):

        def run():
            yhat = logits.softmax(dim=1)
            value = evaluate(tree, {'yhat': yhat, 'y': y})
            loss = reduce_loss(value, valid)
            if loss.requires_grad:  # trees without yhat have no gradient
                loss.backward()
            logits.grad = None

        return run

    base = timed(reference, args.repeats, args.warmup)
    print(f'canvas {tuple(args.size)}, {torch.get_num_threads()} thread(s), '
          f'median of {args.repeats} fwd+bwd runs')
    print(f'{"loss":<40} {"ms":>9} {"x F.cross_entropy":>18}')
    print(f'{"F.cross_entropy":<40} {base * 1e3:9.2f} {1.0:18.2f}')
    ce = Tree.parse('neg(mul(y,log(yhat)))')
    t = timed(tree_loss(ce), args.repeats, args.warmup)
    print(f'{str(ce):<40} {t * 1e3:9.2f} {t / base:18.2f}')

    space = SearchSpace()
    rng = np.random.default_rng(args.seed)
    kinds = {
        'random init (depth 3)': lambda: random_tree(space, rng),
        f'max size ({space.max_nodes} nodes)':
        lambda: random_tree_of_size(space, rng),
    }
    for kind, draw in kinds.items():
        ratios, sizes = [], []
        for _ in range(args.trees):
            tree = draw()
            sizes.append(len(tree))
            ratios.append(
                timed(tree_loss(tree), args.repeats, args.warmup) / base)
        print(f'{kind + f" x{args.trees}, {np.mean(sizes):.1f} nodes":<40} '
              f'{statistics.median(ratios) * base * 1e3:9.2f} '
              f'{statistics.median(ratios):18.2f}  (median; max '
              f'{max(ratios):.2f})')


if __name__ == '__main__':
    main()
