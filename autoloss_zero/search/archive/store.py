"""Durable SQLite archive of every candidate and the searcher's state.

The only code of the project that speaks SQL. WAL mode; every change that
must survive a kill is one transaction that also stores the searcher state,
so a search killed at any moment resumes exactly where its last commit left
it (runs in flight are re-queued). Candidates come in as
:class:`~autoloss_zero.search.loop.candidate.Candidate` records (each owns
its row) or as plain row dicts, and go out as row dicts.
"""
import json
import os
import sqlite3
import time
from pathlib import Path
from typing import (Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Union)

from .schema import SCHEMA_VERSION, create_or_migrate

STATUSES = ('rejected', 'equivalent', 'trained', 'diverged', 'failed',
            'running', 'baseline')
#: statuses of an evaluated candidate (a score, trained or reused).
EVALUATED = ('equivalent', 'trained', 'diverged', 'failed')
#: statuses of a proxy training: what the budget counts.
TRAINED = ('trained', 'diverged', 'failed')
#: what identifies a finished row: a change means it was evaluated again.
Finished = Tuple[str, str, Optional[float], Optional[float]]
State = Union[Dict, Callable[[List[int]], Dict], None]


class ArchiveCorrupt(RuntimeError):
    """The archive file cannot be read as a search archive."""


class Archive:
    """The search database ``<work_dir>/search.sqlite``.

    An existing file is checked (``PRAGMA quick_check``) when it opens; a
    damaged one raises :class:`ArchiveCorrupt` saying how to recover, from
    the rolling copy :meth:`backup` keeps in ``<path>.bak``.

    Args:
        path: database file (created with its folder if missing).
        read_only: open an existing archive without writing to it (safe
            beside a running search).
    """

    def __init__(self, path, read_only: bool = False):
        self.path = Path(path)
        self.backup_path = self.path.with_name(self.path.name + '.bak')
        try:
            if read_only:
                self.db = sqlite3.connect(f'file:{self.path}?mode=ro',
                                          uri=True, timeout=30,
                                          isolation_level=None)
                self.db.row_factory = sqlite3.Row
                return
            existed = self.path.exists() and self.path.stat().st_size > 0
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), timeout=60,
                                      isolation_level=None)
            self.db.row_factory = sqlite3.Row
            if existed:
                check = self.db.execute('PRAGMA quick_check').fetchone()[0]
                if check != 'ok':
                    raise sqlite3.DatabaseError(check)
            self.db.execute('PRAGMA journal_mode=WAL')
            self.db.execute('PRAGMA synchronous=NORMAL')
            #: the schema version the file had when opened (-1: new file).
            self.found_version = create_or_migrate(self.db, self.path)
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and read_only:
                raise
            raise ArchiveCorrupt(self._corrupt_message(exc)) from None
        self.version = SCHEMA_VERSION

    def _corrupt_message(self, exc) -> str:
        if self.backup_path.exists():
            when = time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(
                self.backup_path.stat().st_mtime))
            how = (f'restore its last backup (from {when}) with `mv '
                   f'{self.backup_path} {self.path}` and resume: the '
                   f'candidates archived after it are evaluated again')
        else:
            how = (f'there is no backup ({self.backup_path}); delete it to '
                   f'start the search over')
        return (f'{self.path} is not a readable search archive ({exc}); '
                f'{how}')

    def backup(self) -> Path:
        """Copy the archive, consistently, to ``<path>.bak`` (atomically
        replacing the previous copy); returns the copy's path."""
        tmp = self.backup_path.with_name(self.backup_path.name + '.tmp')
        target = sqlite3.connect(str(tmp))
        try:
            self.db.backup(target)
        finally:
            target.close()
        os.replace(tmp, self.backup_path)
        return self.backup_path

    def close(self) -> None:
        self.db.close()

    # -- writes: each public method is one transaction ---------------------
    def _transaction(self):
        return _Transaction(self.db)

    def _insert(self, table: str, row: Dict) -> int:
        cols = ', '.join(row)
        marks = ', '.join('?' * len(row))
        cur = self.db.execute(
            f'INSERT INTO {table} ({cols}) VALUES ({marks})',
            [_encode(v) for v in row.values()])
        return cur.lastrowid

    def _set(self, table: str, fields: Dict, where: str, *params) -> int:
        """UPDATE ``table`` SET ``fields`` WHERE ``where``; returns the rows
        changed."""
        sets = ', '.join(f'{k} = ?' for k in fields)
        return self.db.execute(
            f'UPDATE {table} SET {sets} WHERE {where}',
            [_encode(v) for v in fields.values()] + list(params)).rowcount

    def _save_state(self, state: Optional[Dict]) -> None:
        for name, value in (state or {}).items():
            self.db.execute('INSERT OR REPLACE INTO state VALUES (?, ?)',
                            (name, json.dumps(value)))

    def add(self, records: Iterable, state: State = None) -> List[int]:
        """Insert candidates and save ``state``, atomically.

        Args:
            records: :class:`Candidate` records (each gets its ``id``) or
                row dicts.
            state: saved with them; may be a function of the new row ids
                (called inside the transaction), for state that names them.
        """
        records = list(records)
        with self._transaction():
            ids = []
            for record in records:
                row = record.row() if hasattr(record, 'row') else record
                row = {**row, 'created': row.get('created') or time.time()}
                ids.append(self._insert('candidates', row))
            self._save_state(state(ids) if callable(state) else state)
        for record, cand_id in zip(records, ids):
            if hasattr(record, 'row'):
                record.id = cand_id
        return ids

    def update(self, cand_id: int, fields: Dict,
               state: Optional[Dict] = None) -> None:
        """Update one candidate's columns and save ``state``, atomically."""
        fields = {**fields, 'finished': fields.get('finished') or time.time()}
        with self._transaction():
            self._set('candidates', fields, 'id = ?', cand_id)
            self._save_state(state)

    def save(self, candidate, state: Optional[Dict] = None) -> None:
        """Store a finished :class:`Candidate`'s outcome and ``state``."""
        row = candidate.row()
        self.update(candidate.id, {k: row[k] for k in (
            'status', 'score', 'metrics', 'reason', 't_train', 'finished',
            'rung')}, state)

    def save_meta(self, name: str, value) -> None:
        """Store a JSON value about the search itself (e.g. its config)."""
        with self._transaction():
            self.db.execute('INSERT OR REPLACE INTO meta VALUES (?, ?)',
                            (name, json.dumps(value)))

    # -- reads ---------------------------------------------------------------
    def meta(self, name: str):
        """A value stored by :meth:`save_meta` (None if absent)."""
        row = self.db.execute('SELECT value FROM meta WHERE name = ?',
                              (name, )).fetchone()
        return None if row is None else json.loads(row[0])

    def state(self) -> Dict:
        return {r['name']: json.loads(r['value'])
                for r in self.db.execute('SELECT * FROM state')}

    def rows(self, *statuses: str, exclude: Sequence[str] = ()) -> List[Dict]:
        """Candidate rows in id order: all, those of ``statuses``, or all
        but those of ``exclude``."""
        _check_statuses(statuses + tuple(exclude))
        return self._rows_of('candidates', statuses, exclude)

    def get(self, cand_id: int) -> Optional[Dict]:
        row = self.db.execute('SELECT * FROM candidates WHERE id = ?',
                              (cand_id, )).fetchone()
        return None if row is None else _decode(row)

    def counts(self) -> Dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.db.execute('SELECT status, COUNT(*) AS n FROM '
                                 'candidates GROUP BY status'):
            counts[r['status']] = r['n']
        return counts

    def _count(self, statuses: Sequence[str]) -> int:
        marks = ', '.join('?' * len(statuses))
        return self.db.execute(
            f'SELECT COUNT(*) FROM candidates WHERE status IN ({marks})',
            statuses).fetchone()[0]

    def num_evaluated(self) -> int:
        """Candidates with a score, trained or reused."""
        return self._count(EVALUATED)

    def num_trained(self) -> int:
        """Proxy trainings so far (equivalent candidates trained nothing)."""
        return self._count(TRAINED)

    def by_fingerprint(self, fingerprint: str) -> Optional[Dict]:
        """The first trained or diverged candidate with this fingerprint."""
        row = self.db.execute(
            "SELECT * FROM candidates WHERE fingerprint = ? AND status IN "
            "('trained', 'diverged') ORDER BY id LIMIT 1",
            (fingerprint, )).fetchone()
        return None if row is None else _decode(row)

    def best(self, k: int, mode: str = 'max') -> List[Dict]:
        """Top-k trained candidates by rung reached (multi-fidelity), then
        score, one per individual key (ties: the older first); the database
        sorts, and reading stops at k."""
        order = 'DESC' if mode == 'max' else 'ASC'
        best, seen = [], set()
        for row in self.db.execute(
                f"SELECT * FROM candidates WHERE status = 'trained' AND score "
                f"IS NOT NULL ORDER BY COALESCE(rung, 0) DESC, score {order},"
                f" id"):
            if len(best) == k:
                break
            if row['key'] not in seen:
                seen.add(row['key'])
                best.append(_decode(row))
        return best

    def baseline(self) -> Optional[Dict]:
        rows = self.rows('baseline')
        return rows[0] if rows else None

    def time_by_status(self) -> Dict[str, Dict]:
        """{status: dict(n, t_reject, t_train)}: counts and summed seconds."""
        return {r['status']: dict(n=r['n'], t_reject=r['tr'], t_train=r['tt'])
                for r in self.db.execute(
                    'SELECT status, COUNT(*) AS n, SUM(COALESCE(t_reject, 0))'
                    ' AS tr, SUM(COALESCE(t_train, 0)) AS tt FROM candidates '
                    'GROUP BY status')}

    def finished(self) -> Dict[int, Finished]:
        """{id: (key, status, score, finished)} of the evaluated rows."""
        marks = ', '.join('?' * len(EVALUATED))
        return {r[0]: tuple(r[1:]) for r in self.db.execute(
            f'SELECT id, key, status, score, finished FROM candidates '
            f'WHERE status IN ({marks})', EVALUATED)}

    def progress(self) -> Tuple[int, int]:
        """(rows, finished rows): changes with every commit of a search."""
        return tuple(self.db.execute(
            'SELECT COUNT(*), COUNT(finished) FROM candidates').fetchone())

    # -- training rungs (multi-fidelity promotion) ---------------------------
    def start_rung(self, cand_id: int, rung: int, iterations: int) -> None:
        """Record a promotion: a ``running`` training of ``rung``."""
        with self._transaction():
            self._insert('rungs', dict(
                candidate=cand_id, rung=rung, iterations=iterations,
                status='running', created=time.time()))

    def finish_rung(self, cand_id: int, rung: int, iterations: int,
                    fields: Dict, candidate: Dict,
                    state: Optional[Dict] = None) -> None:
        """Store a finished rung training (``fields``: status, score, ...),
        the candidate row's new columns (``candidate``) and ``state``,
        atomically."""
        now = time.time()
        fields = {**fields, 'finished': now}
        with self._transaction():
            if not self._set('rungs', fields, 'candidate = ? AND rung = ?',
                             cand_id, rung):  # rung 0: archived when done
                self._insert('rungs', dict(fields, candidate=cand_id,
                                           rung=rung, iterations=iterations,
                                           created=now))
            self._set('candidates', {**candidate, 'finished': now},
                      'id = ?', cand_id)
            self._save_state(state)

    def rung_rows(self, *statuses: str) -> List[Dict]:
        """Rung trainings in id order (all, or those of ``statuses``)."""
        return self._rows_of('rungs', statuses)

    def rung_iterations(self) -> int:
        """Iterations of the finished rung trainings (the budget spent)."""
        return self.db.execute(
            "SELECT COALESCE(SUM(iterations), 0) FROM rungs WHERE status != "
            "'running'").fetchone()[0]

    # -- re-trainings on other seeds (the verdict) ---------------------------
    def add_seed_runs(self, pairs: Iterable[Tuple[int, int]]) -> List[int]:
        """Insert ``running`` rows for (candidate id, seed) pairs that have
        none; returns the ids of the pairs' rows (new or existing)."""
        ids = []
        with self._transaction():
            for cand_id, seed in pairs:
                row = self.db.execute(
                    'SELECT id FROM seed_runs WHERE candidate = ? AND '
                    'seed = ?', (cand_id, seed)).fetchone()
                ids.append(row[0] if row else self._insert('seed_runs', dict(
                    candidate=cand_id, seed=seed, status='running',
                    created=time.time())))
        return ids

    def finish_seed_run(self, run_id: int, fields: Dict) -> None:
        """Store the outcome of one re-training (status, score, ...)."""
        fields = {**fields, 'finished': time.time()}
        with self._transaction():
            self._set('seed_runs', fields, 'id = ?', run_id)

    def seed_runs(self, *statuses: str) -> List[Dict]:
        """Re-training rows in id order (all, or those of ``statuses``)."""
        return self._rows_of('seed_runs', statuses)

    def _rows_of(self, table: str, statuses: Sequence[str],
                 exclude: Sequence[str] = ()) -> List[Dict]:
        """Rows of ``table`` in id order: all, those of ``statuses``, or all
        but those of ``exclude``."""
        sql, params = f'SELECT * FROM {table}', list(statuses or exclude)
        if params:
            sql += (f' WHERE status {"IN" if statuses else "NOT IN"} '
                    f'({", ".join("?" * len(params))})')
        return [_decode(r) for r in self.db.execute(sql + ' ORDER BY id',
                                                    params)]

    # -- CMA-ES coefficient tuning -------------------------------------------
    def cma_rows(self, run: str,
                 generation: Optional[int] = None) -> List[Dict]:
        """Evaluations of a tuning run (one generation's, or all) in
        (generation, member) order."""
        sql, params = 'SELECT * FROM cma_evaluations WHERE run = ?', [run]
        if generation is not None:
            sql += ' AND generation = ?'
            params.append(generation)
        return [dict(r) for r in self.db.execute(
            sql + ' ORDER BY generation, member', params)]

    def add_cma_evaluation(self, row: Dict) -> None:
        """Commit one finished CMA-ES evaluation (keys: the table's)."""
        with self._transaction():
            self._insert('cma_evaluations',
                         {**row, 'created': row.get('created', time.time())})

    def finish_cma_generation(self, run: str, generation: int,
                              values: Sequence[float], state: Dict) -> None:
        """Store the values told to CMA-ES and the tuning ``state``,
        atomically."""
        with self._transaction():
            for member, value in enumerate(values):
                self.db.execute(
                    'UPDATE cma_evaluations SET fvalue = ? WHERE run = ? AND '
                    'generation = ? AND member = ?',
                    (value, run, generation, member))
            self._save_state(state)


class _Transaction:

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute('BEGIN IMMEDIATE')

    def __exit__(self, exc_type, *_):
        self.db.execute('ROLLBACK' if exc_type else 'COMMIT')


_JSON_FIELDS = ('gains', 'metrics')


def _check_statuses(statuses: Sequence[str]) -> None:
    unknown = sorted(set(statuses) - set(STATUSES))
    if unknown:
        raise ValueError(f'unknown candidate status(es) {unknown}; valid: '
                         f'{list(STATUSES)}')


def _encode(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def _decode(row) -> Dict:
    out = dict(row)
    for key in _JSON_FIELDS:
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out
