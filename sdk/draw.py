"""Overlays: skeleton, box, gesture and text on a frame (renderer kept apart
from the tracker)."""
from __future__ import annotations

import numpy as np

from .keypoints import FINGERS, HAND_CONNECTIONS

#: BGR colour per finger (thumb .. pinky), palm in white
FINGER_COLORS = ((0, 128, 255), (0, 220, 0), (255, 200, 0), (255, 0, 200), (0, 0, 255))


def _finger_of(i: int) -> int:
    for f, chain in enumerate(FINGERS):
        if i in chain[1:]:
            return f
    return -1


def draw_keypoints(canvas, keypoints, *, thickness: int = 2, radius: int = 3):
    import cv2

    kp = np.asarray(keypoints)[:, :2]
    scale = max(1, int(round(max(canvas.shape[:2]) / 480)))
    for a, b in HAND_CONNECTIONS:
        f = _finger_of(b) if _finger_of(a) == _finger_of(b) or a == 0 else -1
        color = FINGER_COLORS[f] if f >= 0 else (255, 255, 255)
        cv2.line(canvas, tuple(int(round(v)) for v in kp[a]), tuple(int(round(v)) for v in kp[b]), color,
                 thickness * scale, cv2.LINE_AA)
    for i, p in enumerate(kp):
        f = _finger_of(i)
        cv2.circle(canvas, (int(round(p[0])), int(round(p[1]))), radius * scale,
                   FINGER_COLORS[f] if f >= 0 else (255, 255, 255), -1, cv2.LINE_AA)
    return canvas


def draw_result(frame_bgr, result, *, gesture_sets=None, text_lines=(), fps: float | None = None):
    """A copy of the frame with every hand's box, skeleton, handedness and
    gestures, plus optional text lines (e.g. the spelled text) and FPS."""
    import cv2

    canvas = np.ascontiguousarray(frame_bgr).copy()
    if canvas.ndim == 2:
        canvas = cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)
    fs = max(0.4, max(canvas.shape[:2]) / 900)
    for hand in result.hands:
        x0, y0, x1, y1 = (int(round(v)) for v in hand.box)
        cv2.rectangle(canvas, (x0, y0), (x1, y1), (0, 255, 255), 1)
        draw_keypoints(canvas, hand.keypoints)
        label = hand.handedness.name
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
    return canvas
