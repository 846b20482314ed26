"""Pieces the command-line tools share: arguments, configs, work dirs."""
import argparse
import os
import os.path as osp
import sys
from typing import Callable, List, Optional

from mmengine.config import Config, DictAction

from .quiet import add_verbose_argument


def new_parser(description: str) -> argparse.ArgumentParser:
    """An argument parser with the ``--verbose`` and ``--debug`` flags
    every tool takes."""
    parser = argparse.ArgumentParser(description=description)
    add_verbose_argument(parser)
    parser.add_argument('--debug', action='store_true',
                        help='show the traceback of an error, not one line')
    return parser


#: errors that are the user's to fix: said in one line (a bad config or
#: value, a missing file, a busy or damaged work dir).
USER_ERRORS = (ValueError, KeyError, FileNotFoundError, FileExistsError)


def _user_error(exc: BaseException) -> bool:
    from autoloss_zero.search.archive import ArchiveCorrupt
    from autoloss_zero.search.loop.lock import WorkDirLocked
    return isinstance(exc, USER_ERRORS + (ArchiveCorrupt, WorkDirLocked))


def guarded_main(run: Callable) -> Callable[[Optional[List[str]]], int]:
    """The console-script ``main`` of a tool's ``run(argv)``.

    Returns 0 when ``run`` returns; prints a user error as one line on
    stderr and returns 2 (``--debug``: raises it, with its traceback); a
    search stopped by SIGINT / SIGTERM prints its one line and returns 130
    / 143.
    """
    def main(argv: Optional[List[str]] = None) -> int:
        args = sys.argv[1:] if argv is None else argv
        try:
            run(argv)
        except BaseException as exc:  # noqa: BLE001  (sorted out below)
            from autoloss_zero.search.loop.stopping import SearchInterrupted
            if isinstance(exc, SearchInterrupted):
                print(exc, file=sys.stderr)
                return exc.exit_code
            if '--debug' in args or not _user_error(exc):
                raise
            message = exc.args[0] if isinstance(exc, KeyError) and \
                exc.args else exc
            print(f'error: {message}', file=sys.stderr)
            return 2
        return 0

    main.__doc__ = f'Console script of {run.__module__}.run.'
    return main


def exit_with(command: str) -> None:
    """Run ``autoloss_zero.cli.<command>`` as a script (``tools/*.py``):
    exit with its console script's status."""
    import importlib
    status = importlib.import_module(f'autoloss_zero.cli.{command}').main()
    if status:
        raise SystemExit(status)


def add_cfg_options(parser: argparse.ArgumentParser, example: str) -> None:
    """``--cfg-options key=value ...``, merged into the config."""
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        help=f'override config entries, key=value (e.g. '
                        f'{example})')


def add_launcher(parser: argparse.ArgumentParser) -> None:
    """``--launcher`` and the ``--local-rank`` torch >= 2.0 passes."""
    parser.add_argument('--launcher', default='none',
                        choices=['none', 'pytorch', 'slurm', 'mpi'],
                        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)


def set_local_rank(args: argparse.Namespace) -> None:
    """Export ``--local-rank`` as LOCAL_RANK unless the launcher did."""
    if 'LOCAL_RANK' not in os.environ:
        os.environ['LOCAL_RANK'] = str(args.local_rank)


def load_config(path: str, cfg_options: Optional[dict] = None) -> Config:
    """``Config.fromfile(path)`` with ``--cfg-options`` merged.

    Raises:
        FileNotFoundError: ``path`` is not a file.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'config file {path!r} not found')
    cfg = Config.fromfile(path)
    if cfg_options:
        cfg.merge_from_dict(cfg_options)
    return cfg


def resolve_work_dir(cli: Optional[str], cfg: Config, config_path: str) -> str:
    """The work dir: the CLI's, else the config's ``work_dir``, else
    ``work_dirs/<config name>``."""
    if cli is not None:
        return cli
    if cfg.get('work_dir') is not None:
        return cfg.work_dir
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def build_runner(cfg: Config):
    """The config's Runner (``runner_type`` if the config names one)."""
    from mmengine.registry import RUNNERS
    from mmengine.runner import Runner
    return (Runner.from_cfg(cfg) if 'runner_type' not in cfg else
            RUNNERS.build(cfg))
