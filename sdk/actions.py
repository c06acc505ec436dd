"""Gestures to actions: :class:`ActionMap` performs what a map of gestures
says when :class:`handsdk.events.GestureEvents` reports their events
(``key``: emit a key name; ``shell``: run a command, only with
``allow_shell=True``); :func:`load_actions` reads such a map from a file
(JSON or YAML-lite).

    events = GestureEvents()
    amap = load_actions("actions.json", on_key=print)
    for frame, result in rec.stream(0):
        for ev in events.update(result):
            amap.handle(ev)
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from .checks import check_bool, check_callable, check_choice, check_range
from .events import EVENT_TYPES, GestureEvent

__all__ = ["Action", "ActionMap", "load_actions", "shell_warning"]


@dataclass(frozen=True)
class Action:
    """kind: "key" (emit a key name) or "shell" (run a command); on: the
    event type that triggers it ("start" by default, or "hold", "end")."""

    kind: str
    value: str
    on: str = "start"
    gesture_set: str | None = None  # None: a label of any set


@dataclass
class ActionMap:
    """Gestures to actions. ``handle(event)`` performs the matching actions
    and returns what it did, as dicts (``{"action": "key", "key": "space",
    ...}``); shell commands run only when ``allow_shell`` is True (they are
    started in the background; their output goes to this process's
    stderr), otherwise they are reported as skipped."""

    actions: dict = field(default_factory=dict)  # {label: [Action, ...]}
    allow_shell: bool = False
    on_key: Callable | None = None  # callback(key_name) for "key" actions
    shell_timeout_s: float = 30.0

    def __post_init__(self):
        # (a string such as "no" would be truthy and let shell commands run: only a bool is taken)
        self.allow_shell = check_bool("allow_shell", self.allow_shell)
        if self.on_key is not None:
            check_callable("on_key", self.on_key, "on_key(key_name)")
        self.shell_timeout_s = check_range("shell_timeout_s", self.shell_timeout_s, 0, lo_open=True, note="seconds")
        self._procs = []

    def match(self, event: GestureEvent) -> list[Action]:
        return [a for a in self.actions.get(event.label, ())
                if a.on == event.type and (a.gesture_set is None or a.gesture_set == event.gesture_set)]

    def handle(self, event: GestureEvent) -> list[dict]:
        done = []
        for a in self.match(event):
            base = {"action": a.kind, "label": event.label, "set": event.gesture_set, "hand": event.track_id,
                    "timestamp_ms": event.timestamp_ms}
            if a.kind == "key":
                if self.on_key is not None:
                    self.on_key(a.value)
                done.append({**base, "key": a.value})
            elif not self.allow_shell:
                done.append({**base, "command": a.value, "skipped": "shell actions need --allow-shell"})
            else:
                self._procs = [p for p in self._procs if p.poll() is None]
                try:
                    p = subprocess.Popen(a.value, shell=True, stdout=sys.stderr, stderr=sys.stderr)
                    self._procs.append(p)
                    done.append({**base, "command": a.value, "pid": p.pid})
                except OSError as e:
                    done.append({**base, "command": a.value, "error": str(e)})
        return done

    def wait(self, timeout: float | None = None):
        """Wait for the shell commands started so far."""
        for p in self._procs:
            try:
                p.wait(timeout=timeout if timeout is not None else self.shell_timeout_s)
            except subprocess.TimeoutExpired:
                p.kill()
        self._procs = []

    @property
    def has_shell(self) -> bool:
        return any(a.kind == "shell" for acts in self.actions.values() for a in acts)


def _parse_action(label, spec, where, gset=None) -> Action:
    if isinstance(spec, str):  # "key space" / "shell cmd ..."
        kind, _, value = spec.strip().partition(" ")
        spec = {kind: value.strip()}
    if not isinstance(spec, dict):
        raise ValueError(f"{where}: the action of {label!r} must be an object like {{\"key\": \"space\"}}")
    kinds = [k for k in ("key", "shell") if k in spec]
    if len(kinds) != 1:
        raise ValueError(f"{where}: the action of {label!r} needs exactly one of 'key' or 'shell', got {spec}")
    value = spec[kinds[0]]
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where}: {kinds[0]} of {label!r} must be a non-empty string")
    on = check_choice(f"{where}: 'on' of {label!r}", spec.get("on", "start"), EVENT_TYPES)
    extra = set(spec) - {"key", "shell", "on", "set"}
    if extra:
        raise ValueError(f"{where}: unknown fields {sorted(extra)} in the action of {label!r}")
    return Action(kinds[0], value.strip(), on, spec.get("set", gset))


def _yaml_lite(text: str) -> dict:
    """``label: key NAME`` / ``label: shell COMMAND`` lines, optionally under
    a ``set:`` header line; ``#`` comments."""
    out: dict = {}
    current = None
    for n, raw in enumerate(text.splitlines(), 1):
        line = raw.split(" #")[0].rstrip() if not raw.lstrip().startswith("#") else ""
        if not line.strip():
            continue
        if ":" not in line:
            raise ValueError(f"line {n}: expected 'label: key NAME' or 'label: shell COMMAND', got {raw!r}")
        k, _, v = line.partition(":")
        if not v.strip():
            if raw[:1].isspace():
                raise ValueError(f"line {n}: empty action for {k.strip()!r}")
            current = k.strip()
            out.setdefault(current, {})
            continue
        target = out[current] if (current is not None and raw[:1].isspace()) else out
        target[k.strip()] = v.strip()
    return out


def load_actions(source, *, allow_shell: bool = False, on_key: Callable | None = None) -> ActionMap:
    """An :class:`ActionMap` from a JSON file (or a dict, or a YAML-lite file
    with ``.yaml``/``.yml``/``.txt``). JSON forms::

        {"open_palm": {"key": "space"},
         "fist": {"shell": "playerctl play-pause", "on": "start"},
         "commands": {"thumbs_up": "key volume_up"}}       # per gesture set

    A value may be a list of actions. YAML-lite: ``open_palm: key space``
    lines, optionally indented under a ``commands:`` line."""
    where = "actions"
    if isinstance(source, (str, Path)):
        p = Path(source)
        where = str(p)
        if not p.is_file():
            raise FileNotFoundError(f"action map not found: {p}")
        text = p.read_text(encoding="utf-8-sig")
        if p.suffix.lower() in (".yaml", ".yml", ".txt"):
            data = _yaml_lite(text)
        else:
            try:
                data = json.loads(text)
            except json.JSONDecodeError as e:
                raise ValueError(f"{p}: not valid JSON ({e})") from None
    else:
        data = source
    if not isinstance(data, dict):
        raise ValueError(f"{where}: expected an object of gesture -> action")
    actions: dict = {}

    def add(label, spec, gset=None):
        specs = spec if isinstance(spec, list) else [spec]
        actions.setdefault(label, []).extend(_parse_action(label, s, where, gset) for s in specs)

    for k, v in data.items():
        if isinstance(v, dict) and not ({"key", "shell"} & set(v)):  # a gesture set of label -> action
            for label, spec in v.items():
                add(label, spec, k)
        else:
            add(k, v)
    return ActionMap(actions, allow_shell=allow_shell, on_key=on_key)


def shell_warning() -> str:
    return ("warning: --allow-shell lets gestures run shell commands from the action map with your "
            "permissions; use only a map you wrote or trust")

