"""The loss-graph search space of AutoLoss-Zero: trees, ops, evaluation.

* :mod:`.ops` — the primitive operators H, safe by construction, in a
  registry.
* :mod:`.tree` / :mod:`.parser` — immutable prefix-order trees and their
  canonical string (identity) with a parser (never ``eval``).
* :mod:`.evaluate` / :mod:`.reduce` — stack evaluation on the canvas and the
  reduction to a scalar loss.
* :mod:`.space` / :mod:`.generate` — the search space of a branch and the
  random init, mutation and crossover operators.
* :mod:`.render` — sympy formula, LaTeX and independent coefficients.
* :mod:`.leaves` — prediction leaves with their exact logarithms.
* :mod:`.export` — a searched tree prepared for retraining (dead terms
  dropped, loss rescaled to O(1)).
"""
from .evaluate import check_finite, evaluate
from .export import ExportedTree, additive_terms, prepare_for_export
from .generate import (crossover, deletion, insertion, mutate,
                       mutate_with_info, random_tree, replacement)
from .leaves import log1m_key, log_key, prediction_leaves
from .ops import (DEFAULT_LEAVES, DEFAULT_OPS, EPS, OPS, OPTIONAL_OPS, Op,
                  register_op)
from .parser import TreeSyntaxError
from .reduce import reduce_loss
from .render import (coefficient_jacobian, formula, independent_coefficients,
                     simplify, to_latex, to_sympy)
from .space import SearchSpace, spatial_of_shape
from .tree import Tree, parse_tree

__all__ = [
    'Op', 'OPS', 'register_op', 'DEFAULT_OPS', 'OPTIONAL_OPS',
    'DEFAULT_LEAVES', 'EPS', 'Tree', 'parse_tree', 'TreeSyntaxError',
    'evaluate', 'check_finite', 'reduce_loss', 'SearchSpace',
    'spatial_of_shape', 'random_tree', 'mutate', 'mutate_with_info',
    'crossover', 'insertion', 'deletion', 'replacement', 'to_sympy',
    'simplify', 'formula', 'to_latex', 'independent_coefficients',
    'coefficient_jacobian', 'prediction_leaves', 'log_key',
    'log1m_key', 'ExportedTree', 'additive_terms', 'prepare_for_export'
]
