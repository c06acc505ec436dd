"""The three stages of the pipeline, each usable on its own.

* :class:`HandDetector`: frame -> hand boxes with scores (skeleton map ->
  connected components, as in Skeleton-aware multi-scale heatmap
  regression, Kourbane & Genc).
* :class:`HandLandmarker`: frame + box -> 21 keypoints, presence, handedness
  (skeleton-guided heatmaps decoded with sub-pixel refinement).
* :class:`GestureClassifier`: keypoints -> gesture categories.

Each stage reads how to prepare its input and decode its output from the
bundle's manifest.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .backends import open_model
from .bundle import Bundle, ModelEntry, load_bundle
from .decode import (LANDMARKER_DECODINGS, DetectorDecoding, anchor_rotation, check_split_aspect,
                     check_zoom_above, landmarker_keypoints, skeleton_to_boxes)
from .image import apply_affine, crop_matrix, invert_affine, letterbox_matrix, to_rgb, warp
from .keypoints import aligned_box, keypoint_features, render_skeleton, rotation_from_output
from .results import Category
from .tracking import upright_crop


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
    #: maps of zoomed-in regions (skeleton, map_to_frame) (:meth:`HandDetector.zoom`):
    #: over the frame's map, where they reach
    zoomed: tuple = ()
    #: the detector's anchor maps (h, w, 2: wrist, palm top) when it has them, at
    #: its own resolution over the skeleton map's extent; a weaker peak than
    #: ``anchor_min_peak`` gives no angle
    anchors: np.ndarray | None = None
    anchor_min_peak: float = 0.3
    skeleton_threshold: float = 0.5

    def upright_crop(self, box) -> tuple[np.ndarray, float] | None:
        """``(box, rotation)`` of an upright landmarker crop of the hand in
        ``box`` (frame pixels), from the detector alone: the angle its anchors
        read (:meth:`box_rotation`), and the box that angle gives the hand's
        skeleton pixels inside ``box`` (:func:`handsdk.keypoints.aligned_box`, as
        the second pass cuts it from keypoints, so the hand fills the crop as in
        training). None without anchors or where they give no angle."""
        if self.anchors is None:  # (a detector without anchors pays nothing here)
            return None
        c = self._map_corners(box)
        rot = self._anchor_rotation(c)
        if rot is None:
            return None
        h, w = self.skeleton.shape[:2]
        x0, y0 = max(0, int(np.floor(c[0, 0]))), max(0, int(np.floor(c[0, 1])))
        x1, y1 = min(w, int(np.ceil(c[1, 0]))), min(h, int(np.ceil(c[1, 1])))
        ys, xs = np.nonzero(self.skeleton[y0:y1, x0:x1] >= self.skeleton_threshold)
        if len(xs) < 3:
            return np.asarray(box, np.float32), rot
        pts = apply_affine(self.map_to_frame, np.stack([xs + x0 + 0.5, ys + y0 + 0.5], 1).astype(np.float64))
        return aligned_box(pts, rot), rot

    def box_rotation(self, box) -> float | None:
        """The angle that turns the hand in ``box`` (frame pixels) upright, read
        from the anchor maps (:func:`handsdk.decode.anchor_rotation`); None
        without anchors or where they show no clear wrist and palm top."""
        return self._anchor_rotation(self._map_corners(box))

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
                 min_score: float | None = None, color_order: str = "BGR", zoom_above: float | None = None,
                 split_aspect: float | None = None):
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
        #: boxes taller or wider than this fraction of the frame may be zoomed into
        #: (:meth:`zoom`; the recognizer decides, see ``GestureRecognizerOptions.zoom_above``)
        self.zoom_above = check_zoom_above(dd.zoom_above if zoom_above is None else zoom_above)
        #: boxes at least this many times as wide as tall may be split in two (:meth:`halves`;
        #: the recognizer decides)
        self.split_aspect = check_split_aspect(dd.split_aspect if split_aspect is None else split_aspect)
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
            x0, y0, x1, y1 = (float(v) for v in region)
            if not (x1 > x0 and y1 > y0):
                raise ValueError(f"region must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {region}")
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

    def is_large(self, box, frame_hw) -> bool:
        """Whether ``box`` is taller or wider than ``zoom_above`` of the frame
        (always False when zooming is off)."""
        h, w = frame_hw[:2]
        return self.zoom_above > 0 and (box[3] - box[1] > self.zoom_above * h or box[2] - box[0] > self.zoom_above * w)

    def is_wide(self, box) -> bool:
        """Whether ``box`` is at least ``split_aspect`` times as wide as tall
        (always False when splitting is off)."""
        return self.split_aspect > 0 and box[2] - box[0] >= self.split_aspect * (box[3] - box[1])

    @staticmethod
    def halves(box) -> list:
        """The left and right halves of ``box``: two hands side by side (the
        two-handed signs in front of the chest or the mouth) often come out
        of the skeleton map as one wide blob."""
        x0, y0, x1, y1 = (float(v) for v in box)
        xm = (x0 + x1) / 2
        return [np.array([x0, y0, xm, y1], np.float32), np.array([xm, y0, x1, y1], np.float32)]

    def zoom(self, rgb: np.ndarray, box, grow: float = 1.2) -> Detection:
        """The detector again on ``box`` grown by ``grow`` (clipped to the frame),
        at the model's full resolution. At a frame's scale the skeleton map of a
        person in view can join two hands, the face and the chest in one blob;
        seen 2-3x larger, they come apart (what the recognizer then keeps is
        decided by the landmarker's presence)."""
        h, w = rgb.shape[:2]
        b = np.asarray(box, np.float64).reshape(-1)
        c, half = (b[:2] + b[2:]) / 2, (b[2:] - b[:2]) * grow / 2
        region = (max(0.0, c[0] - half[0]), max(0.0, c[1] - half[1]), min(float(w), c[0] + half[0]),
                  min(float(h), c[1] + half[1]))
        return self.detect_rgb(rgb, region=region)


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
    """21 keypoints of the hand in a box: ``landmark(image, box) -> Landmarks``."""

    role = "landmarker"

    def __init__(self, bundle=None, *, num_threads: int = 2, backend: str = "auto", color_order: str = "BGR"):
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
        #: trained on upright crops: a detection is landmarked twice (axis-aligned,
        #: then rotated upright from the first keypoints); tracking passes the rotation
        self.align = bool(dec.get("align", False))
        #: the model reads the hand's angle in the crop (``rotation`` output: cos, sin):
        #: the second pass on a detection is turned by it
        self.reads_rotation = self.align and "rotation" in self.entry.outputs
        self.decoding = dec.get("type", "keypoints" if "keypoints" in self.entry.outputs else "heatmaps")
        if self.decoding not in LANDMARKER_DECODINGS:
            raise ValueError(f"unknown landmarker decoding {self.decoding!r}")
        self.color_order = color_order

    def landmark_rgb(self, rgb: np.ndarray, box, *, detection: Detection | None = None,
                     prior_keypoints=None, rotation: float | None = None) -> Landmarks:
        """Keypoints in ``box`` (frame pixels). ``rotation`` (radians, see
        :func:`handsdk.image.crop_matrix`): None lets the model decide (an
        upright-crop model gets a second, rotated pass from its first keypoints)."""
        if rotation is None and self.align and prior_keypoints is None and detection is not None:
            up = detection.upright_crop(box)  # a detector that reads the hand's angle: one pass
            if up is not None:
                box, rotation = up
        if rotation is not None or not self.align or prior_keypoints is not None:
            return self._landmark_once(rgb, box, detection, prior_keypoints, rotation or 0.0)
        first, out = self._run(rgb, box, detection, None, 0.0)
        # the angle of the hand in the (axis-aligned) first crop: read by the model's rotation
        # head when it has one, else from the first keypoints (which lean upright)
        read = rotation_from_output(out["rotation"].reshape(-1)) if self.reads_rotation else None
        ab, rot = upright_crop(first.keypoints, box, rotation=read)  # (guarded against collapsed keypoints)
        return self._landmark_once(rgb, ab, detection, None, rot)

    def _landmark_once(self, rgb, box, detection, prior_keypoints, rotation: float) -> Landmarks:
        return self._run(rgb, box, detection, prior_keypoints, rotation)[0]

    def _run(self, rgb, box, detection, prior_keypoints, rotation: float) -> tuple[Landmarks, dict]:
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
        corners = apply_affine(invert_affine(m), np.array([[0, 0], [self.size, self.size]], np.float64))
        return Landmarks(keypoints=kp, presence=presence, right_score=right,
                         crop_box=np.array(corners.reshape(-1), np.float32), crop_rotation=float(rotation)), out

    def landmark(self, image, box, color_order: str | None = None, **kw) -> Landmarks:
        box = np.asarray(box, np.float32).reshape(-1)
        if box.shape != (4,) or not np.all(np.isfinite(box)) or box[2] <= box[0] or box[3] <= box[1]:
            raise ValueError(f"box must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {box}")
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
