"""Screen candidates in parallel worker processes, deterministically.

Rejection is compute-bound element-wise work on the captured tensors and
independent per tree, so it scales with processes (one torch thread each).
The search draws trees in a batch, screens them in parallel and consumes
them in order; the searcher's RNG is then rewound to just after the first
passing tree, so a search gives the same candidates with any number of
workers.
"""
import multiprocessing
from typing import List, Optional, Tuple

import torch

from ..graph import Tree
from .rejection import LossRejection, Screening

_WORKER: Optional[LossRejection] = None


def _init_worker(rejection: LossRejection) -> None:
    global _WORKER
    torch.set_num_threads(1)
    import autoloss_zero  # noqa: F401  (registries, shims)
    _WORKER = rejection


def _screen(item: Tuple[str, str]) -> Screening:
    branch, tree = item
    return _WORKER.screen_branch(branch, Tree.parse(tree))


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
        self.pool = multiprocessing.get_context('spawn').Pool(
            workers, initializer=_init_worker, initargs=(rejection, ))

    def screen(self, items: List[Tuple[str, Tree]]) -> List[Screening]:
        """Screenings of (branch, tree) pairs, in order."""
        return self.pool.map(_screen, [(b, str(t)) for b, t in items],
                             chunksize=1)

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
