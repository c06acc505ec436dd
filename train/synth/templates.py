"""Gesture templates: joint-angle dicts (degrees) plus view ranges, sampled
with noise.

Each template fixes the finger states, a thumb state (angles, or a *target*
that the thumb tip must reach, solved once by a small inverse-kinematics fit
on the mean hand) and the range of views (yaw, pitch, roll in degrees, for a
right hand; see :func:`handsdk.train.synth.hand.view_rotation`).

Sets (:data:`GESTURE_SETS`):

* ``commands``: ``none`` (relaxed random non-command poses) and ten command
  gestures;
* ``asl_letters``: the 24 static letters of the American manual alphabet (no
  J, Z). R's crossed fingers are approximated by index and middle pressed
  together and twisted; M/N/S/T/A/E differ by where the thumb tip rests;
* ``german_letters``: the static letters of the German manual alphabet
  (DGS) that can be told apart with this model: those shared with ASL plus
  the German forms of F, G, H, P, Q, T (X, Y and the rest as ASL).
"""
from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .hand import (DOF_INDEX, DOF_NAMES, HandPose, HandShape, LIMITS_HI, LIMITS_LO,
                   angles_from_degrees, clip_to_limits, forward_kinematics, projected_keypoints, random_pose)

# finger states: (mcp, pip, dip) flexion in degrees
EXT = (0, 0, 0)
CURL = (88, 100, 62)       # fist
HALF = (45, 55, 35)
BENT = (30, 40, 25)        # C shape
ROUND = (35, 62, 40)       # O shape
HOOK = (5, 95, 70)         # X
FLAT90 = (85, 10, 5)       # B bent at the knuckles
TUCK = (70, 105, 75)       # E: tips pressed down

# thumb states: (cmc_abd, cmc_opp, mcp, ip)
T_OUT = (55, 5, 0, 0)       # spread out (open palm, L)
T_SIDE = (-4, 8, 8, 0)      # alongside the index (A)
T_UP = (12, 8, 0, -5)       # thumbs up (fingers curled)
T_PALM = (5, 65, 25, 25)    # folded onto the palm (B, 4-finger signs)


@dataclass(frozen=True)
class Template:
    fingers: tuple            # 4 x (mcp, pip, dip): index, middle, ring, pinky
    thumb: tuple | None       # (cmc_abd, cmc_opp, mcp, ip) or None when ``target`` is used
    abd: tuple = (0, 0, 0, 0)  # index, middle, ring, pinky abduction
    target: tuple | None = None  # ((kp, weight), ...), offset (3,) in metres (hand frame)
    view: tuple = ((-25, 25), (-15, 15), (-20, 20))
    extra: tuple = ()         # extra (dof, degrees) pairs


def _t(index, middle, ring, pinky, thumb=T_PALM, abd=(0, 0, 0, 0), target=None, view=None,
       extra=()):
    return Template((index, middle, ring, pinky), None if target is not None else thumb, abd,
                    target, view or ((-25, 25), (-15, 15), (-20, 20)), tuple(extra))


SPREAD = (14, 2, -8, -18)
SIDE_VIEW = ((55, 95), (-15, 15), (-20, 20))
# thumb tip targets: ((keypoint, weight), ...), offset in the hand frame
_ON_MIDDLE_FRONT = (((6, 0.5), (10, 0.5)), (0.0, -0.004, 0.016))  # over index/middle middle phalanges
_OVER_RING = (((14, 0.6), (15, 0.4)), (0.0, 0.0, 0.014))
_OVER_PINKY = (((18, 0.6), (19, 0.4)), (0.0, 0.0, 0.014))
_INDEX_TIP = (((8, 1.0),), (0.0, 0.0, 0.006))
_INDEX_DIP = (((7, 1.0),), (0.003, 0.0, 0.008))
_MIDDLE_TIP = (((12, 1.0),), (0.0, 0.0, 0.006))
_RING_TIP = (((16, 1.0),), (0.0, 0.0, 0.006))

COMMAND_TEMPLATES: dict[str, Template] = {
    "open_palm": _t(EXT, EXT, EXT, EXT, T_OUT, abd=SPREAD,
                    view=((-30, 30), (-20, 20), (-25, 25))),
    "fist": _t(CURL, CURL, CURL, CURL, target=_ON_MIDDLE_FRONT,
               view=((-40, 40), (-20, 20), (-30, 30))),
    "point": _t(EXT, CURL, CURL, CURL, target=(((10, 0.5), (11, 0.5)), (0.0, -0.004, 0.014)),
                view=((-40, 40), (-20, 20), (-30, 30))),
    "victory": _t(EXT, EXT, CURL, CURL, abd=(12, -8, 0, 0), target=_OVER_RING,
                  view=((-30, 30), (-20, 20), (-25, 25))),
    "thumbs_up": _t(CURL, CURL, CURL, CURL, T_UP, view=((-20, 80), (-15, 15), (-20, 20))),
    "thumbs_down": _t(CURL, CURL, CURL, CURL, T_UP, view=((-20, 80), (-15, 15), (160, 200))),
    "ok": _t((40, 55, 35), EXT, EXT, EXT, abd=(5, 0, -8, -16), target=_INDEX_TIP,
             view=((-30, 30), (-20, 20), (-25, 25))),
    "call": _t(CURL, CURL, CURL, EXT, T_OUT, abd=(0, 0, 0, -20),
               view=((-30, 30), (-20, 20), (-40, 40))),
    "i_love_you": _t(EXT, CURL, CURL, EXT, T_OUT, abd=(8, 0, 0, -18),
                     view=((-30, 30), (-20, 20), (-25, 25))),
    "pinch": _t((30, 35, 20), HALF, (55, 65, 45), (60, 70, 50), abd=(0, 0, -4, -8),
                target=_INDEX_TIP, view=((20, 80), (-20, 20), (-25, 25))),
}

_DOWN = ((40, 100), (-20, 20), (150, 200))
_SIDEWAYS = ((55, 110), (-15, 15), (-105, -75))

ASL_TEMPLATES: dict[str, Template] = {
    "A": _t(CURL, CURL, CURL, CURL, T_SIDE),
    "B": _t(EXT, EXT, EXT, EXT, T_PALM),
    "C": _t(BENT, BENT, BENT, BENT, (40, 35, 5, 15), view=SIDE_VIEW),
    "D": _t(EXT, ROUND, ROUND, ROUND, target=_MIDDLE_TIP),
    "E": _t(TUCK, TUCK, TUCK, TUCK, (8, 70, 55, 35)),
    "F": _t((40, 55, 35), EXT, EXT, EXT, abd=(5, 6, -8, -16), target=_INDEX_TIP),
    "G": _t(EXT, CURL, CURL, CURL, (15, 10, 0, 0), view=_SIDEWAYS),
    "H": _t(EXT, EXT, CURL, CURL, target=_OVER_RING, abd=(-2, 2, 0, 0),
            view=((-20, 20), (-15, 15), (-110, -70))),
    "I": _t(CURL, CURL, CURL, EXT, target=_ON_MIDDLE_FRONT),
    "K": _t(EXT, (45, 5, 0), CURL, CURL, (20, 30, 0, 0), abd=(10, -5, 0, 0)),
    "L": _t(EXT, CURL, CURL, CURL, (65, 0, 0, 0), abd=(0, 0, 0, 0)),
    "M": _t(TUCK, TUCK, TUCK, CURL, target=(((15, 0.5), (19, 0.5)), (0.0, -0.006, 0.004))),
    "N": _t(TUCK, TUCK, CURL, CURL, target=(((11, 0.5), (15, 0.5)), (0.0, -0.006, 0.004))),
    "O": _t(ROUND, ROUND, ROUND, ROUND, target=_INDEX_TIP, view=SIDE_VIEW),
    "P": _t(EXT, (45, 5, 0), CURL, CURL, (20, 30, 0, 0), abd=(10, -5, 0, 0), view=_DOWN),
    "Q": _t(EXT, CURL, CURL, CURL, (15, 10, 0, 0), view=((50, 100), (-20, 10), (150, 200))),
    "R": _t(EXT, EXT, CURL, CURL, target=_OVER_RING, abd=(-18, 12, 0, 0),
            extra=(("index_mcp", -5), ("middle_mcp", 10))),
    "S": _t(CURL, CURL, CURL, CURL, target=(((10, 0.6), (14, 0.4)), (0.0, -0.008, 0.018))),
    "T": _t(CURL, CURL, CURL, CURL, target=(((6, 0.6), (10, 0.4)), (0.0, 0.012, 0.004))),
    "U": _t(EXT, EXT, CURL, CURL, target=_OVER_RING, abd=(-2, 2, 0, 0)),
    "V": _t(EXT, EXT, CURL, CURL, target=_OVER_RING, abd=(14, -10, 0, 0)),
    "W": _t(EXT, EXT, EXT, CURL, target=_OVER_PINKY, abd=(14, 0, -12, 0)),
    "X": _t(HOOK, CURL, CURL, CURL, target=_ON_MIDDLE_FRONT, view=((20, 70), (-15, 15), (-20, 20))),
    "Y": _t(CURL, CURL, CURL, EXT, T_OUT, abd=(0, 0, 0, -25)),
}

# German manual alphabet: letters whose hand shape or orientation differs
# from ASL (DGS). The others are shared.
_GERMAN_DIFF: dict[str, Template] = {
    "F": _t(EXT, EXT, CURL, CURL, T_OUT, abd=(10, -6, 0, 0)),               # thumb, index, middle
    "G": _t(EXT, CURL, CURL, CURL, T_SIDE, view=_SIDEWAYS),                 # index sideways, thumb on it
    "H": _t(EXT, EXT, CURL, CURL, T_SIDE, abd=(-2, 2, 0, 0), view=_SIDEWAYS),
    "P": _t(EXT, (45, 5, 0), CURL, CURL, (20, 30, 0, 0), abd=(10, -5, 0, 0), view=_DOWN),
    "Q": _t(EXT, CURL, CURL, CURL, (15, 10, 0, 0), view=((50, 100), (-20, 10), (150, 200))),
}
GERMAN_TEMPLATES: dict[str, Template] = {
    k: _GERMAN_DIFF.get(k, v) for k, v in ASL_TEMPLATES.items()
    if k not in ("R", "D", "E", "M", "N", "Q")
}
GERMAN_TEMPLATES["E"] = _t(TUCK, TUCK, TUCK, TUCK, T_PALM)  # DGS E: tips bent, thumb under them
GERMAN_TEMPLATES = dict(sorted(GERMAN_TEMPLATES.items()))

TEMPLATES: dict[str, dict[str, Template]] = {
    "commands": COMMAND_TEMPLATES,
    "asl_letters": ASL_TEMPLATES,
    "german_letters": GERMAN_TEMPLATES,
}

#: The label sets: set name -> labels (``commands`` includes ``none``).
GESTURE_SETS: dict[str, tuple[str, ...]] = {
    "commands": ("none",) + tuple(COMMAND_TEMPLATES),
    "asl_letters": tuple(ASL_TEMPLATES),
    "german_letters": tuple(GERMAN_TEMPLATES),
}

_THUMB = [DOF_INDEX[n] for n in ("thumb_cmc_abd", "thumb_cmc_opp", "thumb_mcp", "thumb_ip")]


def _base_angles(t: Template) -> np.ndarray:
    d = {}
    for name, (mcp, pip, dip), abd in zip(("index", "middle", "ring", "pinky"), t.fingers, t.abd):
        d.update({f"{name}_mcp": mcp, f"{name}_pip": pip, f"{name}_dip": dip, f"{name}_abd": abd})
    if t.thumb is not None:
        d.update(zip(("thumb_cmc_abd", "thumb_cmc_opp", "thumb_mcp", "thumb_ip"), t.thumb))
    for k, v in t.extra:
        d[k] = d.get(k, 0) + v
    return clip_to_limits(angles_from_degrees(d))


def _solve_thumb(angles: np.ndarray, target) -> np.ndarray:
    """Thumb angles bringing the thumb tip to ``target`` on the mean hand."""
    from scipy.optimize import minimize

    shape = HandShape()
    kps, offset = target
    pts = forward_kinematics(shape, angles)
    goal = sum(pts[k] * w for k, w in kps) + np.asarray(offset)
    prior = np.radians([15.0, 45.0, 20.0, 15.0])
    lo, hi = LIMITS_LO[_THUMB], LIMITS_HI[_THUMB]

    def cost(x):
        a = angles.copy()
        a[_THUMB] = x
        tip = forward_kinematics(shape, a)[4]
        return float(np.sum((tip - goal) ** 2) * 1e4 + 0.02 * np.sum((x - prior) ** 2))

    best = None
    for x0 in (prior, np.radians([30.0, 30.0, 10.0, 10.0]), np.radians([5.0, 70.0, 40.0, 30.0])):
        r = minimize(cost, x0, method="L-BFGS-B", bounds=list(zip(lo, hi)))
        if best is None or r.fun < best.fun:
            best = r
    out = angles.copy()
    out[_THUMB] = best.x
    return out


_FITS_FILE = os.path.join(os.path.dirname(__file__), "_thumb_fits.json")


def _fit_key(t: Template) -> str:
    """Identifies a thumb fit: the template and the mean hand's geometry."""
    from . import hand as _h

    blob = repr((t, _h._BASE_POS.tolist(), _h._BONE_LEN.tolist(), _h._BASE_SPLAY.tolist(),
                 float(_h._THUMB_REST), float(_h._THUMB_TWIST), _h.JOINT_LIMITS_DEG))
    return hashlib.sha1(blob.encode()).hexdigest()[:16]


@lru_cache(maxsize=1)
def _stored_fits() -> dict:
    try:
        with open(_FITS_FILE) as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return {}


@lru_cache(maxsize=None)
def template_angles(gesture_set: str, label: str) -> np.ndarray:
    """The noise-free joint angles (radians) of one template. Thumb fits are
    read from ``_thumb_fits.json`` when it matches the template and the hand
    model (see :func:`store_thumb_fits`), otherwise solved here."""
    t = TEMPLATES[gesture_set][label]
    a = _base_angles(t)
    if t.target is not None:
        fit = _stored_fits().get(_fit_key(t))
        if fit is not None:
            a[_THUMB] = fit
        else:
            a = _solve_thumb(a, t.target)
    a.setflags(write=False)
    return a


def store_thumb_fits() -> None:
    """Solve every contact template's thumb and store the fits (run after
    changing templates or the hand model; the file ships with the code)."""
    out = {}
    for gset, labels in TEMPLATES.items():
        for label, t in labels.items():
            if t.target is not None:
                out[_fit_key(t)] = [float(x) for x in _solve_thumb(_base_angles(t), t.target)[_THUMB]]
    with open(_FITS_FILE, "w") as fh:
        json.dump(out, fh, indent=0, sort_keys=True)
    _stored_fits.cache_clear()
    template_angles.cache_clear()


def pose_from_template(gesture_set: str, label: str, rng: np.random.Generator,
                       noise: float = 6.0) -> HandPose:
    """A pose of ``label`` from ``gesture_set`` with Gaussian joint noise of
    ``noise`` degrees (smaller on the thumb of contact templates) and a view
    drawn uniformly from the template's ranges. ``commands``/``none`` gives
    a relaxed random pose (not one of the commands)."""
    if gesture_set not in TEMPLATES:
        raise KeyError(f"unknown gesture set {gesture_set!r}; one of {tuple(TEMPLATES)}")
    if label == "none" and gesture_set == "commands":
        pose = _none_pose(rng)
        pose.label, pose.label_set = "none", gesture_set
        return pose
    if label not in TEMPLATES[gesture_set]:
        raise KeyError(f"{label!r} is not in {gesture_set!r}: {GESTURE_SETS[gesture_set]}")
    t = TEMPLATES[gesture_set][label]
    a = np.array(template_angles(gesture_set, label))
    sd = np.full(len(DOF_NAMES), np.radians(noise))
    if t.target is not None:
        sd[_THUMB] *= 0.5
    a = clip_to_limits(a + rng.normal(0, 1, len(a)) * sd)
    a[DOF_INDEX["wrist_flex"]] = np.radians(rng.normal(0, 15))
    a[DOF_INDEX["wrist_dev"]] = np.radians(rng.normal(0, 8))
    view = np.radians([rng.uniform(lo, hi) for lo, hi in t.view])
    return HandPose(clip_to_limits(a), view, label, gesture_set)


def keypoint_hands(n: int, rng: np.random.Generator, draw):
    """``n`` synthetic hands as keypoints, nothing rendered (the kinematic
    hand seen by a pinhole camera, :func:`projected_keypoints`): per hand a
    random handedness and hand shape, then ``draw(rng, i)`` -> (pose, tag).
    Returns (keypoints (n, 21, 3) float32, handedness list, tag list)."""
    kps, hands, tags = [], [], []
    for i in range(n):
        hand = "Left" if rng.random() < 0.5 else "Right"
        shape = HandShape.random(rng, hand)
        pose, tag = draw(rng, i)
        kps.append(projected_keypoints(shape, pose, hand, rng))
        hands.append(hand)
        tags.append(tag)
    return np.asarray(kps, np.float32).reshape(-1, 21, 3), hands, tags


def template_hands(gesture_set: str, labels, rng: np.random.Generator, noise: float = 6.0):
    """One synthetic hand per label of ``labels`` (:func:`pose_from_template`
    of ``gesture_set`` with ``noise`` degrees, see :func:`keypoint_hands`):
    (keypoints (N, 21, 3), handedness list)."""
    labels = list(labels)
    kp, hands, _ = keypoint_hands(len(labels), rng,
                                  lambda r, i: (pose_from_template(gesture_set, labels[i], r, noise), labels[i]))
    return kp, hands


def _none_pose(rng) -> HandPose:
    """Relaxed poses that are none of the commands: half-curled fingers with
    mixed states, rejected if too close to a command template."""
    from handsdk.keypoints import keypoint_features

    cents = _command_features()
    for _ in range(20):
        p = random_pose(rng, relaxed=rng.random() < 0.6)
        f = keypoint_features(forward_kinematics(HandShape(), p.angles)[:, :2])
        if min(np.abs(f - c).mean() for c in cents) > 0.08:
            return p
    return p


@lru_cache(maxsize=None)
def _command_features():
    from handsdk.keypoints import keypoint_features

    return tuple(keypoint_features(forward_kinematics(HandShape(), template_angles("commands", k))[:, :2])
                 for k in COMMAND_TEMPLATES)


def warmup() -> None:
    """Fit every template now (otherwise each is fitted on first use)."""
    for gset, labels in TEMPLATES.items():
        for label in labels:
            template_angles(gset, label)
    _command_features()
