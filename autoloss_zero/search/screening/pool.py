"""Screen candidates in parallel worker processes, deterministically.

Rejection is compute-bound element-wise work on the captured tensors and
independent per tree, so it scales with processes (one torch thread each).
The search draws trees in a batch, screens them in parallel and consumes
them in order; the searcher's RNG is then rewound to just after the first
passing tree, so a search gives the same candidates with any number of
workers. Trees that the tree alone decides (:mod:`.prefilter`) are rejected
in the driver; the rest are split into one chunk per worker, each screened
there in lockstep (:meth:`LossRejection.screen_batch`), which gives every
tree the screening it gets alone.
"""
import multiprocessing
from typing import List, Optional, Sequence, Tuple

import torch

from ...graph import Tree
from ..loop.stopping import ignore_interrupts
from .protocol import LossRejection
from .result import Screening

_WORKER: Optional[LossRejection] = None


def _init_worker(rejection: LossRejection) -> None:
    global _WORKER
    ignore_interrupts()  # Ctrl-C is the driver's to handle
    torch.set_num_threads(1)
    import autoloss_zero  # noqa: F401  (registries, shims)
    _WORKER = rejection


def _screen(items: Sequence[Tuple[str, str]]) -> List[Screening]:
    return _WORKER.screen_batch([(b, Tree.parse(t)) for b, t in items])


class ScreeningPool:
    """``workers`` processes holding the captured tensors.

    Args:
        rejection: the driver's protocol (pickled once to each worker).
        workers: number of processes.
    """

    def __init__(self, rejection: LossRejection, workers: int):
        if workers < 1:
            raise ValueError(f'search.rejection.workers must be >= 1 for a '
                             f'pool, got {workers}')
        self.workers = workers
        self.rejection = rejection
        self.pool = multiprocessing.get_context('spawn').Pool(
            workers, initializer=_init_worker, initargs=(rejection, ))

    def screen(self, items: List[Tuple[str, Tree]]) -> List[Screening]:
        """Screenings of (branch, tree) pairs, in order."""
        results: List[Optional[Screening]] = [None] * len(items)
        todo = []
        for i, (branch, tree) in enumerate(items):
            results[i] = self.rejection.prefiltered(branch, tree)
            if results[i] is None:
                todo.append(i)
        # contiguous chunks, as even as possible, one per worker
        bounds = [len(todo) * k // self.workers
                  for k in range(self.workers + 1)]
        chunks = [todo[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]
        screened = self.pool.map(
            _screen, [[(items[i][0], str(items[i][1])) for i in chunk]
                      for chunk in chunks], chunksize=1)
        for chunk, screenings in zip(chunks, screened):
            for i, screening in zip(chunk, screenings):
                results[i] = screening
        return results

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
