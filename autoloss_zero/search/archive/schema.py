"""The archive's tables, their version, and the migrations between versions.

Version 0 is an archive written before the schema was versioned (it has the
same ``candidates`` and ``state`` tables, no ``meta`` table); version 1 adds
the version row and the CMA-ES evaluation table; version 2 the origin of a
candidate (``random``, ``mutation``, ``crossover``, ``seed``: a given tree)
and the table of re-trainings on other seeds (the verdict's); version 3 the
training rungs of multi-fidelity promotion: the table ``rungs`` (one row
per rung training of a candidate: its length, outcome and seconds) and the
candidate's ``rung``, the rung its status and score come from (NULL in a
single-rung search).
"""
import sqlite3
from typing import Callable, Dict

#: the schema this code writes.
SCHEMA_VERSION = 3

CANDIDATES = """
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
    finished REAL,
    origin TEXT,
    rung INTEGER
);
CREATE INDEX IF NOT EXISTS idx_status ON candidates(status);
CREATE INDEX IF NOT EXISTS idx_fingerprint ON candidates(fingerprint);
CREATE TABLE IF NOT EXISTS state (name TEXT PRIMARY KEY, value TEXT);
"""

CMA_EVALUATIONS = """
CREATE TABLE IF NOT EXISTS cma_evaluations (
    id INTEGER PRIMARY KEY,
    run TEXT NOT NULL,
    generation INTEGER NOT NULL,
    member INTEGER NOT NULL,
    coefficients TEXT NOT NULL,
    trees TEXT NOT NULL,
    status TEXT NOT NULL,
    score REAL,
    fvalue REAL,
    reason TEXT,
    metrics TEXT,
    t_train REAL,
    created REAL,
    UNIQUE (run, generation, member)
);
"""

#: the columns of a training's outcome (a re-training, a rung training).
OUTCOME = """
    status TEXT NOT NULL,
    score REAL,
    metrics TEXT,
    reason TEXT,
    t_train REAL,
    created REAL,
    finished REAL,"""

SEED_RUNS = f"""
CREATE TABLE IF NOT EXISTS seed_runs (
    id INTEGER PRIMARY KEY,
    candidate INTEGER NOT NULL,
    seed INTEGER NOT NULL,{OUTCOME}
    UNIQUE (candidate, seed)
);
"""

RUNGS = f"""
CREATE TABLE IF NOT EXISTS rungs (
    id INTEGER PRIMARY KEY,
    candidate INTEGER NOT NULL,
    rung INTEGER NOT NULL,
    iterations INTEGER NOT NULL,{OUTCOME}
    UNIQUE (candidate, rung)
);
"""

META = 'CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT);'


def _run(db: sqlite3.Connection, script: str) -> None:
    """Run ``script``'s statements inside the open transaction
    (``executescript`` would commit it first)."""
    for statement in script.split(';'):
        if statement.strip():
            db.execute(statement)


def _to_v1(db: sqlite3.Connection) -> None:
    _run(db, CMA_EVALUATIONS)


def _to_v2(db: sqlite3.Connection) -> None:
    db.execute('ALTER TABLE candidates ADD COLUMN origin TEXT')
    _run(db, SEED_RUNS)


def _to_v3(db: sqlite3.Connection) -> None:
    columns = {r[1] for r in db.execute('PRAGMA table_info(candidates)')}
    if 'rung' not in columns:
        db.execute('ALTER TABLE candidates ADD COLUMN rung INTEGER')
    _run(db, RUNGS)


#: version -> the step that migrates an archive of that version to the next.
MIGRATIONS: Dict[int, Callable[[sqlite3.Connection], None]] = {
    0: _to_v1, 1: _to_v2, 2: _to_v3}


def version_of(db: sqlite3.Connection) -> int:
    """The schema version of an open archive (0: unversioned, as written
    before versions existed; -1: an empty database)."""
    tables = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table'")}
    if 'meta' in tables:
        row = db.execute(
            "SELECT value FROM meta WHERE name = 'schema_version'").fetchone()
        if row is not None:
            return int(row[0])
    return 0 if 'candidates' in tables else -1


def create_or_migrate(db: sqlite3.Connection, path) -> int:
    """Create the tables of a new archive, or migrate an older one to
    :data:`SCHEMA_VERSION`; returns the version found.

    Raises:
        RuntimeError: the archive was written by a newer autoloss-zero.
    """
    found = version_of(db)
    if found > SCHEMA_VERSION:
        raise RuntimeError(
            f'{path} has archive schema version {found}, newer than the '
            f'{SCHEMA_VERSION} this autoloss-zero reads; upgrade '
            f'autoloss-zero to open it')
    db.execute('BEGIN IMMEDIATE')
    try:
        if found < 0:
            _run(db, CANDIDATES + CMA_EVALUATIONS + SEED_RUNS + RUNGS
                 + META)
        else:
            for version in range(found, SCHEMA_VERSION):
                MIGRATIONS[version](db)
            _run(db, META)
        db.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)",
                   (str(SCHEMA_VERSION), ))
    except BaseException:
        db.execute('ROLLBACK')
        raise
    db.execute('COMMIT')
    return found
