"""Fingerspelling to text.

:class:`Speller` turns the per-frame letter scores of a spelling gesture set
(e.g. the bundle's ASL letters) into text::

    speller = Speller(SpellingOptions(hold_ms=400), gesture_set="asl_letters")
    for frame, result in rec.stream(0):            # VIDEO mode: timestamps matter
        state = speller.update(result)
        print(state.text, state.candidates)

Rules (every number is in :class:`SpellingOptions`):

* a letter is **committed** when it has been the best letter with a score >=
  ``min_score`` for ``hold_ms`` while the hand stayed steady (moving more than
  ``max_motion`` hand sizes restarts the hold);
* the **same letter twice** needs a release in between: another letter or no
  letter for ``release_ms``, the hand leaving the frame, or a small move of
  ``release_move`` hand sizes away from where the letter was committed;
* **space**: no hand for ``space_pause_ms`` (once per pause), and/or a
  ``space_gesture`` such as ``"commands:open_palm"`` held like a letter;
  **delete**: a ``delete_gesture`` (e.g. ``"commands:thumbs_down"``) removes
  the last character. Control gestures win over letters while they are up.
* J and Z are motion letters (:data:`MOTION_LETTERS`: a J traced with the
  pinky, a Z with the index): they come from a **motion set** of the bundle
  (:mod:`handsdk.motion`, read from ``hand.motion``) through the event
  machinery of :class:`handsdk.events.GestureEvents` (hysteresis, cooldown),
  while the static letters come from the letters set. A J starts from the
  hand shape of I and a Z from a pointing index (read as D or X): such a
  **prefix letter** (``motion_prefixes``) that completes its hold is not
  committed at once but *pending*: a motion letter that follows drops it (no
  I before a J, no D/X before a Z); it is committed when the hand stays
  steady for ``motion_wait_ms`` more, when another letter is committed, when
  the hand leaves, or after ``motion_timeout_ms``. Without a motion set
  letters commit as before.

Character and word error rates on synthetic spelled words are a tool, not
runtime: :mod:`handsdk.tools.spelling_eval` (``python -m
handsdk.tools.spelling_eval``).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Callable

import numpy as np

from .checks import check_fraction, check_int, check_range
from .results import Category

__all__ = ["SpellingOptions", "SpellingState", "Speller", "MOTION_LETTERS", "spelling_set"]

#: letters signed with a movement, not supported by the static classifiers (future work)
MOTION_LETTERS = ("J", "Z")
SPACE, DELETE = "<space>", "<delete>"


def _split_control(spec, name):
    if spec is None:
        return None
    if isinstance(spec, (tuple, list)) and len(spec) == 2:
        return str(spec[0]), str(spec[1])
    if isinstance(spec, str) and ":" in spec:
        a, b = spec.split(":", 1)
        if a and b:
            return a, b
    raise ValueError(f"{name} must be 'gesture_set:label' (e.g. 'commands:open_palm'), got {spec!r}")


@dataclass(frozen=True)
class SpellingOptions:
    """gesture_set: the spelling set (None: the recognizer's set of kind
        "spelling", else the first set whose name has "letter" in it).
    min_score: a letter counts only with at least this score.
    hold_ms: how long a letter must hold steady to be committed.
    release_ms: how long another letter / no letter must last to count: it
        then releases the last letter (which can be committed again) and
        restarts the hold; shorter misreads are ignored.
    max_motion: hand movement (in hand sizes) during a hold that restarts it.
    release_move: moving this far (hand sizes) from where the last letter was
        committed releases it.
    space_pause_ms: no hand for this long adds a space (0: off).
    space_gesture, delete_gesture: "set:label" control gestures (None: off).
    top_k: candidates reported in the state.
    motion_set: the motion gesture set with J and Z (None: the hand's motion
        set that has them, when the bundle has one).
    motion_prefixes: (motion letter, (static letters it starts from)) pairs.
    motion_wait_ms, motion_timeout_ms: a prefix letter is committed once the
        hand has stayed steady this long after its hold, or at the latest
        after motion_timeout_ms (when no motion letter came).
    """

    gesture_set: str | None = None
    min_score: float = 0.6
    hold_ms: int = 400
    release_ms: int = 120
    max_motion: float = 0.3
    release_move: float = 0.4
    space_pause_ms: int = 1000
    space_gesture: object = None
    delete_gesture: object = None
    top_k: int = 3
    motion_set: str | None = None
    motion_prefixes: tuple = (("J", ("I",)), ("Z", ("D", "X")))
    motion_wait_ms: int = 500
    motion_timeout_ms: int = 1800

    def __post_init__(self):
        object.__setattr__(self, "min_score", check_fraction("min_score", self.min_score))
        try:
            pre = tuple((str(m), tuple(str(x) for x in p)) for m, p in dict(self.motion_prefixes).items())
        except (TypeError, ValueError):
            raise ValueError(f"motion_prefixes must be (motion letter, (letters, ...)) pairs, got "
                             f"{self.motion_prefixes!r}") from None
        object.__setattr__(self, "motion_prefixes", pre)
        for n in ("hold_ms", "release_ms", "space_pause_ms", "motion_wait_ms", "motion_timeout_ms"):
            object.__setattr__(self, n, check_int(n, getattr(self, n), note="milliseconds"))
        for n in ("max_motion", "release_move"):
            object.__setattr__(self, n, check_range(n, getattr(self, n), 0, lo_open=True, note="hand sizes"))
        object.__setattr__(self, "top_k", check_int("top_k", self.top_k, 1, note="candidates"))
        object.__setattr__(self, "space_gesture", _split_control(self.space_gesture, "space_gesture"))
        object.__setattr__(self, "delete_gesture", _split_control(self.delete_gesture, "delete_gesture"))


@dataclass(frozen=True)
class SpellingState:
    """The spelled text so far and what is being signed now.

    text: the committed text. candidates: the top letters of this frame with
    their scores. candidate: the letter (or "<space>"/"<delete>") being held,
    if any; progress: 0..1 of its hold (1: committed, waiting for a release).
    committed: what this frame committed (a letter, " " or "<delete>"), else
    None. hand: the track id followed (None: no hand)."""

    text: str
    candidates: tuple = ()
    candidate: str | None = None
    progress: float = 0.0
    committed: str | None = None
    hand: int | None = None
    timestamp_ms: int | None = None

    def to_dict(self) -> dict:
        return {"text": self.text, "candidate": self.candidate, "progress": round(float(self.progress), 3),
                "committed": self.committed, "hand": self.hand, "timestamp_ms": self.timestamp_ms,
                "candidates": [c.to_dict() for c in self.candidates]}

    def line(self) -> str:
        """A one-line rendering: ``text_ [L 0.91 ####..]``."""
        cands = " ".join(f"{c.name} {c.score:.2f}" for c in self.candidates)
        bar = ""
        if self.candidate:
            k = int(round(6 * self.progress))
            bar = f" <{self.candidate} {'#' * k}{'.' * (6 - k)}>"
        return f"{self.text}_{bar}  [{cands}]"


def spelling_set(recognizer) -> str | None:
    """The name of ``recognizer``'s spelling gesture set, if it has one."""
    for name, clf in getattr(recognizer, "classifiers", {}).items():
        if getattr(clf, "kind", None) == "spelling":
            return name
    return None


def _hand_size(kp) -> float:
    kp = np.asarray(kp)[:, :2]
    span = kp.max(axis=0) - kp.min(axis=0)
    return float(max(span.max(), 1.0))


class Speller:
    """Feed :meth:`update` with each :class:`~handsdk.RecognitionResult`
    (or :meth:`feed` with letter scores directly); read ``text`` or the
    returned :class:`SpellingState`. ``on_commit(char, state)`` is called for
    every commit."""

    def __init__(self, options: SpellingOptions | None = None, *, gesture_set: str | None = None,
                 on_commit: Callable | None = None, none_labels=("none",), **kwargs):
        options = options or SpellingOptions(**kwargs)
        if kwargs and options is not None and not isinstance(options, SpellingOptions):
            raise TypeError("pass either options or keyword arguments")
        if gesture_set is not None:
            options = replace(options, gesture_set=gesture_set)
        self.options = options
        self.on_commit = on_commit
        self.none_labels = frozenset(none_labels or ())
        self.reset()

    @classmethod
    def for_recognizer(cls, recognizer, options: SpellingOptions | None = None, **kw) -> "Speller":
        """A speller on ``recognizer``'s spelling set (ValueError if none)."""
        options = options or SpellingOptions()
        gset = options.gesture_set or spelling_set(recognizer)
        if gset is None:
            raise ValueError(f"the bundle has no spelling gesture set (sets: {sorted(recognizer.classifiers)})")
        return cls(replace(options, gesture_set=gset), **kw)

    def reset(self, text: str = ""):
        self.text = text
        self._cand = None
        self._since = 0
        self._anchor = None
        self._last = None          # last committed token, until released
        self._commit_pos = None
        self._away = None
        self._run = (None, 0)
        self._absent_since = None
        self._space_done = False
        self._track = None
        self._frame = 0
        self._pending = None  # (letter, ts, position, moved): a prefix letter waiting for a motion letter
        self._motion_events = None

    # ------------------------------------------------------------ per frame
    def _motion_letter(self, result, hand):
        """(a motion set is running, the motion letter this frame completed or None)."""
        readings = getattr(hand, "motion", None) or {}
        want = {m for m, _ in self.options.motion_prefixes}
        name = self.options.motion_set
        if name is None:
            name = next((n for n in readings if want & {c.name for c in hand.gestures.get(n, ())}), None)
        if name is None or name not in readings:
            return False, None
        if self._motion_events is None or self._motion_events.gesture_sets != (name,):
            from .events import GestureEvents

            self._motion_events = GestureEvents(name, start_score=self.options.min_score,
                                                end_score=min(0.4, self.options.min_score), hold_interval_ms=0)
        letter = None
        for ev in self._motion_events.update(result):
            if ev.type == "start" and ev.track_id == hand.track_id and ev.label in want:
                letter = ev.label
        return True, letter

    def _pick_hand(self, hands):
        gset = self._set_name(hands[0]) if hands else None
        if not hands:
            return None, gset
        for h in hands:
            if self._track is not None and h.track_id == self._track:
                return h, gset

        def best(h):
            cats = h.gestures.get(gset) or ()
            return max((c.score for c in cats if c.name not in self.none_labels), default=0.0)

        return max(hands, key=best), gset

    def _set_name(self, hand):
        if self.options.gesture_set:
            return self.options.gesture_set
        names = list(hand.gestures)
        for n in names:
            if "letter" in n.lower() or "spell" in n.lower():
                return n
        return names[-1] if names else None

    def update(self, result) -> SpellingState:
        """Advance with one frame's result (uses ``result.timestamp_ms``;
        IMAGE-mode results without timestamps count as 30 fps)."""
        ts = result.timestamp_ms if result.timestamp_ms is not None else int(round(self._frame * 1000 / 30))
        hand, gset = self._pick_hand(list(result.hands))
        if hand is None:
            return self.feed(ts, None)
        self._track = hand.track_id
        control = None
        o = self.options
        for token, spec in ((DELETE, o.delete_gesture), (SPACE, o.space_gesture)):
            if spec is None:
                continue
            cats = hand.gestures.get(spec[0]) or ()
            if cats and cats[0].name == spec[1] and cats[0].score >= o.min_score:
                control = token
        kp = np.asarray(hand.keypoints)
        # (a floor of a fifth of the frame, so that collapsed keypoints do not make every jitter a "move")
        size = max(_hand_size(kp), 0.2 * max(result.image_size))
        running, letter = self._motion_letter(result, hand)
        return self.feed(ts, hand.gestures.get(gset) or (), position=kp[:, :2].mean(axis=0),
                         hand_size=size, control=control, hand=hand.track_id, motion=letter,
                         motion_running=running, keypoints=kp[:, :2])

    def feed(self, timestamp_ms: int, categories, *, position=None, hand_size: float | None = None,
             control: str | None = None, hand: int | None = None, motion: str | None = None,
             motion_running: bool = False, keypoints=None) -> SpellingState:
        """The speller's core: ``categories`` are this frame's letter scores
        (Category objects or (name, score) pairs, any order), or None when no
        hand is seen; ``control`` is SPACE / DELETE when a control gesture is
        up; ``position`` (x, y) and ``hand_size`` (same units) drive the
        steadiness and move-release rules (skipped when None). ``motion``: a
        motion letter (J, Z) completed this frame; ``motion_running``: a
        motion set is running (prefix letters then wait, see the module);
        ``keypoints`` (21, 2): a pending prefix letter has moved when any of
        them moved (a J moves the pinky more than the hand)."""
        o = self.options
        ts = int(timestamp_ms)
        self._frame += 1
        committed = None
        cands: tuple = ()
        pos = None if position is None else np.asarray(position, np.float64)
        size = hand_size or 0.0
        kps = None if keypoints is None else np.asarray(keypoints, np.float64)[:, :2]
        committed = self._resolve_pending(ts, categories is None, motion, pos, size, kps)
        if categories is None:
            token = None
            self._track = None
            if self._absent_since is None:
                self._absent_since = ts
            if (o.space_pause_ms and not self._space_done and self.text and not self.text.endswith(" ")
                    and ts - self._absent_since >= o.space_pause_ms):
                committed = (committed or "") + self._commit(" ", ts)
                self._space_done = True
        else:
            self._absent_since = None
            self._space_done = False
            cats = [c if isinstance(c, Category) else Category(str(c[0]), float(c[1])) for c in categories]
            cats = sorted((c for c in cats if c.name not in self.none_labels), key=lambda c: -c.score)
            cands = tuple(cats[: o.top_k])
            if control is not None:
                token = control
            else:
                token = cats[0].name if cats and cats[0].score >= o.min_score else None
        if motion is not None:  # the end pose of the traced letter is no letter until released
            self._last, self._commit_pos = self._cand, pos
            self._since, self._anchor = ts, pos
        # the candidate, debounced: a different token takes over when it has lasted release_ms
        # (or at once when nothing was held), so one-frame misreads neither end a hold nor
        # release a letter
        if token != self._run[0]:
            self._run = (token, ts)  # the run of identical tokens this frame belongs to
        if token == self._cand:
            self._away = None
        else:
            if self._away is None:
                self._away = ts
            if self._cand is None or ts - self._away >= o.release_ms:
                self._cand, self._since, self._anchor = token, self._run[1], pos
                self._away = None
        if pos is not None and self._anchor is not None and size > 0 and \
                np.linalg.norm(pos - self._anchor) > o.max_motion * size:
            self._since, self._anchor = ts, pos  # not steady: the hold starts again
        token = self._cand
        # releases of the last committed token: another (debounced) token, or a move
        if self._last is not None and token != self._last:
            self._last = None
        if (self._last is not None and pos is not None and self._commit_pos is not None and size > 0
                and np.linalg.norm(pos - self._commit_pos) > o.release_move * size):
            self._last = None
            self._since, self._anchor = ts, pos
        progress = 0.0
        if token is not None and committed is None:
            if self._last is None:
                held = ts - self._since
                progress = min(1.0, held / o.hold_ms) if o.hold_ms else 1.0
                if held >= o.hold_ms:
                    if motion_running and token in self._prefix_letters and control is None:
                        if self._pending is not None and self._pending[0] != token:
                            committed = self._commit(self._pending[0], ts)
                            self._pending = None
                        if self._pending is None:  # (the same letter held on, e.g. while a J is drawn: one)
                            self._pending = [token, ts, pos, False, kps]  # a motion letter may follow
                    else:
                        committed = (self._flush_pending(ts) or "") + self._commit(token, ts)
                    self._last, self._commit_pos = token, pos
                    progress = 1.0
            else:
                progress = 1.0
        return SpellingState(self.text, cands, token, progress, committed,
                             hand if categories is not None else None, ts)

    @property
    def _prefix_letters(self) -> set:
        return {x for _, p in self.options.motion_prefixes for x in p}

    @property
    def pending(self) -> str | None:
        """The prefix letter waiting for a motion letter (not yet in the text)."""
        return None if self._pending is None else self._pending[0]

    def _flush_pending(self, ts):
        if self._pending is None:
            return None
        letter, self._pending = self._pending[0], None
        return self._commit(letter, ts)

    def _resolve_pending(self, ts, absent: bool, motion, pos, size, kps=None):
        """What the pending prefix letter becomes this frame, and the motion letter's commit."""
        o = self.options
        out = None
        if motion is not None:
            p = self._pending
            prefixes = dict(o.motion_prefixes).get(motion, ())
            if p is not None and p[0] not in prefixes:
                out = self._flush_pending(ts)
            self._pending = None
            return (out or "") + self._commit(motion, ts)
        p = self._pending
        if p is None:
            return None
        if size > 0 and ((p[4] is not None and kps is not None
                          and np.linalg.norm(kps - p[4], axis=1).max() > o.max_motion * size)
                         or (p[2] is not None and pos is not None and np.linalg.norm(pos - p[2]) > o.max_motion * size)):
            p[3] = True  # the hand moved: a motion letter may be on its way
        if absent or ts - p[1] >= o.motion_timeout_ms or (not p[3] and ts - p[1] >= o.motion_wait_ms):
            return self._flush_pending(ts)
        return None

    def _commit(self, token, ts):
        if token == DELETE:
            self.text = self.text[:-1]
            out = DELETE
        elif token == SPACE or token == " ":
            if self.text and not self.text.endswith(" "):
                self.text += " "
            out = " "
        else:
            self.text += token
            out = token
        if self.on_commit is not None:
            self.on_commit(out, self)
        return out
