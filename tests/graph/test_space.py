"""SearchSpace: defaults, config building, validation messages."""
import re

import pytest

from autoloss_zero.graph import (DEFAULT_LEAVES, DEFAULT_OPS, SearchSpace,
                                 Tree, spatial_of_shape)


def test_defaults_follow_the_spec():
    space = SearchSpace()
    assert space.ops == DEFAULT_OPS and space.leaves == DEFAULT_LEAVES
    assert DEFAULT_LEAVES == ('yhat', 'y', '1')
    assert (space.spatial, space.init_depth, space.max_nodes,
            space.max_depth) == (True, 3, 31, 8)
    assert SearchSpace.from_config(None) == space
    assert SearchSpace.from_config({}) == space
    assert hash(SearchSpace.from_config({'ops': list(DEFAULT_OPS)})) == hash(
        space)


def test_from_config_converts_lists_and_drops_spatial_ops():
    space = SearchSpace.from_config(
        dict(ops=['add', 'log'], leaves=['yhat', 'y', '1', 'w'], max_nodes=20))
    assert space.ops == ('add', 'log') and 'w' in space.leaves
    flat = SearchSpace.from_config(dict(spatial=False))
    assert flat.ops == tuple(o for o in DEFAULT_OPS
                             if o not in ('max_pool3', 'min_pool3'))
    assert SearchSpace(spatial=False) == flat  # default ops: dropped
    with pytest.raises(ValueError, match="op 'max_pool3' needs spatial"):
        SearchSpace.from_config(dict(spatial=False, ops=list(DEFAULT_OPS)))


@pytest.mark.parametrize('kwargs,match', [
    (dict(ops=('add', 'logg')), r"unknown op 'logg'.*valid ops: .*log"),
    (dict(ops=tuple(DEFAULT_OPS[:-1]), spatial=False),
     r"op 'max_pool3' needs spatial extent"),
    (dict(ops=('add', 'min_pool3'), spatial=False), r"'min_pool3'"),
    (dict(ops=()), 'ops is empty'),
    (dict(leaves=()), 'leaves is empty'),
    (dict(leaves=('yhat', 'neg')), "leaf 'neg'"),
    (dict(leaves=('yhat', 'bad leaf')), "leaf 'bad leaf'"),
    (dict(ops=('add', 'add')), 'duplicates'),
    (dict(ops='add'), 'sequence of names'),
    (dict(init_depth=5), '63 nodes > max_nodes=31'),
    (dict(max_depth=2), 'max_depth=2 is smaller than init_depth=3'),
    (dict(max_nodes=3.5), 'max_nodes must be an int'),
])
def test_invalid_spaces_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SearchSpace(**kwargs)


def test_from_config_rejects_unknown_keys():
    with pytest.raises(ValueError, match=r"\['max_size'\].*valid keys"):
        SearchSpace.from_config(dict(max_size=3))


def test_validate_names_what_is_outside():
    space = SearchSpace(ops=('add', 'neg', 'mul'), init_depth=1,
                        max_nodes=7, max_depth=3)
    tree = Tree.parse('neg(mul(y,y))')
    assert space.validate(tree) is tree and space.contains(tree)
    cases = {
        'neg(log(y))': "op 'log' (node 1) is not in the search space ops",
        'neg(w)': "leaf 'w' (node 1) is not in the search space leaves",
        'add(add(y,y),add(y,add(y,y)))': '9 nodes > max_nodes=7',
        'neg(neg(neg(neg(y))))': 'depth 4 > max_depth=3',
    }
    for text, match in cases.items():
        with pytest.raises(ValueError, match=re.escape(match)):
            space.validate(Tree.parse(text))
        assert not space.contains(Tree.parse(text))


def test_spatial_of_shape():
    assert spatial_of_shape((2, 21, 64, 64))
    assert not spatial_of_shape((512, 81, 1, 1))
