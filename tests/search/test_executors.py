"""The ``process`` and ``ray`` executors: tiny searches end to end, and
searches that survive a worker killed during a training.

Every test records what the engine submitted and what the executor returned:
each candidate must come back exactly once (nothing lost, nothing
duplicated), and the archive must pass the soak checker.
"""
import math
import os
import signal
import threading
import time

import pytest

from autoloss_zero.search import (Candidate, Individual, LossSearch,
                                  SearchSettings)
from autoloss_zero.search.execution import ProcessExecutor, RayExecutor
from ..support.soak import check_archive

from .conftest import script_proposals, tiny_search_config

BUDGET = 4
TRAINED = ('trained', 'diverged', 'failed')
#: cross-entropy, written four ways: every candidate trains to the end.
CE = ['neg(mul(y,log(yhat)))', 'neg(mul(log(yhat),y))',
      'mul(y,neg(log(yhat)))', 'mul(neg(y),log(yhat))']


def cross_entropy_search(tiny_data, work_dir, executor, max_iters=2):
    """A search whose searcher proposes the CE trees (no rejection: the
    executors are under test, not the screening)."""
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'], **{
        'search.budget.evaluations': BUDGET,
        'search.proxy.max_iters': max_iters,
        'search.rejection.enabled': False,
        'search.executor': executor,
    })
    search = LossSearch(cfg, work_dir)
    script_proposals(search, [{'seg': t} for t in CE], then_real=False)
    return search


def record(executor):
    """Wrap submit/wait; returns the lists of submitted and returned ids."""
    submitted, returned = [], []
    submit, wait = executor.submit, executor.wait

    def submit_(candidate):
        submitted.append(candidate.id)
        submit(candidate)

    def wait_():
        done = wait()
        returned.extend(candidate.id for candidate, _ in done)
        return done

    executor.submit, executor.wait = submit_, wait_
    return submitted, returned


def assert_complete(search, submitted, returned):
    archive = search.archive
    assert check_archive(archive, BUDGET) == []
    assert archive.num_trained() == BUDGET
    assert archive.counts()['running'] == 0
    trained = [r['id'] for r in archive.rows() if r['status'] in TRAINED]
    assert sorted(returned) == sorted(submitted) == trained


def test_process_executor_runs_a_search(tiny_data, tmp_path):
    search = cross_entropy_search(tiny_data, tmp_path, dict(
        type='process', num_workers=2))
    search.prepare()
    ex = search.executor
    assert ex.capacity == 2
    pids = [w.pid for w in ex.workers]
    assert len(set(pids)) == 2 and os.getpid() not in pids
    # an exception inside a training is a failed result, not a dead worker
    ex.submit(Candidate(Individual({'nobranch': 'y'}), id=-1))
    [(candidate, result)] = ex.wait()
    cand_id = candidate.id
    assert (cand_id, result.status) == (-1, 'failed')
    assert 'KeyError' in result.reason and ex.replaced == 0
    submitted, returned = record(ex)
    search.run()
    assert_complete(search, submitted, returned)
    assert [w.pid for w in ex.workers] == pids and ex.replaced == 0
    # warm workers: built once each, one of them trained several candidates
    trained = [w.trained for w in ex.workers]
    assert sum(trained) == len(submitted) + 1 and max(trained) >= 2
    assert all(not w.process.is_alive() for w in ex.workers)  # closed
    # common random numbers: a worker scores a candidate like the driver
    rows = search.archive.rows('trained')
    assert [r['key'] for r in rows] == [Individual({'seg': t}).key for t in CE]
    again = search.trainer.train(Individual.from_json(rows[0]['trees']))
    assert math.isclose(again.score, rows[0]['score'], rel_tol=1e-6)


def test_killed_process_worker_is_replaced(tiny_data, tmp_path):
    search = cross_entropy_search(tiny_data, tmp_path, dict(
        type='process', num_workers=2), max_iters=20)
    search.prepare()
    ex = search.executor
    submitted, returned = record(ex)
    killed = []
    receive = ex._receive

    def receive_and_kill(worker):
        # the driver just read this worker's 'start': it trains for > 1 s
        alive = receive(worker)
        if not killed and worker.training:
            killed.append((worker.pid, worker.task.id))
            os.kill(worker.pid, signal.SIGKILL)
        return alive

    ex._receive = receive_and_kill
    search.run()
    assert killed, 'no training was seen to kill'
    pid, cand_id = killed[0]
    assert ex.replaced == 1 and ex.requeued == 1
    assert pid not in [w.pid for w in ex.workers]
    assert search.archive.get(cand_id)['status'] == 'trained'
    assert_complete(search, submitted, returned)


@pytest.fixture(scope='module')
def local_ray():
    """One local Ray instance (2 CPUs) for the module's tests."""
    ray = pytest.importorskip('ray')
    try:
        ray.init(num_cpus=2, include_dashboard=False,
                 log_to_driver=False)
    except Exception as exc:  # noqa: BLE001
        pytest.skip(f'a local Ray instance cannot start here: {exc!r}')
    yield ray
    ray.shutdown()


def test_ray_executor_survives_a_killed_actor(local_ray, tiny_data, tmp_path):
    ray = local_ray
    search = cross_entropy_search(tiny_data, tmp_path, dict(
        type='ray', num_workers=2, num_cpus=1), max_iters=20)
    search.prepare()
    ex = search.executor
    submitted, returned = record(ex)
    killed = []

    def kill_a_busy_actor():
        deadline = time.time() + 120
        while not killed and time.time() < deadline:
            for slot, cand_id in ex.busy().items():
                try:
                    pid = ex.pid(slot, timeout=0)
                except ray.exceptions.GetTimeoutError:
                    continue  # still building its trainer
                killed.append((pid, cand_id))
                ray.kill(ex.actors[slot])
                return
            time.sleep(0.02)

    killer = threading.Thread(target=kill_a_busy_actor, daemon=True)
    killer.start()
    search.run()
    killer.join()
    assert killed, 'no busy actor was seen to kill'
    assert ex.replaced >= 1 and ex.requeued >= 1
    assert_complete(search, submitted, returned)
    assert ray.is_initialized()  # the executor leaves a Ray it did not start
    assert not ex.busy()


def broken_proxy(tiny_data):
    """A config and settings whose proxy model cannot be built."""
    cfg = tiny_search_config('demo/voc_miou.py', tiny_data['voc'])
    settings = SearchSettings.from_config(cfg)
    cfg.model.backbone.type = 'NoSuchBackbone'
    return cfg, settings


def test_process_worker_that_cannot_build_raises(tiny_data, tmp_path):
    cfg, settings = broken_proxy(tiny_data)
    ex = ProcessExecutor(cfg, settings, tmp_path, num_workers=1)
    ex.submit(Candidate(Individual({'seg': CE[0]}), id=1))
    with pytest.raises(RuntimeError, match='(?s)worker 0 could not build.*'
                       'NoSuchBackbone'):
        ex.wait()
    assert not ex.workers[0].process.is_alive()


def test_ray_actor_that_cannot_build_raises(local_ray, tiny_data, tmp_path):
    cfg, settings = broken_proxy(tiny_data)
    ex = RayExecutor(cfg, settings, tmp_path, num_workers=1)
    ex.submit(Candidate(Individual({'seg': CE[0]}), id=1))
    with pytest.raises(RuntimeError, match='(?s)worker 0 could not build.*'
                       'NoSuchBackbone'):
        ex.wait()
    assert local_ray.is_initialized()
