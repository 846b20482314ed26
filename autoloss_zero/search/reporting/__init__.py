"""Reporting: the end-of-search summary and ``best/`` snippets, the
progress plot, archive analysis and loss/gradient curves."""
from .analysis import analyze, format_analysis
from .loss_curves import (describe, load_losses, plot_losses,
                          plot_search_progress)
from .progress_plot import plot_progress
from .snippets import loss_snippet
from .summary import write_report

__all__ = ['write_report', 'loss_snippet', 'plot_progress', 'analyze',
           'format_analysis', 'describe', 'load_losses', 'plot_losses',
           'plot_search_progress']
