"""Run Python code in a fresh interpreter where mmcv, mmseg, mmdet and mmpose
cannot be imported, as on a GPU machine that has torch alone.

A finder first in ``sys.meta_path`` answers every import of those packages
(and of their submodules) with the ModuleNotFoundError of a package that is
not installed; everything else imports as usual.
"""
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Sequence

REPO = Path(__file__).resolve().parents[2]
#: the packages the finder makes absent.
ABSENT = ('mmcv', 'mmseg', 'mmdet', 'mmpose')

_PRELUDE = '''
import sys


class _Absent:
    def find_spec(self, name, path=None, target=None):
        if name.split('.')[0] in {absent!r}:
            raise ModuleNotFoundError(f'No module named {{name!r}}',
                                      name=name)


sys.meta_path.insert(0, _Absent())
'''


def pytest_without_openmmlab(*args: str, timeout: float = 600
                             ) -> subprocess.CompletedProcess:
    """Run pytest with ``args`` (test paths, ``-k``) with :data:`ABSENT`
    missing; AssertionError unless every selected test passes or skips."""
    return run_without_openmmlab(
        'import pytest\n'
        f'status = pytest.main(["-q", "-p", "no:cacheprovider", *{args!r}])\n'
        'assert status == 0, f"pytest exit status {status}"\n',
        timeout=timeout)


def run_without_openmmlab(code: str, args: Sequence[str] = (),
                          timeout: float = 300
                          ) -> subprocess.CompletedProcess:
    """Run ``code`` (``sys.argv[1:]`` = ``args``) with :data:`ABSENT`
    missing, in the repository root; its output is text.

    Raises:
        AssertionError: the code exited non-zero (with the end of its
            output) or imported one of :data:`ABSENT`.
    """
    check = ('\nimport sys as _sys\n_loaded = sorted(m for m in _sys.modules '
             f'if m.split(".")[0] in {ABSENT!r})\n'
             'assert not _loaded, _loaded\n')
    script = _PRELUDE.format(absent=ABSENT) + textwrap.dedent(code) + check
    proc = subprocess.run([sys.executable, '-c', script, *args], cwd=REPO,
                          capture_output=True, text=True, timeout=timeout)
    assert proc.returncode == 0, (proc.stdout[-3000:], proc.stderr[-3000:])
    return proc
