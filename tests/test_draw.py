"""handsdk.draw.draw_keypoints is the one skeleton drawing: the runtime's
overlay draws as before, and the data / synthetic previews and the bench's
worst frames call it."""
from __future__ import annotations

import numpy as np

from handsdk import draw
from handsdk.keypoints import FINGERS, HAND_CONNECTIONS


def _hand(x0=40.0, y0=30.0, size=120.0):
    t = np.linspace(0, 1, 21)
    return np.stack([x0 + size * t, y0 + size * ((t * 7) % 1), -0.01 * t], 1).astype(np.float32)


def _old_runtime_draw(canvas, keypoints, *, thickness=2, radius=3):
    """The runtime's drawing before the three copies became one (reference)."""
    import cv2

    def finger_of(i):
        return next((f for f, chain in enumerate(FINGERS) if i in chain[1:]), -1)

    kp = np.asarray(keypoints)[:, :2]
    scale = max(1, int(round(max(canvas.shape[:2]) / 480)))
    for a, b in HAND_CONNECTIONS:
        f = finger_of(b) if finger_of(a) == finger_of(b) or a == 0 else -1
        color = draw.FINGER_COLORS[f] if f >= 0 else (255, 255, 255)
        cv2.line(canvas, tuple(int(round(v)) for v in kp[a]), tuple(int(round(v)) for v in kp[b]), color,
                 thickness * scale, cv2.LINE_AA)
    for i, p in enumerate(kp):
        f = finger_of(i)
        cv2.circle(canvas, (int(round(p[0])), int(round(p[1]))), radius * scale,
                   draw.FINGER_COLORS[f] if f >= 0 else (255, 255, 255), -1, cv2.LINE_AA)
    return canvas


def test_runtime_overlay_unchanged():
    for shape in ((240, 320, 3), (1080, 1440, 3)):
        kp = _hand(size=shape[0] / 2)
        a = draw.draw_keypoints(np.zeros(shape, np.uint8), kp)
        b = _old_runtime_draw(np.zeros(shape, np.uint8), kp)
        assert np.array_equal(a, b)
        a = draw.draw_keypoints(np.zeros(shape, np.uint8), kp, thickness=1, radius=2)
        b = _old_runtime_draw(np.zeros(shape, np.uint8), kp, thickness=1, radius=2)
        assert np.array_equal(a, b)


def test_visibility_scale_and_bones_only():
    kp = _hand()
    full = draw.draw_keypoints(np.zeros((240, 320, 3), np.uint8), kp[:, :2] / 2, scale=2.0)
    assert np.array_equal(full, draw.draw_keypoints(np.zeros((240, 320, 3), np.uint8), kp))
    vis = np.ones(21, np.float32)
    vis[8] = -1  # index tip: not drawn
    part = draw.draw_keypoints(np.zeros((240, 320, 3), np.uint8), kp, visibility=vis)
    assert part.sum() < full.sum()
    bones = draw.draw_keypoints(np.zeros((240, 320, 3), np.uint8), kp, radius=0)
    assert 0 < bones.sum() < full.sum()
    assert draw.FINGER_COLORS_RGB[0] == draw.FINGER_COLORS[0][::-1]


def test_previews_call_the_one_drawing(monkeypatch):
    from handsdk.train.data import preview as data_preview
    from handsdk.train.data.sample import Sample
    from handsdk.train.synth import preview as synth_preview

    calls = []
    real = draw.draw_keypoints

    def spy(canvas, keypoints, **kw):
        calls.append(kw)
        return real(canvas, keypoints, **kw)

    monkeypatch.setattr(draw, "draw_keypoints", spy)
    monkeypatch.setattr(synth_preview, "draw_keypoints", spy)
    kp = np.concatenate([_hand()[:, :2], np.ones((21, 1), np.float32)], 1)
    s = Sample(image=np.zeros((240, 320, 3), np.uint8), boxes=np.array([[40, 30, 160, 150]], np.float32),
               keypoints=kp[None], extras={"pseudo_keypoints": kp[None]}, keypoint_source="human")
    data_preview.draw_sample(s, tile=128)
    assert len(calls) == 2 and calls[1]["colors"] == draw.FINGER_COLORS_RGB
    calls.clear()
    synth_preview.draw_sample(s)
    assert len(calls) == 1 and calls[0]["colors"] == synth_preview.FINGER_COLORS
