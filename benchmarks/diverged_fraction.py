"""How many screened candidates diverge in training, with and without the
stability pre-test (not a test).

Per demo search (seg, Faster R-CNN, Mask R-CNN, pose on the generated data),
``--individuals`` random individuals are drawn as the search's random phase
draws them (each branch: random trees until one passes the default
screening without the stability pre-test), each is checked by the
stability pre-test (:mod:`autoloss_zero.search.screening.stability`) and
each is trained by the demo's proxy. Printed per setting: the diverged
fraction of all of them (before: what the search trained), of those the
pre-test keeps (after), and the pre-test's false-reject cost (the share of
the candidates that trained without diverging which it rejects):

    python benchmarks/diverged_fraction.py [--individuals 8]
        [--settings seg faster mask pose] [--iters N]

``--iters`` trains that many iterations instead of the proxy's (a divergence
later than that is then not seen: the figures say "within N iterations").
"""
import argparse
import time

import numpy as np
import torch
from _captures import SETTINGS, build_with_trainer, first_passing


def draw(rejection, settings, rng, batch=64):
    """One individual of trees that pass the screening, drawn branch by
    branch (as the random phase draws them)."""
    from autoloss_zero.search.loop.individual import Individual
    trees = {}
    for spec in settings.branches:
        trees[spec.name], _ = first_passing(
            rejection.screen_batch, spec.name,
            spec.search_space(settings.space), rng, batch, float('inf'))
    return Individual(trees)


def unstable(rejection, individual):
    """The stability pre-test's reason for the first failing branch, or
    None."""
    from autoloss_zero.search.screening.stability import unstable_reason
    for branch, tree in individual.items():
        reason = unstable_reason(rejection.captured[branch], tree)
        if reason:
            return f'{branch}: {reason}'
    return None


def measure(setting, args):
    rejection, settings, trainer = build_with_trainer(
        setting, every_branch=True, stability=False)
    rng = np.random.default_rng(args.seed)
    rows = []
    for k in range(args.individuals):
        individual = draw(rejection, settings, rng)
        reason = unstable(rejection, individual)
        start = time.perf_counter()
        result = trainer.train(individual, args.iters)
        rows.append((result.status == 'diverged', reason is not None))
        print(f'  {k}: {result.status:8s} score {result.score!s:8.8s} '
              f'{time.perf_counter() - start:5.1f} s; pre-test: '
              f'{reason or "kept"}; {result.reason or ""}', flush=True)
        print(f'     {individual.key}', flush=True)
    return rows


def _share(part, whole):
    return f'{part}/{whole}' + (f' ({part / whole:.0%})' if whole else '')


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--individuals', type=int, default=8)
    parser.add_argument('--settings', nargs='+', default=list(SETTINGS),
                        choices=list(SETTINGS))
    parser.add_argument('--iters', type=int, default=None,
                        help='training iterations (default: the proxy\'s)')
    parser.add_argument('--seed', type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    summary = []
    for setting in args.settings:
        print(f'{setting}:', flush=True)
        rows = measure(setting, args)
        diverged = sum(d for d, _ in rows)
        kept = [d for d, r in rows if not r]
        healthy = [r for d, r in rows if not d]
        summary.append((setting, _share(diverged, len(rows)),
                        _share(sum(kept), len(kept)),
                        _share(sum(healthy), len(healthy))))
    within = f'within {args.iters} iterations' if args.iters else 'in training'
    print(f'\ndiverged {within}; false rejects: candidates that trained '
          f'without diverging and that the pre-test rejects')
    print(f'{"setting":8s} {"before":>12s} {"after":>12s} '
          f'{"false rejects":>14s}')
    for setting, before, after, false in summary:
        print(f'{setting:8s} {before:>12s} {after:>12s} {false:>14s}')


if __name__ == '__main__':
    main()
