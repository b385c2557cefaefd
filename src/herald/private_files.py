"""Files that hold clients' phone numbers (herald's store, the demo core bank): readable by their owner only."""

from __future__ import annotations

import os
from pathlib import Path


def create_private(path: Path) -> None:
    """Create an SQLite file (and its folder) readable by its owner only, before SQLite opens it.

    The file holds every client's phone number. SQLite gives the -wal and -shm files it creates
    next to it the main file's permissions, so they are private too. A file that exists already
    is left as the operator set it.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        return
    os.chmod(path, 0o600)  # the mode given to open() was narrowed by the umask, never widened; make it exact
