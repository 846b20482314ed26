"""Execution: proxy trainings (the warm trainer, the loss slots it fills)
and the executors that run them: ``local``, ``process``, ``ray``."""
from .base import Executor, QueuedExecutor, train_safely
from .local import LocalExecutor
from .process_pool import ProcessExecutor
from .proxy import ProxyResult, ProxyTrainer, proxy_config, rescale_schedule
from .ray_actors import RayExecutor
from .slots import (apply_searched_loss, inject_losses, load_searched_slots,
                    searched_slots, slot_config)

__all__ = [
    'Executor', 'QueuedExecutor', 'train_safely', 'LocalExecutor',
    'ProcessExecutor', 'RayExecutor', 'ProxyResult', 'ProxyTrainer',
    'proxy_config', 'rescale_schedule', 'apply_searched_loss',
    'inject_losses', 'load_searched_slots', 'searched_slots', 'slot_config'
]
