"""Shared set-up of the benchmarks: the demo search config on generated
data (``data/demo_voc``, generated if missing)."""
import os.path as osp
import sys
import tempfile

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, REPO)


def demo_config(name='configs/demo/voc_miou.py', **overrides):
    """The demo search config with its data root made absolute."""
    import autoloss_zero  # noqa: F401
    from autoloss_zero.datasets import DEMO_DEFAULTS, generate_demo_data
    from mmengine.config import Config
    root = osp.join(REPO, DEMO_DEFAULTS['voc']['root'])
    generate_demo_data('voc', root)
    cfg = Config.fromfile(osp.join(REPO, name))
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        ds = cfg[key].dataset
        ds.data_root = osp.join(REPO, ds.data_root)
    cfg.merge_from_dict(overrides)
    return cfg


def work_dir():
    return tempfile.mkdtemp(prefix='autoloss_bench_')
