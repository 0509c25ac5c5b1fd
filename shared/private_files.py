"""Owner-only files and folders for what the embedded default keeps under `var/`.

The SQLite databases hold orders, tokens and documents, and `var/keys` holds private keys: on a
shared machine nobody else may read them, whatever the umask. Folders are made 0700 and files
0600; SQLite gives the `-wal`, `-shm` and `-journal` files it creates the mode of their
database file, so a database made 0600 keeps its companions 0600 too.
"""

import os
from pathlib import Path

VAR_DIR = Path("var")
SQLITE_COMPANIONS = ("-wal", "-shm", "-journal")


def private_folder(path: Path) -> None:
    """Make `path` (and any missing parents) owner-only: 0700.

    A folder that exists already is tightened only if it is `var/` or inside it: someone
    else's folder (a temporary one, `/srv/data`) is theirs to set.
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        folder.chmod(0o700)  # mkdir's mode passes through the umask
    if is_under_var(path):
        for folder in (path, *path.parents):
            if folder.exists() and is_under_var(folder):
                folder.chmod(0o700)


def private_sqlite_file(path: Path) -> None:
    """Create the SQLite database file `path` 0600 if missing, and tighten it if it exists.

    Its existing `-wal`, `-shm` and `-journal` files are tightened too (a database made before
    this rule); new ones take the database file's mode from SQLite.
    """
    private_folder(path.parent)
    os.close(os.open(path, os.O_WRONLY | os.O_CREAT, 0o600))
    for file in (path, *(path.with_name(path.name + suffix) for suffix in SQLITE_COMPANIONS)):
        if file.exists():
            file.chmod(0o600)


def is_under_var(path: Path | None) -> bool:
    """Whether `path` is the development folder `var/` or inside it."""
    if path is None:
        return False
    var = VAR_DIR.resolve()
    resolved = path.resolve()
    return resolved == var or var in resolved.parents
