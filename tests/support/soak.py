"""Soak test of a search: SIGKILL the driver (and workers) again and again.

Test support, not library code: ``tools/soak_search.py`` runs it by hand,
``tests/search/test_soak.py`` in the suite.

:func:`run_soak` runs ``tools/search.py`` on a config for a fixed budget,
kills the driver with SIGKILL at random moments (optionally a worker of the
``process`` / ``ray`` executor too), resumes it each time and finally lets
it finish. Before every kill it records the finished rows of the archive;
:func:`check_archive` then verifies, after each kill and at the end, that

* every finished row seen before a kill is still there, unchanged (not lost,
  not evaluated twice);
* :meth:`Archive.counts` agrees with the rows, and every status is known;
* no more proxy trainings than the budget (at the end: exactly the
  budget; equivalent candidates train nothing and are free) and
  no ``running`` row at the end; one baseline;
* the saved searcher state agrees with the rows: its population holds the
  scored evaluated candidates (with their scores) and its ``generated``
  count equals the number of proposed rows.
"""
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import psutil

from autoloss_zero.search.archive import (EVALUATED, STATUSES, TRAINED,
                                          Archive, Finished)
from autoloss_zero.search.loop.settings import Evolution

REPO = Path(__file__).resolve().parents[2]
EXECUTORS = ('local', 'process', 'ray')


def _read(path, read, default):
    """``read(archive)`` of the archive at ``path`` opened read-only (it
    does not lock out a running search), or ``default`` while there is no
    archive or no table yet."""
    path = Path(path)
    if not path.exists():
        return default
    try:
        archive = Archive(path, read_only=True)
        try:
            return read(archive)
        finally:
            archive.close()
    except sqlite3.OperationalError:  # no table yet
        return default


def finished_rows(path) -> Dict[int, Finished]:
    """{id: (key, status, score, finished)} of the evaluated rows of the
    archive at ``path``."""
    return _read(path, Archive.finished, {})


def check_archive(archive: Archive, budget: int,
                  before: Optional[Dict[int, Finished]] = None,
                  final: bool = True,
                  window: Optional[int] = None) -> List[str]:
    """Problems of the archive (empty if consistent).

    Args:
        archive: the search archive.
        budget: the search's evaluation budget.
        before: finished rows recorded earlier (:func:`finished_rows`);
            each must still be there, unchanged.
        final: the search claims to be complete: exactly ``budget``
            evaluations and nothing ``running``.
        window: ``search.evolution.window`` (None: no candidate aged out).
    """
    problems = []
    rows = archive.rows()
    by_id = {r['id']: r for r in rows}
    seen = Counter(r['status'] for r in rows)
    counts = {k: v for k, v in archive.counts().items() if v}
    if dict(seen) != counts:
        problems.append(f'Archive.counts() {counts} != counts of the rows '
                        f'{dict(seen)}')
    unknown = sorted(set(seen) - set(STATUSES))
    if unknown:
        problems.append(f'unknown statuses {unknown}')
    evaluated = sum(seen[s] for s in EVALUATED)
    if evaluated != archive.num_evaluated():
        problems.append(f'num_evaluated() {archive.num_evaluated()} != '
                        f'{evaluated} evaluated rows')
    trained = sum(seen[s] for s in TRAINED)  # what the budget counts
    if trained != archive.num_trained():
        problems.append(f'num_trained() {archive.num_trained()} != '
                        f'{trained} trained rows')
    if trained > budget:
        problems.append(f'{trained} proxy trainings, more than the budget '
                        f'{budget}')
    if final and trained != budget:
        problems.append(f'{trained} proxy trainings at the end, budget '
                        f'{budget}')
    if final and seen['running']:
        problems.append(f'{seen["running"]} candidate(s) still running at '
                        f'the end')
    if seen['baseline'] > 1 or (evaluated and not seen['baseline']):
        problems.append(f'{seen["baseline"]} baseline rows (expected 1)')
    for cand_id, was in sorted((before or {}).items()):
        row = by_id.get(cand_id)
        if row is None:
            problems.append(f'finished candidate #{cand_id} {was[:2]} lost')
            continue
        now = (row['key'], row['status'], row['score'], row['finished'])
        if now != tuple(was):
            problems.append(f'finished candidate #{cand_id} changed from '
                            f'{tuple(was)} to {now} (evaluated twice?)')
    problems += _check_state(archive.state(), rows, window)
    return problems


def _check_state(state: Dict, rows: List[Dict],
                 window: Optional[int]) -> List[str]:
    """The searcher state saved with the rows must describe them."""
    problems = []
    proposed = sum(r['status'] != 'baseline' for r in rows)
    generated = state.get('stats', {}).get('generated', 0)
    if generated != proposed:
        problems.append(f'searcher state: generated {generated} != '
                        f'{proposed} proposed rows')
    population = state.get('searcher', {}).get('population', [])
    scored = {r['id']: r['score'] for r in rows
              if r['status'] in EVALUATED and r['score'] is not None}
    finished = {r['id']: r['finished'] for r in rows}
    ids = [m[0] for m in population]
    twice = sorted(i for i, n in Counter(ids).items() if n > 1)
    if twice:
        problems.append(f'searcher population lists a candidate twice: '
                        f'{twice}')
    for cand_id, _, score in population:
        if cand_id not in scored:
            problems.append(f'searcher population holds #{cand_id}, not a '
                            f'scored evaluated row')
        elif abs(scored[cand_id] - score) > 1e-9:
            problems.append(f'searcher population scores #{cand_id} '
                            f'{score}, the archive {scored[cand_id]}')
    # the population is the newest `window` scored candidates, told in
    # commit order (= order of their `finished` time)
    order = sorted(scored, key=lambda i: (finished[i] or 0, i))
    expected = set(order[-window:] if window else order)
    missing = sorted(expected - set(ids))
    if missing:
        problems.append(f'{len(missing)} scored candidate(s) missing from '
                        f'the searcher population, e.g. {missing[:10]}')
    return problems


@dataclass
class SoakReport:
    """Outcome of :func:`run_soak`."""
    work_dir: Path
    budget: int
    executor: str
    kills: int = 0
    worker_kills: int = 0
    runs: int = 0
    seconds: float = 0.0
    observed: int = 0
    counts: Dict[str, int] = field(default_factory=dict)
    problems: List[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def text(self) -> str:
        counts = {k: v for k, v in self.counts.items() if v}
        lines = [
            f'soak of {self.work_dir} ({self.executor} executor): '
            f'{self.runs} driver runs, {self.kills} driver SIGKILLs, '
            f'{self.worker_kills} worker kills, {self.seconds:.0f} s',
            f'archive: {sum(self.counts.get(s, 0) for s in EVALUATED)}'
            f'/{self.budget} evaluated, counts {counts}',
            f'{self.observed} finished rows recorded before the kills',
        ]
        lines += ([f'PROBLEM: {p}' for p in self.problems]
                  or ['consistent: nothing lost, nothing duplicated'])
        return '\n'.join(lines)


def worker_pids(driver: int, executor: str) -> List[int]:
    """Pids of the search workers: the driver's spawned children
    (``process``) or the proxy actors of Ray (``ray``: any process titled
    ``ray::RayProxyWorker``, since a cluster given by address does not
    descend from the driver)."""
    if executor == 'ray':
        procs = psutil.process_iter(['cmdline'])
    else:
        try:
            procs = psutil.Process(driver).children()
        except psutil.NoSuchProcess:
            return []
    pids = []
    for proc in procs:
        try:
            cmd = ' '.join(proc.cmdline())
        except (psutil.NoSuchProcess, psutil.AccessDenied,
                psutil.ZombieProcess):
            continue
        if (cmd.startswith('ray::RayProxyWorker') if executor == 'ray'
                else 'spawn_main' in cmd):
            pids.append(proc.pid)
    return sorted(pids)


def run_soak(config, budget: int, kills: int, executor: Optional[str] = None,
             kill_worker: bool = False, work_dir=None, seed: int = 0,
             min_delay: float = 0.0, max_delay: float = 20.0,
             timeout: float = 3600.0, ray_address: Optional[str] = None,
             cfg_options: Sequence[str] = (), log=print) -> SoakReport:
    """Run a search of ``config`` for ``budget`` evaluations, SIGKILLing
    its driver ``kills`` times, and check the archive.

    Each (re)started driver is killed a random ``[min_delay, max_delay]``
    seconds after its first commit to the archive (so that every run makes
    progress), and a worker (with ``kill_worker``) at a random moment
    before that.

    Args:
        timeout: seconds a run may take to its first commit (the last
            run: to its end) before the soak gives up.
        kill_worker: also kill one worker at a random moment of every run
            (``process`` or ``ray`` executor).
        ray_address: Ray cluster for ``ray``; default a local instance this
            function starts (drivers are killed, the cluster stays).
        cfg_options: ``key=value`` overrides passed to ``tools/search.py``.
    """
    if executor not in (None, ) + EXECUTORS:
        raise ValueError(f'executor must be one of {EXECUTORS}, got '
                         f'{executor!r}')
    if kill_worker and executor not in ('process', 'ray'):
        raise ValueError(f'--kill-worker needs the process or ray executor, '
                         f'got {executor!r}')
    if not 0 <= min_delay <= max_delay:
        raise ValueError(f'need 0 <= min_delay <= max_delay, got '
                         f'{min_delay}, {max_delay}')
    work_dir = Path(work_dir or tempfile.mkdtemp(prefix='soak_'))
    path = work_dir / 'search.sqlite'
    work_dir.mkdir(parents=True, exist_ok=True)
    if path.exists():
        raise FileExistsError(f'{work_dir} already holds a search; the soak '
                              f'needs a fresh work dir')
    owns_ray = executor == 'ray' and ray_address is None
    if owns_ray:  # the drivers die, the cluster must not die with them
        import ray
        ray.init(include_dashboard=False)
        ray_address = ray.get_runtime_context().gcs_address
    cmd = [sys.executable, str(REPO / 'tools' / 'search.py'), str(config),
           '--work-dir', str(work_dir), '--resume', '--evaluations',
           str(budget)]
    cmd += ['--executor', executor] if executor else []
    cmd += ['--ray-address', ray_address] if ray_address else []
    cmd += ['--cfg-options', *cfg_options] if cfg_options else []
    rng = np.random.default_rng(seed)
    report = SoakReport(work_dir, budget, executor or 'config')
    seen: Dict[int, Finished] = {}
    start = time.time()
    try:
        for run in range(kills + 1):
            last = run == kills
            with open(_log_path(work_dir, run), 'w') as logfile:
                proc = subprocess.Popen(cmd, cwd=REPO, stdout=logfile,
                                        stderr=subprocess.STDOUT)
            report.runs += 1
            t0, mark = time.time(), _progress(path)
            kill_at = worker_at = None
            while proc.poll() is None and time.time() - t0 < timeout:
                now = time.time()
                if kill_at is None and not last and _progress(path) != mark:
                    # a random moment after this run's first commit: every
                    # run makes progress, and kills hit a running search
                    kill_at = now + rng.uniform(min_delay, max_delay)
                    if kill_worker:
                        worker_at = now + rng.uniform(0, kill_at - now)
                if worker_at is not None and now >= worker_at:
                    pids = worker_pids(proc.pid, executor)
                    if pids:
                        pid = int(pids[rng.integers(len(pids))])
                        log(f'run {run}: killing worker {pid}')
                        _kill(pid)
                        report.worker_kills += 1
                        worker_at = None
                if kill_at is not None and now >= kill_at:
                    break
                time.sleep(0.1)
            if proc.poll() is None and kill_at is not None:
                rows = finished_rows(path)
                report.problems += [
                    f'before kill {report.kills + 1}: finished candidate '
                    f'#{i} changed from {seen[i]} to {rows[i]}'
                    for i in sorted(set(seen) & set(rows))
                    if seen[i] != rows[i]]
                seen.update({i: r for i, r in rows.items() if i not in seen})
                log(f'run {run}: SIGKILL of the driver after '
                    f'{time.time() - t0:.1f} s ({len(seen)} finished rows)')
                proc.send_signal(signal.SIGKILL)
                proc.wait()
                report.kills += 1
                if not path.exists():
                    continue
                archive = Archive(path)
                try:
                    report.problems += [
                        f'after kill {report.kills}: {p}' for p in
                        check_archive(archive, budget, seen, final=False,
                                      window=_window_of(work_dir))]
                finally:
                    archive.close()
                continue
            if proc.poll() is None:
                proc.kill()
                proc.wait()
                report.problems.append(
                    f'run {run} made no progress in {timeout} s' if not last
                    else f'the last run did not finish in {timeout} s')
            elif proc.returncode != 0:
                report.problems.append(
                    f'run {run} exited with {proc.returncode}; see '
                    f'{_log_path(work_dir, run)}:\n'
                    + _log_path(work_dir, run).read_text()[-2000:])
            break
    finally:
        if owns_ray:
            import ray
            ray.shutdown()
    report.seconds = time.time() - start
    if path.exists():
        archive = Archive(path)
        try:
            report.problems += check_archive(archive, budget, seen,
                                             window=_window_of(work_dir))
            report.counts = archive.counts()
        finally:
            archive.close()
    report.observed = len(seen)
    return report


def _window_of(work_dir: Path) -> Optional[int]:
    """``search.evolution.window`` of the search config the engine saved."""
    path = work_dir / 'search_config.py'
    if not path.exists():
        return None
    from mmengine.config import Config
    evolution = Config.fromfile(str(path)).search.get('evolution') or {}
    return evolution.get('window', Evolution.window)


def _progress(path: Path) -> Tuple[int, int]:
    """(rows, finished rows) of the archive: changes with every commit."""
    return _read(path, Archive.progress, (0, 0))


def _log_path(work_dir: Path, run: int) -> Path:
    return work_dir / f'soak_run{run}.log'


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
