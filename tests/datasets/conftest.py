"""Tiny demo data sets, generated once per test session."""
import pytest

from autoloss_zero.datasets import generate_demo_data

#: Sizes small enough for the whole folder to run in seconds.
TINY = {
    'voc': dict(num_train=16, num_val=6, size=64, seed=3),
    'cityscapes': dict(num_train=9, num_val=3, size=(96, 48), seed=3),
    'coco': dict(num_train=12, num_val=4, size=96, seed=3),
}


@pytest.fixture(scope='session')
def demo_root(tmp_path_factory):
    """``demo_root(kind)`` -> root of a tiny generated data set of that kind."""
    base = tmp_path_factory.mktemp('demo')
    roots = {}

    def make(kind):
        if kind not in roots:
            roots[kind] = generate_demo_data(kind, base / kind, **TINY[kind])
        return roots[kind]

    return make


@pytest.fixture(scope='session')
def tiny():
    """The generation parameters behind :func:`demo_root`."""
    return TINY
