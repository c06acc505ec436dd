"""Short clips of one hand holding and changing gestures (spelling words,
demo clips)."""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from handsdk.train.data.sample import Sample

from .hand import HandShape, clip_to_limits
from .render import random_skin
from .scene import SceneConfig, _compose, _random_light, _sleeve, place_hand, random_background
from .templates import pose_from_template


@dataclass
class SequenceClip:
    """frames (T, H, W, 3) uint8 RGB; samples: one :class:`Sample` per frame
    (keypoints, boxes, masks...; ``label`` is the held gesture or None
    during transitions); labels: the per-frame labels."""

    frames: np.ndarray
    samples: list[Sample]
    labels: list[str | None]
    label_sets: list[str | None]

    def __len__(self):
        return len(self.samples)


def _smoothstep(t):
    return t * t * (3 - 2 * t)


def render_sequence(steps, size=(240, 320), seed: int = 0, transition_frames: int = 8, *,
                    handedness: str | None = None, hand_scale: float = 0.55, noise: float = 3.0,
                    sensor_noise: float = 2.0, config: SceneConfig | None = None) -> SequenceClip:
    """Render one hand going through ``steps`` = [(gesture_set, label,
    hold_frames), ...]: each gesture is held for ``hold_frames`` frames (with
    a slight tremor) and consecutive gestures are joined by
    ``transition_frames`` frames of smoothly interpolated joint angles and
    view. The camera, background and lighting stay fixed; the hand drifts
    slowly. Deterministic from ``seed``."""
    samples = list(iter_sequence(steps, size, seed, transition_frames, handedness=handedness,
                                 hand_scale=hand_scale, noise=noise, sensor_noise=sensor_noise, config=config))
    h, w = int(size[0]), int(size[1])
    frames = np.stack([s.image for s in samples]) if samples else np.zeros((0, h, w, 3), np.uint8)
    return SequenceClip(frames, samples, [s.label for s in samples], [s.label_set for s in samples])


def iter_sequence(steps, size=(240, 320), seed: int = 0, transition_frames: int = 8, *,
                  handedness: str | None = None, hand_scale: float = 0.55, noise: float = 3.0,
                  sensor_noise: float = 2.0, config: SceneConfig | None = None):
    """The frames of :func:`render_sequence` (the same ones), one
    :class:`Sample` at a time as each is rendered: the first comes at once."""
    steps = list(steps)
    if not steps:
        raise ValueError("steps is empty")
    rng = np.random.default_rng(seed)
    h, w = int(size[0]), int(size[1])
    cfg = replace(config or SceneConfig(), size=(h, w))
    fov = np.radians(rng.uniform(50, 70))
    f = 0.5 * w / np.tan(0.5 * fov)
    bg = random_background(rng, h, w, cfg.p_natural_bg)
    light = _random_light(rng, replace(cfg, p_shadow=0.0), h, w)
    shape = HandShape.random(rng, handedness)
    skin = random_skin(rng)
    sleeve, cut = _sleeve(rng)
    poses = []
    for st in steps:
        gset, label, hold = st
        p = pose_from_template(gset, label, rng, noise)
        poses.append((p, int(hold)))
    # frame schedule: (pose a, pose b, t, label, label_set)
    sched = []
    for i, (p, hold) in enumerate(poses):
        for _ in range(max(hold, 0)):
            sched.append((p, p, 0.0, p.label, p.label_set))
        if i + 1 < len(poses):
            q = poses[i + 1][0]
            for k in range(transition_frames):
                sched.append((p, q, _smoothstep((k + 1) / (transition_frames + 1)), None, None))
    T = len(sched)
    c0 = np.array([w * rng.uniform(0.4, 0.6), h * rng.uniform(0.45, 0.6)])
    amp = rng.uniform(0.01, 0.03, 2) * [w, h]
    ph = rng.uniform(0, 2 * np.pi, 4)
    om = rng.uniform(0.05, 0.12, 2)
    size_px = hand_scale * min(h, w)
    tremor = rng.normal(0, 1, (4, 22)) * np.radians(1.0)
    for k, (a, b, t, label, lset) in enumerate(sched):
        pose = a.copy()
        pose.angles = clip_to_limits((1 - t) * a.angles + t * b.angles
                                     + tremor[0] * np.sin(0.3 * k + tremor[1] * 10)
                                     + tremor[2] * np.sin(0.17 * k + tremor[3] * 10))
        pose.view = (1 - t) * a.view + t * b.view + np.radians(1.5) * np.sin(0.1 * k + ph[:3])
        pose.label, pose.label_set = label, lset
        centre = c0 + amp * np.sin(om * k + ph[:2])
        spec = place_hand(rng, shape, pose, f, h, w, size_px * (1 + 0.03 * np.sin(0.07 * k + ph[3])),
                          centre, skin=skin, forearm=0.4, sleeve=sleeve, sleeve_cut=cut)
        s = _compose(rng, cfg, f, [spec], bg, light, None, effects=False, labels=(label, lset))
        if sensor_noise > 0:
            img = s.image.astype(np.float32) + rng.normal(0, sensor_noise, s.image.shape)
            s.image = np.clip(img, 0, 255).astype(np.uint8)
        s.extras["frame"] = k
        yield s
