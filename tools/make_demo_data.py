"""Generate the seeded demo data sets in VOC, Cityscapes and COCO layouts.

    python tools/make_demo_data.py [--kind voc] [--out data]

The same command as ``autoloss-make-demo-data``; its code is
``autoloss_zero/cli/make_demo_data.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.make_demo_data import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('make_demo_data')
