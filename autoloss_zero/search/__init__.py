"""The AutoLoss-Zero search: aging evolution, loss rejection, gradient
equivalence, warm proxy training, durable archive."""
from . import executors  # noqa: F401  (registers process and ray)
from .archive import Archive
from .engine import LossSearch
from .executor import Executor, LocalExecutor, train_safely
from .individual import Individual
from .proxy import ProxyResult, ProxyTrainer, inject_losses
from .rejection import LossRejection, Screening
from .searcher import AgingEvolution
from .settings import SearchSettings, resolve_path

__all__ = [
    'Archive', 'LossSearch', 'Executor', 'LocalExecutor', 'train_safely',
    'Individual', 'ProxyResult', 'ProxyTrainer', 'inject_losses',
    'LossRejection', 'Screening', 'AgingEvolution', 'SearchSettings',
    'resolve_path'
]
