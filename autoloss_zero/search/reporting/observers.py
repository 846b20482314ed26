"""The observers a search's settings ask for (see
:class:`~autoloss_zero.search.loop.observers.SearchObserver`)."""
from typing import List

from ..loop.observers import SearchObserver
from .progress import SearchProgress
from .tracking import SearchTracker


def build_observers(settings, work_dir, logger) -> List[SearchObserver]:
    """The progress display (a live bar on a terminal, plain lines
    elsewhere) and the tracking of ``search.visualizer``.

    Args:
        settings: the search settings (``visualizer``).
        work_dir: the search's work dir (``vis_data/``).
        logger: the search's logger (unused: the observers get it from
            the search when it starts).
    """
    return [SearchProgress(), SearchTracker(settings.visualizer, work_dir)]
