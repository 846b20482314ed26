"""An exclusive lock on a search's work dir, held for the whole search.

``<work_dir>/search.lock`` is locked with ``fcntl.flock`` and holds the
owner's PID and start time. The operating system releases the lock when its
process ends, however it ends, so a lock left by a killed search is never
stale; a second search (or ``--resume``) of the same work dir is refused at
once, naming the holder.
"""
import fcntl
import os
import time
from pathlib import Path
from typing import Optional


class WorkDirLocked(RuntimeError):
    """Another process holds the work dir."""


class WorkDirLock:
    """The lock of ``work_dir`` (acquired by :meth:`acquire`).

    Args:
        work_dir: the search's output folder (must exist).
    """

    def __init__(self, work_dir):
        self.path = Path(work_dir) / 'search.lock'
        self._file = None

    @property
    def held(self) -> bool:
        return self._file is not None

    def acquire(self) -> 'WorkDirLock':
        """Take the lock, or raise :class:`WorkDirLocked` naming the PID
        that holds it."""
        if self.held:
            return self
        handle = open(self.path, 'a+')
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            handle.seek(0)
            holder = handle.read().strip() or 'an unknown process'
            handle.close()
            raise WorkDirLocked(
                f'{self.path.parent} is in use by another search ({holder});'
                f' wait for it to finish, stop it, or choose another '
                f'--work-dir') from None
        handle.seek(0)
        handle.truncate()
        handle.write(f'pid {os.getpid()}, since '
                     f'{time.strftime("%Y-%m-%d %H:%M:%S")}\n')
        handle.flush()
        self._file = handle
        return self

    def release(self) -> None:
        """Give the lock up (also done by the OS when the process ends)."""
        handle, self._file = self._file, None
        if handle is not None:
            fcntl.flock(handle, fcntl.LOCK_UN)
            handle.close()

    def holder(self) -> Optional[str]:
        """What the lock file says of its last owner."""
        return self.path.read_text().strip() if self.path.exists() else None

    def __enter__(self):
        return self.acquire()

    def __exit__(self, *_):
        self.release()
