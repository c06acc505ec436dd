"""Where the project's shared folders are: one lookup of the real-data root
(``../shared/data``), used by the tools, the training code and the tests.

Standard library only: the runtime may import it, and it never imports
training code."""
from __future__ import annotations

import os
from pathlib import Path

#: environment variable naming the real-data root
DATA_ENV = "HANDSDK_DATA"


def _repo_root() -> Path:
    """The checkout (or the folder holding the installed ``handsdk``)."""
    return Path(__file__).resolve().parents[1]


def data_root(explicit: str | os.PathLike | None = None, *, must_exist: bool = True,
              repo: str | os.PathLike | None = None) -> Path:
    """The real-data root.

    Order: ``explicit`` (an argument such as ``--data-root``), else
    ``$HANDSDK_DATA``, else ``../shared/data`` relative to the current
    directory, else ``../shared/data`` next to the repository checkout
    (``repo``, default the one holding this file).

    An explicit or environment root is taken as given: when it is not a
    folder, ``FileNotFoundError`` says so and where it came from (no fallback
    to the defaults). When neither is set and no default folder exists,
    ``FileNotFoundError`` names every folder tried and how to set one. With
    ``must_exist=False`` nothing is checked: the first candidate is returned
    (an existing default folder when there is one)."""
    if explicit is not None:
        p = Path(explicit).expanduser()
        if p.is_dir() or not must_exist:
            return p
        raise FileNotFoundError(f"data root {str(p)!r} (given as an argument) does not exist or is not a folder")
    env = os.environ.get(DATA_ENV)
    if env:
        p = Path(env).expanduser()
        if p.is_dir() or not must_exist:
            return p
        raise FileNotFoundError(f"data root {str(p)!r} (from ${DATA_ENV}) does not exist or is not a folder")
    tried = []
    for base in (Path.cwd(), Path(repo) if repo is not None else _repo_root()):
        p = (base / ".." / "shared" / "data").resolve()
        if p in tried:
            continue
        tried.append(p)
        if p.is_dir():
            return p
    if not must_exist:
        return tried[0]
    raise FileNotFoundError("no real-data root found (tried " + ", ".join(repr(str(t)) for t in tried) + "); "
                            f"pass --data-root / root=..., or set {DATA_ENV}=/path/to/shared/data")


def find_data_root(explicit: str | os.PathLike | None = None) -> Path | None:
    """:func:`data_root`, or None where there is none (for optional data)."""
    try:
        return data_root(explicit)
    except FileNotFoundError:
        return None
