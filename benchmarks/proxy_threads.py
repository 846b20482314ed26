"""One demo proxy training per torch thread count: time and score.

The CE tree on the demo config (200 iterations + validation), trained on
``search.proxy.threads`` = 1 and 2, each twice, in one run; the score
differs between thread counts, which is why a search trains everything on
one count:

    python benchmarks/proxy_threads.py [--repeats 2]
"""
import argparse
import dataclasses
import time

from _common import demo_config, work_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--repeats', type=int, default=2)
    args = parser.parse_args()
    from autoloss_zero.search import Individual, ProxyTrainer, SearchSettings
    cfg = demo_config()
    settings = SearchSettings.from_config(cfg)
    ce = Individual({'seg': 'neg(mul(y,log(yhat)))'})
    for _ in range(args.repeats):
        for threads in (1, 2):
            proxy = dataclasses.replace(settings.proxy, threads=threads)
            trainer = ProxyTrainer(
                cfg, dataclasses.replace(settings, proxy=proxy), work_dir())
            start = time.time()
            result = trainer.train(ce)
            print(f'{threads} thread(s): {time.time() - start:5.1f} s for '
                  f'{proxy.max_iters} iterations + validation, '
                  f'{settings.target.metric} {result.score:.2f}')


if __name__ == '__main__':
    main()
