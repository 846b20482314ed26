"""Tuning: CMA-ES over the node coefficients of a discovered loss (GLO),
each member scored on more than one seed, the result judged by the
multi-seed verdict."""
from .cma import CoefficientTuning, TuningResult
from .run import multi_seed_score, tune_coefficients, tuned_snippet

__all__ = ['CoefficientTuning', 'TuningResult', 'tune_coefficients',
           'tuned_snippet', 'multi_seed_score']
