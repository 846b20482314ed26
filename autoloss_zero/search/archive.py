"""Durable SQLite archive of every candidate and the searcher's state.

WAL mode; every change that must survive a kill is one transaction that
also stores the searcher state, so a search killed at any moment resumes
exactly where its last commit left it (runs in flight are re-queued).
"""
import json
import sqlite3
import time
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Union

STATUSES = ('rejected', 'equivalent', 'trained', 'diverged', 'failed',
            'running', 'baseline')
#: statuses that count as an evaluation of the budget.
EVALUATED = ('equivalent', 'trained', 'diverged', 'failed')

_SCHEMA = """
CREATE TABLE IF NOT EXISTS candidates (
    id INTEGER PRIMARY KEY,
    parent INTEGER,
    key TEXT NOT NULL,
    trees TEXT NOT NULL,
    status TEXT NOT NULL,
    reason TEXT,
    gains TEXT,
    fingerprint TEXT,
    equivalent_to INTEGER,
    score REAL,
    metrics TEXT,
    redraws INTEGER DEFAULT 0,
    t_reject REAL,
    t_train REAL,
    created REAL,
    finished REAL
);
CREATE INDEX IF NOT EXISTS idx_status ON candidates(status);
CREATE INDEX IF NOT EXISTS idx_fingerprint ON candidates(fingerprint);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT);
"""


class Archive:
    """The search database ``<work_dir>/search.sqlite``.

    Args:
        path: database file (created with its folder if missing).
    """

    def __init__(self, path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(str(self.path), timeout=60,
                                  isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.execute('PRAGMA journal_mode=WAL')
        self.db.execute('PRAGMA synchronous=NORMAL')
        self.db.executescript(_SCHEMA)

    def close(self) -> None:
        self.db.close()

    # -- writes: each public method is one transaction ---------------------
    def _transaction(self):
        return _Transaction(self.db)

    def _insert(self, row: Dict) -> int:
        row = {**row, 'created': row.get('created', time.time())}
        cols = ', '.join(row)
        marks = ', '.join('?' * len(row))
        cur = self.db.execute(
            f'INSERT INTO candidates ({cols}) VALUES ({marks})',
            [_encode(v) for v in row.values()])
        return cur.lastrowid

    def _save_state(self, state: Optional[Dict]) -> None:
        if state is not None:
            for name, value in state.items():
                self.db.execute(
                    'INSERT OR REPLACE INTO state VALUES (?, ?)',
                    (name, json.dumps(value)))

    def add(self, rows: Iterable[Dict],
            state: Union[Dict, Callable[[List[int]], Dict], None] = None
            ) -> List[int]:
        """Insert candidate rows and save ``state``, atomically.

        ``state`` may be a function of the new row ids (called inside the
        transaction), for state that must name them.
        """
        with self._transaction():
            ids = [self._insert(r) for r in rows]
            self._save_state(state(ids) if callable(state) else state)
        return ids

    def update(self, cand_id: int, fields: Dict,
               state: Optional[Dict] = None) -> None:
        """Update one candidate and save ``state``, atomically."""
        fields = {**fields, 'finished': time.time()}
        sets = ', '.join(f'{k} = ?' for k in fields)
        with self._transaction():
            self.db.execute(f'UPDATE candidates SET {sets} WHERE id = ?',
                            [_encode(v) for v in fields.values()] + [cand_id])
            self._save_state(state)

    # -- reads ---------------------------------------------------------------
    def state(self) -> Dict:
        return {r['name']: json.loads(r['value'])
                for r in self.db.execute('SELECT * FROM state')}

    def rows(self, where: str = '1', params=()) -> List[Dict]:
        return [_decode(r) for r in self.db.execute(
            f'SELECT * FROM candidates WHERE {where} ORDER BY id', params)]

    def get(self, cand_id: int) -> Optional[Dict]:
        rows = self.rows('id = ?', (cand_id, ))
        return rows[0] if rows else None

    def counts(self) -> Dict[str, int]:
        counts = dict.fromkeys(STATUSES, 0)
        for r in self.db.execute(
                'SELECT status, COUNT(*) AS n FROM candidates GROUP BY status'):
            counts[r['status']] = r['n']
        return counts

    def num_evaluated(self) -> int:
        marks = ', '.join('?' * len(EVALUATED))
        return self.db.execute(
            f'SELECT COUNT(*) FROM candidates WHERE status IN ({marks})',
            EVALUATED).fetchone()[0]

    def by_fingerprint(self, fingerprint: str) -> Optional[Dict]:
        """The first trained or diverged candidate with this fingerprint."""
        rows = self.rows(
            "fingerprint = ? AND status IN ('trained', 'diverged')",
            (fingerprint, ))
        return rows[0] if rows else None

    def best(self, k: int, mode: str = 'max') -> List[Dict]:
        """Top-k trained candidates by score, one per individual key."""
        rows = self.rows("status = 'trained' AND score IS NOT NULL")
        rows.sort(key=lambda r: (-r['score'] if mode == 'max' else r['score'],
                                 r['id']))
        best, seen = [], set()
        for row in rows:
            if row['key'] not in seen:
                seen.add(row['key'])
                best.append(row)
        return best[:k]

    def baseline(self) -> Optional[Dict]:
        rows = self.rows("status = 'baseline'")
        return rows[0] if rows else None


class _Transaction:

    def __init__(self, db):
        self.db = db

    def __enter__(self):
        self.db.execute('BEGIN IMMEDIATE')

    def __exit__(self, exc_type, *_):
        self.db.execute('ROLLBACK' if exc_type else 'COMMIT')


_JSON_FIELDS = ('gains', 'metrics')


def _encode(value):
    return json.dumps(value) if isinstance(value, (dict, list)) else value


def _decode(row) -> Dict:
    out = dict(row)
    for key in _JSON_FIELDS:
        if out.get(key) is not None:
            out[key] = json.loads(out[key])
    return out
