"""Screen candidates in parallel worker processes, deterministically.

Rejection is compute-bound element-wise work on the captured tensors and
independent per candidate, so it scales with processes (one torch thread
each). Proposals are drawn in a batch, screened in parallel and consumed in
order; the searcher's RNG is then rewound to just after the first passing
proposal, so a search gives the same candidates with any number of workers.
"""
import multiprocessing
from typing import List, Optional

import torch

from .individual import Individual
from .rejection import LossRejection, Screening

_WORKER: Optional[LossRejection] = None


def _init_worker(rejection: LossRejection) -> None:
    global _WORKER
    torch.set_num_threads(1)
    import autoloss_zero  # noqa: F401  (registries, shims)
    _WORKER = rejection


def _screen(key_json: str) -> Screening:
    return _WORKER.screen(Individual.from_json(key_json))


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

    def screen(self, individuals: List[Individual]) -> List[Screening]:
        """Screenings of ``individuals``, in order."""
        return self.pool.map(_screen, [i.to_json() for i in individuals],
                             chunksize=1)

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
