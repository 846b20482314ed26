"""Registries of autoloss-zero's own concepts.

Losses, metrics and datasets go to mmengine's root registries (``MODELS``,
``METRICS``, ``DATASETS``) so that mmseg, mmdet and mmpose configs reach them;
what exists only in this project gets a registry here.
"""
from mmengine.registry import Registry

#: Executors that run proxy trainings (``local``, ``process``, ``ray``).
EXECUTORS = Registry('autoloss executor')
