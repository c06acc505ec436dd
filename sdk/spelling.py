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
* J and Z are motion letters (a traced J / Z); the static classifiers have no
  such labels, so they cannot be spelled yet (future work: a temporal model
  over the keypoint track). :data:`MOTION_LETTERS` lists them.

:func:`evaluate_spelling` measures character and word error rates on
synthetic spelled words (rendered by ``handsdk.train.synth``).
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from .results import Category

__all__ = ["SpellingOptions", "SpellingState", "Speller", "MOTION_LETTERS", "edit_distance",
           "evaluate_spelling", "SpellingReport", "label_oracle", "spelling_set"]

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

    def __post_init__(self):
        if not 0 <= self.min_score <= 1:
            raise ValueError(f"min_score must be in [0, 1], got {self.min_score!r}")
        for n in ("hold_ms", "release_ms", "space_pause_ms"):
            if not isinstance(getattr(self, n), int) or getattr(self, n) < 0:
                raise ValueError(f"{n} must be an int >= 0 (milliseconds), got {getattr(self, n)!r}")
        if self.max_motion <= 0 or self.release_move <= 0:
            raise ValueError("max_motion and release_move must be > 0 (hand sizes)")
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

    # ------------------------------------------------------------ per frame
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
        return self.feed(ts, hand.gestures.get(gset) or (), position=kp[:, :2].mean(axis=0),
                         hand_size=size, control=control, hand=hand.track_id)

    def feed(self, timestamp_ms: int, categories, *, position=None, hand_size: float | None = None,
             control: str | None = None, hand: int | None = None) -> SpellingState:
        """The speller's core: ``categories`` are this frame's letter scores
        (Category objects or (name, score) pairs, any order), or None when no
        hand is seen; ``control`` is SPACE / DELETE when a control gesture is
        up; ``position`` (x, y) and ``hand_size`` (same units) drive the
        steadiness and move-release rules (skipped when None)."""
        o = self.options
        ts = int(timestamp_ms)
        self._frame += 1
        committed = None
        cands: tuple = ()
        if categories is None:
            token = None
            self._track = None
            if self._absent_since is None:
                self._absent_since = ts
            if (o.space_pause_ms and not self._space_done and self.text and not self.text.endswith(" ")
                    and ts - self._absent_since >= o.space_pause_ms):
                committed = self._commit(" ", ts)
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
        pos = None if position is None else np.asarray(position, np.float64)
        size = hand_size or 0.0
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
                    committed = self._commit(token, ts)
                    self._last, self._commit_pos = token, pos
                    progress = 1.0
            else:
                progress = 1.0
        return SpellingState(self.text, cands, token, progress, committed,
                             hand if categories is not None else None, ts)

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


# ------------------------------------------------------------ evaluation
def edit_distance(a: Sequence, b: Sequence) -> int:
    """Levenshtein distance between two sequences (strings or lists)."""
    a, b = list(a), list(b)
    prev = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        cur = [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (x != y))
        prev = cur
    return prev[-1]


@dataclass
class SpellingReport:
    """cer: character error rate (edit distance / characters, over all
    words); wer: word error rate (word-level edit distance / words of the
    reference sentence made of all the words); pairs: (word, spelled)."""

    cer: float
    wer: float
    pairs: list = field(default_factory=list)
    frames: int = 0
    fps: float = 0.0
    seconds: float = 0.0
    source: str = ""

    def to_dict(self) -> dict:
        return {"cer": round(self.cer, 4), "wer": round(self.wer, 4), "words": len(self.pairs),
                "frames": self.frames, "fps": self.fps, "seconds": round(self.seconds, 2),
                "source": self.source, "pairs": [list(p) for p in self.pairs]}

    def __str__(self):
        lines = [f"spelling on {len(self.pairs)} words ({self.frames} frames at {self.fps:g} fps, {self.source}): "
                 f"CER {self.cer:.3f}  WER {self.wer:.3f}"]
        lines += [f"  {w:<12} -> {p!r}" for w, p in self.pairs]
        return "\n".join(lines)


def error_rates(pairs) -> tuple[float, float]:
    """(CER, WER) of (reference, hypothesis) string pairs."""
    chars = sum(len(r) for r, _ in pairs)
    cer = sum(edit_distance(r, h) for r, h in pairs) / max(chars, 1)
    ref = [w for r, _ in pairs for w in r.split()]
    hyp = [w for _, h in pairs for w in (h.split() or [""])]
    wer = edit_distance(ref, hyp) / max(len(ref), 1)
    return cer, wer


def word_steps(word: str, rng, fps: float, hold_s=(0.5, 1.0), render_set: str = "asl_letters"):
    """Renderer steps for one spelled word: each letter held hold_s seconds
    (uniform); a double letter gets a brief relaxed hand in between (the
    release a signer makes with a small bounce)."""
    steps = []
    for i, ch in enumerate(word):
        if ch in MOTION_LETTERS:
            raise ValueError(f"{word!r}: {ch} is a motion letter, not supported by static spelling (future work)")
        if i and ch == word[i - 1]:
            steps.append(("commands", "none", max(1, int(round(0.1 * fps)))))
        steps.append((render_set, ch, max(1, int(round(rng.uniform(*hold_s) * fps)))))
    return steps


def label_oracle(p_error: float = 0.1, *, labels: Sequence[str] | None = None, gesture_set: str = "letters",
                 seed: int = 0, flicker: float = 0.3) -> Callable:
    """A fake recognizer for testing the harness without trained models: it
    reads each frame's true label (and the true keypoints) from the rendered
    clip and returns :class:`RecognitionResult` objects whose letter scores
    are right with probability 1 - p_error per frame (a wrong letter wins
    otherwise); during transitions the scores are random. ``flicker``: chance
    that an error repeats on the next frame (errors come in bursts)."""
    from .results import Hand, RecognitionResult

    rng = np.random.default_rng(seed)

    def run(clip, timestamps):
        labs = list(labels) if labels is not None else sorted({l for l in clip.labels if l} |
                                                               set("ABCDEFGHIKLMNOPQRSTUVWXY"))
        out = []
        prev_wrong = False
        for k, ts in enumerate(timestamps):
            s = clip.samples[k]
            truth = clip.labels[k] if clip.label_sets[k] != "commands" else None
            n = len(labs)
            wrong = rng.random() < (flicker if prev_wrong else p_error)
            if truth is None or truth not in labs:  # transition: a random letter, often weak
                win, top = int(rng.integers(n)), rng.uniform(0.3, 0.8)
            elif wrong:
                win, top = int(rng.integers(n)), rng.uniform(0.6, 0.95)
            else:
                win, top = labs.index(truth), rng.uniform(0.65, 1.0)
            prev_wrong = wrong and truth is not None
            rest = rng.uniform(0, 1, n)
            rest[win] = 0.0
            scores = rest / rest.sum() * (1.0 - top) * 0.999  # sums to < 1 like a softmax
            scores[win] = top
            order = np.argsort(-scores)
            cats = tuple(Category(labs[i], float(scores[i]), int(i)) for i in order)
            kp = np.asarray(s.keypoints[0], np.float32)
            kp3 = np.concatenate([kp[:, :2], np.zeros((21, 1), np.float32)], axis=1)
            w, h = clip.frames.shape[2], clip.frames.shape[1]
            hand = Hand(box=np.r_[kp3[:, :2].min(0), kp3[:, :2].max(0)], keypoints=kp3,
                        keypoints_normalized=kp3 / np.array([w, h, w], np.float32), presence=1.0,
                        handedness=Category("Right", 1.0, 1), gestures={gesture_set: cats}, track_id=1)
            out.append(RecognitionResult((hand,), (w, h), int(ts)))
        return out

    run.gesture_set = gesture_set
    return run


def evaluate_spelling(recognizer_or_bundle, words: Sequence[str], seed: int = 0, *, fps: float = 20.0,
                      hold_s=(0.5, 1.0), transition_s: float = 0.3, size=(240, 320),
                      render_set: str = "asl_letters", options: SpellingOptions | None = None,
                      hand_scale: float = 0.55, progress: Callable | None = None) -> SpellingReport:
    """Spell ``words`` with the synthetic renderer (one clip per word: letters
    held ``hold_s`` seconds, ``transition_s`` seconds between letters, at
    ``fps``), run the recognizer in VIDEO mode and a :class:`Speller` on each
    clip, and return the character and word error rates.

    ``recognizer_or_bundle``: a bundle (path, bytes, Bundle; None: the default
    bundle), a GestureRecognizer in VIDEO mode, or a callable ``fn(clip,
    timestamps_ms) -> [RecognitionResult]`` (e.g. :func:`label_oracle`, a
    fake classifier for testing the harness)."""
    import time

    from handsdk.train.synth import render_sequence  # numpy + OpenCV only, no TensorFlow

    words = [w.strip().upper() for w in words if w.strip()]
    if not words:
        raise ValueError("no words to spell")
    options = options or SpellingOptions()
    own = None
    run: Callable
    if callable(recognizer_or_bundle) and not hasattr(recognizer_or_bundle, "recognize"):
        run = recognizer_or_bundle
        gset = options.gesture_set or getattr(run, "gesture_set", None)
        source = getattr(run, "__qualname__", "callable")
        if "label_oracle" in source:
            source = "label oracle (fake classifier)"
    else:
        from .recognizer import GestureRecognizer, GestureRecognizerOptions, RunningMode

        rec = recognizer_or_bundle
        if not hasattr(rec, "recognize"):
            rec = own = GestureRecognizer(GestureRecognizerOptions(bundle=rec, running_mode=RunningMode.VIDEO,
                                                                   max_hands=1))
        if rec.options.running_mode is not RunningMode.VIDEO:
            raise ValueError("evaluate_spelling needs a recognizer in VIDEO mode (or pass the bundle)")
        gset = options.gesture_set or spelling_set(rec)
        if gset is None:
            raise ValueError(f"the bundle has no spelling gesture set (sets: {sorted(rec.classifiers)})")
        known = set(rec.classifiers[gset].labels) if hasattr(rec.classifiers[gset], "labels") else None
        if known:
            missing = sorted({c for w in words for c in w} - known)
            if missing:
                raise ValueError(f"letters {missing} are not in the bundle's {gset!r} set")
        source = f"bundle {rec.bundle.manifest.get('name', '?')!r}"

        def run(clip, timestamps):
            rec.reset()
            rgb = rec.options.color_order == "RGB"  # the renderer's frames are RGB
            return [rec.recognize(f if rgb else np.ascontiguousarray(f[:, :, ::-1]), t)
                    for f, t in zip(clip.frames, timestamps)]

    rng = np.random.default_rng(seed)
    pairs, frames = [], 0
    t0 = time.perf_counter()
    try:
        for i, word in enumerate(words):
            steps = word_steps(word, rng, fps, hold_s, render_set)
            clip = render_sequence(steps, size=size, seed=int(rng.integers(1 << 30)),
                                   transition_frames=max(1, int(round(transition_s * fps))), hand_scale=hand_scale)
            ts = [int(round(k * 1000.0 / fps)) for k in range(len(clip))]
            speller = Speller(replace(options, gesture_set=gset))
            for r in run(clip, ts):
                speller.update(r)
            pairs.append((word, speller.text.strip()))
            frames += len(clip)
            if progress is not None:
                progress(i + 1, len(words), word, speller.text)
    finally:
        if own is not None:
            own.close()
    cer, wer = error_rates(pairs)
    return SpellingReport(cer, wer, pairs, frames, fps, time.perf_counter() - t0, source)


DEFAULT_WORDS = ("HELLO", "WORLD", "HAND", "SIGN", "CAB", "QUICK", "BROWN", "FOX", "VERY", "GOOD")


def main(argv=None):
    """``python -m handsdk.spelling --bundle model.handsdk [--words HELLO,CAB]``:
    CER / WER of a bundle on synthetic spelled words (``--oracle P``: a fake
    classifier wrong on a fraction P of the frames, to check the harness)."""
    import argparse
    import json as _json

    ap = argparse.ArgumentParser(prog="python -m handsdk.spelling", description=main.__doc__)
    ap.add_argument("--bundle", help="model bundle (default: the shipped one)")
    ap.add_argument("--oracle", type=float, default=None, help="use the fake classifier with this error rate")
    ap.add_argument("--words", default=",".join(DEFAULT_WORDS), help="comma-separated words (no J, Z)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--fps", type=float, default=20.0)
    ap.add_argument("--hold-ms", type=int, default=400)
    ap.add_argument("--size", default="240x320", help="HxW of the rendered frames")
    ap.add_argument("--json", help="write the report here")
    a = ap.parse_args(argv)
    h, w = (int(v) for v in a.size.lower().split("x"))
    target = label_oracle(a.oracle, seed=a.seed, gesture_set="asl_letters") if a.oracle is not None else a.bundle
    rep = evaluate_spelling(target, a.words.split(","), seed=a.seed, fps=a.fps, size=(h, w),
                            options=SpellingOptions(hold_ms=a.hold_ms),
                            progress=lambda i, n, word, text: print(f"[{i}/{n}] {word} -> {text!r}", flush=True))
    print(rep)
    if a.json:
        with open(a.json, "w") as f:
            _json.dump(rep.to_dict(), f, indent=1)
    return rep


if __name__ == "__main__":
    main()
