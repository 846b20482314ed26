"""A training step with the searched CE tree vs mmseg's CrossEntropyLoss.

Same tiny DeepLabV3+, same batch, decode and auxiliary heads; the searched
loss evaluates ``neg(mul(y,log(yhat)))`` on the canvas:

    python benchmarks/loss_overhead.py [--steps 30]
"""
import argparse
import copy
import time

from _common import demo_config, work_dir


def main():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--steps', type=int, default=30)
    parser.add_argument('--rounds', type=int, default=3)
    args = parser.parse_args()

    from mmseg.models.losses import CrossEntropyLoss

    from autoloss_zero.losses import SearchedSegLoss
    from autoloss_zero.search import ProxyTrainer, SearchSettings
    cfg = demo_config()
    trainer = ProxyTrainer(cfg, SearchSettings.from_config(cfg), work_dir(),
                           searched=False)
    model, optim = trainer.model, trainer.runner.optim_wrapper
    batch = next(trainer.batches())
    losses = {
        'mmseg CrossEntropyLoss': (CrossEntropyLoss(avg_non_ignore=True),
                                   CrossEntropyLoss(avg_non_ignore=True,
                                                    loss_weight=0.4)),
        'searched CE tree': (SearchedSegLoss('neg(mul(y,log(yhat)))'),
                             SearchedSegLoss('neg(mul(y,log(yhat)))',
                                             loss_weight=0.4)),
    }
    state = copy.deepcopy(model.state_dict())
    times = {name: [] for name in losses}
    model.train()
    for _ in range(args.rounds):
        for name, (decode, aux) in losses.items():
            model.decode_head.loss_decode = decode
            model.auxiliary_head.loss_decode = aux
            model.load_state_dict(state)
            model.train_step(batch, optim)  # warm
            start = time.perf_counter()
            for _ in range(args.steps):
                model.train_step(batch, optim)
            times[name].append((time.perf_counter() - start) / args.steps)
    base = min(times['mmseg CrossEntropyLoss'])
    for name, values in times.items():
        print(f'{name:24s} {min(values) * 1000:7.2f} ms/step  '
              f'{min(values) / base:5.3f}x')
    print('target: searched / mmseg <= 1.10')


if __name__ == '__main__':
    main()
