"""Readable forms of a tree (sympy formula, LaTeX) and coefficient analysis.

Safe ops are rendered as their plain mathematical form (``log(x)``, ``1/x``,
``sqrt(x)``, ``exp(x)``); ``mean_c``, ``mean_hw``, ``max_pool3`` and
``min_pool3`` (and any op registered without a ``sympy_fn``) are undefined
sympy Functions of their name. Leaves are real sympy symbols; the leaf ``1``
is the integer 1.
"""
import contextlib
import functools
import signal
import threading
import time
from typing import Optional, Tuple

import numpy as np
import sympy
import torch

from .evaluate import evaluate
from .ops import OPS
from .tree import Tree

#: Trees with at most this many nodes get the full ``sympy.simplify``;
#: larger ones only the cheap rewrites of :func:`_cheap_simplify`, whose
#: time is bounded (full simplify of nested exp/log/tanh can take minutes).
FULL_SIMPLIFY_MAX_NODES = 12
#: Seconds after which a full ``sympy.simplify`` is abandoned for the cheap
#: rewrites (where a timer is available, see :func:`_time_limit`).
SIMPLIFY_TIMEOUT = 2.0


def coefficient_symbol(index: int) -> sympy.Symbol:
    """The sympy symbol ``c_<index>`` of node ``index``'s coefficient."""
    return sympy.Symbol(f'c_{index}', real=True)


def to_sympy(tree: Tree, with_coefficients: bool = False) -> sympy.Expr:
    """The tree as a sympy expression (not simplified beyond sympy's
    automatic evaluation).

    Args:
        tree (Tree): The tree.
        with_coefficients (bool): If True, every node's value is multiplied
            by its own symbol ``c_<i>`` (i = prefix index), for coefficient
            analysis; if False, the tree's numeric coefficients are used
            (those equal to 1 are not shown).

    Returns:
        sympy.Expr: The expression.
    """
    stack = []
    symbols = {}
    for index in range(len(tree) - 1, -1, -1):
        name, arity = tree.nodes[index], tree.arities[index]
        if arity:
            args = [stack.pop() for _ in range(arity)]
            expr = OPS[name].to_sympy(*args)
        elif name == '1':
            expr = sympy.Integer(1)
        else:
            expr = symbols.get(name)
            if expr is None:
                expr = symbols[name] = sympy.Symbol(name, real=True)
        if with_coefficients:
            expr = coefficient_symbol(index) * expr
        elif tree.coefficients[index] != 1.0:
            expr = sympy.Float(tree.coefficients[index]) * expr
        stack.append(expr)
    return stack[0]


def _cheap_simplify(expr: sympy.Expr) -> sympy.Expr:
    """Bounded-time simplification: collect powers and like terms."""
    return sympy.powsimp(expr, combine='exp', deep=True)


class _Timeout(BaseException):
    """Raised by the alarm of :func:`_time_limit` (a BaseException, so that
    sympy's internal ``except Exception`` clauses do not swallow it)."""


@contextlib.contextmanager
def _time_limit(seconds: Optional[float]):
    """Raise :class:`_Timeout` in the block after ``seconds``.

    Uses ``SIGALRM``, so it limits only in the main thread of a POSIX
    process; elsewhere the block runs without a limit. An interval timer
    already running (e.g. pytest-timeout's) is suspended and re-armed with
    its remaining time on exit; if it would fire first, it is left alone.
    """
    usable = (seconds is not None and seconds > 0
              and hasattr(signal, 'setitimer')
              and threading.current_thread() is threading.main_thread())
    outer = signal.getitimer(signal.ITIMER_REAL) if usable else (0.0, 0.0)
    if not usable or 0 < outer[0] <= seconds:
        yield
        return

    def on_alarm(signum, frame):
        raise _Timeout()

    start = time.monotonic()
    previous = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer[0] > 0:
            left = outer[0] - (time.monotonic() - start)
            signal.setitimer(signal.ITIMER_REAL, max(left, 1e-3), outer[1])


@functools.lru_cache(maxsize=4096)  # a report renders each tree many times
def simplify(tree: Tree,
             with_coefficients: bool = False,
             max_nodes: int = FULL_SIMPLIFY_MAX_NODES,
             timeout: Optional[float] = SIMPLIFY_TIMEOUT) -> sympy.Expr:
    """The simplified sympy expression of ``tree``, in bounded time.

    Trees of at most ``max_nodes`` nodes get ``sympy.simplify``, stopped
    after ``timeout`` seconds where a timer is available (main thread on
    POSIX); larger trees, and stopped runs, get the cheap rewrites of
    :func:`_cheap_simplify` only, so rendering never hangs a search. sympy
    treats the plain forms literally (``log(0)`` is ``zoo``) and some of its
    routines raise on such expressions; a failing step falls back to the
    cheaper one, and finally to the unsimplified expression.
    """
    expr = to_sympy(tree, with_coefficients=with_coefficients)
    if len(tree) <= max_nodes:
        try:
            with _time_limit(timeout):
                return sympy.simplify(expr)
        except _Timeout:
            pass
        except Exception:  # sympy bugs, e.g. 'Invalid NaN comparison'
            pass
    try:
        return _cheap_simplify(expr)
    except Exception:
        return expr


def formula(tree: Tree,
            max_nodes: int = FULL_SIMPLIFY_MAX_NODES,
            timeout: Optional[float] = SIMPLIFY_TIMEOUT) -> str:
    """A readable simplified formula, e.g. ``-y*log(yhat)``.

    Never raises for a valid tree: if sympy fails altogether, the canonical
    string is returned.
    """
    try:
        return sympy.sstr(simplify(tree, max_nodes=max_nodes,
                                   timeout=timeout))
    except Exception:
        return str(tree)


def to_latex(tree: Tree,
             max_nodes: int = FULL_SIMPLIFY_MAX_NODES,
             timeout: Optional[float] = SIMPLIFY_TIMEOUT) -> str:
    """LaTeX of the simplified formula, e.g. ``- y \\log{\\left(\\hat{y}
    \\right)}``; ``\\texttt{<canonical string>}`` if sympy fails."""
    try:
        return sympy.latex(simplify(tree, max_nodes=max_nodes,
                                    timeout=timeout))
    except Exception:
        return '\\texttt{%s}' % str(tree).replace('_', '\\_')


def coefficient_jacobian(tree: Tree,
                         rng: Optional[np.random.Generator] = None,
                         shape: Tuple[int, ...] = (2, 3, 4, 4)
                         ) -> torch.Tensor:
    """Jacobian of the element-wise value w.r.t. all node coefficients.

    Evaluated in float64 at the tree's coefficients and at random leaf
    values: ``yhat`` and extra leaves uniform in (0.05, 0.95), ``y`` uniform
    in (0, 1) (interior points, away from the kinks of abs/sign and the
    clamps of the safe ops).

    Returns:
        Tensor: (elements, nodes) float64, rows with a non-finite entry
        removed.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    leaves = {}
    for name in sorted(tree.leaves - {'1'}):
        low = 0.0 if name == 'y' else 0.05
        values = rng.uniform(low, 0.95, size=shape)
        leaves[name] = torch.from_numpy(values)
    if not leaves:  # a canvas for trees of constants only
        leaves['_canvas'] = torch.zeros(shape, dtype=torch.float64)
    base = torch.tensor(tree.coefficients, dtype=torch.float64)

    def value(coefficients):
        return evaluate(tree, leaves, coefficients=coefficients).reshape(-1)

    jac = torch.autograd.functional.jacobian(value, base, vectorize=True)
    return jac[torch.isfinite(jac).all(dim=1)]


def independent_coefficients(tree: Tree,
                             rng: Optional[np.random.Generator] = None,
                             rtol: float = 1e-8) -> Tuple[int, ...]:
    """Indices of the nodes whose coefficients are independent.

    Method: the columns of the Jacobian J[e, i] = d value[e] / d c_i (see
    :func:`coefficient_jacobian`, at random leaf values) span the directions
    in which the coefficients can change the loss. Scanning the nodes in
    prefix order (the root first), a node is kept when its column is not,
    up to ``rtol``, a linear combination of the columns kept before
    (Gram-Schmidt on normalised columns). The number kept is the numerical
    rank of J: the number of coefficients that remain after simplifying the
    expression. For ``neg(mul(y,log(yhat)))`` the scales of neg, mul, y and
    log all multiply the same product (one direction, kept at the root);
    the scale of ``yhat`` inside the log adds ``-y*log(c)``, a second
    direction, so the result is ``(0, 4)``. A zero column (a coefficient
    that does not change the value) is never kept.

    Args:
        tree (Tree): The tree.
        rng (numpy.random.Generator, optional): For the leaf values;
            default a fixed seed, so the result is deterministic.
        rtol (float): Relative tolerance of the rank decision.

    Returns:
        tuple[int, ...]: Node indices, increasing.
    """
    jac = coefficient_jacobian(tree, rng)
    kept = []
    basis = []
    for index in range(jac.shape[1]):
        column = jac[:, index].clone()
        norm = column.norm()
        if not torch.isfinite(norm) or norm == 0:
            continue
        column = column / norm
        for _ in range(2):  # Gram-Schmidt twice keeps the basis orthogonal
            for q in basis:
                column = column - (q @ column) * q
        residual = column.norm()
        if residual > rtol:
            basis.append(column / residual)
            kept.append(index)
    return tuple(kept)
