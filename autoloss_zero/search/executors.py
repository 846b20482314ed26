"""Registers the executors beyond ``local`` in
:data:`autoloss_zero.registry.EXECUTORS`: ``process`` (a pool of warm worker
processes on this machine) and ``ray`` (warm Ray actors; Ray itself is only
imported when a ``ray`` executor is built)."""
from .process_executor import ProcessExecutor
from .ray_executor import RayExecutor

__all__ = ['ProcessExecutor', 'RayExecutor']
