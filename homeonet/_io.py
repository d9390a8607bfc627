"""Atomic file output: a file is either complete or absent, never half written."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

__all__ = ["atomic_write"]


def atomic_write(path, write) -> Path:
    """Write *path* through a temporary file in the same folder, then rename it into place.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        ``write(tmp_path)`` writes the content to the temporary path.

    Returns
    -------
    Path
        The destination.
    """
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600 files; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.remove(tmp)
        raise
    return path
