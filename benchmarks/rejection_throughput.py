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

A capture saved by ``tools/save_capture.py`` is screened on any device,
without mmcv, mmseg or mmdet (no pool: one process on that device):

    python benchmarks/rejection_throughput.py --capture faster.pt \
        --device cuda [--trees 4000 --batch 256]
"""
import argparse
import dataclasses
import time

import numpy as np
import torch
from _captures import SETTINGS, add_capture_arguments, first_passing

#: The branches of the Faster R-CNN search (its first individual is timed).
FASTER = {'rpn_cls', 'rpn_reg', 'rcnn_cls', 'rcnn_reg'}


def _rate(count, seconds):
    return count / max(seconds, 1e-9) * 60


def _timed(fn):
    start = time.perf_counter()
    out = fn()
    if torch.cuda.is_available():
        torch.cuda.synchronize()
    return out, time.perf_counter() - start


def _batches(screen, items, size):
    return [s for at in range(0, len(items), size)
            for s in screen(items[at:at + size])]


def _trees(space, count, seed):
    """``count`` random trees of ``space`` (its initial depth)."""
    from autoloss_zero.graph import random_tree
    rng = np.random.default_rng(seed)
    return [random_tree(space, rng) for _ in range(count)]


def _setups(args):
    """(rejection, {branch: space}, branches to time) per capture."""
    if args.capture:
        from autoloss_zero.search.screening import (capture_spaces,
                                                    load_capture)
        rejection = load_capture(args.capture, args.device)
        yield rejection, capture_spaces(args.capture), list(
            rejection.captured)
        return
    from _captures import build
    for setting in args.settings:
        rejection, settings = build(setting)
        spaces = {b.name: b.search_space(settings.space)
                  for b in settings.branches}
        yield rejection, spaces, list(SETTINGS[setting][1])


def _branch_rows(rejection, pool, space, branch, args):
    from autoloss_zero.search.screening.reference import screen_reference
    trees = _trees(space, args.trees, args.seed)
    old, t_old = _timed(lambda: [screen_reference(rejection, branch, t)
                                 for t in trees[:args.old]])
    one, t_one = _timed(lambda: [rejection.screen_branch(branch, t)
                                 for t in trees])
    items = [(branch, t) for t in trees]
    batch, t_batch = _timed(lambda: _batches(rejection.screen_batch, items,
                                             args.batch))
    pooled, t_pool = batch, None
    if pool is not None:
        pooled, t_pool = _timed(lambda: _batches(
            pool.screen, items, args.batch * args.workers))
    base = rejection.settings
    rejection.settings = dataclasses.replace(base, exact=True)
    exact_items = items[:max(args.old, args.trees // 4)]  # slow: all steps
    exact, t_exact = _timed(lambda: _batches(rejection.screen_batch,
                                             exact_items, args.batch))
    rejection.settings = base
    assert [s.passed for s in one] == [s.passed for s in batch] == [
        s.passed for s in pooled]
    return dict(old=_rate(len(old), t_old), one=_rate(len(one), t_one),
                batch=_rate(len(batch), t_batch),
                pool=t_pool and _rate(len(pooled), t_pool),
                exact=_rate(len(exact), t_exact),
                passed=sum(s.passed for s in one) / len(one),
                passed_exact=sum(s.passed for s in exact) / len(exact))


def _first_individual(screen, spaces, seed, batch, limit):
    """Seconds and draws until every branch has a passing random tree,
    ``screen`` screening lists of (branch, tree)."""
    rng = np.random.default_rng(seed)
    draws, start = {}, time.perf_counter()
    for name, space in spaces.items():
        _, draws[name] = first_passing(screen, name, space, rng, batch, limit)
    return time.perf_counter() - start, draws


def _print_first_individuals(rejection, pool, spaces, olds, args):
    ways = [('one process, batches of 1', rejection.screen_batch, 1),
            (f'one process, batches of {args.batch}', rejection.screen_batch,
             args.batch)]
    if pool is not None:
        ways.append((f'pool of {args.workers}, batches of {args.batch} per '
                     f'worker', pool.screen, args.batch * args.workers))
    for name, screen, batch in ways:
        seconds, draws = _first_individual(screen, spaces, args.seed, batch,
                                           args.draw_limit)
        old = sum(n / olds[b] * 60 for b, n in draws.items())
        print(f'first 4-branch Faster R-CNN individual, new path ({name}): '
              f'{seconds:.1f} s, draws {draws}; old path at its rate: '
              f'~{old:.0f} s ({old / seconds:.0f}x)', flush=True)


def _pool(rejection, spaces, branch, args):
    """A started screening pool (CPU captures only), or None."""
    from autoloss_zero.search.screening import ScreeningPool
    if args.device != 'cpu' or args.workers < 2:
        return None
    pool = ScreeningPool(rejection, args.workers)
    pool.screen([(branch, t) for t in _trees(  # warm-up: workers started
        spaces[branch], args.batch * args.workers, args.seed + 1)])
    return pool


def _cell(rate, old):
    return (f'{rate:9.0f} {rate / old:5.1f}x' if rate is not None else
            f'{"-":>9s} {"":6s}')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--trees', type=int, default=400)
    parser.add_argument('--old', type=int, default=40,
                        help='trees timed on the old path (it is slow)')
    parser.add_argument('--batch', type=int, default=64,
                        help='trees per lockstep batch (per pool worker)')
    parser.add_argument('--workers', type=int, default=2,
                        help='processes of the screening pool (CPU)')
    add_capture_arguments(parser)
    parser.add_argument('--capture', default=None,
                        help='a capture saved by tools/save_capture.py, '
                        'instead of --settings')
    parser.add_argument('--device', default='cpu',
                        help='device of the capture (with --capture)')
    parser.add_argument('--draw-limit', type=int, default=200000)
    args = parser.parse_args()
    torch.set_num_threads(1)
    print(f'{args.trees} random trees per branch (old path: the first '
          f'{args.old}), on {args.device}, one torch thread per process')
    print(f'{"branch":9s} {"old/min":>8s} {"new/min":>9s} {"ratio":>6s} '
          f'{"batch/min":>9s} {"ratio":>6s} {"pool/min":>9s} {"ratio":>6s} '
          f'{"exact/min":>9s} {"pass":>6s} {"pass ex":>7s}')
    olds = {}
    for rejection, spaces, branches in _setups(args):
        pool = _pool(rejection, spaces, branches[0], args)
        try:
            for branch in branches:
                r = _branch_rows(rejection, pool, spaces[branch], branch,
                                 args)
                olds[branch] = r['old']
                old = r['old']
                print(f'{branch:9s} {old:8.0f} {_cell(r["one"], old)} '
                      f'{_cell(r["batch"], old)} '
                      f'{_cell(r["pool"], old)} {r["exact"]:9.0f} '
                      f'{r["passed"]:6.2%} {r["passed_exact"]:7.2%}',
                      flush=True)
            if set(spaces) == FASTER:
                _print_first_individuals(rejection, pool, spaces, olds, args)
        finally:
            if pool is not None:
                pool.close()


if __name__ == '__main__':
    main()
