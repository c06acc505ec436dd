"""A short demo clip, rendered on the fly by the synthetic hand renderer: a
hand spells a word, then makes a few command gestures. Used by
``handsdk run --demo`` when there is no camera (needs numpy and OpenCV only).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

DEMO_WORD = "HI"
DEMO_COMMANDS = ("open_palm", "fist", "thumbs_up", "victory")


def demo_script(word: str = DEMO_WORD, commands=DEMO_COMMANDS, fps: float = 15.0,
                letter_s: float = 0.8, command_s: float = 1.0) -> list[tuple[str, str, int]]:
    """Renderer steps ``[(gesture_set, label, hold_frames), ...]``."""
    from ..spelling import MOTION_LETTERS

    steps = []
    for i, ch in enumerate(word.upper()):
        if ch in MOTION_LETTERS or not ch.isalpha():
            raise ValueError(f"the demo cannot spell {ch!r} (static letters only; J and Z are motion letters)")
        if i and ch == word.upper()[i - 1]:
            steps.append(("commands", "none", max(1, int(0.15 * fps))))
        steps.append(("asl_letters", ch, max(1, int(round(letter_s * fps)))))
    steps.append(("commands", "none", max(1, int(round(0.5 * fps)))))
    for c in commands:
        steps.append(("commands", c, max(1, int(round(command_s * fps)))))
    return steps


def demo_frames(seed: int = 0, fps: float = 15.0, size=(240, 320), word: str = DEMO_WORD,
                commands=DEMO_COMMANDS, transition_s: float = 0.35) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(frame_bgr, timestamp_ms)`` of the demo, rendering one gesture
    at a time (the first frames come after a fraction of a second). Same
    seed, same clip: the scene, hand and lighting come from the seed; each
    chunk starts from the previous gesture so the motion is continuous."""
    from handsdk.train.synth import render_sequence  # numpy + OpenCV only

    steps = demo_script(word, commands, fps)
    trans = max(1, int(round(transition_s * fps)))
    k = 0
    for i, step in enumerate(steps):
        chunk = [step] if i == 0 else [(steps[i - 1][0], steps[i - 1][1], 0), step]
        clip = render_sequence(chunk, size=size, seed=seed, transition_frames=trans)
        for f in clip.frames:
            yield np.ascontiguousarray(f[:, :, ::-1]), int(round(k * 1000.0 / fps))
            k += 1


def demo_length(fps: float = 15.0, word: str = DEMO_WORD, commands=DEMO_COMMANDS,
                transition_s: float = 0.35) -> int:
    """Number of frames :func:`demo_frames` yields."""
    steps = demo_script(word, commands, fps)
    trans = max(1, int(round(transition_s * fps)))
    return sum(s[2] for s in steps) + trans * (len(steps) - 1)
