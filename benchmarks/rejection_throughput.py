"""Candidates screened per minute by the loss-rejection protocol.

The demo segmentation setting (tiny DeepLabV3+ on generated VOC data, B=5
captured samples at 64x64, S=100 Adam steps, eta=0.6). The same stream of
random trees is screened, in one run: on the decode head (the default,
``search.rejection.heads='primary'``) in-process with 2 and 1 torch threads
and by a pool of 2 worker processes; then on decode + auxiliary head
(``heads='all'``) by the pool:

    python benchmarks/rejection_throughput.py [--candidates 200]
"""
import argparse
import dataclasses
import time

import numpy as np
import torch
from _common import demo_config, work_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--candidates', type=int, default=200)
    parser.add_argument('--workers', type=int, default=2)
    args = parser.parse_args()

    from autoloss_zero.graph import random_tree
    from autoloss_zero.search import (LossRejection, ProxyTrainer,
                                      SearchSettings)
    from autoloss_zero.search.screening import ScreeningPool
    cfg = demo_config()
    settings = SearchSettings.from_config(cfg)
    trainer = ProxyTrainer(cfg, settings, work_dir())
    rejections = {}
    for heads in ('primary', 'all'):
        trainer.settings = dataclasses.replace(
            settings, rejection=dataclasses.replace(settings.rejection,
                                                    heads=heads))
        rejections[heads] = LossRejection(
            trainer.capture(settings.rejection.samples), settings.rejection,
            metric='mIoU')
    branch = settings.branches[0]
    space, rng = branch.search_space(settings.space), np.random.default_rng(0)
    items = [(branch.name, random_tree(space, rng))
             for _ in range(args.candidates)]

    rows = []
    for threads in (2, 1):
        torch.set_num_threads(threads)
        start = time.perf_counter()
        passed = sum(rejections['primary'].screen_branch(*item).passed
                     for item in items)
        rows.append((f'decode head, in-process, {threads} thread(s)',
                     time.perf_counter() - start, passed))
    for heads in ('primary', 'all'):
        pool = ScreeningPool(rejections[heads], args.workers)
        pool.screen(items[:args.workers])  # workers started and warm
        start = time.perf_counter()
        passed = sum(s.passed for s in pool.screen(items))
        name = 'decode head' if heads == 'primary' else 'decode + aux head'
        rows.append((f'{name}, pool of {args.workers} processes',
                     time.perf_counter() - start, passed))
        pool.close()

    base = rows[0][1]
    print(f'{len(items)} random trees (depth 3), demo seg setting; paper: '
          f'500-1000/min on one GPU')
    print(f'{"setting":42s} {"cand/min":>9s} {"passed":>7s} {"speed-up":>9s}')
    for name, seconds, passed in rows:
        print(f'{name:42s} {len(items) / seconds * 60:9.0f} {passed:7d} '
              f'{base / seconds:8.2f}x')


if __name__ == '__main__':
    main()
