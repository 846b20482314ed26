"""The verdict: the best losses and the baseline re-trained on fresh seeds
and compared pairwise (better / no significant difference / worse)."""
from typing import Dict

from .reevaluation import Reevaluation
from .stats import (VERDICTS, PairedComparison, compare, compare_by_seed,
                    comparison_from_dict, mean_ci)


def load_verdicts(archive) -> Dict[int, PairedComparison]:
    """{candidate id: comparison} stored by the last verdict (or {})."""
    stored = archive.meta('verdict') or {}
    return {int(k): comparison_from_dict(v)
            for k, v in stored.get('candidates', {}).items()}


__all__ = ['Reevaluation', 'PairedComparison', 'compare', 'compare_by_seed',
           'mean_ci', 'VERDICTS', 'comparison_from_dict', 'load_verdicts']
