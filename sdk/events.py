"""Command gestures as events, with hysteresis, and a mapping from gestures
to actions.

Feed :class:`GestureEvents` with each :class:`~handsdk.RecognitionResult`
(VIDEO or LIVE_STREAM mode, so that hands have track ids and frames have
timestamps)::

    events = GestureEvents(on_event=print)            # or read update()'s return
    for frame, result in rec.stream(0):
        for ev in events.update(result):
            ...                                       # ev.type: start / hold / end

Per hand (track id) and gesture set, a gesture **starts** once it has been the
best label with a score >= ``start_score`` for ``min_hold_ms``; it then
sends **hold** every ``hold_interval_ms`` while its score stays >=
``end_score`` (the lower threshold: hysteresis), and **ends** when its score
drops below ``end_score``, another gesture takes over, or the hand is lost.
Labels in ``ignore`` (the sets' "none") never start.

:class:`ActionMap` maps gestures to actions (``key``: emit a key name;
``shell``: run a command, only with ``allow_shell=True``); see
:func:`load_actions` for the file format.
"""
from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

__all__ = ["GestureEvent", "GestureEvents", "Action", "ActionMap", "load_actions"]

EVENT_TYPES = ("start", "hold", "end")


@dataclass(frozen=True)
class GestureEvent:
    """type: "start", "hold" or "end"; track_id: the hand (None in IMAGE
    mode); gesture_set, label, score (the label's score in this frame);
    timestamp_ms: this frame; start_ms: when the gesture started (for hold
    and end); duration_ms: timestamp_ms - start_ms; reason (end only):
    "released", "changed" or "lost"."""

    type: str
    track_id: int | None
    gesture_set: str
    label: str
    score: float
    timestamp_ms: int
    start_ms: int
    duration_ms: int = 0
    reason: str | None = None

    def to_dict(self) -> dict:
        d = {"event": self.type, "hand": self.track_id, "set": self.gesture_set, "label": self.label,
             "score": round(float(self.score), 4), "timestamp_ms": self.timestamp_ms,
             "start_ms": self.start_ms, "duration_ms": self.duration_ms}
        if self.reason:
            d["reason"] = self.reason
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict())


@dataclass
class _State:
    candidate: str | None = None
    since: int = 0
    active: str | None = None
    start: int = 0
    last_hold: int = 0
    score: float = 0.0


class GestureEvents:
    """Turns per-frame gesture scores into start / hold / end events.

    gesture_sets: the sets to watch (None: every set in the results whose
        name is not in ``exclude_sets``; by default the spelling sets are
        left to :class:`handsdk.spelling.Speller`, see ``kinds``).
    start_score, end_score: hysteresis thresholds (end_score <= start_score).
    min_hold_ms: how long a gesture must hold above start_score to start.
    hold_interval_ms: period of "hold" events (0: none).
    ignore: labels that never start an event.
    on_event: optional callback(event) called for each event.
    """

    def __init__(self, gesture_sets=None, *, start_score: float = 0.6, end_score: float = 0.4,
                 min_hold_ms: int = 200, hold_interval_ms: int = 500, ignore=("none",),
                 on_event: Callable | None = None):
        for n, v in (("start_score", start_score), ("end_score", end_score)):
            if not (isinstance(v, (int, float)) and 0 <= v <= 1):
                raise ValueError(f"{n} must be in [0, 1], got {v!r}")
        if end_score > start_score:
            raise ValueError(f"end_score ({end_score}) must not exceed start_score ({start_score})")
        if min_hold_ms < 0 or hold_interval_ms < 0:
            raise ValueError("min_hold_ms and hold_interval_ms must be >= 0")
        if on_event is not None and not callable(on_event):
            raise ValueError("on_event must be callable")
        self.gesture_sets = None if gesture_sets is None else tuple(
            [gesture_sets] if isinstance(gesture_sets, str) else gesture_sets)
        self.start_score, self.end_score = float(start_score), float(end_score)
        self.min_hold_ms, self.hold_interval_ms = int(min_hold_ms), int(hold_interval_ms)
        self.ignore = frozenset(ignore or ())
        self.on_event = on_event
        self._states: dict[tuple, _State] = {}
        self._last_ts = 0
        self._frame = 0

    @property
    def active(self) -> dict:
        """{(track_id, gesture_set): label} of the gestures held now."""
        return {k: s.active for k, s in self._states.items() if s.active is not None}

    def _emit(self, out, ev):
        out.append(ev)
        if self.on_event is not None:
            self.on_event(ev)

    def update(self, result) -> list[GestureEvent]:
        """Events caused by this frame's result (in order)."""
        ts = result.timestamp_ms
        if ts is None:  # IMAGE mode: count frames at 30 fps
            ts = int(round(self._frame * 1000 / 30))
        ts = int(ts)
        self._frame += 1
        self._last_ts = ts
        out: list[GestureEvent] = []
        seen = set()
        for i, hand in enumerate(result.hands):
            tid = hand.track_id if hand.track_id is not None else None
            for gset, cats in hand.gestures.items():
                if self.gesture_sets is not None and gset not in self.gesture_sets:
                    continue
                key = (tid if tid is not None else f"#{i}", gset)
                seen.add(key)
                st = self._states.setdefault(key, _State())
                self._step(out, st, tid, gset, cats, ts)
        for key in list(self._states):
            if key not in seen:
                st = self._states.pop(key)
                if st.active is not None:
                    tid = key[0] if not isinstance(key[0], str) else None
                    self._emit(out, GestureEvent("end", tid, key[1], st.active, st.score, ts, st.start,
                                                 ts - st.start, "lost"))
        return out

    def _step(self, out, st: _State, tid, gset, cats, ts):
        scores = {c.name: float(c.score) for c in cats}
        top = cats[0] if cats else None
        if st.active is not None:
            s = scores.get(st.active, 0.0)
            changed = (top is not None and top.name != st.active and top.name not in self.ignore
                       and top.score >= self.start_score)
            if s >= self.end_score and not changed:
                st.score = s
                if self.hold_interval_ms and ts - st.last_hold >= self.hold_interval_ms:
                    st.last_hold = ts
                    self._emit(out, GestureEvent("hold", tid, gset, st.active, s, ts, st.start, ts - st.start))
                return
            self._emit(out, GestureEvent("end", tid, gset, st.active, s, ts, st.start, ts - st.start,
                                         "changed" if changed else "released"))
            st.active = None
        if top is None or top.name in self.ignore or top.score < self.start_score:
            st.candidate = None
            return
        if st.candidate != top.name:
            st.candidate, st.since = top.name, ts
        if ts - st.since >= self.min_hold_ms:
            st.active, st.start, st.last_hold, st.score = top.name, ts, ts, float(top.score)
            st.candidate = None
            self._emit(out, GestureEvent("start", tid, gset, top.name, float(top.score), ts, ts, 0))

    def flush(self, timestamp_ms: int | None = None) -> list[GestureEvent]:
        """End every active gesture (at the end of a stream)."""
        ts = self._last_ts if timestamp_ms is None else int(timestamp_ms)
        out: list[GestureEvent] = []
        for key, st in list(self._states.items()):
            if st.active is not None:
                tid = key[0] if not isinstance(key[0], str) else None
                self._emit(out, GestureEvent("end", tid, key[1], st.active, st.score, ts, st.start,
                                             ts - st.start, "lost"))
        self._states.clear()
        return out

    def reset(self):
        self._states.clear()
        self._frame = 0


# ---------------------------------------------------------------- actions
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
    on = spec.get("on", "start")
    if on not in EVENT_TYPES:
        raise ValueError(f"{where}: 'on' of {label!r} must be one of {EVENT_TYPES}, got {on!r}")
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

