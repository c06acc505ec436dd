"""What real hand data there is: the data root, the table of sets in it
(:data:`DATASET_INFO`: folder, licence, splits, label sets), the canonical
label sets (:data:`LABEL_SETS`) and the stable hash split of the sets that
come without splits. The readers are in :mod:`~handsdk.train.data.real`
(close-ups) and :mod:`~handsdk.train.data.scenes` (camera scenes); the
registry that loads a set by name is :mod:`~handsdk.train.data.registry`.

Data root
---------
``data_root(root)``, the one lookup of the real-data root (the tools, the
training code and the tests use it): the argument, else ``$HANDSDK_DATA``,
else ``../shared/data`` relative to the current directory, else relative to
the repository root. Nothing is ever copied into the repository. Standard
library only.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

# --------------------------------------------------------------------------
# data root


#: environment variable naming the real-data root
DATA_ENV = "HANDSDK_DATA"


def _repo_root() -> Path:
    """The checkout holding this file."""
    return Path(__file__).resolve().parents[2]


def data_root(root: str | os.PathLike | None = None, *, must_exist: bool = True) -> Path:
    """The real-data root.

    Order: ``root`` (an argument such as ``--data-root``), else
    ``$HANDSDK_DATA``, else ``../shared/data`` relative to the current
    directory, else ``../shared/data`` next to the repository checkout.

    An explicit or environment root is taken as given: when it is not a
    folder, ``FileNotFoundError`` says so and where it came from (no fallback
    to the defaults). When neither is set and no default folder exists,
    ``FileNotFoundError`` names every folder tried and how to set one. With
    ``must_exist=False`` nothing is checked: the first candidate is returned
    (an existing default folder when there is one)."""
    if root is not None:
        p = Path(root).expanduser()
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
    for base in (Path.cwd(), _repo_root()):
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


def find_data_root(root: str | os.PathLike | None = None) -> Path | None:
    """:func:`data_root`, or None where there is none (for optional data)."""
    try:
        return data_root(root)
    except FileNotFoundError:
        return None


def has_data(root=None, name: str | None = None) -> bool:
    """True when the data root (and dataset ``name`` in it) exists."""
    try:
        r = data_root(root)
    except FileNotFoundError:
        return False
    if name is None:
        return True
    return (r / DATASET_INFO[name].folder).is_dir()


def dataset_folder(name: str, root=None) -> Path:
    """The folder of dataset ``name`` under the data root (``FileNotFoundError`` when absent)."""
    r = data_root(root)
    d = r / DATASET_INFO[name].folder
    if not d.is_dir():
        raise FileNotFoundError(f"dataset {name!r} not found: {str(d)!r} does not exist (data root {str(r)!r})")
    return d


# --------------------------------------------------------------------------
# the sets


@dataclass(frozen=True)
class DatasetInfo:
    name: str
    folder: str
    licence: str
    shippable: bool
    description: str
    splits: tuple[str, ...] = ()
    label_sets: tuple[str, ...] = ()
    keypoint_source: str = "mediapipe"
    notes: str = ""


def _sets(*infos: DatasetInfo) -> dict[str, DatasetInfo]:
    return {i.name: i for i in infos}


def _set(name: str, licence: str, shippable: bool, description: str, **kw) -> DatasetInfo:
    """A set whose folder is its name."""
    return DatasetInfo(name, name, licence, shippable, description, **kw)


#: every set of the data root: the close-ups (:mod:`~handsdk.train.data.real`), then the "people in
#: view" camera scenes and the close-up sets that came with them (:mod:`~handsdk.train.data.scenes`)
DATASET_INFO: dict[str, DatasetInfo] = _sets(
    _set("asl_letters", "Public Domain", True,
         "Roboflow ASL letters: one hand signing A-Z, YOLO boxes (+ MediaPipe keypoints)",
         splits=("train", "valid"), label_sets=("asl_letters",),
         notes="train = 504 photos x 3 augmentations (incl. flips); test split is held out"),
    _set("sign_language_digits", "Apache-2.0", True, "ASL digits 0-9, 218 signers, 100x100, hand fills the frame",
         splits=("train", "valid"), label_sets=("asl_digits",), notes="no official split: stable 15% hash split"),
    _set("asl_two_signers", "none stated", False, "static ASL letters (no J/Z), signer 'jack', 200x200 webcam frames",
         splits=("jack",), label_sets=("asl_letters",), notes="evaluation only: no licence, not for shipped models"),
    _set("asl_alphabet_subset", "GPL-2.0", False,
         "Kaggle ASL Alphabet subset: one signer, A-Z + del/nothing/space, 200x200",
         splits=("train", "test"), label_sets=("asl_letters", "asl_alphabet_extra"),
         notes="GPL-2.0: not used for the shipped (Apache-2.0) models"),
    _set("gesture_keypoints_csv", "Apache-2.0", True,
         "MediaPipe landmark CSVs (no images) of command gestures and number signs, 10 authors",
         label_sets=("commands", "number_signs"),
         notes="split = author name(s); kinivi rows duplicating Kazuhito00 are dropped"),
    _set("hand_keypoints_gt", "research-only samples (FreiHAND, OneHand10K, Panoptic, RHD, InterHand2.6M, "
         "COCO-WholeBody)", False, "~30 human-annotated 21-keypoint hands (mmpose test samples)",
         splits=("freihand", "onehand10k", "panoptic", "rhd", "interhand2.6m", "coco"), keypoint_source="human",
         notes="evaluation only"),
    _set("webcam_finger_counts", "Apache-2.0", True,
         "webcam/laptop frames, face + 1-2 raised hands (0-5 fingers), VOC box per hand",
         splits=("train", "valid"), label_sets=("finger_counts",), notes="valid = whole recording sessions"),
    _set("webcam_signs", "MIT", True,
         "home-webcam frames of three people signing (hello, thanks, yes, no, I love you)",
         splits=("train", "valid"), label_sets=("signs",),
         notes="valid = the third person; one box may hold both hands"),
    _set("ksl_signers", "CC BY 4.0", True, "two women signing in view of a webcam / studio camera, small hands",
         label_sets=("ksl",)),
    _set("isl_phone", "CC BY 4.0", True, "phone front-camera frames of one woman signing near her face",
         label_sets=("signs",)),
    _set("closeup_finger_counts", "CC BY 4.0", True, "close-up phone photos of one hand counting 1-5, many people",
         splits=("train", "valid"), label_sets=("finger_counts",)),
    _set("closeup_open_hands", "CC BY 4.0", True, "close-ups of open hands of several people (oriented boxes)",
         splits=("train", "valid")),
    _set("asl_signers_studio", "doubtful (re-shared dictionary video frames)", False,
         "many ASL signers, upper body, hands near the face, studio backdrops (pseudo-labels only)",
         notes="validation and experiments only, never in a shipped model"),
    _set("selfie_people", "CC BY 4.0", True,
         "phone selfies, mostly faces without hands (hard negatives; MediaPipe misses a few hands)"),
    _set("driver_cam", "CC BY 4.0", True,
         "one man in a car seen by a dash camera, mostly no hands (hard negatives)"),
)


def shippable_datasets() -> list[str]:
    return [n for n, i in DATASET_INFO.items() if i.shippable]


# --------------------------------------------------------------------------
# label sets

ASL_LETTERS = tuple(chr(c) for c in range(ord("A"), ord("Z") + 1))
ASL_DIGITS = tuple(str(i) for i in range(10))
#: the commands set of the shipped GestureNet (issue 13); every source's mapping onto it, decided by
#: pose, is in :mod:`handsdk.train.data.gestures`
COMMANDS = ("none", "open_palm", "fist", "point", "victory", "three", "four", "thumbs_up", "thumbs_down", "ok",
            "call", "i_love_you", "pinch")

#: canonical label sets (ordered); per-author CSV sets are added by the CSV reader
LABEL_SETS: dict[str, tuple[str, ...]] = {
    "asl_letters": ASL_LETTERS,
    "asl_digits": ASL_DIGITS,
    "asl_alphabet_extra": ("del", "nothing", "space"),
    "commands": COMMANDS,
    "number_signs": ASL_DIGITS,
    "finger_counts": ("0", "1", "2", "3", "4", "5"),
    "signs": ("hello", "thanks", "yes", "no", "i_love_you", "please"),
}


# --------------------------------------------------------------------------
# stable split of the sets without splits


def hash_fraction(key: str) -> float:
    """A stable number in [0, 1) for ``key`` (its SHA-1)."""
    h = hashlib.sha1(key.encode("utf-8")).digest()
    return int.from_bytes(h[:8], "big") / 2 ** 64


def hash_split(key: str, split: str | None, valid_fraction: float) -> bool:
    """Stable train/valid split by file-name hash for sets without splits."""
    if split in (None, "all"):
        return True
    is_valid = hash_fraction(key) < valid_fraction
    if split == "valid":
        return is_valid
    if split == "train":
        return not is_valid
    raise ValueError(f"unknown split {split!r}: expected None, 'all', 'train' or 'valid'")


__all__ = [
    "DATA_ENV", "data_root", "find_data_root", "has_data", "dataset_folder", "DatasetInfo", "DATASET_INFO",
    "shippable_datasets", "ASL_LETTERS", "ASL_DIGITS", "COMMANDS", "LABEL_SETS", "hash_fraction", "hash_split",
]
