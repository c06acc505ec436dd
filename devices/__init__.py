"""Target device profiles (JSON files shipped as package data).

A profile holds only what the code reads (:data:`FIELDS` says who): the
device's format (the one place that says which format suits a device; its
runtime backend comes from that format's row in
:data:`handsdk.convert.formats.FORMATS`), the interpreter threads and camera
size that ``handsdk run`` / ``handsdk profile`` use, the latency budget and
notes that ``handsdk devices`` shows. A model's input sizes live in the
bundle (its manifest), not here."""
from __future__ import annotations

import json
from pathlib import Path

_DIR = Path(__file__).parent

#: every field a profile may hold, and what reads it
FIELDS = {
    "name": "handsdk devices list",
    "format": "handsdk convert --device (the note on another format), handsdk devices list; "
              "its row in the formats table gives the backend",
    "threads": "handsdk run --device, handsdk profile --device (interpreter threads)",
    "camera": "handsdk run --device (camera resolution), handsdk profile --device (frame size)",
    "latency_budget_ms": "handsdk devices list",
    "notes": "handsdk devices show",
}
REQUIRED = tuple(FIELDS)


def list_devices() -> list[str]:
    return sorted(p.stem for p in _DIR.glob("*.json"))


def _check(p: Path, d: dict) -> None:
    from handsdk.convert.formats import FORMATS

    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ValueError(f"device profile {p} lacks {missing}")
    unread = sorted(set(d) - set(FIELDS))
    if unread:
        raise ValueError(f"device profile {p} has fields nothing reads: {unread} (known: {', '.join(FIELDS)})")
    if d["format"] not in FORMATS:
        raise ValueError(f"device profile {p}: unknown format {d['format']!r}; choose one of {', '.join(FORMATS)}")
    if not (isinstance(d["threads"], int) and d["threads"] >= 1):
        raise ValueError(f"device profile {p}: threads must be a positive integer, got {d['threads']!r}")
    cam = d["camera"]
    if not (isinstance(cam, list) and len(cam) == 2 and all(isinstance(v, int) and v > 0 for v in cam)):
        raise ValueError(f"device profile {p}: camera must be [width, height], got {cam!r}")


def load_device(name: str) -> dict:
    """The profile of ``name`` (see :func:`list_devices`), with ``id`` (the
    file's name) and ``backend`` (the runtime of its format, from the formats
    table) added."""
    from handsdk.convert.formats import FORMATS

    p = _DIR / f"{name}.json"
    if name not in list_devices():
        raise KeyError(f"unknown device {name!r}; known devices: {', '.join(list_devices())}")
    d = json.loads(p.read_text())
    _check(p, d)
    return {"id": name, **d, "backend": FORMATS[d["format"]].backend}
