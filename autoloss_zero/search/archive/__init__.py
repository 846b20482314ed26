"""The archive: every candidate and the searcher state in one SQLite file.
This package is the only code of the project that speaks SQL: ``schema``
holds the tables and their migrations, ``store`` the reads and writes."""
from .schema import SCHEMA_VERSION
from .store import (EVALUATED, STATUSES, TRAINED, Archive, ArchiveCorrupt,
                    Finished)

__all__ = ['Archive', 'ArchiveCorrupt', 'EVALUATED', 'TRAINED', 'STATUSES',
           'SCHEMA_VERSION', 'Finished']
