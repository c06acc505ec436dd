"""The three stages of the pipeline, each usable on its own.

* :class:`HandDetector`: frame -> hand boxes with scores (skeleton map ->
  connected components, as in Skeleton-aware multi-scale heatmap
  regression, Kourbane & Genc).
* :class:`HandLandmarker`: frame + box -> 21 keypoints, presence, handedness
  (skeleton-guided heatmaps decoded with sub-pixel refinement).
* :class:`GestureClassifier`: keypoints -> gesture categories.

Each stage reads how to prepare its input and decode its output from the
bundle's manifest; where they look (zoomed and split boxes, upright and
tracked crops) is :mod:`handsdk.looking`'s to say.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .backends import open_model
from .bundle import Bundle, ModelEntry, load_bundle
from .checks import check_box
from .decode import LANDMARKER_DECODINGS, DetectorDecoding, anchor_rotation, landmarker_keypoints, skeleton_to_boxes
from .image import apply_affine, crop_matrix, invert_affine, letterbox_matrix, to_rgb, warp
from .keypoints import keypoint_features, render_skeleton, rotation_from_output
from .looking import LookPolicy
from .results import Category


def _bundle(b) -> Bundle:
    if isinstance(b, Bundle):
        return b
    if b is None:
        from .bundle import default_bundle_path

        p = default_bundle_path()
        if p is None:
            raise FileNotFoundError(
                "no model bundle given and this install ships no default bundle; pass bundle=<path to a "
                ".handsdk file> (see `handsdk convert`)")
        b = p
    return load_bundle(b)


def _image_input(entry: ModelEntry):
    spec = entry.inputs["image"]
    _, h, w, c = spec.shape
    mean = np.asarray(spec.mean if spec.mean is not None else (0.0,) * c, np.float32)
    std = np.asarray(spec.std if spec.std is not None else (1.0,) * c, np.float32)
    return spec, (h, w), mean, std


def _prepare(rgb_patch: np.ndarray, spec, mean, std) -> np.ndarray:
    x = rgb_patch
    if spec.color == "BGR":
        x = x[..., ::-1]
    x = (x.astype(np.float32) - mean) / std
    return x[None]


@dataclass(frozen=True)
class Detection:
    """Hands found by the detector in one frame.

    boxes: (N, 4) in frame pixels, scores: (N,), skeleton: the predicted
    skeleton map at the model's resolution, map_to_frame: 2x3 affine from map
    pixels to frame pixels."""

    boxes: np.ndarray
    scores: np.ndarray
    masses: np.ndarray
    skeleton: np.ndarray
    map_to_frame: np.ndarray
    #: maps of zoomed-in regions (skeleton, map_to_frame) (:meth:`handsdk.looking.LookPolicy.detections`):
    #: over the frame's map, where they reach
    zoomed: tuple = ()
    #: the detector's anchor maps (h, w, 2: wrist, palm top) when it has them, at
    #: its own resolution over the skeleton map's extent; a weaker peak than
    #: ``anchor_min_peak`` gives no angle
    anchors: np.ndarray | None = None
    anchor_min_peak: float = 0.3
    skeleton_threshold: float = 0.5

    def box_rotation(self, box) -> float | None:
        """The angle that turns the hand in ``box`` (frame pixels) upright, read
        from the anchor maps (:func:`handsdk.decode.anchor_rotation`); None
        without anchors or where they show no clear wrist and palm top."""
        return self._anchor_rotation(self._map_corners(box))

    def skeleton_points(self, box) -> np.ndarray:
        """The centres of the skeleton map's hand pixels (at or above
        ``skeleton_threshold``) inside ``box`` (frame pixels), (N, 2) in frame pixels."""
        c = self._map_corners(box)
        h, w = self.skeleton.shape[:2]
        x0, y0 = max(0, int(np.floor(c[0, 0]))), max(0, int(np.floor(c[0, 1])))
        x1, y1 = min(w, int(np.ceil(c[1, 0]))), min(h, int(np.ceil(c[1, 1])))
        ys, xs = np.nonzero(self.skeleton[y0:y1, x0:x1] >= self.skeleton_threshold)
        return apply_affine(self.map_to_frame, np.stack([xs + x0 + 0.5, ys + y0 + 0.5], 1).astype(np.float64))

    def _map_corners(self, box) -> np.ndarray:
        """``box`` (frame pixels) as (2, 2) corners in skeleton-map pixels."""
        return apply_affine(invert_affine(self.map_to_frame), np.asarray(box, np.float64).reshape(2, 2))

    def _anchor_rotation(self, c) -> float | None:
        if self.anchors is None:
            return None
        sy = self.anchors.shape[0] / self.skeleton.shape[0]
        sx = self.anchors.shape[1] / self.skeleton.shape[1]
        return anchor_rotation(self.anchors, (c[0, 0] * sx, c[0, 1] * sy, c[1, 0] * sx, c[1, 1] * sy),
                               min_peak=self.anchor_min_peak)

    def with_zoomed(self, sub: "Detection") -> "Detection":
        """This detection with ``sub``'s map (a zoomed-in look) over its own."""
        return replace(self, zoomed=self.zoomed + ((sub.skeleton, sub.map_to_frame),))

    @property
    def maps_key(self) -> tuple:
        """Identifies the maps a crop is cut from (a per-frame cache key)."""
        return (id(self.skeleton),) + tuple(id(z[0]) for z in self.zoomed)

    def skeleton_crop(self, frame_to_crop: np.ndarray, size: int) -> np.ndarray:
        """The skeleton map warped into a crop of the frame (a zoomed-in map
        wins where it reaches)."""
        a = np.vstack([frame_to_crop, [0, 0, 1]])
        out = warp(self.skeleton, (a @ np.vstack([self.map_to_frame, [0, 0, 1]]))[:2], (size, size))
        for skel, to_frame in self.zoomed:
            m = (a @ np.vstack([to_frame, [0, 0, 1]]))[:2]
            reach = warp(np.ones_like(skel), m, (size, size)) > 0.5
            out = np.where(reach, warp(skel, m, (size, size)), out)
        return out


class _Stage:
    role = ""

    def __init__(self, bundle=None, *, role: str | None = None, num_threads: int = 2, backend: str = "auto"):
        self.bundle = _bundle(bundle)
        role = role or self.role
        if role not in self.bundle.models:
            raise ValueError(f"the bundle has no {role!r} model (it has {sorted(self.bundle.models)})")
        self.entry = self.bundle.models[role]
        self.model = open_model(self.bundle.model_bytes(role), num_threads=num_threads, backend=backend,
                           name=role)


class HandDetector(_Stage):
    """Finds hands: ``detect(image) -> Detection``."""

    role = "detector"

    def __init__(self, bundle=None, *, num_threads: int = 2, backend: str = "auto", max_hands: int = 2,
                 min_score: float | None = None, color_order: str = "BGR"):
        super().__init__(bundle, num_threads=num_threads, backend=backend)
        self.spec, self.input_hw, self._mean, self._std = _image_input(self.entry)
        dec = self.entry.decoding
        self.max_hands = int(max_hands)
        self.min_score = float(min_score if min_score is not None
                               else self.bundle.thresholds.get("min_detection_score", 0.5))
        dd = DetectorDecoding.from_dict(dec)  # the manifest's values win over the defaults
        self.threshold = float(dd.threshold)
        self.min_mass = float(dd.min_mass)
        self.min_size_frac = float(dd.min_size_frac)
        self.pad = float(dd.pad)
        self.color_order = color_order
        #: the detector reads where each hand's wrist and palm top are (an ``anchors``
        #: output): a new hand's landmarker crop is then upright from the start
        self.reads_anchors = "anchors" in self.entry.outputs
        self.anchor_min_peak = float((dec or {}).get("anchor_min_peak", 0.3))

    def detect_rgb(self, rgb: np.ndarray, region=None) -> Detection:
        """Hands in an RGB frame; ``region`` (x0, y0, x1, y1, frame pixels): look
        at that part at the model's full resolution (where its aspect ratio
        differs from the model's, the frame around it fills the rest of the
        input, not black bars); boxes are in frame pixels either way."""
        if region is None:
            m = letterbox_matrix(rgb.shape[:2], self.input_hw)
        else:
            x0, y0, x1, y1 = (float(v) for v in check_box("region", region))
            m = letterbox_matrix((y1 - y0, x1 - x0), self.input_hw)
            m[:, 2] += m[:, :2] @ np.array([-x0, -y0])
        patch = warp(rgb, m, self.input_hw)
        out = self.model(image=_prepare(patch, self.spec, self._mean, self._std))
        skel = out["skeleton"][0, :, :, 0]
        anchors = out["anchors"][0] if "anchors" in out else None
        found = skeleton_to_boxes(skel, threshold=self.threshold, min_mass=self.min_mass,
                                  min_size_frac=self.min_size_frac, max_hands=self.max_hands, pad=self.pad)
        found = [f for f in found if f.score >= self.min_score]
        inv = invert_affine(m)
        fh, fw = rgb.shape[:2]
        boxes = []
        for f in found:
            corners = apply_affine(inv, np.array([[f.box[0], f.box[1]], [f.box[2], f.box[3]]]))
            b = np.array([corners[0, 0], corners[0, 1], corners[1, 0], corners[1, 1]], np.float32)
            b[[0, 2]] = np.clip(b[[0, 2]], 0, fw)
            b[[1, 3]] = np.clip(b[[1, 3]], 0, fh)
            boxes.append(b)
        return Detection(boxes=np.array(boxes, np.float32).reshape(-1, 4),
                         scores=np.array([f.score for f in found], np.float32),
                         masses=np.array([f.mass for f in found], np.float32),
                         skeleton=skel, map_to_frame=inv, anchors=anchors, anchor_min_peak=self.anchor_min_peak,
                         skeleton_threshold=self.threshold)

    def detect(self, image, color_order: str | None = None) -> Detection:
        return self.detect_rgb(to_rgb(image, color_order or self.color_order))


@dataclass(frozen=True)
class Landmarks:
    """keypoints (21, 3) in frame pixels, presence, handedness (P(Right))."""

    keypoints: np.ndarray
    presence: float
    right_score: float
    crop_box: np.ndarray
    #: the rotation (radians, :func:`handsdk.image.crop_matrix`) of the crop the
    #: keypoints come from: the hand's angle as the runtime saw it
    crop_rotation: float = 0.0
    #: the rotation that would turn the crop's hand upright as the model read it
    #: (radians, relative to the crop: a ``rotation`` head); None without one
    read_rotation: float | None = None

    @property
    def handedness(self) -> Category:
        right = self.right_score >= 0.5
        return Category("Right" if right else "Left", self.right_score if right else 1 - self.right_score,
                        1 if right else 0)


def hand_box(keypoints, pad: float = 0.12) -> np.ndarray:
    """The hand's box: the keypoints' box grown by ``pad`` of its size per side."""
    from .keypoints import keypoints_box

    b = keypoints_box(keypoints)
    w, h = b[2] - b[0], b[3] - b[1]
    return np.array([b[0] - pad * w, b[1] - pad * h, b[2] + pad * w, b[3] + pad * h], np.float32)


class HandLandmarker(_Stage):
    """21 keypoints of the hand in a box: ``landmark(image, box) -> Landmarks``.

    look: where a new hand's crop is (:class:`handsdk.looking.LookPolicy`; None:
    the bundle's, :meth:`~handsdk.looking.LookPolicy.from_bundle`)."""

    role = "landmarker"

    def __init__(self, bundle=None, *, num_threads: int = 2, backend: str = "auto", color_order: str = "BGR",
                 look: LookPolicy | None = None):
        super().__init__(bundle, num_threads=num_threads, backend=backend)
        self.spec, hw, self._mean, self._std = _image_input(self.entry)
        if hw[0] != hw[1]:
            raise ValueError(f"the landmarker input must be square, got {hw}")
        self.size = hw[0]
        self.uses_skeleton = "skeleton" in self.entry.inputs
        dec = self.entry.decoding
        self.crop_scale = float(dec.get("crop_scale", 1.4))
        #: the reported hand box is the keypoints' box grown by this fraction of
        #: its size on each side (keypoints sit on the bones' axes; 0.12 matches
        #: human-drawn hand boxes best on asl_letters/valid: mean IoU 0.78 vs 0.61)
        self.box_pad = float(dec.get("box_pad", 0.12))
        self.skeleton_thickness = float(dec.get("skeleton_thickness", 0.02))
        #: where a new hand's crop is (upright for a landmarker trained on upright crops)
        self.look = LookPolicy.from_bundle(self.bundle) if look is None else look
        #: the model reads the hand's angle in the crop (``rotation`` output: cos, sin):
        #: ``Landmarks.read_rotation``
        self.reads_rotation = "rotation" in self.entry.outputs
        self.decoding = dec.get("type", "keypoints" if "keypoints" in self.entry.outputs else "heatmaps")
        if self.decoding not in LANDMARKER_DECODINGS:
            raise ValueError(f"unknown landmarker decoding {self.decoding!r}")
        self.color_order = color_order

    def landmark_rgb(self, rgb: np.ndarray, box, *, detection: Detection | None = None,
                     prior_keypoints=None, rotation: float | None = None) -> Landmarks:
        """Keypoints in ``box`` (frame pixels). ``rotation`` (radians, see
        :func:`handsdk.image.crop_matrix`) or ``prior_keypoints`` given: one
        pass on that crop (a tracked hand); else a new hand, in the crop
        :attr:`look` gives it (:meth:`~handsdk.looking.LookPolicy.new_hand`:
        an upright-crop model gets an upright crop)."""
        if rotation is not None or prior_keypoints is not None:
            return self.landmark_crop(rgb, box, rotation=rotation or 0.0, detection=detection,
                                      prior_keypoints=prior_keypoints)
        return self.look.new_hand(box, detection, lambda b, r: self.landmark_crop(rgb, b, rotation=r,
                                                                                   detection=detection))

    def landmark_crop(self, rgb: np.ndarray, box, *, rotation: float = 0.0, detection: Detection | None = None,
                      prior_keypoints=None) -> Landmarks:
        """One pass of the model on the crop of ``box`` turned by ``rotation``;
        its skeleton input from ``detection``'s map, else drawn from
        ``prior_keypoints``, else empty."""
        m = crop_matrix(box, self.size, scale=self.crop_scale, rotation=rotation)
        crop = warp(rgb, m, (self.size, self.size))
        feed = {"image": _prepare(crop, self.spec, self._mean, self._std)}
        if self.uses_skeleton:
            if detection is not None:
                skel = detection.skeleton_crop(m, self.size)
            elif prior_keypoints is not None:
                skel = render_skeleton(apply_affine(m, np.asarray(prior_keypoints)[:, :2]),
                                       (self.size, self.size), thickness=self.skeleton_thickness)
            else:
                skel = np.zeros((self.size, self.size), np.float32)
            feed["skeleton"] = skel[None, :, :, None]
        out = self.model(**feed)
        xy = landmarker_keypoints(out, self.size, self.decoding)
        kp_frame = apply_affine(invert_affine(m), xy)
        z = out["depth"][0].reshape(-1) if "depth" in out else np.zeros(len(xy), np.float32)
        kp = np.concatenate([kp_frame, z[:, None]], axis=1).astype(np.float32)
        presence = float(out["presence"].reshape(-1)[0]) if "presence" in out else 1.0
        right = float(out["handedness"].reshape(-1)[0]) if "handedness" in out else 0.5
        read = rotation_from_output(out["rotation"].reshape(-1)) if self.reads_rotation else None
        corners = apply_affine(invert_affine(m), np.array([[0, 0], [self.size, self.size]], np.float64))
        return Landmarks(keypoints=kp, presence=presence, right_score=right,
                         crop_box=np.array(corners.reshape(-1), np.float32), crop_rotation=float(rotation),
                         read_rotation=read)

    def landmark(self, image, box, color_order: str | None = None, **kw) -> Landmarks:
        box = check_box("box", box, np.float32)
        return self.landmark_rgb(to_rgb(image, color_order or self.color_order), box, **kw)


class GestureClassifier(_Stage):
    """Gesture categories from 21 keypoints: ``classify(keypoints, handedness)``."""

    def __init__(self, bundle=None, gesture_set: str | None = None, *, num_threads: int = 1,
                 backend: str = "auto"):
        b = _bundle(bundle)
        sets = b.gesture_sets
        if gesture_set is None:
            gesture_set = next(iter(sets))
        if gesture_set not in sets:
            raise ValueError(f"unknown gesture set {gesture_set!r}; the bundle has {sorted(sets)}")
        super().__init__(b, role=f"gesture:{gesture_set}", num_threads=num_threads, backend=backend)
        self.gesture_set = gesture_set
        self.labels = self.entry.labels
        kind = self.entry.decoding.get("kind", "commands")
        #: "commands" or "spelling" (fingerspelling alphabets)
        self.kind = "spelling" if kind in ("spelling", "fingerspelling") else kind
        self.none_label = self.entry.decoding.get("none_label")
        (self.input_name,) = self.entry.inputs

    def scores(self, keypoints, handedness: str | None = None) -> np.ndarray:
        feat = keypoint_features(keypoints, handedness)
        out = self.model(**{self.input_name: feat[None]})
        return next(iter(out.values()))[0]

    def classify(self, keypoints, handedness: str | None = None, top_k: int | None = None) -> tuple:
        s = self.scores(keypoints, handedness)
        order = np.argsort(-s)
        if top_k is not None:
            order = order[:top_k]
        return tuple(Category(self.labels[i], float(s[i]), int(i)) for i in order)
