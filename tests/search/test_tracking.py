"""Experiment tracking: the search logged through an mmengine visualizer,
read back from TensorBoard's event file and the local backend's files."""
import json
from types import SimpleNamespace

import pytest
from mmengine.config import Config

from autoloss_zero.search.reporting.tracking import (SearchTracker,
                                                     backend_names,
                                                     build_visualizer,
                                                     top_k_lines)
from .test_progress import fake_search, train

CE = 'neg(mul(y,log(yhat)))'
SUMMARY = dict(
    counts=dict(rejected=5, equivalent=1, trained=2), baseline=70.0,
    trainings=2, text='...',
    best=[dict(id=1, score=72.5, trees=dict(seg=CE), verdict=None),
          dict(id=2, score=69.0, trees=dict(seg='mul(y,sub(1,yhat))'),
               verdict=dict(seeds=3, mean=71.0, baseline_mean=70.2))])


def run_search(tracker, search):
    """Two trainings and an equivalent candidate, then the end."""
    tracker.on_start(search)
    search.archive.rejected = 3
    tracker.on_candidate(search, train(search, 72.5))
    search.archive.rejected = 5
    tracker.on_candidate(search, train(search, 69.0))
    search.archive.equivalent = 1
    tracker.on_candidate(search, SimpleNamespace(
        id=3, key='seg=k1', status='equivalent', score=72.5))
    tracker.on_candidate(search, train(search, None, 'failed'))
    tracker.on_finish(search, SUMMARY)
    tracker.close()


def tracked(tmp_path, *backends):
    search = fake_search()
    search.cfg = Config(dict(search=dict(top_k=3)))
    search.work_dir = tmp_path
    tracker = SearchTracker(dict(type='Visualizer', vis_backends=[
        dict(type=b) for b in backends]), tmp_path)
    run_search(tracker, search)
    return tracker


def test_top_k_lines():
    lines = top_k_lines(SUMMARY, 'mIoU')
    assert lines[0] == ('1. candidate #1: proxy mIoU 72.5 (+2.5 vs baseline '
                        '70)')
    assert lines[1] == f'    - seg: `{CE}` = `-y*log(yhat)`'
    assert lines[3] == ('    - verdict over 3 seeds: 71 vs baseline 70.2')
    assert top_k_lines(dict(best=[]), 'mIoU') == ['no trained candidate']


def test_backend_names_and_unique_instances(tmp_path):
    cfg = dict(type='Visualizer', vis_backends=[
        dict(type='LocalVisBackend'),
        dict(type='TensorboardVisBackend', name='tb')])
    assert backend_names(cfg) == ['LocalVisBackend', 'tb']
    one, two = build_visualizer(cfg, tmp_path), build_visualizer(cfg, tmp_path)
    assert one is not two and one.instance_name != two.instance_name
    assert cfg['vis_backends'][1]['name'] == 'tb'  # cfg left as it was


def test_local_backend_writes_scalars_config_and_top_k(tmp_path):
    tracked(tmp_path, 'LocalVisBackend')
    vis = tmp_path / 'vis_data'
    rows = [json.loads(line)
            for line in (vis / 'scalars.json').read_text().splitlines()]
    assert rows == [
        dict(score=72.5, best=72.5, baseline=70.0, rejected=3, equivalent=0,
             trained=1, step=1),
        dict(score=69.0, best=72.5, baseline=70.0, rejected=5, equivalent=0,
             trained=2, step=2),
        dict(score=72.5, best=72.5, baseline=70.0, rejected=5, equivalent=1,
             trained=2, step=2),
        # failed: no score; FakeArchive counts it as trained
        dict(best=72.5, baseline=70.0, rejected=5, equivalent=1, trained=3,
             step=3),
    ]
    assert Config.fromfile(vis / 'config.py').search.top_k == 3
    top_k = (vis / 'top_k.md').read_text()
    assert top_k.startswith('# top-2 losses\n')
    assert '1. candidate #1: proxy mIoU 72.5' in top_k


def test_tensorboard_backend_event_file(tmp_path):
    accumulator = pytest.importorskip(
        'tensorboard.backend.event_processing.event_accumulator')
    tracked(tmp_path, 'TensorboardVisBackend')
    events = list((tmp_path / 'vis_data').glob('events.out.tfevents.*'))
    assert len(events) == 1
    acc = accumulator.EventAccumulator(
        str(events[0]), size_guidance={accumulator.TENSORS: 0,
                                       accumulator.SCALARS: 0})
    acc.Reload()
    scalars = acc.Tags()['scalars']
    assert {'score', 'best', 'baseline', 'rejected', 'equivalent',
            'trained'} <= set(scalars)
    assert [(e.step, e.value) for e in acc.Scalars('score')] == [
        (1, 72.5), (2, 69.0), (2, 72.5)]
    assert [(e.step, e.value) for e in acc.Scalars('rejected')] == [
        (1, 3), (2, 5), (2, 5), (3, 5)]
    assert [e.value for e in acc.Scalars('baseline')] == [70.0] * 4
    text = acc.Tensors('search/top_k/text_summary')
    assert len(text) == 1 and text[0].step == 3
    body = text[0].tensor_proto.string_val[0].decode()
    assert '1. candidate #1: proxy mIoU 72.5' in body and CE in body
    config = acc.Tensors('config/text_summary')[0]
    assert 'top_k=3' in config.tensor_proto.string_val[0].decode()

