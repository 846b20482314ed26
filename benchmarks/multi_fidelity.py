"""Multi-fidelity promotion against the single-rung search (not a test).

Two searches of the demo config in this one process, on one torch thread
and one screening process, at the same budget (``search.budget.evaluations``
in full-length trainings): the single-rung search, and ASHA with
``search.fidelity`` = ``--rungs`` / ``--reduction``. Prints, for each, the
candidates trained per CPU-hour (user + system CPU of the whole search:
set-up, baseline, screening, trainings, report) and their ratio. Then the
rank agreement of the short rung with full-length training: for the
multi-fidelity search's candidates trained on rung 0 (those it trained at
full length, then the others in the order they were proposed, up to
``--pairs``; the others are trained at full length here, on the search's
seed, which gives exactly the score the search would have got), Spearman's
rank correlation of the rung-0 scores with the full-length ones, and how
many of the top 3 by rung-0 score are in the top 3 at full length:

    python benchmarks/multi_fidelity.py [--budget 12] [--rungs 0.25 1.0]
        [--reduction 4] [--pairs 10]
    python benchmarks/multi_fidelity.py --quick   # 40-iteration proxy
"""
import argparse
import json
import logging
import resource
import tempfile
import time
from pathlib import Path

from _common import demo_config


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children."""
    return sum(r.ru_utime + r.ru_stime for r in (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN)))


def one_search(args, work_dir: Path, fidelity=None):
    """Run one search; returns (search, CPU seconds, wall seconds)."""
    from autoloss_zero.search import LossSearch
    options = {'search.budget.evaluations': args.budget,
               'search.verdict.seeds': 0, 'search.rejection.workers': 1,
               'search.proxy.threads': 1}
    if args.iters:
        options['search.proxy.max_iters'] = args.iters
    if fidelity:
        options['search.fidelity'] = fidelity
    cfg = demo_config(**options)
    cpu, wall = cpu_seconds(), time.time()
    search = LossSearch(cfg, work_dir, observers=[])
    for handler in search.logger.handlers:  # the log file keeps every line
        if type(handler) is logging.StreamHandler:
            handler.setLevel(logging.WARNING)
    search.run()
    return search, cfg, cpu_seconds() - cpu, time.time() - wall


def rank_pairs(search, cfg, args, work_dir: Path):
    """(rung-0 score, full-length score) of up to ``args.pairs`` candidates
    of a multi-fidelity search; returns the pairs and the retrainings."""
    from autoloss_zero.search import Individual, ProxyTrainer
    archive, top = search.archive, search.ladder.top
    rows = archive.rung_rows('trained')
    short = {r['candidate']: r['score'] for r in rows if r['rung'] == 0}
    full = {r['candidate']: r['score'] for r in rows if r['rung'] == top}
    chosen = [c for c in short if c in full]
    chosen += [c for c in short if c not in full][:max(
        0, args.pairs - len(chosen))]
    trainer, retrained = None, 0
    for cand in chosen:
        if cand in full:
            continue
        if trainer is None:
            trainer = ProxyTrainer(cfg, search.settings, work_dir)
        result = trainer.train(Individual.from_json(
            archive.get(cand)['trees']))
        retrained += 1
        if result.status == 'trained':
            full[cand] = result.score
    return [(short[c], full[c]) for c in chosen if c in full], retrained


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--budget', type=int,
                        help='full-length trainings per search (default 12;'
                        ' quick: 4)')
    parser.add_argument('--rungs', type=float, nargs='+',
                        default=[0.25, 1.0])
    parser.add_argument('--reduction', type=int, default=4)
    parser.add_argument('--pairs', type=int,
                        help='candidates of the rank correlation (default '
                        '10; quick: 5)')
    parser.add_argument('--iters', type=int,
                        help='proxy iterations (default: the config\'s 200;'
                        ' quick: 40)')
    parser.add_argument('--quick', action='store_true')
    args = parser.parse_args()
    args.budget = args.budget or (4 if args.quick else 12)
    args.pairs = args.pairs or (5 if args.quick else 10)
    args.iters = args.iters or (40 if args.quick else None)
    import torch
    torch.set_num_threads(1)
    from scipy.stats import spearmanr
    fidelity = dict(rungs=tuple(args.rungs), reduction=args.reduction)
    rates = {}
    with tempfile.TemporaryDirectory(prefix='multi_fidelity_') as tmp:
        for name, setting in (('single rung', None),
                              (f'rungs {args.rungs} / {args.reduction}',
                               fidelity)):
            search, cfg, cpu, wall = one_search(args, Path(tmp) / str(
                len(rates)), setting)
            archive = search.archive
            trained = archive.num_trained()
            rates[name] = trained / cpu * 3600
            best = archive.best(1, search.settings.target.mode)
            top = f'{best[0]["score"]:.2f}' if best else 'n/a'
            full = archive.rung_iterations() / search.settings.proxy.max_iters
            extra = '' if setting is None else (
                f', {len(archive.rung_rows())} rung trainings = {full:.2f} '
                f'full-length')
            print(f'{name:24s} {trained} candidates trained{extra}, '
                  f'{archive.counts()["equivalent"]} equivalent; CPU '
                  f'{cpu / 60:.1f} min, wall {wall / 60:.1f} min: '
                  f'{rates[name]:.0f} candidates per CPU-hour; top-1 '
                  f'{search.settings.target.metric} {top} (one run)')
        pairs, retrained = rank_pairs(search, cfg, args, Path(tmp) / 'full')
    single, multi = rates.values()
    print(f'candidates per CPU-hour, multi-fidelity / single rung: '
          f'{multi / single:.2f}x (budget {args.budget} full-length '
          f'trainings each)')
    if len(pairs) < 3:
        print(f'rank agreement: {len(pairs)} pairs, too few')
        return
    rho, p = spearmanr([a for a, _ in pairs], [b for _, b in pairs])
    sign = -1 if search.settings.target.mode == 'max' else 1
    top_short, top_full = (
        set(sorted(range(len(pairs)), key=lambda i: sign * pairs[i][j])[:3])
        for j in (0, 1))
    print(f'rank agreement of rung 0 with full length, {len(pairs)} '
          f'candidates ({retrained} retrained here): Spearman rho {rho:.2f} '
          f'(p {p:.2g}); top 3 by rung 0 in the top 3 at full length: '
          f'{len(top_short & top_full)}/3')
    print('pairs (rung 0, full):', json.dumps(
        [[round(a, 2), round(b, 2)] for a, b in pairs]))


if __name__ == '__main__':
    main()
