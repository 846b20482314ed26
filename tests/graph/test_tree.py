"""Trees: canonical string identity, structure, coefficients, the parser."""
import pickle
import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from autoloss_zero.graph import Tree, TreeSyntaxError, parse_tree

CE = 'neg(mul(y,log(yhat)))'


def test_canonical_string_and_structure():
    tree = Tree(('neg', 'mul', 'y', 'log', 'yhat'))
    assert str(tree) == CE
    assert repr(tree) == f'Tree({CE!r})'
    assert tree.nodes == ('neg', 'mul', 'y', 'log', 'yhat')
    assert tree.arities == (1, 2, 0, 1, 0)
    assert tree.coefficients == (1.0, ) * 5
    assert len(tree) == 5
    assert tree.depth == 3
    assert tree.node_depths == (0, 1, 2, 2, 3)
    assert tree.leaves == {'y', 'yhat'}
    assert tree.ops == {'neg', 'mul', 'log'}
    assert [tree.subtree_end(i) for i in range(5)] == [5, 5, 3, 5, 5]
    assert tree.children(1) == (2, 3)
    assert tree.subtree(3) == Tree.parse('log(yhat)')
    assert tree.replace_subtree(3, Tree.leaf('1')) == Tree.parse(
        'neg(mul(y,1))')
    assert Tree.leaf('yhat').depth == 0


def test_identity_is_the_canonical_string():
    a = Tree.parse(CE)
    b = Tree.parse(' neg( mul(y , log(yhat)) ) ')
    assert a == b and hash(a) == hash(b) and len({a, b}) == 1
    assert a != Tree.parse('neg(mul(log(yhat),y))')
    assert a != a.with_coefficients([1, 1, 1, 2, 1])
    assert {CE: 1}[str(b)] == 1
    assert pickle.loads(pickle.dumps(a)) == a


def test_coefficients_are_written_as_prefixes_and_round_trip():
    tree = Tree.parse(CE).with_coefficients([1, 1, 1, 0.5, 1])
    assert str(tree) == 'neg(mul(y,0.5*log(yhat)))'
    odd = Tree.parse(CE).with_coefficients(
        [-2.0, 0.1 + 0.2, 1e-300, 1e16, -0.0])
    text = str(odd)
    assert text == ('-2.0*neg(0.30000000000000004*mul(1e-300*y,'
                    '1e+16*log(-0.0*yhat)))')
    assert parse_tree(text) == odd
    assert parse_tree(text).coefficients == odd.coefficients
    assert str(Tree.leaf('1', 2.5)) == '2.5*1'
    assert parse_tree('2.5*1') == Tree.leaf('1', 2.5)


@pytest.mark.parametrize('nodes,coefficients,match', [
    ((), (), 'at least one node'),
    (('add', 'y'), (), 'incomplete tree'),
    (('y', 'yhat'), (), 'left over'),
    (('neg', 'bad name'), (), 'neither a registered op'),
    (('y', ), (1.0, 2.0), 'one per node'),
    (('y', ), (float('nan'), ), 'not finite'),
    (('y', ), (float('inf'), ), 'not finite'),
])
def test_invalid_trees_are_refused(nodes, coefficients, match):
    with pytest.raises(ValueError, match=match):
        Tree(nodes, coefficients)


def test_string_is_not_a_node_sequence():
    with pytest.raises(TypeError, match='Tree.parse'):
        Tree(CE)
    with pytest.raises(ValueError, match='not a leaf name'):
        Tree.leaf('neg')


# (text, position, problem) — the message reads 'position P: PROBLEM'.
MALFORMED = [
    ('', 0, "expected a leaf or an op, got end of input"),
    ('foo(y)', 0, "unknown op 'foo'"),
    ('neg(y,y)', 5, "wrong arity: op 'neg' (position 0) takes 1 argument(s), "
     "got more"),
    ('add(y)', 5, "wrong arity: op 'add' (position 0) takes 2 argument(s), "
     "got 1"),
    ('neg()', 4, "wrong arity: op 'neg' takes 1 argument(s), got 0"),
    ('neg(y', 5, "unbalanced parentheses: 1 unclosed '(' (op 'neg' opened "
     "at position 0), got end of input"),
    ('add(y,neg(yhat)', 15, "unbalanced parentheses: 1 unclosed '(' (op "
     "'add' opened at position 0)"),
    ('neg(y))', 6, "unbalanced parentheses: unexpected ')'"),
    ('neg(y) y', 7, "trailing text 'y'"),
    ('y yhat', 2, "trailing text 'yhat'"),
    ('neg', 3, "op 'neg' needs 1 argument(s) in parentheses, got end of "
     "input"),
    ('add(neg,y)', 7, "op 'neg' needs 1 argument(s) in parentheses, got ','"),
    ('add(y,)', 6, "expected a leaf or an op, got ')'"),
    ('neg(y$)', 5, "unexpected character '$'"),
    ('0.5', 0, "number '0.5' is not a leaf"),
    ('0.5*', 4, "expected a leaf or an op, got end of input"),
    ('0.5*0.5*y', 4, "expected a leaf or an op after the coefficient, got "
     "the number '0.5'"),
    ('1e999*y', 0, "coefficient 1e999 is not finite"),
    ('neg(y;y)', 5, "unexpected character ';'"),
    ('neg(y yhat)', 6, "expected ',' or ')' after argument 1 of op 'neg', "
     "got 'yhat'"),
    ('(y)', 0, "expected a leaf or an op, got '('"),
]


@pytest.mark.parametrize('text,position,problem', MALFORMED)
def test_parser_errors_name_position_and_problem(text, position, problem):
    with pytest.raises(TreeSyntaxError, match=f'^position {position}: ' +
                       re.escape(problem)) as info:
        parse_tree(text)
    assert info.value.position == position
    assert info.value.text == text
    assert isinstance(info.value, ValueError)
    # The caret line points at the position.
    assert str(info.value).endswith(' ' * (2 + position) + '^')


def test_parser_lists_valid_ops_for_an_unknown_op():
    with pytest.raises(TreeSyntaxError, match='registered ops: .*mean_hw'):
        parse_tree('logg(y)')


def test_parser_is_iterative_not_recursive():
    depth = 5000  # far beyond Python's recursion limit
    text = 'neg(' * depth + 'y' + ')' * depth
    tree = parse_tree(text)
    assert len(tree) == depth + 1 and tree.depth == depth
    assert str(tree) == text


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet='()*,.-+e1250 yhatnegaddmulog_$', max_size=40))
def test_parser_fuzz_raises_only_tree_syntax_error(text):
    try:
        tree = parse_tree(text)
    except TreeSyntaxError as error:
        assert 0 <= error.position <= len(text)
        return
    assert parse_tree(str(tree)) == tree


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(allow_nan=False, allow_infinity=False),
                min_size=5, max_size=5))
def test_any_finite_coefficients_round_trip_exactly(coefficients):
    tree = Tree.parse(CE).with_coefficients(coefficients)
    back = parse_tree(str(tree))
    assert back == tree
    assert back.coefficients == tree.coefficients
