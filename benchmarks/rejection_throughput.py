"""Candidates screened per minute by the loss-rejection protocol.

The demo segmentation setting (tiny DeepLabV3+ on generated VOC data, B=5
captured samples at 64x64, decode + auxiliary head, S=100 Adam steps,
eta=0.6). The same stream of random candidates is screened in-process with
2 and 1 torch threads and by a pool of 2 worker processes, in one run:

    python benchmarks/rejection_throughput.py [--candidates 200]
"""
import argparse
import time

import torch
from _common import demo_config, work_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--candidates', type=int, default=200)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()

    from autoloss_zero.search import (AgingEvolution, LossRejection,
                                      ProxyTrainer, SearchSettings)
    from autoloss_zero.search.screening import ScreeningPool
    cfg = demo_config()
    settings = SearchSettings.from_config(cfg)
    trainer = ProxyTrainer(cfg, settings, work_dir())
    rejection = LossRejection(trainer.capture(settings.rejection.samples),
                              settings.rejection, metric='mIoU')
    spaces = {b.name: b.search_space(settings.space)
              for b in settings.branches}
    searcher = AgingEvolution(spaces, settings.evolution, seed=0)
    stream = [searcher.random_individual() for _ in range(args.candidates)]

    rows = []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        passed = sum(rejection.screen(c).passed for c in stream)
        rows.append((f'in-process, {threads} torch thread(s)',
                     time.perf_counter() - start, passed))
    pool = ScreeningPool(rejection, args.workers)
    pool.screen(stream[:args.workers])  # workers started and warm
    start = time.perf_counter()
    passed = sum(s.passed for s in pool.screen(stream))
    rows.append((f'pool of {args.workers} processes, 1 thread each',
                 time.perf_counter() - start, passed))
    pool.close()

    base = rows[0][1]
    print(f'{len(stream)} random candidates (depth-3 trees), demo seg '
          f'setting; paper: 500-1000/min on one GPU')
    print(f'{"setting":42s} {"cand/min":>9s} {"passed":>7s} {"speed-up":>9s}')
    for name, seconds, passed in rows:
        print(f'{name:42s} {len(stream) / seconds * 60:9.0f} {passed:7d} '
              f'{base / seconds:8.2f}x')


if __name__ == '__main__':
    main()
