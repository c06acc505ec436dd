"""A procedural, articulated 3D hand: shape, pose, joint limits and forward
kinematics.

Hand frame (metres), for a **right** hand: the wrist keypoint is the origin,
+y points from the wrist to the fingers, +z is the palm normal (out of the
palm) and +x points to the thumb side (x, y, z is right-handed). A left hand
is the mirror image (x -> -x) of a right hand with the same shape and pose.

A pose is a vector of joint angles in radians, in the order of
:data:`DOF_NAMES`, plus a *view* (yaw, pitch, roll) that orients the hand
relative to the canonical view "palm facing the camera, fingers up" (see
:func:`view_rotation`).

Angle conventions (degrees in :data:`JOINT_LIMITS_DEG`):

* ``<finger>_mcp``, ``_pip``, ``_dip``: flexion, positive curls the finger
  towards the palm, negative is hyper-extension;
* ``<finger>_abd``: abduction at the MCP, positive towards the thumb side;
* ``thumb_cmc_abd``: spreads the thumb away from the index in the palm plane;
* ``thumb_cmc_opp``: opposition, brings the thumb in front of the palm;
* ``thumb_mcp``, ``thumb_ip``: thumb flexion (towards palm and pinky);
* ``wrist_flex``, ``wrist_dev``: bend between hand and forearm (only moves
  the forearm, which is not part of the 21 keypoints).
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from handsdk.keypoints import NUM_KEYPOINTS

FINGER_NAMES = ("thumb", "index", "middle", "ring", "pinky")

DOF_NAMES: tuple[str, ...] = (
    "thumb_cmc_abd", "thumb_cmc_opp", "thumb_mcp", "thumb_ip",
    "index_mcp", "index_abd", "index_pip", "index_dip",
    "middle_mcp", "middle_abd", "middle_pip", "middle_dip",
    "ring_mcp", "ring_abd", "ring_pip", "ring_dip",
    "pinky_mcp", "pinky_abd", "pinky_pip", "pinky_dip",
    "wrist_flex", "wrist_dev",
)
NUM_DOF = len(DOF_NAMES)
DOF_INDEX = {n: i for i, n in enumerate(DOF_NAMES)}

#: Anatomical joint limits in degrees (lower, upper).
JOINT_LIMITS_DEG: dict[str, tuple[float, float]] = {
    "thumb_cmc_abd": (-5.0, 75.0),
    "thumb_cmc_opp": (-15.0, 80.0),
    "thumb_mcp": (-15.0, 70.0),
    "thumb_ip": (-20.0, 85.0),
    "index_mcp": (-25.0, 95.0), "index_abd": (-20.0, 25.0),
    "index_pip": (-5.0, 110.0), "index_dip": (-10.0, 90.0),
    "middle_mcp": (-25.0, 95.0), "middle_abd": (-15.0, 15.0),
    "middle_pip": (-5.0, 110.0), "middle_dip": (-10.0, 90.0),
    "ring_mcp": (-25.0, 95.0), "ring_abd": (-20.0, 15.0),
    "ring_pip": (-5.0, 110.0), "ring_dip": (-10.0, 90.0),
    "pinky_mcp": (-25.0, 95.0), "pinky_abd": (-30.0, 12.0),
    "pinky_pip": (-5.0, 110.0), "pinky_dip": (-10.0, 90.0),
    "wrist_flex": (-60.0, 60.0), "wrist_dev": (-25.0, 25.0),
}
LIMITS_LO = np.radians([JOINT_LIMITS_DEG[n][0] for n in DOF_NAMES])
LIMITS_HI = np.radians([JOINT_LIMITS_DEG[n][1] for n in DOF_NAMES])

# --- mean right-hand geometry (metres) --------------------------------------
# MCP (finger) / CMC (thumb) positions in the hand frame.
_BASE_POS = np.array([
    [0.024, 0.026, 0.008],    # thumb CMC
    [0.029, 0.088, 0.0],      # index MCP
    [0.008, 0.093, 0.0],      # middle MCP
    [-0.012, 0.088, 0.0],     # ring MCP
    [-0.030, 0.076, 0.0],     # pinky MCP
])
# rest direction of each finger in the palm plane (degrees towards the thumb)
_BASE_SPLAY = np.radians([0.0, 5.0, 0.0, -5.0, -11.0])
# bone lengths: thumb (metacarpal, proximal, distal), fingers (prox, mid, dist)
_BONE_LEN = np.array([
    [0.040, 0.032, 0.027],
    [0.041, 0.025, 0.021],
    [0.046, 0.029, 0.022],
    [0.043, 0.027, 0.022],
    [0.034, 0.020, 0.019],
])
# capsule radii at base, joint 1, joint 2, tip
_RADII = np.array([
    [0.0165, 0.0125, 0.0110, 0.0098],
    [0.0112, 0.0101, 0.0090, 0.0080],
    [0.0117, 0.0106, 0.0094, 0.0083],
    [0.0110, 0.0099, 0.0088, 0.0078],
    [0.0099, 0.0088, 0.0078, 0.0070],
])
_WRIST_RADIUS = 0.026
_PALM_HALF_THICKNESS = 0.0105
# thumb frame: rest direction in the palm plane and pronation twist
_THUMB_REST = np.radians(14.0)
_THUMB_TWIST = np.radians(55.0)


def _rx(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[1, 0, 0], [0, c, -s], [0, s, c]])


def _ry(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, 0, s], [0, 1, 0], [-s, 0, c]])


def _rz(a):
    c, s = np.cos(a), np.sin(a)
    return np.array([[c, -s, 0], [s, c, 0], [0, 0, 1]])


@dataclass
class HandShape:
    """Per-hand shape: handedness, overall size, bone-length and thickness
    variation. ``HandShape()`` is the mean right hand."""

    handedness: str = "Right"
    scale: float = 1.0                  # overall size (adult 0.9 .. 1.12)
    palm_width: float = 1.0             # x scale of the palm
    palm_length: float = 1.0            # y scale of the palm
    finger_length: np.ndarray = field(default_factory=lambda: np.ones(5))
    finger_thickness: float = 1.0
    palm_thickness: float = 1.0

    def __post_init__(self):
        if self.handedness not in ("Left", "Right"):
            raise ValueError("handedness must be 'Left' or 'Right'")
        self.finger_length = np.asarray(self.finger_length, float).reshape(5)

    @classmethod
    def random(cls, rng: np.random.Generator, handedness: str | None = None) -> "HandShape":
        """A random adult-ish hand (children's hands via small ``scale``)."""
        if handedness is None:
            handedness = "Right" if rng.random() < 0.5 else "Left"
        common = rng.normal(1.0, 0.05)
        return cls(
            handedness=handedness,
            scale=float(np.clip(rng.normal(1.0, 0.07), 0.75, 1.2)),
            palm_width=float(np.clip(rng.normal(1.0, 0.06), 0.85, 1.15)),
            palm_length=float(np.clip(rng.normal(1.0, 0.05), 0.88, 1.12)),
            finger_length=np.clip(common + rng.normal(0, 0.035, 5), 0.85, 1.15),
            finger_thickness=float(np.clip(rng.normal(1.0, 0.1), 0.75, 1.3)),
            palm_thickness=float(np.clip(rng.normal(1.0, 0.1), 0.75, 1.3)),
        )

    def mirrored(self) -> "HandShape":
        """The same hand shape with the other handedness."""
        return HandShape("Left" if self.handedness == "Right" else "Right", self.scale,
                         self.palm_width, self.palm_length, self.finger_length.copy(),
                         self.finger_thickness, self.palm_thickness)

    # derived geometry (right-hand frame, before mirroring)
    def base_positions(self):
        p = _BASE_POS * [self.palm_width, self.palm_length, self.palm_thickness]
        return p * self.scale

    def bone_lengths(self):
        return _BONE_LEN * self.finger_length[:, None] * self.scale

    def radii(self):
        return _RADII * self.finger_thickness * self.scale

    @property
    def palm_half_thickness(self):
        return _PALM_HALF_THICKNESS * self.palm_thickness * self.scale

    @property
    def wrist_radius(self):
        return _WRIST_RADIUS * self.palm_width * self.scale


@dataclass
class HandPose:
    """Joint angles (radians, :data:`DOF_NAMES` order) and view
    (yaw, pitch, roll in radians, relative to "palm facing the camera,
    fingers up"; given for a right hand and mirrored for a left one)."""

    angles: np.ndarray
    view: np.ndarray = field(default_factory=lambda: np.zeros(3))
    label: str | None = None
    label_set: str | None = None

    def __post_init__(self):
        self.angles = np.asarray(self.angles, float).reshape(NUM_DOF)
        self.view = np.asarray(self.view, float).reshape(3)

    def copy(self) -> "HandPose":
        return HandPose(self.angles.copy(), self.view.copy(), self.label, self.label_set)

    def degrees(self) -> dict[str, float]:
        return {n: float(np.degrees(a)) for n, a in zip(DOF_NAMES, self.angles)}


def angles_from_degrees(d: dict[str, float] | None = None) -> np.ndarray:
    """A pose vector (radians) from a dict of degrees; missing DOFs are 0."""
    a = np.zeros(NUM_DOF)
    for k, v in (d or {}).items():
        a[DOF_INDEX[k]] = np.radians(v)
    return a


def clip_to_limits(angles) -> np.ndarray:
    return np.clip(np.asarray(angles, float), LIMITS_LO, LIMITS_HI)


def random_pose(rng: np.random.Generator, *, relaxed: bool = False) -> HandPose:
    """A random pose within the joint limits, with natural couplings (DIP
    follows PIP, neighbouring fingers curl alike) and a random view from any
    side. ``relaxed``: milder curls, palm or back roughly towards the camera
    (the "none" class of the command set)."""
    a = np.zeros(NUM_DOF)
    base_curl = rng.uniform(0, 1) if not relaxed else rng.uniform(0, 0.45)
    for f in range(1, 5):
        n = FINGER_NAMES[f]
        if relaxed:
            c = np.clip(base_curl + rng.normal(0, 0.15) + 0.05 * f, 0, 0.7)
        else:
            c = np.clip(base_curl + rng.normal(0, 0.35), -0.1, 1.05) if rng.random() < 0.7 \
                else rng.uniform(-0.1, 1.05)
        a[DOF_INDEX[f"{n}_mcp"]] = np.radians(c * 85 + rng.normal(0, 10))
        pip = c * 100 + rng.normal(0, 10)
        a[DOF_INDEX[f"{n}_pip"]] = np.radians(pip)
        a[DOF_INDEX[f"{n}_dip"]] = np.radians(pip * 0.65 + rng.normal(0, 8))
        lo, hi = JOINT_LIMITS_DEG[f"{n}_abd"]
        a[DOF_INDEX[f"{n}_abd"]] = np.radians(rng.uniform(lo, hi) * (1 - 0.7 * max(c, 0)))
    for n in ("thumb_cmc_abd", "thumb_cmc_opp", "thumb_mcp", "thumb_ip", "wrist_flex", "wrist_dev"):
        lo, hi = JOINT_LIMITS_DEG[n]
        a[DOF_INDEX[n]] = np.radians(rng.uniform(lo, hi) * (0.5 if relaxed else 1.0))
    a = clip_to_limits(a)
    if relaxed:
        view = np.radians([rng.choice([0.0, 180.0]) + rng.normal(0, 30),
                           rng.normal(0, 20), rng.normal(0, 30)])
    else:
        view = np.radians([rng.uniform(-180, 180), rng.uniform(-60, 60), rng.uniform(-180, 180)])
    return HandPose(a, view)


# --- forward kinematics -------------------------------------------------------

def _finger_chain(shape: HandShape, angles: np.ndarray):
    """Joint positions (21, 3) and per-bone frames, right-hand frame."""
    pos = np.zeros((NUM_KEYPOINTS, 3))
    zdir = np.zeros((NUM_KEYPOINTS, 3))
    zdir[0] = (0, 0, 1)
    base = shape.base_positions()
    lengths = shape.bone_lengths()
    deg = angles
    for f in range(5):
        if f == 0:
            abd, opp, mcp, ip = deg[0:4]
            # abduction in the palm plane, then opposition (palmar abduction:
            # the metacarpal swings in front of the palm) with coupled pronation
            r = _rz(-(_THUMB_REST + abd)) @ _rx(opp) @ _ry(-(_THUMB_TWIST + 0.4 * opp))
            flex = (0.0, mcp, ip)
        else:
            k = 4 * f
            mcp, abd, pip, dip = deg[k:k + 4]
            r = _rz(-(_BASE_SPLAY[f] + abd))
            flex = (mcp, pip, dip)
        j = 1 + 4 * f
        p = base[f].copy()
        pos[j] = p
        for b in range(3):
            r = r @ _rx(flex[b])
            p = p + r[:, 1] * lengths[f, b]
            pos[j + b + 1] = p
            zdir[j + b + 1] = r[:, 2]
        zdir[j] = zdir[j + 1]
    return pos, zdir


def _mirror(shape: HandShape) -> np.ndarray:
    return np.diag([-1.0 if shape.handedness == "Left" else 1.0, 1.0, 1.0])


def forward_kinematics(shape: HandShape, pose) -> np.ndarray:
    """The 21 keypoints (MediaPipe order) in the hand frame, metres, (21, 3).
    ``pose``: a :class:`HandPose` or an angle vector (radians)."""
    angles = pose.angles if isinstance(pose, HandPose) else np.asarray(pose, float)
    return _finger_chain(shape, angles)[0] @ _mirror(shape)


def view_rotation(view, handedness: str = "Right") -> np.ndarray:
    """Rotation hand frame -> camera frame (OpenCV: x right, y down, z
    forward). view = (yaw, pitch, roll) radians: yaw turns the hand about its
    own finger axis (0 palm to the camera, +-90 side, 180 back of the hand),
    pitch tilts the fingers towards/away from the camera, roll rotates in the
    image plane (positive clockwise). A left hand gets the mirrored view
    (yaw and roll negated), so that its render is the mirror image of the
    right hand's."""
    yaw, pitch, roll = view
    if handedness == "Left":
        yaw, roll = -yaw, -roll
    r0 = np.array([[1.0, 0, 0], [0, -1.0, 0], [0, 0, -1.0]])  # palm to camera, fingers up
    return _rz(roll) @ r0 @ _ry(yaw) @ _rx(pitch)


def hand_geometry(shape: HandShape, pose: HandPose):
    """Everything the renderer needs, in the hand frame (mirrored for left
    hands): ``joints`` (21, 3), ``joint_radius`` (21,), ``capsules`` list of
    (a, b, ra, rb, part_id), ``palm_outline`` (n, 3) in the palm mid-plane,
    ``palm_normal`` (3,), ``palm_half_thickness``, ``forearm_dir`` (3,)
    (unit, from the wrist towards the elbow)."""
    m = _mirror(shape)
    joints_r, zdir = _finger_chain(shape, pose.angles)
    radii = shape.radii()
    jr = np.zeros(NUM_KEYPOINTS)
    jr[0] = shape.wrist_radius
    caps = []
    for f in range(5):
        j = 1 + 4 * f
        jr[j:j + 4] = radii[f]
        for b in range(3):
            part = 2 + 3 * f + b
            caps.append((joints_r[j + b], joints_r[j + b + 1], radii[f, b], radii[f, b + 1], part))
    s = shape.scale
    w, ln = shape.palm_width * s, shape.palm_length * s
    ht = shape.palm_half_thickness
    idx, mid, rng_, pky = joints_r[5], joints_r[9], joints_r[13], joints_r[17]
    outline = np.array([
        [-0.026 * w, 0.004 * ln, 0], [0.019 * w, 0.004 * ln, 0], [0.030 * w, 0.040 * ln, 0],
        idx * [1, 1, 0] + [0.002 * w, 0, 0], (idx + mid) * [0.5, 0.5, 0] + [0, 0.008 * ln, 0],
        mid * [1, 1, 0] + [0, 0.001, 0], (mid + rng_) * [0.5, 0.5, 0] + [0, 0.008 * ln, 0],
        rng_ * [1, 1, 0], (rng_ + pky) * [0.5, 0.5, 0] + [0, 0.007 * ln, 0],
        pky * [1, 1, 0] + [-0.003 * w, 0, 0], [-0.036 * w, 0.045 * ln, 0],
    ])
    for a, b in ((idx, mid), (mid, rng_), (rng_, pky)):
        caps.append((a * [1, 1, 0], b * [1, 1, 0], ht * 1.05, ht * 1.05, 1))
    # rim of the palm slab
    n = len(outline)
    for i in range(n):
        caps.append((outline[i], outline[(i + 1) % n], ht, ht, 1))
    flex, dev = pose.angles[DOF_INDEX["wrist_flex"]], pose.angles[DOF_INDEX["wrist_dev"]]
    fdir = _rz(dev) @ _rx(flex) @ np.array([0.0, -1.0, 0.0])
    caps = [(a @ m, b @ m, ra, rb, p) for a, b, ra, rb, p in caps]
    # finger nails: flattened spheres on the back of the distal segments
    nails = []
    for f in range(5):
        tip = 4 + 4 * f
        d = joints_r[tip] - joints_r[tip - 1]
        ln_d = np.linalg.norm(d)
        r_tip = radii[f, 3]
        c = joints_r[tip] - d / ln_d * 0.3 * ln_d - zdir[tip] * r_tip * 0.55
        nails.append((c @ m, (joints_r[tip] - d / ln_d * 0.55 * ln_d - zdir[tip] * r_tip * 0.5) @ m,
                      r_tip * 0.6, 2 + 3 * f + 2))
    return {
        "joints": joints_r @ m,
        "joint_radius": jr,
        "nails": nails,
        "capsules": caps,
        "palm_outline": outline @ m,
        "palm_normal": np.array([0.0, 0.0, 1.0]),
        "palm_half_thickness": ht,
        "forearm_dir": fdir @ m,
        "hand_length": float(np.linalg.norm(joints_r[12] - joints_r[0])),
    }


def projected_keypoints(shape: "HandShape", pose: "HandPose", hand: str, rng) -> np.ndarray:
    """(21, 3) keypoints of a hand seen by a pinhole camera at a random
    distance (0.3-0.8 m): x, y in focal-length units, visibility 1 (the
    keypoint-only samples of gesture training and evaluation)."""
    J = forward_kinematics(shape, pose) @ view_rotation(pose.view, hand).T
    C = J + np.array([0.0, 0.0, rng.uniform(0.3, 0.8)])
    kp = np.ones((21, 3), np.float32)
    kp[:, :2] = C[:, :2] / C[:, 2:3]
    return kp
