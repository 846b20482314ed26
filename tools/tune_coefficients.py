"""Tune the node coefficients of a discovered loss with CMA-ES (GLO).

    python tools/tune_coefficients.py work_dirs/voc_miou --rank 1

The same command as ``autoloss-tune``; its code is
``autoloss_zero/cli/tune_coefficients.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.tune_coefficients import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('tune_coefficients')
