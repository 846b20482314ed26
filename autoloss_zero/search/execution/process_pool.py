"""``process`` executor: a pool of warm worker processes on this machine.

Each worker is a ``spawn``-ed process (torch and ``fork`` do not mix) that
builds its own :class:`~autoloss_zero.search.execution.proxy.ProxyTrainer`
once, in
``<work_dir>/worker<i>``, and then trains candidate after candidate on it:
datasets, model skeleton, optimizer and the initial snapshot stay warm.
Where CUDA GPUs exist there is one worker per GPU, pinned to it through
``CUDA_VISIBLE_DEVICES``; every worker runs torch on the search's
``search.proxy.threads`` intra-op threads, like every proxy training.

Fault tolerance: a Python exception inside a training is a ``failed`` result
(:func:`~autoloss_zero.search.execution.base.train_safely`), the worker
lives on. A
worker that dies (killed, segfault, out of memory) is replaced by a fresh one
in the same slot and its candidate re-queued first in line; a candidate that
killed ``max_retries + 1`` workers is a ``failed`` result. A worker that
cannot build its trainer is an error of the search: :meth:`wait` raises it
with the worker's traceback.

Workers die with the driver (``PR_SET_PDEATHSIG`` on Linux, else a watchdog
thread), so a SIGKILLed search leaves no orphans training on. (On Linux the
signal follows the thread that started the worker: drive the executor from
one long-lived thread, as
:class:`~autoloss_zero.search.loop.engine.LossSearch` does.)
"""
import ctypes
import os
import signal
import sys
import threading
import time
import traceback
from multiprocessing import connection, get_context
from pathlib import Path
from typing import List, Optional, Sequence

from ...registry import EXECUTORS
from ..loop.candidate import Candidate
from ..loop.stopping import ignore_interrupts
from .base import QueuedExecutor

#: Environment variables that size a worker's thread pools.
_THREAD_VARS = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')
_ENV_LOCK = threading.Lock()


def _die_with_parent(parent: int) -> None:
    """Make this worker die when the process that spawned it dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: poll the parent instead
        def watch():
            while os.getppid() == parent:
                time.sleep(1.0)
            os._exit(1)

        threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:  # the parent died before prctl
        os._exit(1)


def worker_main(slot: int, cfg, settings, work_dir: str, threads: int,
                parent: int, conn) -> None:
    """A worker's life: build the warm trainer, then train on request.

    Messages to the driver: ``('ready', pid)``, ``('error', traceback)``,
    ``('start', cand_id)`` and ``('done', cand_id, ProxyResult)``; from it:
    a :class:`Candidate` to train, or ``None`` to stop.
    """
    _die_with_parent(parent)
    ignore_interrupts()  # Ctrl-C is the driver's to handle
    import torch
    torch.set_num_threads(threads)
    from .trainers import Trainers  # in the worker only
    try:
        trainers = Trainers(cfg, settings, Path(work_dir) / f'worker{slot}')
        trainers.get()  # warm before the first candidate
    except Exception:  # noqa: BLE001  (sent to the driver, which raises)
        conn.send(('error', traceback.format_exc()))
        return
    conn.send(('ready', os.getpid()))
    while True:
        try:
            candidate = conn.recv()
        except (EOFError, OSError):  # the driver is gone
            return
        if candidate is None:
            return
        conn.send(('start', candidate.id))
        conn.send(('done', candidate.id, trainers.train(candidate)))


class _Worker:
    """The driver's handle on one worker process."""

    def __init__(self, slot: int, process, conn, gpu: Optional[str]):
        self.slot = slot
        self.process = process
        self.conn = conn
        self.gpu = gpu
        self.ready = False
        #: the candidate sent to it and not finished yet.
        self.task: Optional[Candidate] = None
        #: True between its ``start`` and ``done`` messages.
        self.training = False
        #: candidates this (warm) process trained.
        self.trained = 0

    @property
    def pid(self) -> Optional[int]:
        return self.process.pid


def visible_gpus() -> List[str]:
    """Ids of the CUDA devices this process may use (may be empty)."""
    try:
        import torch
        count = torch.cuda.device_count()
    except Exception:  # noqa: BLE001  (no usable CUDA: CPU workers)
        count = 0
    if count == 0:
        return []
    visible = os.environ.get('CUDA_VISIBLE_DEVICES')
    ids = [v.strip() for v in visible.split(',')] if visible else [
        str(i) for i in range(count)]
    return ids[:count]


@EXECUTORS.register_module(name='process')
class ProcessExecutor(QueuedExecutor):
    """Proxy trainings in a pool of warm worker processes.

    Args:
        cfg, settings, work_dir: the search's config, settings and work dir:
            worker ``i`` builds its own proxy trainers from them and logs in
            ``<work_dir>/worker<i>``.
        num_workers: pool size; default one per visible GPU, else 2.
        gpus: CUDA device ids to spread the workers over (round robin);
            default the visible ones. ``[]`` forces CPU workers.
        max_retries: how many times a candidate is re-queued after the
            worker training it died before it counts as ``failed``; also how
            many workers in a row may die while starting before
            :meth:`wait` gives up.
        trainer: the driver's warm trainer (unused; workers build their own).
    """

    def __init__(self, cfg, settings, work_dir,
                 num_workers: Optional[int] = None,
                 gpus: Optional[Sequence] = None, max_retries: int = 2,
                 trainer=None, logger=None):
        self.gpus = [str(g) for g in (visible_gpus() if gpus is None
                                      else gpus)]
        if num_workers is None:
            num_workers = len(self.gpus) or 2
        if int(num_workers) < 1:
            raise ValueError(f'search.executor.num_workers must be >= 1, got '
                             f'{num_workers}')
        super().__init__(max_retries, logger)
        self.capacity = int(num_workers)
        self.threads = settings.proxy.threads
        self.cfg, self.settings = cfg, settings
        self.work_dir = str(work_dir)
        self._ctx = get_context('spawn')
        self._start_failures = [0] * self.capacity
        self.workers: List[_Worker] = [
            self._start(i) for i in range(self.capacity)]

    # -- workers -------------------------------------------------------------
    def _start(self, slot: int) -> _Worker:
        gpu = self.gpus[slot % len(self.gpus)] if self.gpus else None
        env = {v: str(self.threads) for v in _THREAD_VARS}
        env['CUDA_VISIBLE_DEVICES'] = gpu if gpu is not None else ''
        ours, theirs = self._ctx.Pipe()
        process = self._ctx.Process(
            target=worker_main, name=f'autoloss-worker{slot}',
            args=(slot, self.cfg, self.settings, self.work_dir, self.threads,
                  os.getpid(), theirs))
        # A spawned child inherits os.environ as it is at start(): set the
        # worker's pinning for that moment only.
        with _ENV_LOCK:
            saved = {k: os.environ.get(k) for k in env}
            os.environ.update(env)
            try:
                process.start()
            finally:
                for key, value in saved.items():
                    if value is None:
                        os.environ.pop(key, None)
                    else:
                        os.environ[key] = value
        theirs.close()
        return _Worker(slot, process, ours, gpu)

    def _dispatch(self) -> None:
        for worker in self.workers:
            if not self._pending:
                return
            if worker.task is None:
                worker.task = self._pending.popleft()
                try:
                    worker.conn.send(worker.task)
                except (BrokenPipeError, OSError):
                    pass  # it died: _poll sees its sentinel and re-queues

    def _busy(self) -> bool:
        return any(w.task is not None for w in self.workers)

    def _receive(self, worker: _Worker) -> bool:
        """Handle the worker's waiting messages; False once its pipe closed."""
        try:
            while worker.conn.poll():
                msg = worker.conn.recv()
                if msg[0] == 'ready':
                    worker.ready = True
                    self._start_failures[worker.slot] = 0
                elif msg[0] == 'start':
                    worker.training = True
                elif msg[0] == 'done':
                    candidate, result = worker.task, msg[2]
                    worker.task, worker.training = None, False
                    worker.trained += 1
                    self._finished(candidate, result)
                elif msg[0] == 'error':
                    self.close()
                    raise RuntimeError(
                        f'process worker {worker.slot} could not build its '
                        f'proxy trainer:\n{msg[1]}')
        except (EOFError, OSError):
            return False
        return True

    def _replace(self, worker: _Worker) -> None:
        """Re-queue the dead worker's candidate and start a fresh worker."""
        worker.process.join()
        code = worker.process.exitcode
        worker.conn.close()
        how = (f'killed by signal {-code}' if code is not None and code < 0
               else f'exit code {code}')
        if not worker.ready:
            self._start_failures[worker.slot] += 1
            if self._start_failures[worker.slot] > self.max_retries:
                self.close()
                raise RuntimeError(
                    f'process worker {worker.slot} died {how} while starting '
                    f'{self._start_failures[worker.slot]} times in a row')
        what = 'while idle'
        if worker.task is not None:  # start-up deaths are not its fault
            what = 'with ' + self._lost(
                worker.task, f'{{n}} workers died training it (last: {how})',
                count=worker.ready)
        self._warn(f'process worker {worker.slot} (pid {worker.pid}) died '
                   f'({how}) {what}; starting a fresh one')
        self.workers[worker.slot] = self._start(worker.slot)
        self.replaced += 1

    def _poll(self, timeout: Optional[float]) -> None:
        """Wait up to ``timeout`` for messages or deaths and handle them."""
        handles = [w.conn for w in self.workers] + [
            w.process.sentinel for w in self.workers]
        ready = set(connection.wait(handles, timeout))
        for worker in list(self.workers):
            alive = self._receive(worker) if worker.conn in ready else True
            if not alive or worker.process.sentinel in ready:
                self._receive(worker)  # results sent just before it died
                worker.process.join(timeout=5)
                if worker.process.exitcode is None:  # closed pipe, alive
                    worker.process.kill()
                self._replace(worker)
        self._dispatch()

    # -- Executor ------------------------------------------------------------
    def close(self) -> None:
        """Stop the workers (those that do not stop in 10 s are killed)."""
        for worker in self.workers:
            try:
                worker.conn.send(None)
            except (BrokenPipeError, OSError):
                pass
        deadline = time.time() + 10
        for worker in self.workers:
            worker.process.join(max(0.0, deadline - time.time()))
            if worker.process.exitcode is None:
                worker.process.kill()
                worker.process.join()
            worker.conn.close()

    def __del__(self):
        if sys.is_finalizing():
            return
        for worker in getattr(self, 'workers', []):
            if worker.process.exitcode is None:
                worker.process.kill()
