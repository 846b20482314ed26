"""How often a search's verdict says "better", per setting (not a test).

K independent searches (``search.seed`` = 0 .. K-1) of the demo config at a
fixed budget (full-length proxy trainings), each ending with the multi-seed
verdict of its top-1 (``search.verdict.top_k=1``: only the top-1 is
reported), for every setting: single rung or multi-fidelity promotion
(``search.fidelity``, rungs 1/4 and full length, reduction 4), each from
scratch or warm-started with the cross-entropy tree
(``search.seed_trees``). Prints, per setting, how many top-1 verdicts were
"better" (and "worse"), the mean paired difference of the top-1 to the
baseline over the verdict's seeds, candidates trained and the CPU time:

    python benchmarks/search_quality.py [--searches 3] [--budget 20]
        [--settings 0 1 2 3]
"""
import argparse
import resource
import statistics
import tempfile
from pathlib import Path

from _common import demo_config

CE = 'neg(mul(y,log(yhat)))'
ASHA = dict(rungs=(0.25, 1.0), reduction=4)
SETTINGS = {
    'single rung, scratch': {},
    'single rung, warm start': {'search.seed_trees': dict(seg=[CE])},
    'multi-fidelity, scratch': {'search.fidelity': ASHA},
    'multi-fidelity, warm start': {'search.fidelity': ASHA,
                                   'search.seed_trees': dict(seg=[CE])},
}


def one_search(seed: int, budget: int, options: dict, work_dir: Path):
    """(the top-1 verdict of one search or None, candidates trained)."""
    from autoloss_zero.search import LossSearch
    from autoloss_zero.search.reporting.summary import ranked
    from autoloss_zero.search.verdict import load_verdicts
    cfg = demo_config(**{'search.seed': seed,
                         'search.budget.evaluations': budget,
                         'search.verdict.top_k': 1, **options})
    search = LossSearch(cfg, work_dir, observers=[])
    search.run()
    verdicts = load_verdicts(search.archive)
    best = ranked(search.archive, search.settings, verdicts)
    verdict = verdicts.get(best[0]['id']) if best else None
    return verdict, search.archive.num_trained()


def cpu_seconds() -> float:
    """User + system CPU of this process and its finished children (the
    screening pool's workers end with each search)."""
    return sum(r.ru_utime + r.ru_stime for r in (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN)))


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--searches', type=int, default=3)
    parser.add_argument('--budget', type=int, default=20)
    parser.add_argument('--settings', type=int, nargs='+',
                        default=list(range(len(SETTINGS))),
                        choices=range(len(SETTINGS)),
                        help='which settings, by index: ' + ', '.join(
                            f'{i} {n}' for i, n in enumerate(SETTINGS)))
    args = parser.parse_args()
    names = list(SETTINGS)
    print(f'{args.searches} searches per setting, budget {args.budget} '
          f'full-length trainings, top-1 verdict on 3 seeds', flush=True)
    with tempfile.TemporaryDirectory(prefix='search_quality_') as tmp:
        for index in args.settings:
            name = names[index]
            start = cpu_seconds()
            runs = [one_search(seed, args.budget, SETTINGS[name],
                               Path(tmp) / f'{index}_{seed}')
                    for seed in range(args.searches)]
            cpu = cpu_seconds() - start
            judged = [v for v, _ in runs if v is not None]
            counts = {w: sum(v.verdict == w for v in judged)
                      for w in ('better', 'worse')}
            diff = statistics.mean(v.diff_mean for v in judged) \
                if judged else float('nan')
            per_seed = ', '.join(f'{v.diff_mean:+.2f}' for v in judged)
            trained = sum(n for _, n in runs)
            print(f'{name:27s} better {counts["better"]}/{len(runs)}, worse '
                  f'{counts["worse"]}/{len(runs)}; mean paired difference '
                  f'of the top-1 {diff:+.2f} ({per_seed}); {trained} '
                  f'candidates trained; CPU {cpu / 60:.1f} min', flush=True)


if __name__ == '__main__':
    main()
