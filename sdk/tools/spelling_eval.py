"""Fingerspelling error rates: :func:`evaluate_spelling` measures the
character and word error rates (CER / WER) of a bundle's
:class:`~handsdk.spelling.Speller` on synthetic spelled words (rendered by
``handsdk.train.synth``, loaded lazily)::

    python -m handsdk.tools.spelling_eval --bundle model.handsdk [--words HELLO,CAB]

``--oracle P`` uses :func:`label_oracle`, a fake classifier wrong on a
fraction P of the frames, to check the harness without trained models.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Callable, Sequence

import numpy as np

from ..results import Category
from ..spelling import MOTION_LETTERS, Speller, SpellingOptions, spelling_set

__all__ = ["edit_distance", "error_rates", "evaluate_spelling", "SpellingReport", "label_oracle", "word_steps",
           "DEFAULT_WORDS", "main"]


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
    from ..results import Hand, RecognitionResult

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
        from ..recognizer import GestureRecognizer, GestureRecognizerOptions, RunningMode

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
    """``python -m handsdk.tools.spelling_eval --bundle model.handsdk [--words HELLO,CAB]``:
    CER / WER of a bundle on synthetic spelled words (``--oracle P``: a fake
    classifier wrong on a fraction P of the frames, to check the harness)."""
    import argparse
    import json as _json

    ap = argparse.ArgumentParser(prog="python -m handsdk.tools.spelling_eval", description=main.__doc__)
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
