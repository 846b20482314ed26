"""Trees screened per minute by the loss-rejection protocol, old vs new.

Per branch of the demo segmentation capture (tiny DeepLabV3+ on generated
VOC data) and of the R-CNN / pose demo captures on generated COCO data
(B=5 samples, S=100 Adam steps, each config's etas), the same fixed random
trees are screened, in one process on one torch thread:

* old: the paper's loop one tree at a time
  (:func:`~autoloss_zero.search.screening.reference.screen_reference`);
* new, one at a time: ``LossRejection.screen_branch`` as the proposer calls
  it without a pool (static pre-filters, pre-tests);
* new, batch: ``screen_batch`` of ``--batch`` trees (lockstep);
* exact: ``screen_batch`` with ``search.rejection.exact=True``;
* pool: ``ScreeningPool`` of ``--workers`` processes (one torch thread
  each) on batches of ``--batch`` trees per worker, as the search screens
  with ``search.rejection.workers`` (the demo configs: 2, one per core).

Then the random phase of the Faster R-CNN demo search: trees of each branch
drawn in turn until one passes, the time to the first complete 4-branch
individual (new path measured, in one process and with the pool; old
path: the same draws at the old rate):

    python benchmarks/rejection_throughput.py [--trees 400] [--old 40]
        [--batch 64] [--workers 2] [--settings seg faster mask pose]
"""
import argparse
import dataclasses
import time

import numpy as np
import torch
from _captures import SETTINGS, add_capture_arguments, build, random_trees


def _rate(count, seconds):
    return count / max(seconds, 1e-9) * 60


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - start


def _batches(screen, items, size):
    return [s for at in range(0, len(items), size)
            for s in screen(items[at:at + size])]


def _branch_rows(rejection, pool, settings, branch, args):
    from autoloss_zero.search.screening.reference import screen_reference
    trees = random_trees(settings, branch, args.trees, seed=args.seed)
    old, t_old = _timed(lambda: [screen_reference(rejection, branch, t)
                                 for t in trees[:args.old]])
    one, t_one = _timed(lambda: [rejection.screen_branch(branch, t)
                                 for t in trees])
    items = [(branch, t) for t in trees]
    batch, t_batch = _timed(lambda: _batches(rejection.screen_batch, items,
                                             args.batch))
    pooled, t_pool = _timed(lambda: _batches(pool.screen, items,
                                             args.batch * args.workers))
    base = rejection.settings
    rejection.settings = dataclasses.replace(base, exact=True)
    exact, t_exact = _timed(lambda: rejection.screen_batch(items))
    rejection.settings = base
    assert [s.passed for s in one] == [s.passed for s in batch] == [
        s.passed for s in pooled]
    return dict(old=_rate(len(old), t_old), one=_rate(len(one), t_one),
                batch=_rate(len(batch), t_batch),
                pool=_rate(len(pooled), t_pool),
                exact=_rate(len(exact), t_exact),
                passed=sum(s.passed for s in one) / len(one),
                passed_exact=sum(s.passed for s in exact) / len(exact))


def _first_individual(screen, settings, seed, batch, limit):
    """Seconds and draws until every branch has a passing random tree,
    ``screen`` screening lists of (branch, tree)."""
    from autoloss_zero.graph import random_tree
    rng = np.random.default_rng(seed)
    draws, start = {}, time.perf_counter()
    for spec in settings.branches:
        space = spec.search_space(settings.space)
        draws[spec.name] = 0
        while draws[spec.name] < limit:
            trees = [random_tree(space, rng) for _ in range(batch)]
            found = [s.passed for s in screen([(spec.name, t)
                                               for t in trees])]
            if any(found):
                draws[spec.name] += found.index(True) + 1
                break
            draws[spec.name] += batch
    return time.perf_counter() - start, draws


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--trees', type=int, default=400)
    parser.add_argument('--old', type=int, default=40,
                        help='trees timed on the old path (it is slow)')
    parser.add_argument('--batch', type=int, default=64,
                        help='trees per lockstep batch (per pool worker)')
    parser.add_argument('--workers', type=int, default=2,
                        help='processes of the screening pool')
    add_capture_arguments(parser)
    parser.add_argument('--draw-limit', type=int, default=200000)
    args = parser.parse_args()
    from autoloss_zero.search.screening import ScreeningPool
    torch.set_num_threads(1)
    print(f'{args.trees} random trees per branch (old path: the first '
          f'{args.old}), one process, one torch thread')
    print(f'{"branch":9s} {"old/min":>8s} {"new/min":>8s} {"ratio":>6s} '
          f'{"batch/min":>9s} {"ratio":>6s} {"pool/min":>9s} {"ratio":>6s} '
          f'{"exact/min":>9s} {"pass":>6s} {"pass ex":>7s}')
    olds = {}
    for setting in args.settings:
        rejection, settings = build(setting)
        pool = ScreeningPool(rejection, args.workers)
        branch = SETTINGS[setting][1][0]  # warm up: workers started
        pool.screen([(branch, t) for t in random_trees(
            settings, branch, args.batch * args.workers, seed=args.seed + 1)])
        try:
            for branch in SETTINGS[setting][1]:
                r = _branch_rows(rejection, pool, settings, branch, args)
                olds[branch] = r['old']
                print(f'{branch:9s} {r["old"]:8.0f} {r["one"]:8.0f} '
                      f'{r["one"] / r["old"]:5.1f}x {r["batch"]:9.0f} '
                      f'{r["batch"] / r["old"]:5.1f}x {r["pool"]:9.0f} '
                      f'{r["pool"] / r["old"]:5.1f}x {r["exact"]:9.0f} '
                      f'{r["passed"]:6.2%} {r["passed_exact"]:7.2%}',
                      flush=True)
            if setting == 'faster':
                _print_first_individuals(rejection, pool, settings, olds,
                                         args)
        finally:
            pool.close()


def _print_first_individuals(rejection, pool, settings, olds, args):
    ways = [('one process, batches of 1', rejection.screen_batch, 1),
            (f'one process, batches of {args.batch}', rejection.screen_batch,
             args.batch),
            (f'pool of {args.workers}, batches of {args.batch} per worker',
             pool.screen, args.batch * args.workers)]
    for name, screen, batch in ways:
        seconds, draws = _first_individual(screen, settings, args.seed,
                                           batch, args.draw_limit)
        old = sum(n / olds[b] * 60 for b, n in draws.items())
        print(f'first 4-branch Faster R-CNN individual, new path ({name}): '
              f'{seconds:.1f} s, draws {draws}; old path at its rate: '
              f'~{old:.0f} s ({old / seconds:.0f}x)', flush=True)


if __name__ == '__main__':
    main()
