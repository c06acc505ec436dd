"""Target device profiles (JSON files shipped as package data).

Each profile says which model format, backend, delegate and thread count suit
the device, the input and camera resolutions, the latency budget and notes."""
from __future__ import annotations

import json
from pathlib import Path

_DIR = Path(__file__).parent

REQUIRED = ("id", "name", "arch", "format", "backend", "threads", "detector_input", "landmarker_input",
            "camera", "latency_budget_ms", "notes")


def list_devices() -> list[str]:
    return sorted(p.stem for p in _DIR.glob("*.json"))


def load_device(name: str) -> dict:
    """The profile of ``name`` (see :func:`list_devices`)."""
    p = _DIR / f"{name}.json"
    if not p.is_file():
        raise KeyError(f"unknown device {name!r}; known devices: {', '.join(list_devices())}")
    d = json.loads(p.read_text())
    missing = [k for k in REQUIRED if k not in d]
    if missing:
        raise ValueError(f"device profile {p} lacks {missing}")
    return d
