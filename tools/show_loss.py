"""Show a loss: formula, LaTeX, loss and gradient plots.

    python tools/show_loss.py work_dirs/voc_miou/best/top1.py --out-dir vis/

The same command as ``autoloss-show-loss``; its code is
``autoloss_zero/cli/show_loss.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.show_loss import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('show_loss')
