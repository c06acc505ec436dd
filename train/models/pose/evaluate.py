"""Landmarker (pose) evaluation: PCK at thresholds normalised by the hand
box size (curve PNG + AUC), mean keypoint error in px at the model input
resolution, presence AUC, handedness accuracy. The skeleton input is
rendered from the reference keypoints (``gt``), blank (``none``) or the
detector's (``detector``, as the runtime does)."""
from __future__ import annotations

from pathlib import Path

import numpy as np

from handsdk.keypoints import keypoints_box, render_skeleton
from handsdk.train import metrics as M
from handsdk.train.evaluate import decode_heatmaps, predict


def pose_skeletons(keypoints, size: int, thickness: float, mode: str = "gt") -> np.ndarray:
    """Skeleton inputs (N, S, S, 1) for evaluation: rendered from the
    reference keypoints (``gt``) or blank (``none``)."""
    n = len(keypoints)
    out = np.zeros((n, size, size, 1), np.float32)
    if mode == "gt":
        for i, kp in enumerate(keypoints):
            if (kp[:, 2] >= 0).any():
                out[i, :, :, 0] = render_skeleton(kp[:, :2], (size, size), thickness=thickness)
    elif mode != "none":
        raise ValueError(f"unknown skeleton mode {mode!r}")
    return out


def evaluate_pose(model, pool: dict, *, skeleton: str | np.ndarray = "gt", thickness: float = 0.02,
                  batch_size: int = 64, plots_dir=None, tag: str = "") -> dict:
    """``pool``: image (N,S,S,3) uint8, keypoints (N,21,3) crop px,
    presence (N,), handedness (N,) (-1 unknown)."""
    imgs = pool["image"]
    s = imgs.shape[1]
    feed = {"image": imgs.astype(np.float32) / 255.0}
    if "skeleton" in model.input_names:
        feed["skeleton"] = skeleton if isinstance(skeleton, np.ndarray) else \
            pose_skeletons(pool["keypoints"], s, thickness, skeleton)
    out = predict(model, feed, batch_size)
    pos = pool["presence"] > 0.5
    res = {}
    if pos.any():
        pred = decode_heatmaps(out["heatmaps"][pos], s)
        gt = pool["keypoints"][pos]
        vis = gt[..., 2] >= 0
        thr, vals, auc = M.pck_curve(pred, gt, visible=vis)
        for t in (0.05, 0.1, 0.2):
            res[f"pck{int(round(t * 100)):02d}"] = M.pck(pred, gt, t, visible=vis)
        res["pck_auc"] = auc
        res["mean_error_px"] = M.mean_keypoint_error(pred, gt, vis)
        hm_w = out["heatmaps"].shape[2]
        edge = (pred < s / hm_w * 1.0) | (pred > s - s / hm_w * 1.0)
        res["border_frac"] = float(edge.any(-1).mean())  # keypoints stuck at the border (Boehringer & Hartmann 2019)
        if plots_dir is not None:
            plot_pck(thr, vals, auc, Path(plots_dir) / f"pck_curve{tag}.png")
        res["num_hands"] = int(pos.sum())
        res["_pred"] = pred
    if "presence" in out and (~pos).any() and pos.any():
        pr = out["presence"].reshape(-1)
        res["presence_auc"] = M.roc_auc(pos, pr)
        # at the shipped new-hand threshold: the mean of hands kept and non-hands refused
        # (informative where the AUC is saturated; the monitor of a presence-only stage)
        from handsdk.train.release import THRESHOLDS

        t = THRESHOLDS["min_presence_score"]
        res["presence_bacc"] = float(((pr[pos] >= t).mean() + (pr[~pos] < t).mean()) / 2)
    if "handedness" in out:
        h = pool["handedness"]
        known = (h >= 0) & pos
        if known.any():
            res["handedness_acc"] = float(((out["handedness"].reshape(-1)[known] >= 0.5) == (h[known] > 0.5)).mean())
    return res


def plot_pck(thresholds, values, auc, path, label: str = "model"):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5, 4))
    ax.plot(thresholds, values, label=f"{label} (AUC {auc:.3f})")
    ax.set_xlabel("threshold (fraction of hand box size)")
    ax.set_ylabel("PCK")
    ax.set_ylim(0, 1)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The validation metrics of a trainer pool (skeleton input from the
    reference keypoints; with ``plots_dir``, also PCK / error without it)."""
    m = cfg.model
    first = pool.get("first_pass")
    if first is not None and first.any():
        res = evaluate_pool(model, cfg, {k: v[~first] for k, v in pool.items() if k != "first_pass"},
                            labels, plots_dir)
        res.update(first_pass_rotation(model, cfg, {k: v[first] for k, v in pool.items() if k != "first_pass"}))
        return res
    skel = gt = "gt"
    if "det_skeleton" in pool and m.use_skeleton:
        skel, gt = _skeleton_inputs(cfg, pool)
    res = evaluate_pose(model, pool, skeleton=skel, thickness=m.skeleton_thickness, plots_dir=plots_dir)
    res.pop("_pred", None)
    if skel is not gt and plots_dir is not None:  # also with the keypoints drawn (rendered once, above)
        ref = evaluate_pose(model, pool, skeleton=gt, thickness=m.skeleton_thickness)
        for k in ("pck20", "mean_error_px"):
            if k in ref:
                res[f"{k}_gtskel"] = ref[k]
    if plots_dir is not None and m.use_skeleton:
        blank = evaluate_pose(model, pool, skeleton="none", thickness=m.skeleton_thickness)
        for k in ("pck20", "mean_error_px"):
            if k in blank:
                res[f"{k}_noskel"] = blank[k]
    return res


def _skeleton_inputs(cfg, pool) -> tuple[np.ndarray, np.ndarray]:
    """(the skeleton input the selection metric uses, the rendered keypoints):
    with ``data.skeleton_bundle``, the detector's map as the runtime's first
    pass sees it, where the frame had one; the rendered keypoints elsewhere."""
    gt = pose_skeletons(pool["keypoints"], pool["image"].shape[1], cfg.model.skeleton_thickness, "gt")
    if "det_skeleton" not in pool:
        return gt, gt
    has = pool["has_det_skeleton"].reshape(-1, 1, 1, 1) > 0.5
    return np.where(has, pool["det_skeleton"][..., None].astype(np.float32) / 255.0, gt), gt


def first_pass_rotation(model, cfg, pool: dict) -> dict:
    """On axis-aligned crops of hands at their own angle (the runtime's first
    pass on a detection): how far the angle the runtime would turn the second
    crop by is from the labelled one. ``rotation_ok30``: share within 30
    degrees (from the ``rotation`` head when the model has one, else from the
    keypoints); ``rotation_ok30_keypoints``: from the keypoints; ``rotation_err_deg``:
    the median error; ``pck20_first``: PCK@0.2 of that pass."""
    from handsdk.keypoints import angle_error_deg, hand_rotation, rotation_from_output

    keep = pool["rotation"][:, 2] > 0.5
    if not keep.any():
        return {}
    pool = {k: v[keep] for k, v in pool.items()}
    s = pool["image"].shape[1]
    feed = {"image": pool["image"].astype(np.float32) / 255.0}
    if "skeleton" in model.input_names:
        feed["skeleton"] = _skeleton_inputs(cfg, pool)[0]
    out = predict(model, feed, 64)
    pred = decode_heatmaps(out["heatmaps"], s)
    truth = rotation_from_output(pool["rotation"][:, :2])
    e_kp = angle_error_deg(np.array([hand_rotation(k) for k in pred]), truth)
    e = angle_error_deg(rotation_from_output(out["rotation"]), truth) if "rotation" in out else e_kp
    gt = pool["keypoints"]
    return {"rotation_ok30": float((e <= 30).mean()), "rotation_ok30_keypoints": float((e_kp <= 30).mean()),
            "rotation_err_deg": float(np.median(e)),
            "pck20_first": M.pck(pred, gt, 0.2, visible=gt[..., 2] >= 0)}


def evaluate_samples(model, cfg, samples, rng, *, meta: dict, skeleton: str = "gt", detector_path=None,
                     plots_dir=None, tag: str = "", **_) -> dict:
    """The metrics of one evaluation source's samples (plain crops, no
    negatives); ``skeleton="detector"`` feeds the detector's skeleton map."""
    from .examples import pose_pool

    m = cfg.model
    pool = pose_pool(samples, m.input_size, m, rng, negatives=0.0, jitter=False)
    skel = skeleton
    if skeleton == "detector":
        skel = _detector_skeleton_crops(samples, detector_path, m)
    res = evaluate_pose(model, pool, skeleton=skel, thickness=m.skeleton_thickness,
                        plots_dir=plots_dir, tag=tag)
    res.pop("_pred", None)
    return res


def _detector_skeleton_crops(samples, detector_path, pm):
    """The runtime's skeleton input: the detector's skeleton map of the full
    frame warped into each hand's crop."""
    from handsdk.image import crop_matrix, invert_affine, letterbox_matrix, warp
    from handsdk.train.trainer import load_exported

    if detector_path is None:
        raise ValueError("skeleton='detector' needs detector_path")
    det = load_exported(detector_path)
    h, w = det.input_shape[1], det.input_shape[2]
    out = []
    for s in samples:
        lb = letterbox_matrix(s.image.shape[:2], (h, w))
        frame = warp(s.image, lb, (h, w)).astype(np.float32)[None] / 255.0
        skel = np.asarray(det(frame, training=False))[0, :, :, 0]
        for kp in s.keypoints:
            if not (kp[:, 2] >= 0).any():
                continue
            box = keypoints_box(kp[:, :2], kp[:, 2] >= 0)
            m = crop_matrix(box, pm.input_size, scale=pm.crop_scale)
            # map -> frame -> crop
            full = np.vstack([m, [0, 0, 1]]) @ np.vstack([invert_affine(lb), [0, 0, 1]])
            out.append(warp(skel, full[:2], (pm.input_size, pm.input_size))[..., None])
    return np.array(out, np.float32).reshape(-1, pm.input_size, pm.input_size, 1)
