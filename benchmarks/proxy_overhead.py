"""Overhead of a proxy evaluation over the bare training + evaluation loop.

One ``ProxyTrainer.train`` (reset of weights, optimizer, schedulers and
seeds, tree swap, training, validation) against the same iterations run as a
bare ``model.train_step`` loop plus ``val_loop.run()`` in the same process:

    python benchmarks/proxy_overhead.py [--iters 100] [--repeats 3]
"""
import argparse
import time

from _common import demo_config, work_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--iters', type=int, default=100)
    parser.add_argument('--repeats', type=int, default=3)
    args = parser.parse_args()

    from autoloss_zero.search import Individual, ProxyTrainer, SearchSettings
    cfg = demo_config(**{'search.proxy.max_iters': args.iters})
    settings = SearchSettings.from_config(cfg)
    trainer = ProxyTrainer(cfg, settings, work_dir())
    ce = Individual({'seg': 'neg(mul(y,log(yhat)))'})
    trainer.train(ce)  # warm-up

    def bare():
        batches = trainer.batches()
        trainer.model.train()
        for _ in range(args.iters):
            trainer.model.train_step(next(batches),
                                     trainer.runner.optim_wrapper)
            for sched in trainer.runner.param_schedulers:
                sched.step()
        trainer.runner.val_loop.run()

    proxy_t, bare_t = [], []
    for _ in range(args.repeats):
        start = time.perf_counter()
        trainer.train(ce)
        proxy_t.append(time.perf_counter() - start)
        start = time.perf_counter()
        bare()
        bare_t.append(time.perf_counter() - start)
    proxy, base = min(proxy_t), min(bare_t)
    print(f'{args.iters} iterations + validation, best of {args.repeats}')
    print(f'bare loop        {base:7.3f} s')
    print(f'proxy evaluation {proxy:7.3f} s')
    print(f'ratio            {proxy / base:7.3f}  (target <= 1.15)')


if __name__ == '__main__':
    main()
