"""Overlays: skeleton, box, gesture and text on a frame (renderer kept apart
from the tracker)."""
from __future__ import annotations

import numpy as np

from .keypoints import FINGERS, HAND_CONNECTIONS

#: BGR colour per finger (thumb .. pinky), palm in white
FINGER_COLORS = ((0, 128, 255), (0, 220, 0), (255, 200, 0), (255, 0, 200), (0, 0, 255))
#: the same colours for RGB canvases
FINGER_COLORS_RGB = tuple(c[::-1] for c in FINGER_COLORS)
PALM_COLOR = (255, 255, 255)


def _finger_of(i: int) -> int:
    for f, chain in enumerate(FINGERS):
        if i in chain[1:]:
            return f
    return -1


def draw_keypoints(canvas, keypoints, *, thickness: int = 2, radius: int = 3, scale: float = 1.0,
                   visibility=None, colors=FINGER_COLORS, palm_color=PALM_COLOR, fit: bool = True):
    """Draw one hand's skeleton on ``canvas`` in place (and return it): bones
    coloured per finger (palm bones and the wrist in ``palm_color``), then
    the keypoints as dots. The one skeleton drawing of the project (overlays,
    ``handsdk bench``'s worst frames, the data and synthetic previews).

    ``keypoints`` (21, 2+) in pixels, multiplied by ``scale``; ``visibility``
    (21,) or None: points (and their bones) below 0 are not drawn, points at
    0 (occluded) are drawn hollow; None draws every point filled (a third
    keypoint column is depth, never visibility). ``colors``: one colour per
    finger (thumb .. pinky) in the canvas's channel order (BGR by default,
    :data:`FINGER_COLORS_RGB` for RGB). ``fit``: lines and dots grow with
    the canvas (one step per 480 px); False draws ``thickness`` / ``radius``
    as given. ``radius`` <= 0 draws the bones only."""
    import cv2

    kp = np.asarray(keypoints, np.float64)[:, :2] * scale
    vis = np.ones(len(kp), np.float32) if visibility is None else np.asarray(visibility, np.float32)
    k = max(1, int(round(max(canvas.shape[:2]) / 480))) if fit else 1
    pts = [(int(round(float(x))), int(round(float(y)))) for x, y in kp]
    for a, b in HAND_CONNECTIONS:
        if vis[a] < 0 or vis[b] < 0:
            continue
        f = _finger_of(b) if _finger_of(a) == _finger_of(b) or a == 0 else -1
        color = colors[f] if f >= 0 else palm_color
        cv2.line(canvas, pts[a], pts[b], color, thickness * k, cv2.LINE_AA)
    if radius <= 0:
        return canvas
    for i, p in enumerate(pts):
        if vis[i] < 0:
            continue
        f = _finger_of(i)
        cv2.circle(canvas, p, radius * k, colors[f] if f >= 0 else palm_color, -1 if vis[i] > 0 else max(1, k),
                   cv2.LINE_AA)
    return canvas


def draw_result(frame_bgr, result, *, gesture_sets=None, text_lines=(), fps: float | None = None,
                spelling=None, active=None):
    """A copy of the frame with every hand's box, skeleton, track id,
    handedness and gestures, plus optional text lines, FPS, the spelled text
    with the letter being held (``spelling``: a
    :class:`~handsdk.spelling.SpellingState`) and the command gestures held
    now (``active``: {(track_id, set): label}, from
    :attr:`handsdk.events.GestureEvents.active`)."""
    import cv2

    canvas = np.ascontiguousarray(frame_bgr).copy()
    if canvas.ndim == 2:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
    fs = max(0.4, max(canvas.shape[:2]) / 900)
    for hand in result.hands:
        x0, y0, x1, y1 = (int(round(v)) for v in hand.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 255, 255), 1)
        draw_keypoints(canvas, hand.keypoints)
        label = (f"#{hand.track_id} " if hand.track_id is not None else "") + hand.handedness.name
        held = [lab for (tid, _), lab in (active or {}).items() if tid == hand.track_id]
        if held:
            label += " [" + ",".join(held) + "]"
        for name, cats in hand.gestures.items():
            if gesture_sets and name not in gesture_sets:
                continue
            if cats:
                label += f" {cats[0].name} {cats[0].score:.2f}"
        cv2.putText(canvas, label, (x0, max(12, y0 - 4)), cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 255, 255), 1,
                    cv2.LINE_AA)
    y = int(20 * fs / 0.5)
    lines = list(text_lines)
    if fps is not None:
        lines.insert(0, f"{fps:.1f} FPS")
    for line in lines:
        cv2.putText(canvas, line, (6, y), cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(canvas, line, (6, y), cv2.FONT_HERSHEY_SIMPLEX, fs, (255, 255, 255), 1, cv2.LINE_AA)
        y += int(22 * fs / 0.5)
    if spelling is not None:
        draw_spelling(canvas, spelling)
    return canvas


def draw_spelling(canvas, state):
    """The spelled text in a bar at the bottom, the held letter with a
    progress bar and the top candidates."""
    import cv2

    h, w = canvas.shape[:2]
    fs = max(0.45, max(h, w) / 800)
    bar_h = int(34 * fs / 0.5)
    y0 = h - bar_h
    canvas[y0:] = (canvas[y0:].astype(np.uint16) // 3).astype(np.uint8)
    text = state.text[-40:] + "_"
    cv2.putText(canvas, text, (6, h - int(10 * fs / 0.5)), cv2.FONT_HERSHEY_SIMPLEX, fs * 1.3, (255, 255, 255),
                max(1, int(round(fs * 2))), cv2.LINE_AA)
    right = w - 6
    if state.candidate:
        bw = int(60 * fs / 0.5)
        x = right - bw
        cv2.rectangle(canvas, (x, y0 + 4), (right, y0 + 10), (90, 90, 90), -1)
        cv2.rectangle(canvas, (x, y0 + 4), (x + int(bw * state.progress), y0 + 10), (0, 220, 0), -1)
        cv2.putText(canvas, state.candidate.strip("<>"), (x, h - 6), cv2.FONT_HERSHEY_SIMPLEX, fs, (0, 255, 0), 1,
                    cv2.LINE_AA)
        right = x - 8
    cands = "  ".join(f"{c.name} {c.score:.2f}" for c in state.candidates)
    if cands:
        (tw, _), _ = cv2.getTextSize(cands, cv2.FONT_HERSHEY_SIMPLEX, fs * 0.8, 1)
        cv2.putText(canvas, cands, (max(6, right - tw), y0 - 6), cv2.FONT_HERSHEY_SIMPLEX, fs * 0.8,
                    (200, 200, 200), 1, cv2.LINE_AA)
    return canvas
