"""Registries of autoloss-zero's own concepts.

Losses, metrics and datasets go to mmengine's root registries (``MODELS``,
``METRICS``, ``DATASETS``) so that mmseg, mmdet and mmpose configs reach them;
what exists only in this project gets a registry here, in the project's own
scope (so that building from one never searches mmseg's or mmdet's tree).
"""
from mmengine.registry import Registry

#: Executors that run proxy trainings (``local``, ``process``, ``ray``).
EXECUTORS = Registry('autoloss executor', scope='autoloss_zero',
                     locations=['autoloss_zero.search.execution'])

#: Screening probes of the searched-loss types, keyed by the loss type's
#: name (what the rejection protocol asks of a loss besides its value).
PROBES = Registry('autoloss probe', scope='autoloss_zero',
                  locations=['autoloss_zero.search.screening.probes'])
