"""Fixtures: one tiny real search whose best loss the tool tests use."""
import importlib.util

import pytest
from mmengine.config import Config

from ..conftest import REPO, point_data_root

#: A search small enough for a 2-core CPU: 2 evaluations of 3 iterations.
#: eta=0 passes every finite candidate with a non-zero gradient, so the
#: rejection protocol re-draws only a few.
TINY_SEARCH = {
    'search.budget.evaluations': 2,
    'search.proxy.max_iters': 3,
    'search.evolution.population': 2,
    'search.rejection.steps': 10,
    'search.rejection.samples': 2,
    'search.rejection.workers': 1,
    'search.rejection.eta': 0.0,
    'search.top_k': 2,
    'search.verdict.seeds': 0,
    'train_dataloader.batch_size': 2,
}


def load_tool(name: str):
    """Import ``tools/<name>.py`` as a module (tools is not a package)."""
    spec = importlib.util.spec_from_file_location(
        f'tool_{name}', REPO / 'tools' / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='session')
def tiny_search(tiny_data, tmp_path_factory):
    """A finished tiny search of configs/demo/voc_miou.py on generated VOC.

    Returns dict(work_dir, config (path of the dumped search config), cfg).
    """
    from autoloss_zero.search import LossSearch
    base = tmp_path_factory.mktemp('search')
    cfg = point_data_root(
        Config.fromfile(str(REPO / 'configs' / 'demo' / 'voc_miou.py')),
        tiny_data['voc'])
    cfg.merge_from_dict(TINY_SEARCH)
    config = base / 'voc_miou_tiny.py'
    cfg.dump(str(config))
    work_dir = base / 'voc_miou_tiny'
    LossSearch(cfg, work_dir).run()
    assert (work_dir / 'best' / 'top1.py').is_file()
    return dict(work_dir=work_dir, config=config, cfg=cfg)
