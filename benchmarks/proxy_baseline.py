"""A search config's baseline trained by its proxy on several seeds (not a
test): can the proxy rank losses?

The baseline is the config's own losses, trained as the search's verdict
re-trains it: on the verdict's seeds (``search.seed`` + 1, + 2, ...), each
seed giving other initial weights and another data order, starting from the
searched proxy's initial weights of that seed, on ``search.proxy.threads``
torch threads. ``--loss`` trains searched trees instead (one per branch;
a bare tree when the config has one branch). Prints per seed the target
score and the seconds of the training + validation (wall and CPU: on a
shared machine the CPU seconds are the steadier figure), then the mean and
the standard deviation over seeds and, for segmentation, the score of
predicting background everywhere on the validation split (what a loss that
collapses to the background gets); ``--all-metrics`` adds every metric of
the evaluator per seed:

    python benchmarks/proxy_baseline.py [--config configs/demo/voc_miou.py]
        [--seeds 3] [--loss 'abs(sub(y,yhat))' | --loss seg=TREE ...]
        [--all-metrics] [--cfg-options search.proxy.max_iters=400 ...]

Run it from anywhere: paths in the config are relative to the repository,
whose generated demo data (``data/demo_voc``, ``data/demo_coco``) is
written if missing.
"""
import argparse
import dataclasses
import os
import os.path as osp
import statistics
import time

from _common import REPO, work_dir


def load_config(path: str, options: dict):
    """The search config at ``path`` with ``options`` merged, its demo data
    generated if the config reads one."""
    import autoloss_zero  # noqa: F401
    from autoloss_zero.datasets import DEMO_DEFAULTS, generate_demo_data
    from mmengine.config import Config
    cfg = Config.fromfile(path)
    cfg.merge_from_dict(options)
    roots = str(cfg.train_dataloader) + str(cfg.val_dataloader)
    for kind, defaults in DEMO_DEFAULTS.items():
        if defaults['root'] in roots:
            generate_demo_data(kind, defaults['root'])
    return cfg


def parse_losses(specs, branches):
    """``--loss`` values -> :class:`Individual` (None: the baseline)."""
    from autoloss_zero.search import Individual
    if not specs:
        return None
    trees = {}
    for spec in specs:
        branch, sep, tree = spec.partition('=')
        if not sep:
            if len(branches) != 1:
                raise ValueError(f'--loss {spec!r}: the config has branches '
                                 f'{branches}; write --loss BRANCH=TREE')
            branch, tree = branches[0], spec
        if branch not in branches:
            raise ValueError(f'--loss {spec!r}: unknown branch {branch!r}; '
                             f'valid: {branches}')
        trees[branch] = tree
    missing = [b for b in branches if b not in trees]
    if missing:
        raise ValueError(f'--loss gives no tree for branches {missing}')
    return Individual({b: trees[b] for b in branches})


def fmt(value) -> str:
    """Two decimals for percent-like scores, four for scores in [0, 1]."""
    if value is None:
        return 'none'
    return f'{value:.2f}' if abs(value) >= 1 else f'{value:.4f}'


def background_score(trainer, key):
    """The target score of predicting class 0 at every pixel of the
    validation split, or None if the task is not dense segmentation."""
    import torch
    from mmengine.structures import PixelData
    loop = trainer.runner.val_loop
    scored = 0
    for batch in loop.dataloader:
        samples = batch['data_samples']
        if not all(hasattr(s, 'gt_sem_seg') for s in samples):
            return None
        for sample in samples:
            sample.pred_sem_seg = PixelData(
                data=torch.zeros_like(sample.gt_sem_seg.data))
        loop.evaluator.process(data_samples=samples, data_batch=batch)
        scored += len(samples)
    return float(loop.evaluator.evaluate(scored)[key])


def main():
    from mmengine.config import DictAction
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--config', default='configs/demo/voc_miou.py')
    parser.add_argument('--seeds', type=int, default=3,
                        help='how many of the verdict\'s seeds')
    parser.add_argument('--loss', nargs='+', metavar='[BRANCH=]TREE',
                        help='train these trees instead of the baseline')
    parser.add_argument('--all-metrics', action='store_true',
                        help='print every metric of the evaluator per seed')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='key=value overrides of the config')
    args = parser.parse_args()
    # a path from here, else from the repository (the default's case)
    config = osp.abspath(args.config if osp.isfile(args.config) else
                         osp.join(REPO, args.config))
    os.chdir(REPO)  # the configs' data paths are relative to the repository
    import torch
    torch.set_num_threads(1)
    from autoloss_zero.search import SearchSettings
    from autoloss_zero.search.execution.base import train_safely
    from autoloss_zero.search.execution.trainers import Trainers
    cfg = load_config(config, args.cfg_options)
    settings = SearchSettings.from_config(cfg)
    try:
        individual = parse_losses(args.loss,
                                  [b.name for b in settings.branches])
    except ValueError as exc:
        parser.error(str(exc))
    if args.seeds < 1:
        parser.error(f'--seeds must be >= 1, got {args.seeds}')
    # the verdict's seeds (it needs >= 2 of them; one run takes the first)
    seeds = dataclasses.replace(settings.verdict, seeds=max(
        args.seeds, 2)).seed_list(settings.seed)[:args.seeds]
    metric = settings.target.result_key
    what = individual.key if individual else 'baseline (the config\'s losses)'
    print(f'{osp.relpath(config, REPO)}: {what}, {metric}, '
          f'{settings.proxy.max_iters} iterations on '
          f'{settings.proxy.threads} thread(s), seeds {list(seeds)}')
    trainers = Trainers(cfg, settings, work_dir())
    scores, chance = [], None
    for seed in seeds:
        start = time.time()
        trainer = trainers.get(seed, baseline=individual is None)
        built = time.time() - start
        cpu = time.process_time()
        result = train_safely(trainer, individual)
        cpu = time.process_time() - cpu
        status = '' if result.status == 'trained' else \
            f' ({result.status}: {result.reason})'
        print(f'seed {seed}: {metric} {fmt(result.score)}, '
              f'{result.seconds:.1f} s train + val ({cpu:.1f} s CPU; build '
              f'{built:.1f} s)'
              f'{status}', flush=True)
        if args.all_metrics:
            print('  ' + ', '.join(f'{k} {fmt(v)}'
                                   for k, v in result.metrics.items()))
        if result.score is not None:
            scores.append(result.score)
        if chance is None and seed == seeds[0]:
            chance = background_score(trainer, metric)
    if scores:
        std = statistics.stdev(scores) if len(scores) > 1 else float('nan')
        print(f'mean {fmt(statistics.mean(scores))}, std {fmt(std)} over '
              f'{len(scores)} seed(s)')
    print('background everywhere: ' + (
        f'{metric} {fmt(chance)}' if chance is not None else
        'n/a (not dense segmentation; no predictions score 0)'))


if __name__ == '__main__':
    main()
