"""Command gestures as events, with hysteresis (the event state machine).

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
Labels in ``ignore`` (the sets' "none") never start. After a gesture ends,
the same hand's set starts nothing for ``cooldown_ms``.

**Motion gestures** (a set of kind ``motion``, :mod:`handsdk.motion`: the
hand's ``motion`` holds its reading) are events of a movement that is over:
once a label has led with a score >= ``start_score`` for
``motion_hold_ms``, a ``start`` and an ``end`` event come together, with the
movement's span: ``start_ms`` when it began, ``end_ms`` when it ended
(``duration_ms`` = ``end_ms`` - ``start_ms``, ``reason`` "completed"); no
``hold`` events. The label is then latched until its score drops below
``end_score`` (hysteresis) or a new movement begins after it ended (a second
Z right after the first), and the set starts nothing for
``motion_cooldown_ms``.

:class:`handsdk.actions.ActionMap` maps the events to actions (``key``: emit
a key name; ``shell``: run a command, only with ``allow_shell=True``).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Callable

from .checks import check_callable, check_fraction, check_int

__all__ = ["GestureEvent", "GestureEvents"]

EVENT_TYPES = ("start", "hold", "end")


@dataclass(frozen=True)
class GestureEvent:
    """type: "start", "hold" or "end"; track_id: the hand (None in IMAGE
    mode); gesture_set, label, score (the label's score in this frame);
    timestamp_ms: this frame; start_ms: when the gesture started (for hold
    and end); duration_ms: timestamp_ms - start_ms; reason (end only):
    "released", "changed" or "lost". Motion gestures: start_ms and end_ms
    are when the movement began and ended, duration_ms = end_ms - start_ms,
    reason "completed"."""

    type: str
    track_id: int | None
    gesture_set: str
    label: str
    score: float
    timestamp_ms: int
    start_ms: int
    duration_ms: int = 0
    reason: str | None = None
    end_ms: int | None = None  # motion gestures: when the movement ended

    def to_dict(self) -> dict:
        d = {"event": self.type, "hand": self.track_id, "set": self.gesture_set, "label": self.label,
             "score": round(float(self.score), 4), "timestamp_ms": self.timestamp_ms,
             "start_ms": self.start_ms, "duration_ms": self.duration_ms}
        if self.reason:
            d["reason"] = self.reason
        if self.end_ms is not None:
            d["end_ms"] = self.end_ms
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
    cooldown_until: float = float("-inf")
    motion: bool = False  # a motion set: its events are already over when they are sent
    last_label: str | None = None  # (motion) the label of the last event, and when its movement ended
    last_end: int | None = None


class GestureEvents:
    """Turns per-frame gesture scores into start / hold / end events.

    gesture_sets: the sets to watch (None: every set in the results whose
        name is not in ``exclude_sets``; by default the spelling sets are
        left to :class:`handsdk.spelling.Speller`, see ``kinds``).
    start_score, end_score: hysteresis thresholds (end_score <= start_score).
    min_hold_ms: how long a gesture must hold above start_score to start.
    hold_interval_ms: period of "hold" events (0: none).
    ignore: labels that never start an event.
    cooldown_ms: after a gesture ends, its hand's set starts nothing for this long.
    motion_hold_ms, motion_cooldown_ms: the same for motion sets (see the module).
    on_event: optional callback(event) called for each event.
    """

    def __init__(self, gesture_sets=None, *, start_score: float = 0.6, end_score: float = 0.4,
                 min_hold_ms: int = 200, hold_interval_ms: int = 500, ignore=("none",),
                 on_event: Callable | None = None, cooldown_ms: int = 0, motion_hold_ms: int = 200,
                 motion_cooldown_ms: int = 300):
        start_score, end_score = check_fraction("start_score", start_score), check_fraction("end_score", end_score)
        if end_score > start_score:
            raise ValueError(f"end_score ({end_score}) must not exceed start_score ({start_score})")
        for n, v in (("min_hold_ms", min_hold_ms), ("hold_interval_ms", hold_interval_ms), ("cooldown_ms", cooldown_ms),
                     ("motion_hold_ms", motion_hold_ms), ("motion_cooldown_ms", motion_cooldown_ms)):
            setattr(self, n, check_int(n, v, note="milliseconds"))
        self.on_event = None if on_event is None else check_callable("on_event", on_event, "on_event(event)")
        self.gesture_sets = None if gesture_sets is None else tuple(
            [gesture_sets] if isinstance(gesture_sets, str) else gesture_sets)
        self.start_score, self.end_score = start_score, end_score
        self.ignore = frozenset(ignore or ())
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
                motion = (getattr(hand, "motion", None) or {}).get(gset)
                if motion is not None:
                    self._step_motion(out, st, tid, gset, cats, ts, motion)
                else:
                    self._step(out, st, tid, gset, cats, ts)
        for key in list(self._states):
            if key not in seen:
                st = self._states.pop(key)
                if st.active is not None and not st.motion:
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
            st.cooldown_until = ts + self.cooldown_ms
        if top is None or top.name in self.ignore or top.score < self.start_score or ts < st.cooldown_until:
            st.candidate = None
            return
        if st.candidate != top.name:
            st.candidate, st.since = top.name, ts
        if ts - st.since >= self.min_hold_ms:
            st.active, st.start, st.last_hold, st.score = top.name, ts, ts, float(top.score)
            st.candidate = None
            self._emit(out, GestureEvent("start", tid, gset, top.name, float(top.score), ts, ts, 0))

    def _step_motion(self, out, st: _State, tid, gset, cats, ts, motion):
        st.motion = True
        top = cats[0] if cats else None
        if st.active is not None:  # latched since its event
            s = next((float(c.score) for c in cats if c.name == st.active), 0.0)
            # a new movement that began after the last one ended, as long as a gesture (not a hand
            # settling or moving on to the next shape)
            fresh = (motion.start_ms is not None and st.last_end is not None and motion.start_ms > st.last_end
                     and motion.end_ms - motion.start_ms >= max(400, 0.6 * (st.last_end - st.start)))
            other = (top is not None and top.name != st.active and top.name not in self.ignore
                     and top.score >= self.start_score)
            if s >= self.end_score and not fresh and not other:
                return
            st.active = None
            st.candidate = None
        if top is None or top.name in self.ignore or top.score < self.start_score or ts < st.cooldown_until:
            st.candidate = None
            return
        if st.candidate != top.name:
            st.candidate, st.since = top.name, ts
        if ts - st.since < self.motion_hold_ms:
            return
        end = int(motion.end_ms) if motion.end_ms is not None else ts
        start = min(int(motion.start_ms) if motion.start_ms is not None else st.since, end)
        if top.name == st.last_label and st.last_end is not None and end <= st.last_end + 100:
            st.candidate = None  # the movement already reported (its score came back)
            st.active = top.name
            return
        score = float(top.score)
        self._emit(out, GestureEvent("start", tid, gset, top.name, score, ts, start, ts - start))
        self._emit(out, GestureEvent("end", tid, gset, top.name, score, ts, start, end - start, "completed",
                                     end_ms=end))
        st.active, st.start, st.score, st.candidate = top.name, start, score, None
        st.last_label, st.last_end = top.name, end
        st.cooldown_until = ts + self.motion_cooldown_ms

    def flush(self, timestamp_ms: int | None = None) -> list[GestureEvent]:
        """End every active gesture (at the end of a stream)."""
        ts = self._last_ts if timestamp_ms is None else int(timestamp_ms)
        out: list[GestureEvent] = []
        for key, st in list(self._states.items()):
            if st.active is not None and not st.motion:
                tid = key[0] if not isinstance(key[0], str) else None
                self._emit(out, GestureEvent("end", tid, key[1], st.active, st.score, ts, st.start,
                                             ts - st.start, "lost"))
        self._states.clear()
        return out

    def reset(self):
        self._states.clear()
        self._frame = 0
