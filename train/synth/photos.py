"""Real hand photos moved along drawn paths: video of motion gestures and
fingerspelled words whose pixels are real hands, for the SDK's own detector
and landmarker (the renderer's hands are read less well than photos, see
README's motion section).

A :class:`PhotoHands` holds hand photos with their keypoints (MediaPipe's
pseudo-labels) as the shapes of one hand; :func:`iter_photo_take` realises
segments of :mod:`handsdk.train.synth.motion` (holds, changes of shape,
paths) on them exactly as the keypoint takes do (the same pose schedule on
the same fine grid, the same tracer following the path), and films them:
each frame is the current photo warped by the hand's in-plane rotation,
squeeze (yaw), scale and translation over a still background (the first
photo, blurred, filling the frame), its edge feathered. A photo cannot
blend into another, so a change of shape is a cut halfway through its
transition, as a quick signer's hand seems at 30 fps.

What photos cannot do: turn in depth (a yaw squeezes the photo), or change
shape smoothly. numpy and OpenCV.
"""
from __future__ import annotations

import numpy as np

from .motion import FINE_HZ, PALM, _schedule, _translation, render_times

__all__ = ["PhotoHands", "iter_photo_take", "photo_take", "PhotoBank", "MOTION_PHOTO", "photo_motion_script",
           "pipeline_take"]


class PhotoHands:
    """Hand photos as the shapes of one hand: ``add(image, keypoints)`` ->
    shape id; :meth:`keypoints` (the interface of
    :class:`handsdk.train.synth.motion.SynthHands`) gives each step's
    keypoints in hand sizes, palm-centred, rotated by ``roll`` and squeezed
    by ``yaw``."""

    real = True

    def __init__(self):
        self.images: list = []
        self.base: list = []   # (21, 2) keypoints, palm-centred, in hand sizes
        self.palm: list = []   # (2,) palm centre in the photo's pixels
        self.size: list = []   # the hand's size in the photo's pixels
        self.names: list = []

    def add(self, image: np.ndarray, keypoints, name: str = "") -> int:
        """A photo (H, W, 3 uint8 RGB) and its hand's keypoints ((21, 2+)
        pixels of the photo)."""
        kp = np.asarray(keypoints, np.float64)[:, :2]
        if kp.shape != (21, 2) or not np.isfinite(kp).all():
            raise ValueError(f"PhotoHands.add: keypoints must be 21 finite (x, y) points, got shape {kp.shape}")
        img = np.asarray(image)
        if img.ndim != 3 or img.shape[2] != 3 or img.dtype != np.uint8:
            raise ValueError(f"PhotoHands.add: image must be (H, W, 3) uint8 RGB, got {img.shape} {img.dtype}")
        palm = kp[list(PALM)].mean(axis=0)
        size = float(np.ptp(kp, axis=0).max())
        if size < 8:
            raise ValueError(f"PhotoHands.add: the hand is {size:.1f} px in its photo; need at least 8")
        self.images.append(img)
        self.palm.append(palm)
        self.size.append(size)
        self.base.append((kp - palm) / size)
        self.names.append(name)
        return len(self.images) - 1

    @staticmethod
    def shown(a, b, w) -> np.ndarray:
        """The photo on screen at each step: ``a`` until halfway to ``b``."""
        return np.where(np.asarray(w) < 0.5, np.asarray(a), np.asarray(b)).astype(int)

    def linear(self, roll, yaw) -> np.ndarray:
        """(M, 2, 2): each step's map of hand-size coordinates (palm-centred)
        to the image's: rotation by ``roll`` after a squeeze of x by cos(yaw)."""
        roll, yaw = np.asarray(roll, np.float64), np.asarray(yaw, np.float64)
        c, s = np.cos(roll), np.sin(roll)
        q = np.cos(np.clip(yaw, -1.3, 1.3))
        return np.stack([np.stack([c * q, -s], -1), np.stack([s * q, c], -1)], -2)

    def keypoints(self, a, b, w, roll, yaw) -> np.ndarray:
        """(M, 21, 2) in hand sizes (x right, y down), palm at the origin."""
        k = self.shown(a, b, w)
        return np.einsum("mij,mkj->mki", self.linear(roll, yaw), np.asarray(self.base)[k])


def _feather(h: int, w: int, px: int) -> np.ndarray:
    """(h, w) float32 mask: 1 inside, falling to 0 over ``px`` at the edges."""
    y = np.minimum(np.arange(h), np.arange(h)[::-1]).astype(np.float32)
    x = np.minimum(np.arange(w), np.arange(w)[::-1]).astype(np.float32)
    return np.clip(np.minimum(y[:, None], x[None, :]) / max(px, 1), 0, 1)


def iter_photo_take(hands: PhotoHands, segments: list, *, size=(480, 640), fps: float = 30.0,
                    hand_px: float = 140.0, seed: int = 0, noise: float = 2.0):
    """Film ``segments`` (:class:`handsdk.train.synth.motion.Segment`) of
    ``hands``: yields (frame RGB (H, W, 3) uint8, timestamp_ms, keypoints
    (21, 2): where the photo's pseudo-labelled keypoints are in the frame).
    The whole clip is kept in the frame (the path is shrunk when it would
    leave it)."""
    import cv2

    if not hands.images:
        raise ValueError("iter_photo_take: no photos (PhotoHands.add)")
    rng = np.random.default_rng(seed)
    h, w = int(size[0]), int(size[1])
    sch = _schedule(segments, 0)
    a, b, wt, roll, yaw, sc, pxy, tr, sg = (sch[k] for k in ("a", "b", "w", "roll", "yaw", "scale", "xy", "tracer",
                                                             "segment"))
    M = len(a)
    rel = hands.keypoints(a, b, wt, roll, yaw) * sc[:, None, None]
    T = _translation(rel, pxy, tr, sg)
    centre = T * hand_px  # the palm's place, pixels, before the clip is fitted in the frame
    span = np.maximum(centre.max(0) - centre.min(0), 1e-6)
    k = min(1.0, 0.6 * w / span[0], 0.45 * h / span[1])
    centre = centre * k
    centre = centre - (centre.min(0) + centre.max(0)) / 2 + [w / 2, h / 2 + 0.05 * h]
    lin = hands.linear(roll, yaw) * sc[:, None, None]
    shown = hands.shown(a, b, wt)
    bg = cv2.resize(cv2.GaussianBlur(hands.images[0], (0, 0), 12), (w, h), interpolation=cv2.INTER_LINEAR)
    bg = bg.astype(np.float32)
    masks = [_feather(*im.shape[:2], px=max(4, min(im.shape[:2]) // 20)) for im in hands.images]
    for tk in render_times(M, fps):
        i = min(int(round(tk * FINE_HZ)), M - 1)
        j = int(shown[i])
        # photo pixels -> frame: p' = hand_px / size_j * L (p - palm_j) + centre
        L = lin[i] * (hand_px / hands.size[j])
        m = np.concatenate([L, (centre[i] - L @ hands.palm[j])[:, None]], 1).astype(np.float32)
        im = cv2.warpAffine(hands.images[j], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)
        al = cv2.warpAffine(masks[j], m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT)[..., None]
        frame = im.astype(np.float32) * al + bg * (1 - al)
        frame = np.clip(frame + rng.normal(0, noise, frame.shape), 0, 255).astype(np.uint8)
        kp = hands.base[j] @ L.T * hands.size[j] + centre[i]
        yield frame, float(tk * 1000.0), kp.astype(np.float32)


def photo_take(hands: PhotoHands, segments: list, **kw):
    """:func:`iter_photo_take` at once: (frames (N, H, W, 3), times_ms (N,),
    keypoints (N, 21, 2))."""
    out = list(iter_photo_take(hands, segments, **kw))
    return (np.stack([o[0] for o in out]), np.array([o[1] for o in out]), np.stack([o[2] for o in out]))


# ============================================================ motion takes read by the SDK itself

#: the letter photo each motion family starts from: I for J (the pinky traces it),
#: D for Z and the circles (the index), B (a flat hand) for the swipes and the wave
MOTION_PHOTO = {"J": "I", "Z": "D", "circle": "D", "swipe": "B", "wave": "B"}


class PhotoBank:
    """Hand photos with keypoints (MediaPipe's pseudo-labels) by letter,
    from image sets of the shared data (default ``asl_letters/train``:
    photos that no evaluation reads; the photo clips of
    :func:`handsdk.tools.motion_eval.photo_words` come from held-out sets)."""

    def __init__(self, sets=("asl_letters/train",), root=None):
        from handsdk.train.data.registry import load_dataset

        self.sets = tuple(sets)
        self.by_letter: dict = {}
        for spec in self.sets:
            name, _, split = spec.partition("/")
            for s in load_dataset(name, split or None, root, load_image=False):
                if s.path and s.keypoints is not None and len(s.keypoints) and s.label:
                    self.by_letter.setdefault(str(s.label), []).append(s)
        if not self.by_letter:
            raise FileNotFoundError(f"PhotoBank: no labelled hand photos with keypoints in {', '.join(self.sets)}")

    @property
    def letters(self) -> list:
        return sorted(self.by_letter)

    def add(self, hands: PhotoHands, letter: str, rng: np.random.Generator) -> int:
        """A random photo of ``letter`` added to ``hands``: its shape id."""
        from handsdk.train.data.formats import ensure_image

        cands = self.by_letter.get(letter)
        if not cands:
            raise KeyError(f"PhotoBank: no photo of {letter!r} in {', '.join(self.sets)} (has {self.letters})")
        for _ in range(8):
            s = ensure_image(cands[int(rng.integers(len(cands)))])
            if s.image is not None:
                return hands.add(s.image, s.keypoints[0], letter)
        raise FileNotFoundError(f"PhotoBank: the photos of {letter!r} could not be read ({cands[0].path} ...)")


def photo_motion_script(label: str, generator: str, rng: np.random.Generator, bank) -> tuple:
    """(hands, segments) of one motion class with photos of ``bank``: a
    gesture from its start shape (:data:`MOTION_PHOTO`) held, drawn and held;
    ``none``: letters held and changed, and hands drifting, turning and
    reaching (:func:`handsdk.train.synth.motion.none_path`)."""
    from .motion import NONE_KINDS, Segment, _family, gesture_path, none_path

    hands = PhotoHands()
    if label == "none":
        letters = [x for x in bank.letters if len(x) == 1]
        bank.add(hands, str(rng.choice(letters)), rng)
        segs = []
        for _ in range(int(rng.integers(2, 5))):
            u = rng.random()
            if u < 0.35:
                segs.append(Segment("hold", float(rng.uniform(0.3, 1.0))))
            elif u < 0.65:
                segs.append(Segment("trans", float(rng.uniform(0.15, 0.4)), bank.add(hands, str(rng.choice(letters)),
                                                                                     rng)))
            else:
                segs.append(Segment("path", path=none_path(str(rng.choice(NONE_KINDS)), generator, rng)))
        segs.append(Segment("hold", 0.3))
        return hands, segs
    bank.add(hands, MOTION_PHOTO[_family(label)], rng)
    lead = Segment("hold", float(rng.uniform(0.3, 0.6)))
    return hands, [lead, Segment("path", path=gesture_path(label, generator, rng)),
                   Segment("hold", float(rng.uniform(0.3, 0.6)))]


def pipeline_take(hands: PhotoHands, segments: list, recognizer, *, generator: str = "param", fps: float = 30.0,
                  hand_px: float = 140.0, seed: int = 0, mirror: bool = False):
    """The take of ``segments`` as the SDK reads it: each frame of the photo
    clip through ``recognizer`` (a :class:`handsdk.GestureRecognizer` in
    VIDEO mode, RGB; reset first, so one recognizer serves many takes), its first hand's
    keypoints kept (frames without a hand are dropped, as when a tracker
    loses the hand). ``mirror``: the frames mirrored (a left hand; the
    gestures' labels mirrored too). A :class:`handsdk.train.synth.motion.Take`
    whose hand source is ``photo_pipeline``."""
    from handsdk.motion import mirror_label

    from .motion import Take, _schedule

    sch = _schedule(segments, 0)
    times, kps, n = [], [], 0
    recognizer.reset()  # (a new video: no tracks, the clock from 0)
    for frame, ts, _ in iter_photo_take(hands, segments, fps=fps, hand_px=hand_px, seed=seed):
        n += 1
        r = recognizer.recognize(np.ascontiguousarray(frame[:, ::-1]) if mirror else frame, int(ts))
        if r.hands:
            times.append(ts)
            kps.append(np.asarray(r.hands[0].keypoints, np.float32)[:, :2])
    gestures = [(mirror_label(g[0]) if mirror else g[0], g[1], g[2], g[3]) for g in sch["gestures"]]
    return Take(np.asarray(times, np.float64), np.asarray(kps, np.float32).reshape(-1, 21, 2), gestures, generator,
                "photo_pipeline", "synthetic", mirror,
                {"fps": fps, "shapes": list(hands.names), "segments": sch["spans"], "frames_with_hand": len(times),
                 "frames": n})
