"""File input and output: every file is complete or absent, finished work is never lost, bad files are named."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

from ._validate import DataFileError, OutputError

__all__ = ["atomic_write", "write_or_rescue", "rescue_dir", "read_netcdf", "check_output_paths"]


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


def rescue_dir() -> Path:
    """Folder of rescue copies: ``$HOMEONET_RESCUE_DIR``, else the system's temporary folder."""
    return Path(os.environ.get("HOMEONET_RESCUE_DIR") or tempfile.gettempdir())


def write_or_rescue(path, write) -> Path:
    """:func:`atomic_write` *path*; if that fails after the work is done, write a rescue copy instead.

    Parameters
    ----------
    path : str or Path
        Destination.
    write : callable
        ``write(tmp_path)`` writes the content.

    Returns
    -------
    Path
        The destination.

    Raises
    ------
    OutputError
        The write failed (disk full, permissions, an HDF error); the message names the rescue copy
        (in :func:`rescue_dir`) or says that none could be written either.
    """
    path = Path(path)
    try:
        return atomic_write(path, write)
    except (OSError, RuntimeError, ValueError) as err:
        reason = f"{type(err).__name__}: {err}"
    rescue = rescue_dir() / f"homeonet-rescued-{time.strftime('%Y%m%d-%H%M%S')}-{os.getpid()}-{path.name}"
    try:
        atomic_write(rescue, write)
    except (OSError, RuntimeError, ValueError) as err:
        raise OutputError(f"could not write {str(path)!r} ({reason}), nor a rescue copy in "
                          f"{str(rescue.parent)!r} ({type(err).__name__}: {err})") from None
    raise OutputError(f"could not write {str(path)!r} ({reason}); the finished results were saved to "
                      f"{str(rescue)!r} instead")


def read_netcdf(path, what="results"):
    """Load a NetCDF file into memory, or fail with one line naming it.

    Parameters
    ----------
    path : str or Path
    what : str
        What the file should hold (for the message).

    Returns
    -------
    xarray.Dataset

    Raises
    ------
    DataFileError
        Missing, empty or unreadable (corrupt, not NetCDF).
    """
    import xarray as xr

    path = Path(path)
    if not path.is_file():
        raise DataFileError(f"{str(path)!r}: no such {what} file")
    if path.stat().st_size == 0:
        raise DataFileError(f"{str(path)!r} is empty: not a {what} file")
    try:
        return xr.load_dataset(path, engine="netcdf4")
    except Exception as err:  # netCDF4/HDF5 raise OSError, ValueError or their own kinds for a bad file
        raise DataFileError(f"{str(path)!r} cannot be read as NetCDF {what} ({type(err).__name__}: "
                            f"{str(err).splitlines()[0] if str(err) else 'unreadable'})") from None


def check_output_paths(folder, names, option="--out") -> Path:
    """Check, before any work, that *folder* can receive files *names*.

    The folder is created if needed and probed for writing; each name must not be an existing
    folder or other non-file.

    Parameters
    ----------
    folder : str or Path
    names : iterable of str
        File names that will be written into *folder*.
    option : str
        How the folder was given (for the message).

    Returns
    -------
    Path
        The folder.

    Raises
    ------
    OutputError
        An empty path, a folder that cannot be created or written, or a name taken by a folder.
    """
    if folder is None or not str(folder).strip():
        raise OutputError(f"{option} must name a folder, got {str(folder)!r}")
    path = Path(folder)
    try:
        path.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".homeonet-write-test-", dir=path)
        os.close(fd)
        os.remove(probe)
    except OSError as err:
        raise OutputError(f"{option} must be a writable folder; cannot write to {str(folder)!r} "
                          f"({err.strerror or err})") from None
    for name in names:
        target = path / name
        if target.exists() and not target.is_file():
            raise OutputError(f"{option}: {str(target)!r} exists and is not a file (a folder?); it would not be "
                              "replaced: remove or rename it, or choose another folder")
    return path
