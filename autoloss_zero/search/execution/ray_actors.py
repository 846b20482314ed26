"""``ray`` executor: warm proxy trainers held by Ray actors.

The executor connects to a running cluster (``address='auto'`` or an
address) or, with ``address=None``, starts a local Ray instance sized for its
actors; a Ray session already started in this process is used as it is. It
keeps one actor per worker slot; each builds its
:class:`~autoloss_zero.search.execution.proxy.ProxyTrainer` once and trains
candidate
after candidate on it. Every actor asks for ``num_cpus`` CPUs and
``num_gpus`` GPUs (default: one GPU per proxy run where the cluster has
GPUs; Ray pins the actor to them through ``CUDA_VISIBLE_DEVICES``).

Fault tolerance: a Python exception inside a training is a ``failed`` result
(:func:`~autoloss_zero.search.execution.base.train_safely`). An actor whose
process crashes is restarted by Ray itself (``max_restarts``) and its task
retried there (``max_task_retries``). One that is gone for good (``ray.kill``,
restarts used up) is replaced by a fresh one and its candidate re-queued; so
is a task Ray itself failed. A candidate that failed so ``max_retries + 1``
times is a ``failed`` result. An actor whose trainer cannot be built is an
error of the search, raised with its traceback.

The data roots, work dir and ``autoloss_zero`` must exist on every node.
"""
import math
import os
from pathlib import Path
from typing import Dict, List, Optional

from ...registry import EXECUTORS
from ..loop.candidate import Candidate
from .base import QueuedExecutor
from .proxy import ProxyResult


class RayProxyWorker:
    """The body of one Ray actor: the warm proxy trainers of a search.

    Args:
        slot: the worker slot; it logs in ``<work_dir>/worker<slot>``.
        cfg: the search config.
        settings: validated search settings.
        work_dir: the search's work dir.
        threads: torch intra-op threads.
    """

    def __init__(self, slot: int, cfg, settings, work_dir: str, threads: int):
        for var in ('OMP_NUM_THREADS', 'MKL_NUM_THREADS'):
            os.environ[var] = str(threads)
        import torch
        torch.set_num_threads(threads)
        from .trainers import Trainers  # in the actor only
        self.trainers = Trainers(cfg, settings,
                                 Path(work_dir) / f'worker{slot}')
        self.trainers.get()  # warm before the first candidate

    def ready(self) -> int:
        """The actor's pid, once its trainer is built."""
        return os.getpid()

    def train(self, candidate: Candidate) -> ProxyResult:
        return self.trainers.train(candidate)


def _import_ray():
    try:
        import ray
    except ImportError as exc:
        raise ImportError("the 'ray' executor needs Ray: pip install "
                          "'ray>=2.9' (or the autoloss_zero[ray] extra)"
                          ) from exc
    return ray


@EXECUTORS.register_module(name='ray')
class RayExecutor(QueuedExecutor):
    """Proxy trainings in warm Ray actors.

    Args:
        cfg: the search config (each actor builds its own proxy from it).
        settings: validated search settings.
        work_dir: the search's work dir; actor ``i`` logs in ``worker<i>``.
        address: cluster address (``'auto'``: the running one); ``None``
            starts a local instance (with ``num_workers * num_cpus`` CPUs
            when ``num_workers`` is given) unless this process already
            joined one.
        num_workers: number of actors; default as many as the cluster's
            resources hold.
        num_cpus: CPUs per actor (its proxy trainings run on
            ``search.proxy.threads`` torch threads).
        num_gpus: GPUs per actor; default 1 when the cluster has GPUs.
        max_retries: Ray's restarts of a crashed actor and retries of its
            task; also our re-runs of a candidate whose actor is gone for
            good or whose task Ray failed, before it counts as ``failed``.
        init_kwargs: more arguments of ``ray.init``.
        trainer: the driver's warm trainer (unused; actors build their own).
    """

    def __init__(self, cfg, settings, work_dir, address: Optional[str] = None,
                 num_workers: Optional[int] = None, num_cpus: float = 1,
                 num_gpus: Optional[float] = None,
                 max_retries: int = 2, init_kwargs: Optional[dict] = None,
                 trainer=None, logger=None):
        ray = self.ray = _import_ray()
        if num_cpus < 0 or (num_gpus or 0) < 0 or max_retries < 0:
            raise ValueError(
                f'search.executor needs num_cpus, num_gpus and max_retries '
                f'>= 0, got {num_cpus}, {num_gpus}, {max_retries}')
        super().__init__(max_retries, logger)
        if num_workers is not None and int(num_workers) < 1:
            raise ValueError(f'search.executor.num_workers must be >= 1, got '
                             f'{num_workers}')
        self._owns_ray = not ray.is_initialized()
        if self._owns_ray:
            init = dict(include_dashboard=False, **(init_kwargs or {}))
            if address is None and num_workers is not None:
                init.setdefault('num_cpus', max(1, math.ceil(
                    num_workers * num_cpus)))
            ray.init(address=address, **init)
        total = ray.cluster_resources()
        if num_gpus is None:
            num_gpus = 1 if total.get('GPU', 0) >= 1 else 0
        for name, need in (('CPU', num_cpus), ('GPU', num_gpus)):
            if need > total.get(name, 0):
                raise ValueError(
                    f'each ray worker asks for {need} {name}(s) but the '
                    f'cluster has {total.get(name, 0)}; lower search.executor'
                    f'.num_{name.lower()}s')
        if num_workers is None:
            fits = [total.get(n, 0) // need for n, need in
                    (('CPU', num_cpus), ('GPU', num_gpus)) if need > 0]
            num_workers = max(1, int(min(fits))) if fits else 2
        self.capacity = int(num_workers)
        self.threads = settings.proxy.threads
        self._actor_class = ray.remote(RayProxyWorker).options(
            num_cpus=num_cpus, num_gpus=num_gpus,
            max_restarts=self.max_retries,
            max_task_retries=self.max_retries)
        # the config and settings go to the object store once
        self._args = (ray.put(cfg), ray.put(settings), str(work_dir))
        self._tasks: Dict = {}  # ObjectRef -> (slot, candidate)
        self.actors: List = [None] * self.capacity
        self._ready: List = [None] * self.capacity
        for slot in range(self.capacity):
            self._start(slot)

    # -- actors --------------------------------------------------------------
    def _start(self, slot: int) -> None:
        cfg, settings, work_dir = self._args
        actor = self._actor_class.remote(slot, cfg, settings, work_dir,
                                         self.threads)
        self.actors[slot] = actor
        self._ready[slot] = actor.ready.remote()

    def busy(self) -> Dict[int, int]:
        """{slot: candidate id} of the actors training now (safe to call
        from another thread)."""
        tasks = tuple(self._tasks.values())  # one step under the GIL
        return {slot: candidate.id for slot, candidate in tasks}

    def pid(self, slot: int, timeout: Optional[float] = None) -> int:
        """The pid of the actor in ``slot`` once it is ready."""
        return self.ray.get(self._ready[slot], timeout=timeout)

    def _dispatch(self) -> None:
        busy = self.busy()
        for slot in range(self.capacity):
            if not self._pending:
                return
            if slot not in busy:
                candidate = self._pending.popleft()
                ref = self.actors[slot].train.remote(candidate)
                self._tasks[ref] = (slot, candidate)

    def _busy(self) -> bool:
        return bool(self._tasks)

    def _poll(self, timeout: Optional[float]) -> None:
        """Collect the finished tasks (waiting up to ``timeout`` for one)."""
        if not self._tasks:
            return
        ready, _ = self.ray.wait(list(self._tasks), num_returns=1,
                                 timeout=timeout)
        if ready:
            ready, _ = self.ray.wait(list(self._tasks),
                                     num_returns=len(self._tasks), timeout=0)
        for ref in ready:
            self._collect(ref)
        self._dispatch()

    def _collect(self, ref) -> None:
        ray = self.ray
        slot, candidate = self._tasks.pop(ref)
        try:
            result = ray.get(ref)
        except ray.exceptions.RayActorError as exc:
            if getattr(exc, 'actor_init_failed', False):
                self.close()
                raise RuntimeError(f'ray worker {slot} could not build its '
                                   f'proxy trainer: {exc}') from exc
            reason = f'its ray worker died ({type(exc).__name__})'
            self._warn(f'ray worker {slot} died with candidate '
                       f'#{candidate.id}; starting a fresh one')
            self._start(slot)
            self.replaced += 1
        except ray.exceptions.RayError as exc:
            reason = f'ray failed its task: {type(exc).__name__}: ' + str(
                exc).strip().splitlines()[-1][:300]
        else:
            self._finished(candidate, result)
            return
        outcome = self._lost(candidate, reason + ', {n} times')
        self._warn(f'{reason}: {outcome}')

    # -- Executor ------------------------------------------------------------
    def close(self) -> None:
        """Kill the actors; leave Ray if this executor joined or started it."""
        for actor in self.actors:
            if actor is not None:
                self.ray.kill(actor)
        self.actors = [None] * self.capacity
        self._tasks.clear()
        if self._owns_ray and self.ray.is_initialized():
            self.ray.shutdown()
