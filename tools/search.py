"""Search loss functions with AutoLoss-Zero.

    python tools/search.py configs/demo/voc_miou.py [--resume] [--work-dir DIR]

The same command as ``autoloss-search``; its code is
``autoloss_zero/cli/search.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.search import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('search')
