"""Save the screening capture of a search config (``autoloss-save-capture``):
its proxy's head inputs at random initialisation, the probes, etas and
rejection settings and the branches' search spaces, in one file that
``benchmarks/rejection_throughput.py --capture FILE --device cuda`` screens
on a machine with torch alone (no mmcv, mmseg, mmdet, data or config).

    autoloss-save-capture configs/demo/coco_faster_rcnn_map.py faster.pt
    autoloss-save-capture configs/demo/voc_miou.py voc.pt \\
        --cfg-options search.rejection.samples=2
"""
import argparse
import tempfile
from typing import List, Optional

from .common import add_cfg_options, guarded_main, load_config, new_parser
from .quiet import quiet


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = new_parser(__doc__.split('\n')[0])
    parser.add_argument('config', help='search config file')
    parser.add_argument('out', help='capture file to write (.pt)')
    parser.add_argument('--work-dir', help='folder of the proxy logs '
                        '(default: a temporary one)')
    add_cfg_options(parser, 'search.rejection.samples=2')
    return parser.parse_args(argv)


def run(argv: Optional[List[str]] = None) -> str:
    """Capture the config's proxy and write the file; returns its path."""
    args = parse_args(argv)
    quiet(args.verbose)
    from autoloss_zero.search.screening import save_capture
    from autoloss_zero.search.screening.capture_file import capture_config
    cfg = load_config(args.config, args.cfg_options)
    work_dir = args.work_dir or tempfile.mkdtemp(prefix='autoloss_capture_')
    rejection, spaces = capture_config(cfg, work_dir)
    save_capture(rejection, args.out, spaces)
    print(f'wrote {args.out}')
    for branch, calls in rejection.captured.items():
        shapes = ', '.join(str(tuple(c.logits.shape)) for _, c in calls)
        print(f'  {branch}: {shapes}')
    return args.out


#: the console script: status 0, 2 for a user error (one line).
main = guarded_main(run)
