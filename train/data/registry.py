"""The dataset registry: every set of the data root by name (the close-ups of
:mod:`~handsdk.train.data.real`, the camera scenes of
:mod:`~handsdk.train.data.scenes`; their table is
:data:`~handsdk.train.data.catalog.DATASET_INFO`), :func:`load_dataset`
(a set, ``"set:split"`` or a user's folder of class folders), :func:`spread`
(an even choice of at most N of them) and the held-out selectors over loaded
samples."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterable

import numpy as np

from .catalog import DATASET_INFO, data_root, hash_fraction
from .formats import read_image_folder
from .real import CLOSEUP_READERS
from .sample import Sample
from .scenes import SCENE_READERS

DATASETS: dict[str, Callable[..., list[Sample]]] = {**CLOSEUP_READERS, **SCENE_READERS}


def load_dataset(name: str, split=None, root=None, **kw) -> list[Sample]:
    """Load a registered dataset (``name`` in :data:`DATASETS`, optionally
    ``"name:split"``) or, when ``name`` is an existing folder, a user's
    folder-per-class images."""
    if name not in DATASETS and ":" in name and name.split(":", 1)[0] in DATASETS:
        name, split = name.split(":", 1)
    if name in DATASETS:
        return DATASETS[name](split, root, **kw)
    if Path(name).expanduser().is_dir():
        kw.pop("pseudo_labels", None)
        return read_image_folder(Path(name).expanduser(), load_image=kw.get("load_image", True))
    raise KeyError(f"unknown dataset {name!r}: known are {sorted(DATASETS)} (or pass a folder of "
                   f"<class>/<images>)")


def list_datasets(root=None) -> dict[str, bool]:
    """{dataset name: present under the data root}."""
    try:
        r = data_root(root)
    except FileNotFoundError:
        return {n: False for n in DATASETS}
    return {n: (r / DATASET_INFO[n].folder).is_dir() for n in DATASETS}


# --------------------------------------------------------------------------
# held-out selectors


def spread(n: int, limit: int | None) -> list[int]:
    """``limit`` indices spread evenly over ``range(n)`` (all when limit is None
    or >= n): a deterministic choice that covers every class of a sorted set."""
    if limit is None or limit >= n:
        return list(range(n))
    if limit <= 0:
        return []
    return sorted(set(np.linspace(0, n - 1, limit).round().astype(int).tolist()))


def split_by(samples: Iterable[Sample], key: Callable[[Sample], object], held_out) -> tuple[list, list]:
    """(kept, held) where held are samples with ``key(s)`` in ``held_out``."""
    held_set = {held_out} if isinstance(held_out, (str, int)) else set(held_out)
    kept, held = [], []
    for s in samples:
        (held if key(s) in held_set else kept).append(s)
    return kept, held


def holdout_author(samples, author) -> tuple[list, list]:
    """Hold out one (or several) CSV authors: (train, held-out)."""
    return split_by(samples, lambda s: s.extras.get("author"), author)


def holdout_signer(samples, signer) -> tuple[list, list]:
    return split_by(samples, lambda s: s.extras.get("signer"), signer)


def holdout_fraction(samples, fraction: float = 0.15, key: Callable[[Sample], str] | None = None):
    """Stable hash split: (train, held) with ``fraction`` held out by ``key``
    (default: the path)."""
    key = key or (lambda s: s.path)
    kept, held = [], []
    for s in samples:
        (held if hash_fraction(key(s)) < fraction else kept).append(s)
    return kept, held


def label_counts(samples: Iterable[Sample]) -> dict:
    out: dict = {}
    for s in samples:
        out[s.label] = out.get(s.label, 0) + 1
    return out


__all__ = [
    "DATASETS", "load_dataset", "list_datasets", "spread", "split_by", "holdout_author", "holdout_signer",
    "holdout_fraction", "label_counts",
]
