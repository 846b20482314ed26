"""Save the screening capture of a search config, to screen it elsewhere.

    python tools/save_capture.py configs/demo/coco_faster_rcnn_map.py out.pt

The same command as ``autoloss-save-capture``; its code is
``autoloss_zero/cli/save_capture.py`` (``--help`` lists the options).
"""
# main is the command's run(argv), returning its result to Python callers;
# importing the package sets OMP_WAIT_POLICY=PASSIVE before torch loads.
from autoloss_zero.cli.save_capture import run as main  # noqa: F401

if __name__ == '__main__':
    from autoloss_zero.cli.common import exit_with
    exit_with('save_capture')
