"""Summarise a search: top-k, counts by status, rates, time by stage.

    python tools/analyze_search.py work_dirs/voc_miou [--top 10] [--json]

The same command as ``autoloss-analyze``; its code is
``autoloss_zero/cli/analyze_search.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.analyze_search import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('analyze_search')
