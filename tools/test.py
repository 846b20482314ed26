"""Test (evaluate) a trained model on its config's test split.

    python tools/test.py CONFIG CHECKPOINT [--out preds.pkl] [--show-dir vis/]

The same command as ``autoloss-test``; its code is
``autoloss_zero/cli/test.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.test import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('test')
