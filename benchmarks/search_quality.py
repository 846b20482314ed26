"""How often a search's verdict says "better", per setting (not a test).

K independent searches (``search.seed`` = 0 .. K-1) of the demo config at a
fixed budget, each ending with its multi-seed verdict, for every setting:
from scratch, and warm-started with the cross-entropy tree
(``search.seed_trees``). Prints, per setting, how many top-1 verdicts were
"better", the mean paired difference of the top-1 to the baseline over
the verdict's seeds, and the CPU time:

    python benchmarks/search_quality.py [--searches 3] [--budget 20]
"""
import argparse
import resource
import statistics
import tempfile
from pathlib import Path

from _common import demo_config

CE = 'neg(mul(y,log(yhat)))'
SETTINGS = {
    'from scratch': {},
    'warm start (CE tree)': {'search.seed_trees': dict(seg=[CE])},
}


def one_search(seed: int, budget: int, options: dict, work_dir: Path):
    """The top-1 verdict of one search (None if it has none)."""
    from autoloss_zero.search import LossSearch
    from autoloss_zero.search.reporting.summary import ranked
    from autoloss_zero.search.verdict import load_verdicts
    cfg = demo_config(**{'search.seed': seed,
                         'search.budget.evaluations': budget, **options})
    search = LossSearch(cfg, work_dir, observers=[])
    search.run()
    verdicts = load_verdicts(search.archive)
    best = ranked(search.archive, search.settings, verdicts)
    return verdicts.get(best[0]['id']) if best else None


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
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix='search_quality_') as tmp:
        for name, options in SETTINGS.items():
            start = cpu_seconds()
            verdicts = [one_search(seed, args.budget, options,
                                   Path(tmp) / f'{len(name)}_{seed}')
                        for seed in range(args.searches)]
            cpu = cpu_seconds() - start
            judged = [v for v in verdicts if v is not None]
            better = sum(v.verdict == 'better' for v in judged)
            diff = statistics.mean(v.diff_mean for v in judged) \
                if judged else float('nan')
            print(f'{name:24s} better {better}/{len(verdicts)}, mean paired '
                  f'difference of the top-1 {diff:+.2f}, CPU {cpu / 60:.1f} '
                  f'min ({args.budget} trainings per search)')


if __name__ == '__main__':
    main()
