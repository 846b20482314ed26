"""Hide the third-party advice that every run would print otherwise.

setuptools, mmengine, mmseg, mmdet and mmpose warn on every run about
things this project does on purpose or that only their own code can change:
mmengine looks packages up with ``pkg_resources`` and checkpoints through
its deprecated ``FileClient``, the configs keep mmseg's cross-entropy
defaults and a visualisation hook that does not draw during a search, a data
set may have 2 classes, an evaluator may have no key prefix. The
command-line tools call :func:`quiet` first; ``--verbose`` leaves everything
visible. Only the messages listed here are hidden; any other warning still
shows.
"""
import argparse
import logging
import os
import re
import warnings
from typing import Tuple

#: (start of the message, category, module that warns or '' for any) of
#: the hidden ``warnings.warn`` calls. ``import pkg_resources`` warns from
#: whichever module imports or reloads it, so that one is not pinned.
KNOWN_WARNINGS: Tuple[Tuple[str, type, str], ...] = (
    ('pkg_resources is deprecated as an API', UserWarning, ''),
    ('``build_', UserWarning, 'mmseg.models.builder'),
    ('Default ``avg_non_ignore`` is False', UserWarning,
     'mmseg.models.losses.cross_entropy_loss'),
    ('Default ``avg_non_ignore`` is False', UserWarning,
     'mmdet.models.losses.cross_entropy_loss'),
    ('The draw is False', UserWarning,
     'mmseg.engine.hooks.visualization_hook'),
    ('For binary segmentation', UserWarning,
     'mmseg.models.decode_heads.decode_head'),
    # mmpose finds its own copy of a dataset's metainfo file
    ('The metainfo config file', UserWarning,
     'mmpose.datasets.datasets.utils'),
    # in spawned workers, whose Runner asks for its default start method
    ('Multi-processing start method', UserWarning,
     'mmengine.utils.dl_utils.setup_env'),
)

#: starts of the hidden WARNING records of mmengine's loggers (``print_log``)
KNOWN_LOG_WARNINGS: Tuple[str, ...] = (
    'The prefix is not set in metric class',
    # mmengine's CheckpointHook still uses its own deprecated FileClient
    '"FileClient" will be deprecated in future',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class KnownLogWarnings(logging.Filter):
    """Drops the WARNING records starting as in :data:`KNOWN_LOG_WARNINGS`."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.levelno == logging.WARNING and
                    record.getMessage().startswith(KNOWN_LOG_WARNINGS))


def add_verbose_argument(parser: argparse.ArgumentParser) -> None:
    """``--verbose``: show the third-party warnings :func:`quiet` hides."""
    parser.add_argument(
        '--verbose', action='store_true',
        help='show the third-party deprecation and advice warnings '
        '(pkg_resources, mmengine/mmseg/mmdet defaults) hidden otherwise')


def warning_options() -> str:
    """:data:`KNOWN_WARNINGS` as ``PYTHONWARNINGS`` entries (literal message
    starts and module names), for processes the tools start."""
    assert not any(',' in m or ':' in m for m, _, _ in KNOWN_WARNINGS)
    return ','.join(f'ignore:{message}:{category.__name__}:{module}'
                    for message, category, module in KNOWN_WARNINGS)


def _filter_mmengine_loggers() -> None:
    """Add :class:`KnownLogWarnings` to every MMLogger, present and future.

    Each MMLogger is a logger of its own that no logging configuration
    reaches, and ``print_log`` writes to the newest one (a Runner's), so
    the filter goes into each at its creation.
    """
    from mmengine.logging import MMLogger
    if getattr(MMLogger, '_known_warnings_hidden', False):
        return
    log_filter = KnownLogWarnings()
    for logger in MMLogger._instance_dict.values():
        logger.addFilter(log_filter)
    init = MMLogger.__init__

    def __init__(self, *args, **kwargs):
        init(self, *args, **kwargs)
        self.addFilter(log_filter)

    MMLogger.__init__ = __init__
    MMLogger._known_warnings_hidden = True


def quiet(verbose: bool = False) -> None:
    """Hide the known third-party warnings from now on, unless ``verbose``.

    The filters go in front of the existing ones, so they win over ``-W``;
    ``PYTHONWARNINGS`` gets them too, for the worker processes a search
    spawns (which inherit the environment).
    """
    if verbose:
        return
    for message, category, module in KNOWN_WARNINGS:
        warnings.filterwarnings(
            'ignore', message=re.escape(message), category=category,
            module=re.escape(module) + r'\Z' if module else '')
    inherited = os.environ.get('PYTHONWARNINGS')
    os.environ['PYTHONWARNINGS'] = ','.join(
        filter(None, (warning_options(), inherited)))
    _filter_mmengine_loggers()
