"""Search throughput by executor: candidates generated and evaluated a minute.

The same demo search (``configs/demo/voc_miou.py``: same data, seed, budget
and proxy length) runs once per executor in this one process: ``local``
(in the driver), ``process`` with 1 and 2 warm workers and ``ray`` with 2
actors on a local Ray instance. Each search is timed in two parts: set-up
(:meth:`LossSearch.prepare`: proxy build, capture, baseline training,
executor start) and the search loop (:meth:`LossSearch.run`, including the
workers' warm-up and the final report). Rates are over the loop; the table
gives them as ratios to ``local``. Rejection screening runs in the driver
whatever the executor, so only proxy trainings are spread over workers.

    python benchmarks/search_throughput.py            # data/demo_voc
    python benchmarks/search_throughput.py --quick    # tiny generated data
"""
import argparse
import logging
import os
import os.path as osp
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, osp.dirname(osp.dirname(osp.abspath(__file__))))

EXECUTORS = {
    'local': dict(type='local'),
    'process x1': dict(type='process', num_workers=1),
    'process x2': dict(type='process', num_workers=2),
    'ray x2': dict(type='ray', num_workers=2, num_cpus=1),
}


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/demo/voc_miou.py')
    parser.add_argument('--budget', type=int,
                        help='evaluations per search (default 8; quick: 4)')
    parser.add_argument('--iters', type=int,
                        help='proxy training iterations (default 50; quick: '
                        '10)')
    parser.add_argument('--executors', nargs='+', default=list(EXECUTORS),
                        choices=list(EXECUTORS), metavar='NAME',
                        help=f'subset of {list(EXECUTORS)}')
    parser.add_argument('--threads', type=int, default=1,
                        help='torch threads of the driver and of each worker')
    parser.add_argument('--data', help='generated VOC root (default: '
                        'data/demo_voc if generated, else a temporary one)')
    parser.add_argument('--quick', action='store_true',
                        help='2 rejection samples of 30 steps, population 2,'
                        ' tiny generated data (16 train, 8 val, 64x64)')
    args = parser.parse_args()
    args.budget = args.budget or (4 if args.quick else 8)
    args.iters = args.iters or (10 if args.quick else 50)
    return args


def data_root(args, tmp: Path) -> Path:
    from autoloss_zero.datasets import (demo_data_root, generate_demo_data,
                                        require_demo_data)
    if args.quick:
        return demo_data_root('voc', generate_demo_data(
            'voc', tmp / 'voc', num_train=16, num_val=8, size=(64, 64),
            seed=0))
    if args.data:
        return demo_data_root('voc', require_demo_data('voc', args.data))
    try:
        return demo_data_root('voc', require_demo_data('voc'))
    except FileNotFoundError:
        return demo_data_root('voc', generate_demo_data('voc', tmp / 'voc'))


def search_config(args, root: Path, executor: dict):
    from mmengine.config import Config
    cfg = Config.fromfile(args.config)
    old = cfg.train_dataloader.dataset.data_root
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        if cfg.get(key) is not None:
            cfg[key].dataset.data_root = str(root) + (
                '/' if old.endswith('/') else '')
    options = {'search.budget.evaluations': args.budget,
               'search.proxy.max_iters': args.iters,
               'search.proxy.threads': args.threads,
               'search.executor': dict(executor)}
    if args.quick:
        options.update({'search.rejection.samples': 2,
                        'search.rejection.steps': 30,
                        'search.evolution.population': 2,
                        'train_dataloader.batch_size': 2})
    cfg.merge_from_dict(options)
    return cfg


def measure(cfg, work_dir: Path) -> dict:
    from autoloss_zero.search import LossSearch
    from autoloss_zero.search.archive import EVALUATED
    search = LossSearch(cfg, work_dir)
    search.logger.setLevel(logging.WARNING)
    start = time.time()
    search.prepare()
    ready = time.time()
    search.run()
    end = time.time()
    done = sorted(r['finished'] for r in search.archive.rows()
                  if r['status'] in EVALUATED)
    nan = float('nan')
    return dict(
        setup=ready - start, loop=end - ready,
        first=done[0] - ready if done else nan,
        steady=60 * (len(done) - 1) / (done[-1] - done[0])
        if len(done) > 1 and done[-1] > done[0] else nan,
        generated=search.stats['generated'],
        evaluated=search.archive.num_evaluated())


def main():
    args = parse_args()
    os.environ['OMP_NUM_THREADS'] = str(args.threads)  # workers inherit it
    import torch
    torch.set_num_threads(args.threads)
    import autoloss_zero  # noqa: F401
    import autoloss_zero.search.execution  # noqa: F401
    results = {}
    with tempfile.TemporaryDirectory(prefix='throughput_') as tmp:
        tmp = Path(tmp)
        root = data_root(args, tmp)
        for name in args.executors:
            print(f'{name}: searching...', flush=True)
            results[name] = measure(search_config(args, root, EXECUTORS[name]),
                                    tmp / name.replace(' ', ''))
    base = results.get('local')
    print(f'\n{args.config}: budget {args.budget}, proxy {args.iters} '
          f'iterations, {args.threads} torch thread(s) per process, '
          f'{os.cpu_count()} CPUs, CUDA: {torch.cuda.is_available()}')
    head = (f'{"executor":<11} {"setup s":>7} {"loop s":>7} {"1st s":>6} '
            f'{"gen":>4} {"eval":>4} {"gen/min":>8} {"eval/min":>8} '
            f'{"ratio":>6} {"steady/min":>10} {"ratio":>6}')
    print(head + '\n' + '-' * len(head))
    for name, r in results.items():
        gen_rate = 60 * r['generated'] / r['loop']
        eval_rate = 60 * r['evaluated'] / r['loop']
        ratio = eval_rate / (60 * base['evaluated'] / base['loop']) \
            if base else float('nan')
        steady = r['steady'] / base['steady'] if base else float('nan')
        print(f'{name:<11} {r["setup"]:7.1f} {r["loop"]:7.1f} '
              f'{r["first"]:6.1f} {r["generated"]:4d} {r["evaluated"]:4d} '
              f'{gen_rate:8.1f} {eval_rate:8.1f} {ratio:5.2f}x '
              f'{r["steady"]:10.1f} {steady:5.2f}x')
    print('1st s: loop start to the first evaluation (workers warm up); '
          'steady/min: evaluations a minute from the first to the last.')


if __name__ == '__main__':
    main()
