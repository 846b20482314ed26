"""The ``best/`` snippets hold the discovered losses as they should be
retrained: every one trains under mixed precision with a finite loss."""
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import MODELS

from autoloss_zero.search import LossSearch

from .conftest import tiny_search_config


@pytest.fixture(scope='module')
def finished_search(tiny_data, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('exported')
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': 4, 'search.top_k': 4})
    LossSearch(cfg, work_dir).run()
    return work_dir


def _losses(slot):
    return [MODELS.build(s) for s in (slot if isinstance(slot, list)
                                      else [slot])]


def test_every_top_k_snippet_trains_under_bfloat16_autocast(
        finished_search):
    snippets = sorted((finished_search / 'best').glob('top*.py'))
    assert snippets
    gen = torch.Generator().manual_seed(0)
    images = torch.randn(2, 3, 32, 32, generator=gen)
    labels = torch.randint(0, 6, (2, 32, 32), generator=gen)
    labels[:, :2] = 255
    for path in snippets:
        snippet = Config.fromfile(str(path))
        losses = _losses(snippet.searched_slots[
            'model.decode_head.loss_decode'])
        net = torch.nn.Conv2d(3, 6, 3, padding=1)
        optim = torch.optim.SGD(net.parameters(), lr=0.01)
        values = []
        for _ in range(20):
            optim.zero_grad()
            with torch.autocast('cpu', dtype=torch.bfloat16):
                logits = net(images)
                loss = sum(m(logits, labels) for m in losses)
            assert torch.isfinite(loss), (path.name, float(loss))
            values.append(float(loss))
            loss.backward()
            optim.step()
        # exported: dead constants dropped, rescaled to O(1) at init
        assert '# seg exported: ' in path.read_text()
        assert abs(values[0]) < 1e3, (path.name, values[0])
