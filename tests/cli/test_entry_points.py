"""The console scripts (setup.py entry points) and the tools/*.py wrappers:
every command answers --help, OMP_WAIT_POLICY is set before torch loads."""
import ast
import importlib
import importlib.metadata
import os
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import REPO


def _setup_commands():
    """setup.py's COMMANDS (console script -> autoloss_zero.cli module)."""
    tree = ast.parse((REPO / 'setup.py').read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and node.targets[0].id == 'COMMANDS':
            return ast.literal_eval(node.value)
    raise AssertionError('setup.py defines no COMMANDS')


COMMANDS = _setup_commands()
BIN = Path(sys.executable).parent

# Imports `target` in a fresh interpreter and prints OMP_WAIT_POLICY as it
# was when torch began to load.
SPY = """
import os, runpy, sys
seen = []
class Spy:
    def find_spec(self, name, path=None, target=None):
        if name == 'torch' and not seen:
            seen.append(os.environ.get('OMP_WAIT_POLICY'))
sys.meta_path.insert(0, Spy())
target = sys.argv[1]
if target.endswith('.py'):
    runpy.run_path(target, run_name='not_main')
else:
    __import__(target)
print(seen[0] if seen else 'torch not imported')
"""


def test_installed_entry_points_are_setup_pys():
    """Every tool has a command, and the installed package has them all
    (else re-run pip install -e .)."""
    assert sorted(COMMANDS.values()) == sorted(
        p.stem for p in (REPO / 'tools').glob('*.py')
        if p.stem != 'soak_search')
    installed = {ep.name: ep.value for ep in importlib.metadata.entry_points(
        group='console_scripts') if ep.value.startswith('autoloss_zero.')}
    assert installed == {command: f'autoloss_zero.cli.{module}:main'
                         for command, module in COMMANDS.items()}


@pytest.mark.parametrize('module', sorted(COMMANDS.values()))
def test_main_help_exits_0(module, capsys):
    cli = importlib.import_module(f'autoloss_zero.cli.{module}')
    with pytest.raises(SystemExit) as exit_:
        cli.main(['--help'])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith('usage: ') and '--verbose' in out


@pytest.mark.parametrize('module', sorted(COMMANDS.values()))
def test_tool_wraps_cli(module):
    """tools/<module>.py is the cli module's run, nothing of its own."""
    tool = (REPO / 'tools' / f'{module}.py').read_text()
    assert f'from autoloss_zero.cli.{module} import' in tool
    assert 'sys.path' not in tool and len(tool.splitlines()) < 40


def test_console_script_help():
    script = BIN / 'autoloss-search'
    assert script.is_file(), (
        f'{script} missing: install the package with pip install -e .')
    proc = subprocess.run([str(script), '--help'], capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.startswith('usage: autoloss-search')
    assert '--resume' in proc.stdout and '--verbose' in proc.stdout


def test_console_script_exit_status(tmp_path):
    """main() returns 0 for the console script, whatever run() returns."""
    script = BIN / 'autoloss-make-demo-data'
    proc = subprocess.run(
        [str(script), '--kind', 'voc', '--out', str(tmp_path), '--num-train',
         '2', '--num-val', '1', '--size', '32'],
        capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert 'demo_voc' in proc.stdout and proc.stderr == ''


@pytest.mark.parametrize('target', ['tools/search.py',
                                    'autoloss_zero.cli.search'])
def test_omp_wait_policy_before_torch(target):
    """A console script imports autoloss_zero (and so torch) before its cli
    module runs: the package's __init__ must set OMP_WAIT_POLICY first."""
    env = {k: v for k, v in os.environ.items()
           if k != 'OMP_WAIT_POLICY'}
    proc = subprocess.run([sys.executable, '-c', SPY, target], cwd=REPO,
                          env=env, capture_output=True, text=True,
                          timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-1] == 'PASSIVE', (
        f'torch was imported by {target} before OMP_WAIT_POLICY was set')


def test_user_errors_are_one_line_unless_debug(tmp_path, capsys):
    from autoloss_zero.cli.search import main
    missing = str(tmp_path / 'nope.py')
    assert main([missing]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: config file '{missing}' not found"]
    with pytest.raises(FileNotFoundError, match='nope.py'):
        main([missing, '--debug'])


def test_tool_exits_with_the_console_status(tmp_path):
    proc = subprocess.run(
        [sys.executable, str(REPO / 'tools' / 'search.py'),
         str(tmp_path / 'nope.py')], capture_output=True, text=True,
        timeout=120)
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines() == [
        f"error: config file '{tmp_path / 'nope.py'}' not found"]
