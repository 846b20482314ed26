"""Train a model (mmseg, mmdet or mmpose config), optionally with a
discovered loss.

    python tools/train.py CONFIG [--loss work_dirs/voc_miou/best/top1.py]
    torchrun --nproc_per_node=4 tools/train.py CONFIG --launcher pytorch

The same command as ``autoloss-train``; its code is
``autoloss_zero/cli/train.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.train import (  # noqa: F401
    parse_args, run as main, setup_config)

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('train')
