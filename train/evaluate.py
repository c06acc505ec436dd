"""Evaluation of the three models on pools and on the shared sets.

* detector: box IoU, P/R/F1 at IoU 0.5, AP, Hand/NoHand accuracy/P/R/F1/ROC
  AUC by skeleton mass (decoding = :func:`handsdk.decode.skeleton_to_boxes`,
  exactly as the runtime);
* pose: PCK at thresholds normalised by the hand box size (curve PNG + AUC),
  mean keypoint error in px at the model input resolution, presence AUC,
  handedness accuracy; the skeleton input is rendered from the reference
  keypoints (``gt``), blank (``none``) or the detector's (``detector``, as
  the runtime does);
* gesture: accuracy, macro-F1, confusion matrix PNG.

``python -m handsdk.train.evaluate <task> --model best.keras --data real:asl_letters/valid``
(also ``handsdk train evaluate``).
"""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from handsdk import metrics as M
from handsdk.decode import DetectorDecoding, heatmaps_to_keypoints, skeleton_to_boxes
from handsdk.keypoints import keypoints_box, render_skeleton


def predict(model, inputs: dict, batch_size: int = 64) -> dict:
    """Run a Keras model on numpy inputs in batches -> dict of numpy outputs
    keyed by output name."""
    names = list(model.output_names)
    n = len(next(iter(inputs.values())))
    outs = {k: [] for k in names}
    for i in range(0, n, batch_size):
        feed = {k: v[i:i + batch_size] for k, v in inputs.items() if k in model.input_names}
        res = model(feed, training=False)
        if isinstance(res, dict):
            for k in names:
                outs[k].append(np.asarray(res[k]))
        else:
            res = res if isinstance(res, (list, tuple)) else [res]
            for k, r in zip(names, res):
                outs[k].append(np.asarray(r))
    return {k: np.concatenate(v) if v else np.zeros((0,)) for k, v in outs.items()}


# ---------------------------------------------------------------- detector


def _unpadded(boxes) -> np.ndarray:
    """The real boxes of one image's padded (k, 4) rows (padding rows are -1)."""
    b = np.asarray(boxes, np.float32).reshape(-1, 4)
    return b[(b >= 0).all(axis=1) & (b[:, 2] > b[:, 0])]


def evaluate_detector(model, images, gt_boxes, *, decoding: dict | None = None, batch_size: int = 32,
                      ref_boxes=None) -> dict:
    """``images`` (N, H, W, 3) uint8 model-sized frames; ``gt_boxes`` (N, k, 4)
    in model pixels (rows of -1 are padding); ``ref_boxes`` (N, j, 4): other
    known hands (MediaPipe's), so that a hand people did not box is not
    counted as a false hand.

    Besides AP@0.5 (on the boxes' own extent), what a user meets:
    ``found03`` (human boxes with a reported hand on them, see
    :func:`handsdk.metrics.scene_counts`), ``false_per_image`` and
    ``scene_score`` = found03 - false_per_image (the model-selection measure:
    the steadier of the two across epochs)."""
    dec = DetectorDecoding.from_dict(decoding).as_dict()
    skel = predict(model, {"image": images.astype(np.float32) / 255.0}, batch_size)["skeleton"][..., 0]
    preds, gts, hand_y, hand_score, hand_found = [], [], [], [], []
    for i in range(len(images)):
        found = skeleton_to_boxes(skel[i], max_hands=2, **dec)
        preds.append((np.array([f.box for f in found], np.float32).reshape(-1, 4),
                      np.array([f.score for f in found], np.float32)))
        g = _unpadded(gt_boxes[i])
        gts.append(g)
        hand_y.append(len(g) > 0)
        s = skel[i]
        hand_score.append(float(s[s >= dec["threshold"]].sum()))
        hand_found.append(float(len(found) > 0))
    out = M.detection_metrics(preds, gts, 0.5)
    sc = M.scene_summary([M.scene_counts(pb, gts[i], None if ref_boxes is None else _unpadded(ref_boxes[i]))
                          for i, (pb, _) in enumerate(preds)])
    out["found03"] = sc["found_rate"] if sc["found_rate"] is not None else 0.0
    out["false_per_image"] = sc["false_per_image"] or 0.0
    out["scene_score"] = out["found03"] - out["false_per_image"]
    hb = M.binary_metrics(hand_y, hand_found, 0.5)
    out.update({f"hand_{k}": v for k, v in hb.items() if k in ("accuracy", "precision", "recall", "f1")})
    out["hand_auc"] = M.roc_auc(hand_y, hand_score)
    out["iou"] = out["mean_iou"]
    return out


# -------------------------------------------------------------------- pose


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


def decode_heatmaps(heatmaps, size: int) -> np.ndarray:
    """(N, h, w, 21) -> (N, 21, 2) keypoints in model input pixels."""
    from handsdk.decode import landmarker_keypoints  # the runtime's decoding

    out = np.zeros((len(heatmaps), 21, 2), np.float32)
    for i, hm in enumerate(heatmaps):
        out[i] = landmarker_keypoints({"heatmaps": np.asarray(hm)[None]}, size, "heatmaps")
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
        res["presence_auc"] = M.roc_auc(pos, out["presence"].reshape(-1))
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


# ----------------------------------------------------------------- gesture


def evaluate_gesture(model, features, labels, names=None, *, plots_dir=None, tag: str = "") -> dict:
    scores = predict(model, {"keypoints": np.asarray(features, np.float32)})["scores"]
    pred = scores.argmax(-1)
    n = scores.shape[-1]
    res = M.classification_metrics(labels, pred, n, names)
    if plots_dir is not None:
        plot_confusion(np.array(res["confusion_matrix"]), names or [str(i) for i in range(n)],
                       Path(plots_dir) / f"confusion{tag}.png")
    return res


def plot_confusion(cm, names, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n = len(names)
    fig, ax = plt.subplots(figsize=(max(4, 0.35 * n + 2), max(4, 0.35 * n + 2)))
    norm = cm / np.maximum(cm.sum(1, keepdims=True), 1)
    ax.imshow(norm, cmap="Blues", vmin=0, vmax=1)
    ax.set_xticks(range(n)), ax.set_yticks(range(n))
    ax.set_xticklabels(names, rotation=90, fontsize=7), ax.set_yticklabels(names, fontsize=7)
    ax.set_xlabel("predicted"), ax.set_ylabel("true")
    if n <= 30:
        for i in range(n):
            for j in range(n):
                if cm[i, j]:
                    ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=6,
                            color="white" if norm[i, j] > 0.5 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


# -------------------------------------------------------------------- pools


def evaluate_pool(model, cfg, pool: dict, labels=None, plots_dir=None) -> dict:
    """The validation metrics of ``cfg.task`` on a trainer pool (exported
    model)."""
    m = cfg.model
    if cfg.task == "detector":
        boxes = pool.get("boxes")
        refs = _boxes_from_keypoints(pool["keypoints"])
        if boxes is None:
            boxes = refs
        return evaluate_detector(model, pool["image"], boxes, decoding=vars(m), ref_boxes=refs)
    if cfg.task == "pose":
        res = evaluate_pose(model, pool, skeleton="gt", thickness=m.skeleton_thickness, plots_dir=plots_dir)
        res.pop("_pred", None)
        if plots_dir is not None and m.use_skeleton:
            blank = evaluate_pose(model, pool, skeleton="none", thickness=m.skeleton_thickness)
            for k in ("pck20", "mean_error_px"):
                if k in blank:
                    res[f"{k}_noskel"] = blank[k]
        return res
    return evaluate_gesture(model, pool["keypoints"], pool["label"], labels, plots_dir=plots_dir)


def _boxes_from_keypoints(kps):
    out = np.full(kps.shape[:2] + (4,), -1.0, np.float32)
    for i in range(kps.shape[0]):
        for j in range(kps.shape[1]):
            kp = kps[i, j]
            if (kp[:, 2] >= 0).any():
                out[i, j] = keypoints_box(kp[:, :2], kp[:, 2] >= 0)
    return out


# ----------------------------------------------------------- entry point


def evaluate_model(task: str, model_path, data: list[str], *, skeleton: str = "gt", detector_path=None,
                   limit: int | None = None, out=None, root=None) -> dict:
    """Evaluate a saved ``best.keras`` (with its ``metadata.json`` beside it)
    on data sources (``real:<set>[/<split>]``, ``synth``, ``toy``)."""
    from handsdk.train.config import SourceConfig, config_from_dict
    from handsdk.train.models import data as D
    from handsdk.train.trainer import load_exported

    model_path = Path(model_path)
    meta_path = model_path.parent / "metadata.json"
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    cfg_d = dict(meta.get("config") or {"task": task})
    cfg_d["task"] = task
    cfg = config_from_dict(cfg_d)
    model = load_exported(model_path)
    rng = np.random.default_rng(0)
    results = {}
    plots = Path(out) if out else None
    if plots:
        plots.mkdir(parents=True, exist_ok=True)
    for spec in data:
        name, _, opt = spec.partition("?")
        opts = dict(kv.split("=", 1) for kv in opt.split("&") if kv) if opt else {}
        import yaml

        for k, v in list(opts.items()):
            opts[k] = yaml.safe_load(f"[{v}]") if "," in v and not v.startswith("[") else yaml.safe_load(v)
        src = SourceConfig(name=name, limit=limit, options=opts)
        ev_task = "detector_eval" if task == "detector" else task
        samples = list(D.iter_source(src, rng, limit or 10 ** 9, root=root, task=ev_task,
                                     size=(cfg.model.input_height, cfg.model.input_width)
                                     if task == "detector" else (192, 192)))
        tag = "_" + name.replace(":", "_").replace("/", "_")
        if task == "detector":
            m = cfg.model
            pool = D.detector_pool(samples, m.input_height, m.input_width)
            from handsdk.train.trainer import _letterboxed_boxes

            boxes = _letterboxed_boxes(samples, m.input_height, m.input_width)
            res = evaluate_detector(model, pool["image"], boxes, decoding=meta.get("decoding") or vars(m))
        elif task == "pose":
            m = cfg.model
            pool = D.pose_pool(samples, m.input_size, m, rng, negatives=0.0, jitter=False)
            skel = skeleton
            if skeleton == "detector":
                skel = _detector_skeleton_crops(samples, detector_path, m)
            res = evaluate_pose(model, pool, skeleton=skel, thickness=m.skeleton_thickness,
                                plots_dir=plots, tag=tag)
            res.pop("_pred", None)
        else:
            names = meta.get("labels") or list(cfg.model.labels)
            feats, labs = D.gesture_pool(samples, None)
            idx = {x: i for i, x in enumerate(names)}
            keep = np.array([x in idx for x in labs], bool)
            res = evaluate_gesture(model, feats[keep], np.array([idx[x] for x in labs[keep]]), names,
                                   plots_dir=plots, tag=tag)
            res["skipped_unknown_labels"] = int((~keep).sum())
        res["num_source_samples"] = len(samples)
        results[spec] = res
    if plots:
        (plots / f"eval_{task}.json").write_text(json.dumps(results, indent=1, default=str))
    return results


def _detector_skeleton_crops(samples, detector_path, pm):
    """The runtime's skeleton input: the detector's skeleton map of the full
    frame warped into each hand's crop."""
    from handsdk.image import apply_affine, crop_matrix, invert_affine, letterbox_matrix, warp
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
    _ = apply_affine
    return np.array(out, np.float32).reshape(-1, pm.input_size, pm.input_size, 1)


def main(argv=None):  # python -m handsdk.train.evaluate
    import argparse

    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("task", choices=["detector", "pose", "gesture"])
    p.add_argument("--model", required=True)
    p.add_argument("--data", action="append", required=True)
    p.add_argument("--skeleton", default="gt", choices=["gt", "none", "detector"])
    p.add_argument("--detector")
    p.add_argument("--limit", type=int)
    p.add_argument("--out")
    a = p.parse_args(argv)
    res = evaluate_model(a.task, a.model, a.data, skeleton=a.skeleton, detector_path=a.detector,
                         limit=a.limit, out=a.out)
    print(json.dumps({k: {kk: vv for kk, vv in v.items() if not isinstance(vv, (list, dict))}
                      for k, v in res.items()}, indent=1, default=str))


if __name__ == "__main__":
    main()
