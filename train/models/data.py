"""Adapters between the data layer and the trainer: samples in (the one
:class:`~handsdk.train.data.sample.Sample` record), in-memory example pools
out (numpy), made with the runtime's own crop rule.

Sources (``SourceConfig.name``):

* ``toy``: tiny generated hands (a stick hand drawn with OpenCV), no other
  dependency: used by the tests and smoke configs;
* ``synth``: the synthetic renderer ``handsdk.train.synth.render_scene``;
* ``real:<set>[/<split>]``: a shared real set via ``handsdk.train.data.real``;
* ``csv:<folder>``: gesture keypoint CSVs via ``handsdk.train.data.real``;
* ``gestures:commands``: one-hand command keypoints of every real source
  (CSV authors and photo sets) mapped onto the commands set by pose, resampled
  class- and source-balanced (``handsdk.train.data.gestures``);
* ``pipeline:<set>[/<split>]``: a real set whose keypoints are the SDK's own
  (a bundle's detector + landmarker run over the images, as at runtime), so
  a GestureNet learns the keypoints it will be fed; the bundle comes from the
  source's ``bundle`` option or ``data.pipeline``. Results are cached.

The readers of the data layer are looked up by name at run time, so this
module works (with ``toy``) before the data layer exists.
"""
from __future__ import annotations

import math
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from handsdk.image import apply_affine, crop_matrix, letterbox_matrix, warp
from handsdk.keypoints import (FINGERS, HAND_CONNECTIONS, aligned_box, hand_rotation, keypoint_features,
                               keypoints_box)
from handsdk.train.data.augment import compose
from handsdk.train.data.sample import Sample

# ---------------------------------------------------------------- toy hands

# a right hand, palm to the camera, fingers up, in palm units (wrist at 0, 0)
_MCP = np.array([[0.22, -0.25], [0.32, -0.95], [0.08, -1.0], [-0.15, -0.95], [-0.36, -0.85]], np.float32)
_SEG = np.array([[0.35, 0.3, 0.28], [0.45, 0.28, 0.22], [0.5, 0.3, 0.23],
                 [0.46, 0.28, 0.22], [0.36, 0.22, 0.2]], np.float32)
_DIR = np.array([[0.8, -0.6], [0.08, -1.0], [0.0, -1.0], [-0.08, -1.0], [-0.2, -1.0]], np.float32)

#: toy gesture classes: per-finger curl (thumb .. pinky), NaN = random
TOY_GESTURES = {
    "none": [np.nan] * 5,
    "open": [0, 0, 0, 0, 0],
    "fist": [1, 1, 1, 1, 1],
    "point": [1, 0, 1, 1, 1],
    "victory": [1, 0, 0, 1, 1],
    "thumb_up": [0, 1, 1, 1, 1],
}


def toy_hand(rng, curls=None) -> np.ndarray:
    """(21, 2) keypoints of a right hand in palm units (palm ~1 tall)."""
    if curls is None:
        curls = rng.uniform(0, 1, 5)
    curls = np.array([rng.uniform(0, 1) if np.isnan(c) else c for c in np.asarray(curls, np.float64)])
    curls = np.clip(curls + rng.normal(0, 0.08, 5), 0, 1)
    kp = np.zeros((21, 2), np.float32)
    for f, chain in enumerate(FINGERS):
        p = _MCP[f] + rng.normal(0, 0.03, 2)
        kp[chain[1]] = p
        d = _DIR[f] / np.linalg.norm(_DIR[f])
        ang = 0.0
        for j, idx in enumerate(chain[2:]):
            ang += curls[f] * (1.3 if j else 1.0) * (math.pi / 2.2)
            # curling toward the palm: foreshortened and folding back past 90 degrees
            step = _SEG[f, j] * math.cos(ang)
            side = rng.normal(0, 0.02)
            p = p + d * step + np.array([-d[1], d[0]]) * side
            kp[idx] = p
    return kp


def _draw_hand(img, kp, skin, width):
    import cv2

    palm = kp[[0, 1, 5, 9, 13, 17]].astype(np.int32)
    cv2.fillConvexPoly(img, cv2.convexHull(palm), skin, lineType=cv2.LINE_AA)
    for a, b in HAND_CONNECTIONS:
        cv2.line(img, tuple(int(v) for v in kp[a]), tuple(int(v) for v in kp[b]), skin,
                 max(1, int(width)), lineType=cv2.LINE_AA)
    for p in kp:
        cv2.circle(img, (int(p[0]), int(p[1])), max(1, int(width * 0.6)), skin, -1, lineType=cv2.LINE_AA)


def toy_sample(rng, size=(96, 96), hands: int | None = None, label: str | None = None) -> Sample:
    """A tiny synthetic scene: noisy background, 0-1 stick hands (random
    rotation, scale, handedness)."""
    h, w = size
    img = np.empty((h, w, 3), np.uint8)
    img[:] = rng.integers(0, 256, 3)
    img = np.clip(img.astype(np.int16) + rng.normal(0, 12, img.shape), 0, 255).astype(np.uint8)
    if hands is None:
        hands = int(rng.random() > 0.1)
    kps, boxes, hands_lr = [], [], []
    for _ in range(hands):
        curls = TOY_GESTURES[label] if label else None
        kp = toy_hand(rng, curls)
        right = bool(rng.random() < 0.5)
        if not right:
            kp[:, 0] = -kp[:, 0]
        ang = rng.uniform(-0.6, 0.6)
        c, s = math.cos(ang), math.sin(ang)
        kp = kp @ np.array([[c, s], [-s, c]], np.float32)
        scale = rng.uniform(0.25, 0.45) * min(h, w) / 1.6
        kp = kp * scale
        lo, hi = kp.min(0), kp.max(0)
        off = np.array([rng.uniform(-lo[0] + 1, max(w - hi[0] - 1, -lo[0] + 2)),
                        rng.uniform(-lo[1] + 1, max(h - hi[1] - 1, -lo[1] + 2))])
        kp = kp + off
        skin = tuple(int(v) for v in rng.integers(60, 255, 3))
        _draw_hand(img, kp, skin, scale * 0.16)
        kps.append(np.concatenate([kp, np.ones((21, 1), np.float32)], 1))
        boxes.append(keypoints_box(kp))
        hands_lr.append("Right" if right else "Left")
    return Sample(image=img, boxes=np.array(boxes, np.float32).reshape(-1, 4),
                  keypoints=np.array(kps, np.float32).reshape(-1, 21, 3), keypoint_source="synthetic",
                  handedness=hands_lr, label=label, label_set="toy", source="toy")


# ---------------------------------------------------------------- sources


@dataclass
class KeypointRows:
    """Keypoint-only data: features (N, 21, 2), labels (N,) strings, groups
    (N,) e.g. author (for held-out splits)."""

    features: np.ndarray
    labels: np.ndarray
    groups: np.ndarray


def iter_source(src, rng, count: int, *, root=None, task: str = "detector", size=(96, 96), pipeline=None):
    """Up to ``count`` :class:`Sample` objects of one source."""
    name = src.name
    opts = dict(src.options)
    if name.startswith("pipeline:"):
        bundle = opts.pop("bundle", None) or pipeline
        if not bundle:
            raise ValueError(f"source {name!r} needs a bundle to run: set data.pipeline (or the source's "
                             f"options.bundle) to a .handsdk file with a detector and a landmarker")
        from handsdk.train.data import real

        set_name, _, split = name[9:].partition("/")
        if set_name == "synth":  # rendered gestures (e.g. commands), images at camera-like size
            opts.setdefault("size", (240, 320))
            rendered = iter_source(_Source("synth", dict(opts, max_hands=1, p_no_hand=0.0)), rng, count,
                                   task="gesture", size=opts["size"])
            yield from pipeline_keypoints([s for s in rendered if s.label is not None], bundle)
            return
        samples = list(real.load_dataset(set_name, split or None, root, **opts))
        samples = [s for s in samples if s.label is not None]
        order = rng.permutation(len(samples))[:count]
        yield from pipeline_keypoints([samples[int(i)] for i in order], bundle)
        return
    if name == "composite":  # real hands cut out of close-ups, pasted into real scenes
        yield from composite_source(opts, rng, count, root=root)
        return
    if name.startswith("gestures:"):  # command keypoints of every real source, mapped by pose
        from handsdk.train.data import gestures

        yield from gestures.gesture_source_samples(name[9:], opts, rng, root)[:count]
        return
    if name == "toy":
        r = np.random.default_rng(opts.get("seed", rng.integers(1 << 30)))
        labels = opts.get("labels")
        for i in range(count):
            label = labels[i % len(labels)] if labels else None
            yield toy_sample(r, tuple(opts.get("size", size)), label=label,
                             hands=None if task != "gesture" else 1)
        return
    if name == "synth":
        from handsdk.train import synth  # the synthetic renderer (helper "synth")

        render = getattr(synth, "render_scene", None)
        scene_cfg = getattr(synth, "SceneConfig", None)
        if render is None:
            from handsdk.train.synth import scene as _scene

            render, scene_cfg = _scene.render_scene, _scene.SceneConfig
        r = np.random.default_rng(opts.pop("seed", rng.integers(1 << 30)))
        opts.setdefault("size", tuple(size))
        opts.setdefault("labels", False)  # targets are rendered by the trainer
        if task == "gesture":
            opts.setdefault("max_hands", 1)
            opts.setdefault("p_no_hand", 0.0)
        if "size" in opts:
            opts["size"] = tuple(opts["size"])
        scfg = scene_cfg(**opts)
        for _ in range(count):
            smp = render(r, scfg)
            if task == "gesture" and smp.label is None:
                continue
            yield smp
        return
    if name.startswith("real:"):
        from handsdk.train.data import real  # the readers (helper "data")

        set_name, _, split = name[5:].partition("/")
        need_kp = bool(opts.pop("require_keypoints", task != "detector_eval"))
        samples = list(real.load_dataset(set_name, split or None, root, **opts))
        order = rng.permutation(len(samples))
        n = 0
        for i in order:
            smp = samples[int(i)]
            if need_kp and smp.image is not None and smp.num_hands and not len(smp.keypoints):
                continue  # a hand without keypoints (MediaPipe missed it): no target
            mb = smp.extras.get("missed_boxes")
            if need_kp and task in ("detector", "pose") and mb is not None and len(mb):
                continue  # people drew a hand MediaPipe did not label: it would train as background
            if smp.image is None and getattr(real, "ensure_image", None) and smp.path and task != "gesture":
                smp = real.ensure_image(smp)
            yield smp
            n += 1
            if n >= count:
                return
        return
    raise ValueError(f"unknown data source {name!r} (toy, synth, real:<set>[/<split>], csv:<folder>, "
                     f"pipeline:<set>[/<split>])")


def composite_source(opts: dict, rng, count: int, *, root=None) -> list[Sample]:
    """``count`` copy-paste composites (:mod:`handsdk.train.data.composite`):
    donor hands from ``opts["hands"]`` (real sources, one hand each with all
    keypoints) pasted into ``opts["backgrounds"]`` (real scene sources),
    beside the distractor boxes of ``opts["near"]`` (a mining JSON) for a
    share ``p_near`` of the hands."""
    from handsdk.train.data import composite, mining

    opts = dict(opts)
    r = np.random.default_rng(opts.pop("seed", rng.integers(1 << 30)))
    hands, backs = opts.pop("hands", None), opts.pop("backgrounds", None)
    if not hands or not backs:
        raise ValueError("the composite source needs options.hands and options.backgrounds "
                         "(lists of real:<set>[/<split>] sources)")
    max_donors = int(opts.pop("max_donors", 600))
    donor_samples = [s for h in hands for s in iter_source(_Source(h, {}), r, 10 ** 9, root=root, task="pose")]
    donor_samples = [donor_samples[int(i)] for i in r.permutation(len(donor_samples))]
    donors = []
    for s in donor_samples:
        if len(donors) >= max_donors:
            break
        if s.num_hands == 1:
            d = composite.make_donor(s, 0)
            if d is not None:
                donors.append(d)
    backgrounds = [s for b in backs for s in iter_source(_Source(b, {}), r, 10 ** 9, root=root, task="pose")]
    near = opts.pop("near", None)
    near = mining.load(near) if near else None
    return composite.composite_samples(donors, backgrounds, count, r, near=near, **opts)


@dataclass
class _Source:  # a source spec made in code (the config's SourceConfig shape)
    name: str
    options: dict


def _pipeline_cache(bundle) -> Path:
    import hashlib

    digest = hashlib.sha256(Path(bundle).read_bytes()).hexdigest()[:16]
    base = Path(os.environ.get("HANDSDK_CACHE", Path.home() / ".cache" / "handsdk"))
    return base / "pipeline_keypoints" / f"{digest}.json"


def pipeline_keypoints(samples, bundle) -> list[Sample]:
    """The samples with their keypoints replaced by what ``bundle``'s
    detector + landmarker find on the image (IMAGE mode, as at runtime): the
    largest hand found; when the detector finds none, the landmarker on the
    labelled box. Samples with neither are dropped. Cached per bundle hash."""
    import json

    from handsdk import GestureRecognizer, GestureRecognizerOptions
    from handsdk.stages import HandLandmarker
    from handsdk.train.data.real import ensure_image

    bundle = Path(bundle)
    if not bundle.is_file():
        raise FileNotFoundError(f"pipeline bundle not found: {bundle}")
    cache_path = _pipeline_cache(bundle)
    cache = json.loads(cache_path.read_text()) if cache_path.is_file() else {}
    out, dirty = [], False
    rec = lm = None
    for s in samples:
        key = s.path or None
        hit = cache.get(key) if key else None
        if hit is None:
            if rec is None:
                rec = GestureRecognizer(GestureRecognizerOptions(bundle=str(bundle), color_order="RGB", max_hands=2))
                lm = HandLandmarker(str(bundle), color_order="RGB")
            s = ensure_image(s) if s.image is None else s
            if s.image is None:
                continue
            res = rec.recognize(s.image)
            if res.hands:
                h = max(res.hands, key=lambda h: float(np.prod(h.box[2:] - h.box[:2])))
                hit = {"kp": np.asarray(h.keypoints[:, :2]).round(2).tolist(), "hand": h.handedness.name,
                       "from": "detector"}
            elif len(s.boxes):
                r = lm.landmark_rgb(s.image, s.boxes[0])
                hit = {"kp": np.asarray(r.keypoints[:, :2]).round(2).tolist(),
                       "hand": "Right" if r.right_score >= 0.5 else "Left", "from": "box"}
            else:
                hit = {}
            if key:
                cache[key] = hit
                dirty = True
        if not hit:
            continue
        kp = np.concatenate([np.array(hit["kp"], np.float32), np.ones((21, 1), np.float32)], axis=1)
        out.append(Sample(image=None, boxes=np.array([keypoints_box(kp)], np.float32), keypoints=kp[None],
                          keypoint_source="pipeline", handedness=[hit["hand"]], label=s.label,
                          label_set=s.label_set, source=s.source, path=s.path))
    if rec is not None:
        rec.close()
    if dirty:
        cache_path.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(cache))
        os.replace(tmp, cache_path)
    return out


def mixed_samples(sources, rng, total: int, **kw) -> list[Sample]:
    """``total`` samples mixed from ``sources`` by weight. Finite sources
    (real sets) give what they have (``limit`` caps them); generated ones
    fill their share."""
    weights = np.array([max(s.weight, 0.0) for s in sources], np.float64)
    if weights.sum() <= 0:
        weights[:] = 1.0
    shares = np.floor(weights / weights.sum() * total).astype(int)
    shares[0] += total - shares.sum()
    out = []
    for s, n in zip(sources, shares):
        if s.name.startswith(("real:", "pipeline:", "gestures:")) and s.name != "pipeline:synth":
            n = s.limit if s.limit is not None else 10 ** 9  # a real set gives what it has
        elif s.limit is not None:
            n = min(n, s.limit)
        n = int(n)
        if n <= 0:
            continue
        out.extend(iter_source(s, rng, n, **kw))
    return out


# ---------------------------------------------------------------- pools


def zoom_matrix(m, kps, height: int, width: int, rng, zoom) -> np.ndarray:
    """``m`` (frame -> model) followed by a random zoom in ``zoom`` = (lo, hi)
    (log-uniform) about a random hand (or point) placed at a random spot:
    below 1 the hands shrink (a person at arm's length), above 1 they grow."""
    z = math.exp(rng.uniform(math.log(zoom[0]), math.log(zoom[1])))
    pts = [apply_affine(m, k[k[:, 2] >= 0, :2]) for k in kps if (k[:, 2] >= 0).any()]
    if pts:
        p = pts[int(rng.integers(len(pts)))]
        a = (p.min(0) + p.max(0)) / 2
    else:
        a = np.array([rng.uniform(0, width), rng.uniform(0, height)])
    canvas = np.array([width, height], np.float64)
    rng.random(2)  # unused; drawn so that a seeded pool is the one the shipped detector was trained on
    if z >= 1:  # grown about the hand, which lands at the centre
        t = 0.5 * canvas
    else:  # the shrunken frame stays inside the canvas
        t = a * z + canvas * (1 - z) * rng.random(2)
    return compose([[z, 0.0, t[0] - z * a[0]], [0.0, z, t[1] - z * a[1]]], m)


def detector_pool(samples, height: int, width: int, max_hands: int = 2, *, zoom=None, zoom_prob: float = 0.0,
                  rng=None):
    """Letterboxed frames (N, H, W, 3) uint8 and keypoints (N, max_hands, 21, 3)
    in model pixels (absent hands: all -1). With ``zoom`` = (lo, hi) and
    ``zoom_prob`` > 0, that share of the frames is zoomed (see
    :func:`zoom_matrix`), fixed for the run."""
    n = len(samples)
    imgs = np.zeros((n, height, width, 3), np.uint8)
    kps = np.full((n, max_hands, 21, 3), -1.0, np.float32)
    for i, s in enumerate(samples):
        m = letterbox_matrix(s.image.shape[:2], (height, width))
        if zoom is not None and zoom_prob > 0 and rng is not None and rng.random() < zoom_prob:
            m = zoom_matrix(m, s.keypoints, height, width, rng, zoom)
        imgs[i] = warp(s.image, m, (height, width))
        for j, kp in enumerate(s.keypoints[:max_hands]):
            k = apply_affine(m, kp).astype(np.float32)
            k[:, 2] = np.where(kp[:, 2] < 0, -1.0, np.maximum(kp[:, 2], 0.0))
            kps[i, j] = k
    return {"image": imgs, "keypoints": kps}


def _hand_lr(v) -> float:
    return {"Right": 1.0, "Left": 0.0}.get(v, -1.0)


def pose_pool(samples, size: int, cfg, rng, negatives: float = 0.1, jitter: bool = True, hard_negatives=None,
              hard_per_frame: int = 2):
    """Runtime-style square crops (``crop_matrix`` with ``cfg.crop_scale``)
    around each hand's box, jittered in centre/scale/rotation; plus hand-free
    crops (presence 0) from frames (``negatives`` of the hands) and, for
    frames in ``hard_negatives`` ({image path: boxes}, see
    :mod:`handsdk.train.data.mining`), up to ``hard_per_frame`` crops of
    boxes where a detector fired on no hand (faces, necks, arms).

    Returns dict image (N,S,S,3) uint8, keypoints (N,21,3) crop px, presence
    (N,), handedness (N,) (1 Right, 0 Left, -1 unknown)."""
    imgs, kps, pres, hand = [], [], [], []
    for s in samples:
        for j in range(s.num_hands):
            kp = s.keypoints[j] if j < len(s.keypoints) else None
            if kp is None or not (kp[:, 2] >= 0).any():
                continue
            vis = kp[:, 2] >= 0
            aligned = bool(getattr(cfg, "align", False)) and (not jitter or rng.random() < cfg.align_prob)
            if aligned:
                rot = hand_rotation(kp, vis)
                if jitter:
                    rot += math.radians(rng.uniform(-cfg.align_jitter, cfg.align_jitter))
                box = aligned_box(kp, rot, vis)
            else:
                rot = math.radians(rng.uniform(-cfg.rotation, cfg.rotation)) if jitter else 0.0
                box = keypoints_box(kp[:, :2], vis)
            side = max(box[2] - box[0], box[3] - box[1], 4.0)
            if jitter:
                c = rng.normal(0, cfg.box_jitter, 2) * side
                box = box + np.array([c[0], c[1], c[0], c[1]], np.float32)
                f = math.exp(rng.uniform(-cfg.scale_jitter, cfg.scale_jitter))
                cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
                hw, hh = (box[2] - box[0]) / 2 * f, (box[3] - box[1]) / 2 * f
                box = np.array([cx - hw, cy - hh, cx + hw, cy + hh], np.float32)
            m = crop_matrix(box, size, scale=cfg.crop_scale, rotation=rot)
            if jitter:
                m = _squeeze(m, size, cfg, rng)
            imgs.append(warp(s.image, m, (size, size)))
            k = apply_affine(m, kp).astype(np.float32)
            k[:, 2] = kp[:, 2]
            kps.append(k)
            pres.append(1.0)
            hv = s.handedness[j] if j < len(s.handedness) else None
            hand.append(_hand_lr(hv))
        hard = (hard_negatives or {}).get(s.path) if s.image is not None else None
        for b in (hard or [])[:hard_per_frame]:
            b = np.asarray(b, np.float32)
            rot = math.radians(rng.uniform(-180, 180)) if jitter else 0.0
            if jitter:
                side = max(b[2] - b[0], b[3] - b[1], 4.0)
                c = rng.normal(0, cfg.box_jitter, 2) * side
                b = b + np.array([c[0], c[1], c[0], c[1]], np.float32)
            m = crop_matrix(b, size, scale=cfg.crop_scale, rotation=rot)
            imgs.append(warp(s.image, _squeeze(m, size, cfg, rng) if jitter else m, (size, size)))
            # the detector fired here, so at runtime the skeleton input shows a hand-like
            # blob: draw the last hand crop's skeleton (its heatmaps weigh 0 since presence is 0)
            fake = next((k for k, p in zip(reversed(kps), reversed(pres)) if p > 0), None)
            kps.append(fake.copy() if fake is not None and rng.random() < 0.7 else np.full((21, 3), -1.0, np.float32))
            pres.append(0.0)
            hand.append(-1.0)
        if s.image is not None and negatives > 0 and rng.random() < negatives * max(s.num_hands, 1):
            crop = _negative_crop(s, size, cfg, rng)
            if crop is not None:
                imgs.append(crop)
                kps.append(np.full((21, 3), -1.0, np.float32))
                pres.append(0.0)
                hand.append(-1.0)
    n = len(imgs)
    return {"image": np.array(imgs, np.uint8).reshape(n, size, size, 3),
            "keypoints": np.array(kps, np.float32).reshape(n, 21, 3),
            "presence": np.array(pres, np.float32), "handedness": np.array(hand, np.float32)}


def _squeeze(m, size: int, cfg, rng) -> np.ndarray:
    """``m`` (frame -> crop) followed, for ``cfg.aspect_prob`` of the crops,
    by a squeeze along x or y about the crop centre by a factor in
    [1 - ``cfg.aspect_jitter``, 1]."""
    aj = float(getattr(cfg, "aspect_jitter", 0.0) or 0.0)
    if aj <= 0 or rng.random() >= float(getattr(cfg, "aspect_prob", 0.3)):
        return m
    f = rng.uniform(1.0 - aj, 1.0)
    sx, sy = (f, 1.0) if rng.random() < 0.5 else (1.0, f)
    c = size / 2.0
    return compose([[sx, 0.0, c - sx * c], [0.0, sy, c - sy * c]], m)


def _negative_crop(s, size, cfg, rng, tries: int = 10):
    h, w = s.image.shape[:2]
    boxes = [keypoints_box(kp[:, :2], kp[:, 2] >= 0) for kp in s.keypoints if (kp[:, 2] >= 0).any()]
    if boxes and rng.random() < getattr(cfg, "near_negatives", 0.0):
        for _ in range(tries):  # a hand-sized crop right beside a hand
            b = boxes[int(rng.integers(len(boxes)))]
            side = max(b[2] - b[0], b[3] - b[1], 4.0) * cfg.crop_scale * math.exp(rng.uniform(-0.3, 0.3))
            a = rng.uniform(0, 2 * math.pi)
            d = rng.uniform(0.9, 1.6) * side
            cx, cy = (b[0] + b[2]) / 2 + d * math.cos(a), (b[1] + b[3]) / 2 + d * math.sin(a)
            cand = np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)
            inside = cand[0] >= -0.25 * side and cand[1] >= -0.25 * side and cand[2] <= w + 0.25 * side \
                and cand[3] <= h + 0.25 * side
            if inside and all(_overlap(cand, hb) < 0.15 for hb in boxes):
                rot = math.radians(rng.uniform(-180, 180))
                return warp(s.image, crop_matrix(cand, size, scale=1.0, rotation=rot), (size, size))
    for _ in range(tries):
        side = rng.uniform(0.15, 0.5) * min(h, w)
        x0, y0 = rng.uniform(0, max(w - side, 1)), rng.uniform(0, max(h - side, 1))
        cand = np.array([x0, y0, x0 + side, y0 + side], np.float32)
        if all(_overlap(cand, b) < 0.1 for b in boxes):
            return warp(s.image, crop_matrix(cand, size, scale=1.0), (size, size))
    return None


def _overlap(a, b) -> float:
    ix = max(0.0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0.0, min(a[3], b[3]) - max(a[1], b[1]))
    area = max((b[2] - b[0]) * (b[3] - b[1]), 1e-6)
    return ix * iy / area


def gesture_pool(samples, labels=None):
    """Features (N,21,2) float32 via :func:`keypoint_features` (handedness
    canonicalised) and label strings (N,), from samples with a label and
    one hand."""
    feats, labs = [], []
    for s in samples:
        if s.label is None or not len(s.keypoints):
            continue
        if labels is not None and s.label not in labels:
            continue
        hv = s.handedness[0] if s.handedness else None
        feats.append(keypoint_features(s.keypoints[0], hv))
        labs.append(s.label)
    return np.array(feats, np.float32).reshape(-1, 21, 2), np.array(labs, dtype=object)
