"""The SQLite archive: atomic writes, state, queries."""
import sqlite3

import pytest

from autoloss_zero.search import Archive
from autoloss_zero.search.archive import SCHEMA_VERSION


def row(key, status, score=None, fp=None):
    return dict(key=key, trees='{"s": "%s"}' % key, status=status,
                score=score, fingerprint=fp)


def test_wal_mode_and_reopen(tmp_path):
    archive = Archive(tmp_path / 'a' / 'search.sqlite')
    ids = archive.add([row('y', 'rejected'), row('x', 'running')],
                      state=dict(searcher={'n': 1}))
    assert ids == [1, 2]
    archive.close()
    again = Archive(tmp_path / 'a' / 'search.sqlite')
    assert again.db.execute('PRAGMA journal_mode').fetchone()[0] == 'wal'
    assert again.state() == dict(searcher={'n': 1})
    assert [r['status'] for r in again.rows()] == ['rejected', 'running']


def test_update_and_counts(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    (cid, ) = archive.add([row('x', 'running')])
    archive.update(cid, dict(status='trained', score=3.5,
                             metrics={'mIoU': 3.5}), state={'k': 2})
    got = archive.get(cid)
    assert got['status'] == 'trained' and got['metrics'] == {'mIoU': 3.5}
    assert got['finished'] is not None
    assert archive.counts()['trained'] == 1
    assert archive.num_evaluated() == 1
    assert archive.state() == {'k': 2}


def test_state_function_sees_the_new_ids(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    ids = archive.add([row('a', 'rejected'), row('b', 'equivalent', 1.0)],
                      state=lambda ids: {'last': ids[-1]})
    assert archive.state() == {'last': ids[-1]}


def test_failed_transaction_writes_nothing(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    with pytest.raises(sqlite3.Error):
        archive.add([row('a', 'trained', 1.0), dict(key=None, trees='{}',
                                                     status='trained')],
                    state={'x': 1})
    assert archive.rows() == [] and archive.state() == {}


def test_best_fingerprint_and_baseline(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    archive.add([
        row('a', 'trained', 1.0, 'f1'),
        row('b', 'trained', 3.0, 'f2'),
        row('b', 'trained', 3.0, 'f2'),
        row('c', 'diverged', 0.0, 'f3'),
        row('d', 'trained', 2.0, 'f4'),
        dict(key='baseline', trees='{}', status='baseline', score=2.5),
    ])
    assert [r['key'] for r in archive.best(5)] == ['b', 'd', 'a']
    assert [r['key'] for r in archive.best(2, 'min')] == ['a', 'd']
    assert archive.by_fingerprint('f3')['key'] == 'c'
    assert archive.by_fingerprint('nope') is None
    assert archive.baseline()['score'] == 2.5


#: the tables of an archive written before the schema had a version.
UNVERSIONED = """
CREATE TABLE candidates (
    id INTEGER PRIMARY KEY, parent INTEGER, key TEXT NOT NULL,
    trees TEXT NOT NULL, status TEXT NOT NULL, reason TEXT, gains TEXT,
    fingerprint TEXT, equivalent_to INTEGER, score REAL, metrics TEXT,
    redraws INTEGER DEFAULT 0, t_reject REAL, t_train REAL, created REAL,
    finished REAL);
CREATE TABLE state (name TEXT PRIMARY KEY, value TEXT);
INSERT INTO candidates (key, trees, status, score)
    VALUES ('s=y', '{"s": "y"}', 'trained', 4.0);
INSERT INTO state VALUES ('stats', '{"generated": 1}');
"""


def test_unversioned_archive_is_migrated(tmp_path):
    path = tmp_path / 's.sqlite'
    db = sqlite3.connect(str(path))
    db.executescript(UNVERSIONED)
    db.close()
    archive = Archive(path)
    assert archive.found_version == 0 and archive.version == SCHEMA_VERSION
    assert [r['key'] for r in archive.rows()] == ['s=y']
    assert archive.state() == {'stats': {'generated': 1}}
    assert archive.cma_rows('candidate1') == []  # the new table exists
    archive.close()
    assert Archive(path).found_version == SCHEMA_VERSION


def test_newer_archive_is_refused_naming_the_version(tmp_path):
    path = tmp_path / 's.sqlite'
    Archive(path).db.execute(
        "UPDATE meta SET value = '99' WHERE name = 'schema_version'")
    with pytest.raises(RuntimeError, match=f'schema version 99, newer than '
                       f'the {SCHEMA_VERSION}'):
        Archive(path)


def test_rows_by_status_and_unknown_status(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    archive.add([row('a', 'rejected'), row('b', 'trained', 1.0),
                 row('c', 'baseline', 2.0)])
    assert [r['key'] for r in archive.rows('trained', 'rejected')] == [
        'a', 'b']
    assert [r['key'] for r in archive.rows(exclude=('baseline', ))] == [
        'a', 'b']
    with pytest.raises(ValueError, match=r"unknown candidate status\(es\) "
                       r"\['trainde'\]"):
        archive.rows('trainde')


def test_read_only_archive_reads_beside_a_writer(tmp_path):
    archive = Archive(tmp_path / 's.sqlite')
    archive.add([row('a', 'trained', 1.0)])
    reader = Archive(tmp_path / 's.sqlite', read_only=True)
    (cand_id, (key, status, score, _)), = reader.finished().items()
    assert (key, status, score) == ('a', 'trained', 1.0)
    assert reader.progress() == (1, 0)  # added, not finished
    with pytest.raises(sqlite3.OperationalError):
        reader.add([row('b', 'trained')])
