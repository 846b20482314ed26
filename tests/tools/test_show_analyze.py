"""tools/show_loss.py (formulas, loss/gradient plots) and
tools/analyze_search.py (top-k, counts, rates, time by stage)."""
import json
import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config

from autoloss_zero.losses.baselines import BaikalLoss
from autoloss_zero.search import Archive
from autoloss_zero.graph import Tree
from autoloss_zero.search.reporting.analysis import analyze, format_analysis
from autoloss_zero.search.reporting.loss_curves import (_curve, load_losses,
                                                        module_loss_fn,
                                                        tree_loss_fn)

from .conftest import load_tool


def _png_ok(path):
    with open(path, 'rb') as f:
        head = f.read(8)
    return head == b'\x89PNG\r\n\x1a\n' and path.stat().st_size > 5000


def test_show_loss_searched_and_baikal(tiny_search, tmp_path, capsys):
    show = load_tool('show_loss')
    snippet = tiny_search['work_dir'] / 'best' / 'top1.py'
    paths = show.main([str(snippet), '--out-dir', str(tmp_path), '--archive',
                       str(tiny_search['work_dir'] / 'search.sqlite')])
    assert [p.rsplit('/', 1)[1] for p in paths] == [
        'top1_pt.png', 'top1_binary.png', 'progress.png']
    paths += show.main(['BaikalLoss', '--out-dir', str(tmp_path)])
    for path in paths:
        assert _png_ok(tmp_path / path.rsplit('/', 1)[1]), path
    printed = capsys.readouterr().out
    tree = Config.fromfile(str(snippet)).searched_losses['seg']
    assert f'seg: {tree}' in printed and 'latex:' in printed
    assert 'BaikalLoss:' in printed


def test_show_loss_formula_and_latex(capsys):
    load_tool('show_loss').main(['neg(mul(y,log(yhat)))', '--no-plot'])
    out = capsys.readouterr().out
    assert 'formula: -y*log(yhat)' in out
    assert 'latex:   - y \\log{\\left(\\hat{y} \\right)}' in out
    with pytest.raises(ValueError, match='registered loss name'):
        load_losses('not a loss(')


@pytest.mark.parametrize('num_classes', [2, 5])
def test_plotted_values(num_classes):
    """The plotted per-sample losses are the real ones: CE tree = softmax
    cross-entropy, BaikalLoss module = its formula on probabilities."""
    probs = torch.softmax(torch.randn(7, num_classes, dtype=torch.float64), 1)
    labels = torch.randint(0, num_classes, (7, ))
    ce = tree_loss_fn(Tree.parse('neg(mul(y,log(yhat)))'))(probs, labels)
    assert torch.allclose(ce, F.nll_loss(probs.log(), labels,
                                         reduction='none'))
    baikal = module_loss_fn(BaikalLoss().double())(probs, labels)
    p_t = probs[torch.arange(7), labels]
    expected = -(probs.log().sum(1) - 1 / p_t) / num_classes
    assert torch.allclose(baikal, expected)
    x = np.array([0.2, 0.5, 0.9])
    loss, grad = _curve(tree_loss_fn(Tree.parse('neg(mul(y,log(yhat)))')),
                        x, num_classes, 0, lambda t: t)
    assert np.allclose(loss, -np.log(x)) and np.allclose(grad, -1 / x)


def _hand_archive(path):
    arch = Archive(path)
    rows = [dict(key='baseline', trees='{}', status='baseline', score=10.0,
                 t_train=5.0)]
    rows += [dict(key=f'r{i}', trees='{"seg": "1"}', status='rejected')
             for i in range(6)]
    rows += [dict(key='seg=neg(mul(y,log(yhat)))',
                  trees='{"seg": "neg(mul(y,log(yhat)))"}', status='trained',
                  score=30.0, t_reject=1.5, t_train=10.0),
             dict(key='seg=neg(log(yhat))', trees='{"seg": "neg(log(yhat))"}',
                  status='trained', score=20.0, t_reject=0.5, t_train=8.0),
             dict(key='seg=abs(yhat)', trees='{"seg": "abs(yhat)"}',
                  status='equivalent', score=20.0, t_reject=0.25),
             dict(key='seg=exp(yhat)', trees='{"seg": "exp(yhat)"}',
                  status='diverged', score=0.0, t_reject=0.25, t_train=2.0)]
    arch.add(rows)
    return arch


def test_analysis_of_hand_made_archive(tmp_path):
    summary = analyze(_hand_archive(tmp_path / 'search.sqlite'), k=2)
    assert summary['generated'] == 10
    assert summary['rejection_rate'] == 0.6
    assert summary['equivalence_rate'] == 0.25
    assert summary['baseline'] == 10.0
    assert [t['id'] for t in summary['top']] == [8, 9]
    assert summary['top'][0]['formulas'] == {'seg': '-y*log(yhat)'}
    assert summary['time']['trained'] == dict(n=2, t_reject=2.0, t_train=18.0)
    assert summary['time']['equivalent'] == dict(n=1, t_reject=0.25,
                                                 t_train=0)
    assert math.isclose(summary['total_time'], 2.5 + 25.0)
    text = format_analysis(summary)
    assert '| 1    | 8  | 30    | seg    | -y*log(yhat)' in text
    assert '60.0%' in text and '25.0%' in text
    assert analyze(_hand_archive(tmp_path / 'min.sqlite'), k=1,
                   mode='min')['top'][0]['id'] == 9


def test_analyze_search_tool_matches_archive(tiny_search, capsys):
    work_dir = tiny_search['work_dir']
    tool = load_tool('analyze_search')
    summary = tool.main([str(work_dir), '--json'])
    counts = Archive(work_dir / 'search.sqlite').counts()
    assert summary['counts'] == counts
    assert json.loads(capsys.readouterr().out)['counts'] == counts
    assert summary['generated'] == sum(counts.values()) - 1
    tool.main([str(work_dir / 'search.sqlite')])
    text = capsys.readouterr().out
    for status, n in counts.items():
        assert f'| {status.ljust(10)} | {n}' in text
