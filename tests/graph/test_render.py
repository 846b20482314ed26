"""Rendering: sympy formula, LaTeX, independent coefficients."""
import signal

import numpy as np
import pytest
import sympy

from autoloss_zero.graph import (DEFAULT_OPS, OPTIONAL_OPS, SearchSpace, Tree,
                                 formula, independent_coefficients,
                                 to_latex, to_sympy)
from autoloss_zero.graph.generate import random_tree_of_size
from autoloss_zero.graph.render import _cheap_simplify

CE = Tree.parse('neg(mul(y,log(yhat)))')


def test_ce_formula_and_latex():
    assert formula(CE) == '-y*log(yhat)'
    assert to_latex(CE) == r'- y \log{\left(\hat{y} \right)}'


@pytest.mark.parametrize('text,expected', [
    ('inv(yhat)', '1/yhat'),
    ('sqrt(y)', 'sqrt(y)'),
    ('exp(add(y,y))', 'exp(2*y)'),
    ('div(y,square(y))', '1/y'),
    ('add(mul(y,1),neg(y))', '0'),
    ('sub(1,sigmoid(yhat))', '1/(exp(yhat) + 1)'),
    ('mean_c(max_pool3(abs(y)))', 'mean_c(max_pool3(Abs(y)))'),
    ('mul(2.5*y,min_pool3(mean_hw(yhat)))', '2.5*y*min_pool3(mean_hw(yhat))'),
])
def test_formulas_use_plain_math_forms(text, expected):
    assert formula(Tree.parse(text)) == expected


def test_to_sympy_structure():
    expr = to_sympy(CE)
    y, yhat = sympy.Symbol('y', real=True), sympy.Symbol('yhat', real=True)
    assert expr == -y * sympy.log(yhat)
    assert to_sympy(Tree.parse('mean_hw(1)')).func.__name__ == 'mean_hw'
    with_c = to_sympy(CE, with_coefficients=True)
    assert {s.name for s in with_c.free_symbols} == {
        'y', 'yhat', 'c_0', 'c_1', 'c_2', 'c_3', 'c_4'}


@pytest.mark.parametrize('text,expected', [
    # c0*c1*c2*c3 all scale one product; c4 inside the log adds -y*log(c4).
    ('neg(mul(y,log(yhat)))', (0, 4)),
    ('mul(y,y)', (0, )),
    ('add(y,yhat)', (0, 1)),  # c_2*yhat = c_0 column - c_1 column
    ('add(y,y)', (0, )),
    ('square(add(y,1))', (0, 2)),  # span{(y+1)**2, y*(y+1)}
    ('exp(y)', (0, 1)),
    ('mean_hw(mul(y,yhat))', (0, )),
    ('1', (0, )),
])
def test_independent_coefficients(text, expected):
    assert independent_coefficients(Tree.parse(text)) == expected


def test_independent_coefficients_is_deterministic_and_ignores_dead_ones():
    tree = Tree.parse('add(mul(y,0.0*yhat),exp(yhat))')
    # The zero coefficient kills the mul subtree: c_1, c_2 do nothing, but
    # c_3 itself does (d/dc_3 = y*yhat); c_4 repeats the root's direction.
    result = independent_coefficients(tree)
    assert result == independent_coefficients(tree)
    assert result == (0, 3, 5)


def test_formula_is_bounded_and_never_raises_on_large_or_odd_trees():
    space = SearchSpace(ops=DEFAULT_OPS + OPTIONAL_OPS)
    rng = np.random.default_rng(0)
    for _ in range(5):
        tree = random_tree_of_size(space, rng)
        assert isinstance(formula(tree), str) and to_latex(tree)
    # sympy raises 'Invalid NaN comparison' inside simplify on this one.
    odd = Tree.parse('sub(y,log(exp(sub(yhat,mul(y,log(sub(yhat,yhat)))))))')
    assert isinstance(formula(odd), str)
    assert isinstance(to_latex(odd), str)


def test_simplify_is_stopped_by_its_timeout():
    # Full sympy.simplify of this tree takes seconds (15 s measured).
    slow = Tree.parse('sub(yhat,inv(sub(neg(yhat),square(add(tanh(sub(mul(y,'
                      '1),sub(y,y))),div(add(mul(1,y),mul(yhat,1)),mul(div('
                      'yhat,yhat),mul(y,y))))))))')
    previous = signal.getsignal(signal.SIGALRM)
    outer = signal.getitimer(signal.ITIMER_REAL)  # pytest-timeout's, if any
    cheap = sympy.sstr(_cheap_simplify(to_sympy(slow)))
    assert formula(slow, max_nodes=100, timeout=0.05) == cheap
    # The handler and any outer timer are back.
    assert signal.getsignal(signal.SIGALRM) is previous
    now = signal.getitimer(signal.ITIMER_REAL)
    assert (now[0] > 0) == (outer[0] > 0) and now[0] <= outer[0]
