"""A short demo clip, rendered on the fly by the synthetic hand renderer: a
hand spells a word, then makes a few command gestures. Used by
``handsdk run --demo`` when there is no camera (needs numpy and OpenCV only).

The clip announces only what the shipped default bundle reads on it
(measured; ``tests/test_issue26_convert_demo.py`` checks it). Each seed
renders another hand, background and light, and the shipped landmarker
misreads most of them: with the old script ('HI', then open_palm, fist,
thumbs_up, victory) it spelled 'HI' on 2 of seeds 0-9 and reported
thumbs_up on none (seed 0, the old default, spelled 'QX' with one command).
The bundle shipped before 2026-12-08 spelled 'OK' and reported open_palm,
fist and victory on seed 1. The bundle shipped since (the 96 px landmarker)
spells 'OK' on seed 2 (:data:`DEMO_SEED`) only, of seeds 0-8, and there
reads the O and the K as pinch and three too (:data:`COMMANDS_READ`). The
speller reads the word's frames only
(:func:`word_frames`): the command hand shapes are letters too (an open
palm is a B, victory a V).
"""
from __future__ import annotations

from typing import Iterator

import numpy as np

DEMO_WORD = "OK"
DEMO_COMMANDS = ("open_palm", "fist", "victory")
#: the seed whose hand the shipped bundle reads (see the module's docstring)
DEMO_SEED = 2
#: the command events the shipped bundle reports on :data:`DEMO_SEED`'s clip: the
#: commands made, and the word's O and K read as pinch and three before them
COMMANDS_READ = ("pinch", "three", "open_palm", "fist", "victory")


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


def demo_frames(seed: int = DEMO_SEED, fps: float = 15.0, size=(240, 320), word: str = DEMO_WORD,
                commands=DEMO_COMMANDS, transition_s: float = 0.35) -> Iterator[tuple[np.ndarray, int]]:
    """Yield ``(frame_bgr, timestamp_ms)`` of the demo, each frame as it is
    rendered (one clip: the motion is continuous from gesture to gesture).
    Same seed, same clip: the scene, hand and lighting come from the seed."""
    from handsdk.train.synth.sequence import iter_sequence  # numpy + OpenCV only

    steps = demo_script(word, commands, fps)
    trans = max(1, int(round(transition_s * fps)))
    for k, s in enumerate(iter_sequence(steps, size=size, seed=seed, transition_frames=trans)):
        yield np.ascontiguousarray(s.image[:, :, ::-1]), int(round(k * 1000.0 / fps))


#: the motion part (:mod:`handsdk.tools.motion_demo`): its seed, and what the
#: shipped bundle reads of its J, Z and swipe_left there, after the word and the
#: commands of :data:`DEMO_SEED` (the bundle shipped before read no seed's J of 0-25 at
#: 15 fps: its landmarker read the rendered pinky too poorly; the one shipped since
#: 2026-12-08 reads all three here)
MOTION_SEED = 2
MOTION_READ = ("J", "Z", "swipe_left")


def demo_clip(seed: int | None = None, fps: float = 15.0, size=(240, 320),
              gap_ms: int = 500) -> Iterator[tuple[np.ndarray, int]]:
    """The whole ``handsdk run --demo`` clip: :func:`demo_frames` (a word,
    then commands), then after ``gap_ms`` a cut to another rendered hand that
    draws a J, a Z and swipes left (:func:`~handsdk.tools.motion_demo.motion_demo_frames`).
    ``seed`` None: :data:`DEMO_SEED` and :data:`MOTION_SEED`, the seeds the
    shipped bundle is checked on; else both parts render that seed."""
    from .motion_demo import motion_demo_frames

    last = -gap_ms
    for frame, ts in demo_frames(seed=DEMO_SEED if seed is None else seed, fps=fps, size=size):
        last = ts
        yield frame, ts
    for frame, ts in motion_demo_frames(seed=MOTION_SEED if seed is None else seed, fps=fps, size=size):
        yield frame, last + gap_ms + ts


def demo_clip_length(fps: float = 15.0, seed: int | None = None) -> int:
    """Number of frames :func:`demo_clip` yields."""
    from .motion_demo import motion_demo_length

    return demo_length(fps) + motion_demo_length(fps, seed=MOTION_SEED if seed is None else seed)


def _step_frames(fps: float, word: str, commands, transition_s: float) -> list[tuple[str, str, int]]:
    """``[(gesture_set, label, frames), ...]``: the frames :func:`demo_frames`
    yields per step (a step's transition from the previous one included)."""
    steps = demo_script(word, commands, fps)
    trans = max(1, int(round(transition_s * fps)))
    return [(g, lab, n + (trans if i else 0)) for i, (g, lab, n) in enumerate(steps)]


def demo_length(fps: float = 15.0, word: str = DEMO_WORD, commands=DEMO_COMMANDS,
                transition_s: float = 0.35) -> int:
    """Number of frames :func:`demo_frames` yields."""
    return sum(n for _, _, n in _step_frames(fps, word, commands, transition_s))


def word_frames(fps: float = 15.0, word: str = DEMO_WORD, commands=DEMO_COMMANDS,
                transition_s: float = 0.35) -> int:
    """Number of frames of the spelling part (up to the end of the last
    letter's hold); the commands part follows."""
    steps = _step_frames(fps, word, commands, transition_s)
    last = max((i for i, st in enumerate(steps) if st[0] == "asl_letters"), default=-1)
    return sum(n for _, _, n in steps[:last + 1])
