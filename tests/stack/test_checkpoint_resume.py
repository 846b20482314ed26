"""mmengine checkpoint resume under torch's ``weights_only=True`` default."""
import pickle

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import Dataset

from autoloss_zero.compat import register_checkpoint_safe_globals


class ToyModel(BaseModel):

    def __init__(self):
        super().__init__()
        self.linear = torch.nn.Linear(2, 1)

    def forward(self, inputs, targets=None, mode='tensor'):
        inputs = torch.stack(inputs) if isinstance(inputs, list) else inputs
        out = self.linear(inputs)
        if mode == 'loss':
            targets = torch.stack(targets) if isinstance(targets,
                                                         list) else targets
            return dict(loss=((out - targets)**2).mean())
        return out


class ToyData(Dataset):

    def __len__(self):
        return 8

    def __getitem__(self, i):
        return dict(inputs=torch.full((2, ), float(i)),
                    targets=torch.tensor([float(i)]))


def make_runner(work_dir, max_iters, resume=False):
    return Runner(
        model=ToyModel(),
        work_dir=str(work_dir),
        train_dataloader=dict(
            dataset=ToyData(), batch_size=2,
            sampler=dict(type='InfiniteSampler', shuffle=False),
            collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        train_cfg=dict(by_epoch=False, max_iters=max_iters),
        default_hooks=dict(checkpoint=dict(
            type='CheckpointHook', by_epoch=False, interval=2)),
        resume=resume,
        default_scope='mmengine',
        visualizer=dict(type='Visualizer', vis_backends=[]),
        log_level='WARNING')


@pytest.fixture
def trained(tmp_path):
    make_runner(tmp_path, max_iters=2).train()
    assert (tmp_path / 'iter_2.pth').is_file()
    return tmp_path


def test_resume_with_safe_globals(trained):
    register_checkpoint_safe_globals()
    runner = make_runner(trained, max_iters=4, resume=True)
    runner.train()
    assert runner.iter == 4
    ckpt = torch.load(trained / 'iter_4.pth', weights_only=True)
    assert ckpt['meta']['iter'] == 4


def test_resume_fails_without_safe_globals(trained):
    """The registration is what makes resume work (weights_only stays on)."""
    torch.serialization.clear_safe_globals()
    try:
        with pytest.raises(pickle.UnpicklingError, match='weights_only'):
            make_runner(trained, max_iters=4, resume=True).train()
    finally:
        register_checkpoint_safe_globals()


def test_checkpoint_getattr_is_restricted():
    from mmengine.logging.history_buffer import HistoryBuffer

    from autoloss_zero.compat import _history_buffer_getattr
    assert _history_buffer_getattr(HistoryBuffer, 'mean') is HistoryBuffer.mean
    with pytest.raises(pickle.UnpicklingError, match='__subclasses__'):
        _history_buffer_getattr(HistoryBuffer, '__subclasses__')
    with pytest.raises(pickle.UnpicklingError, match='system'):
        import os
        _history_buffer_getattr(os, 'system')


def test_fresh_process_resolves_the_statistics_methods():
    """Before any HistoryBuffer exists its method registry is empty; the
    built-in statistics must resolve anyway (a fresh tools/test.py)."""
    import subprocess
    import sys
    code = ('from autoloss_zero.compat import _history_buffer_getattr;'
            'from mmengine.logging.history_buffer import HistoryBuffer as H;'
            'assert not H._statistics_methods;'
            'assert _history_buffer_getattr(H, "min") is H.min')
    subprocess.run([sys.executable, '-c', code], check=True)
