"""Fixtures: tiny search configs on the generated data, scripted
proposals."""
import pytest
from mmengine.config import Config

from autoloss_zero.search import Individual
from autoloss_zero.search.loop.evolution import Proposal

from ..conftest import REPO, point_data_root

TINY_SEARCH = {
    'search.proxy.max_iters': 2,
    'search.evolution.population': 2,
    'search.budget.evaluations': 3,
    'search.rejection.samples': 2,
    'search.rejection.steps': 30,
    'search.rejection.workers': 1,
    'search.verdict.seeds': 0,
    'train_dataloader.batch_size': 2,
}


def tiny_search_config(name, data_root, **overrides) -> Config:
    """``configs/<name>`` with a tiny budget, pointed at ``data_root``."""
    cfg = Config.fromfile(str(REPO / 'configs' / name))
    cfg = point_data_root(cfg, data_root)
    cfg.merge_from_dict({**TINY_SEARCH, **overrides})
    return cfg


@pytest.fixture
def seg_search_cfg(tiny_data):
    return tiny_search_config('demo/voc_miou.py', tiny_data['voc'])


def script_proposals(search, individuals, then_real=True):
    """Make ``search`` propose ``individuals`` (dicts or Individuals) in
    order, as fixed plans (nothing drawn; still screened), then the
    searcher's own plans (or nothing more, with ``then_real=False``)."""
    queue = [Individual(i) for i in individuals]
    plan = search.searcher.plan

    def scripted():
        if queue or not then_real:
            return Proposal(None, queue.pop(0), ())
        return plan()

    search.searcher.plan = scripted
