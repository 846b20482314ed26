"""generate_demo_data: determinism, idempotence, validation; the CLI."""
import hashlib
import runpy
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from autoloss_zero.datasets import (DEMO_DEFAULTS, DEMO_KINDS, demo_data_root,
                                    generate_demo_data, require_demo_data)
from autoloss_zero.datasets.shapes import parse_size, schedule_presence

SMALL = dict(num_train=3, num_val=2, size=48)
TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'make_demo_data.py'


def tree_digest(root: Path) -> str:
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob('*') if p.is_file()):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def snapshot(root: Path) -> dict:
    return {p: p.stat().st_mtime_ns for p in root.rglob('*') if p.is_file()}


@pytest.mark.parametrize('kind', DEMO_KINDS)
def test_same_seed_same_bytes_other_seed_differs(tmp_path, kind):
    a = generate_demo_data(kind, tmp_path / 'a', seed=7, **SMALL)
    b = generate_demo_data(kind, tmp_path / 'b', seed=7, **SMALL)
    c = generate_demo_data(kind, tmp_path / 'c', seed=8, **SMALL)
    assert a == tmp_path / 'a'
    assert tree_digest(a) == tree_digest(b)
    assert tree_digest(a) != tree_digest(c)


@pytest.mark.parametrize('kind', DEMO_KINDS)
def test_idempotent_and_regenerates_on_change(tmp_path, kind):
    root = generate_demo_data(kind, tmp_path / 'x', seed=1, **SMALL)
    before = snapshot(root)
    start = time.perf_counter()
    assert generate_demo_data(kind, root, seed=1, **SMALL) == root
    assert time.perf_counter() - start < 0.1
    assert snapshot(root) == before, 'nothing rewritten'
    # Fewer images: regenerated, and no stale file of the larger set remains.
    small = dict(seed=1, num_train=1, num_val=1, size=48)
    generate_demo_data(kind, root, **small)
    fresh = generate_demo_data(kind, tmp_path / 'fresh', **small)
    assert tree_digest(root) == tree_digest(fresh)
    assert snapshot(root) != before


def test_force_regenerates(tmp_path):
    root = generate_demo_data('voc', tmp_path, **SMALL)
    before = snapshot(root)
    time.sleep(0.01)
    generate_demo_data('voc', tmp_path, force=True, **SMALL)
    after = snapshot(root)
    assert after.keys() == before.keys() and after != before


def test_kinds_share_a_root(tmp_path):
    generate_demo_data('voc', tmp_path, **SMALL)
    generate_demo_data('coco', tmp_path, **SMALL)
    before = snapshot(tmp_path)
    generate_demo_data('voc', tmp_path, **SMALL)
    assert snapshot(tmp_path) == before
    assert require_demo_data('coco', tmp_path) == tmp_path


def test_unknown_kind_names_valid_ones(tmp_path):
    with pytest.raises(ValueError, match="'pascal'.*voc, cityscapes, coco"):
        generate_demo_data('pascal', tmp_path)
    with pytest.raises(ValueError, match='num_train'):
        generate_demo_data('voc', tmp_path, num_train=-1)
    with pytest.raises(ValueError, match='size'):
        generate_demo_data('voc', tmp_path, size=(64, 64, 3))


def test_refuses_to_overwrite_unmarked_data(tmp_path):
    real = tmp_path / 'VOCdevkit' / 'VOC2012' / 'JPEGImages'
    real.mkdir(parents=True)
    (real / 'precious.jpg').write_bytes(b'x')
    with pytest.raises(FileExistsError, match='force'):
        generate_demo_data('voc', tmp_path, **SMALL)
    assert (real / 'precious.jpg').exists()
    generate_demo_data('voc', tmp_path, force=True, **SMALL)
    assert not (real / 'precious.jpg').exists()


def test_require_and_data_root(tmp_path):
    with pytest.raises(FileNotFoundError, match='make_demo_data.py --kind voc'):
        require_demo_data('voc', tmp_path)
    assert demo_data_root('voc', tmp_path) == tmp_path / 'VOCdevkit/VOC2012'
    assert demo_data_root('coco', tmp_path) == tmp_path
    assert demo_data_root('cityscapes') == Path(DEMO_DEFAULTS['cityscapes']['root'])


def test_helpers():
    assert parse_size(64) == (64, 64) and parse_size((128, 64)) == (128, 64)
    rng = np.random.default_rng(0)
    assert schedule_presence(rng, 100, 0.12).sum() == 12
    assert schedule_presence(rng, 5, 0.01).sum() == 1
    assert schedule_presence(rng, 0, 0.5).shape == (0, )


def test_tool(tmp_path, monkeypatch, capsys):
    argv = [str(TOOL), '--kind', 'all', '--out', str(tmp_path), '--num-train',
            '2', '--num-val', '1', '--size', '48', '32', '--seed', '5']
    monkeypatch.setattr(sys, 'argv', argv)
    runpy.run_path(str(TOOL), run_name='__main__')
    out = capsys.readouterr().out
    for kind in DEMO_KINDS:
        assert f'demo_{kind}' in out and (tmp_path / f'demo_{kind}' / '.complete').exists()
    assert 'generated' in out
    runpy.run_path(str(TOOL), run_name='__main__')
    assert capsys.readouterr().out.count('up to date') == 3
