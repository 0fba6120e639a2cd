"""Atomic file writes: write to a temporary file beside the target, then rename over it.

The temporary file is named ``.<target name>.<pid>.<random>.tmp``: a writer killed mid-write
(kill -9, power loss) leaves it behind, and the next save of the same target (or the editor's
next start, for its recovery folder) removes the ones whose process is gone
(``remove_stale_temps``). After the rename the folder is fsynced, so the new name itself
survives a crash, not only the data.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# mkstemp creates 0600 files; exports should get the user's usual permissions. Read the umask
# once here (os.umask is process-global, so not from worker threads).
_UMASK = os.umask(0)
os.umask(_UMASK)
LEGACY_TEMP_AGE_S = 24 * 3600  # temps without a pid (older builds) count as stale after a day


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True  # exists, owned by someone else
    return True


_TEMP = re.compile(r"^\.(?P<name>.+?)\.(?:(?P<pid>\d+)\.)?(?P<rand>[^.]+)\.tmp$")


def stale_temps(path: str | Path, *, any_target: bool = False) -> list[Path]:
    """Temporary files of interrupted writes to ``path`` (``any_target``: to any file in
    ``path``, a folder) whose writer is no longer running."""
    path = Path(path)
    folder = path if any_target else path.parent
    out = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return []
    for e in entries:
        m = _TEMP.match(e.name)
        if m is None or not (any_target or m["name"] == path.name):
            continue
        if m["pid"] is not None:
            if not _pid_alive(int(m["pid"])):
                out.append(Path(e.path))
        else:
            with contextlib.suppress(OSError):
                if time.time() - e.stat(follow_symlinks=False).st_mtime > LEGACY_TEMP_AGE_S:
                    out.append(Path(e.path))
    return out


def remove_stale_temps(path: str | Path, *, any_target: bool = False) -> list[Path]:
    """Remove ``stale_temps(path, any_target=...)``; returns what was removed."""
    removed = []
    for p in stale_temps(path, any_target=any_target):
        with contextlib.suppress(FileNotFoundError, PermissionError):
            p.unlink()
            removed.append(p)
    return removed


def fsync_dir(folder: str | Path) -> None:
    """Make a rename in ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; on success it replaces ``path`` atomically,
    on any exception it is removed and ``path`` is left as it was."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_temps(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        with open(tmp_path, "rb+") as f:
            os.fsync(f.fileno())
        os.chmod(tmp_path, 0o666 & ~_UMASK)
        os.replace(tmp_path, path)
        fsync_dir(path.parent)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp_path.unlink()
        raise
