"""Custom motion gestures: a motion set trained on takes recorded with
``handsdk capture --motion`` and written into a copy of a bundle
(``handsdk train gesture --data my_moves --base model.handsdk -o my.handsdk``
on a folder of ``<label>/history.jsonl`` takes).

1. each take of a label holds one or a few performances of it: the
   movements in it (the hand's points faster than 0.8 hand sizes per second
   and than a fifth of the take's top speed, gaps of up to 200 ms joined, at
   least 150 ms long) are its gestures; windows that end after a gesture is
   complete are that label, windows before or long after are ``none``, as
   for the shipped set (:func:`handsdk.train.synth.motion.window_label`);
2. ``none``: the takes in ``none/`` and synthetic takes of the renderer's
   hand holding, changing, turning and drifting (no sweeping moves, which
   could be a custom gesture);
3. the last ``val_fraction`` of each label's takes is held out (whole takes);
4. the shipped recipe trains a smaller net (:func:`.train.fit`), converts it
   (int8 where its predictions agree with Keras, else fp16 / fp32), scores
   the converted model on the held-out takes (confusion matrix PNG) and adds
   it to the base bundle with :func:`handsdk.bundle.add_gesture_set`
   (``kind="motion"``; the other models' bytes unchanged).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

import numpy as np

from handsdk.capture import NONE_LABEL, CaptureError, read_motion_dataset


def take_gestures(times_ms, keypoints, *, rate_hz: float = 20.0, min_speed: float = 0.8, rel_speed: float = 0.2,
                  max_gap_ms: float = 200.0, min_ms: float = 150.0) -> list[tuple[float, float]]:
    """(start_ms, end_ms) of the movements in one take."""
    from handsdk.motion import MOTION_POINTS

    t = np.asarray(times_ms, np.float64)
    kp = np.asarray(keypoints, np.float32)[:, MOTION_POINTS, :2]
    grid = np.arange(t[0], t[-1], 1000.0 / rate_hz)
    if len(grid) < 3:
        return []
    res = np.stack([np.stack([np.interp(grid, t, kp[:, p, c]) for c in range(2)], -1) for p in range(kp.shape[1])], 1)
    size = float(np.median(np.ptp(res, axis=1).max(axis=1)))
    sp = np.linalg.norm(np.diff(res, axis=0), axis=2).max(axis=1) * rate_hz / max(size, 1e-6)
    if sp.max() < min_speed:
        return []
    moving = sp >= max(min_speed, rel_speed * float(np.percentile(sp, 98)))
    out, start, last = [], None, None
    gap = int(round(max_gap_ms * rate_hz / 1000.0))
    for k, m in enumerate(moving):
        if m:
            if start is None:
                start = k
            last = k
        elif start is not None and k - last > gap:
            out.append((start, last))
            start = None
    if start is not None:
        out.append((start, last))
    segs = [(float(grid[a]), float(grid[b + 1])) for a, b in out]
    return [(a, b) for a, b in segs if b - a >= min_ms]


def _takes_to_windows(takes, labels, cfg, rng, clear: bool):
    from handsdk.train.synth import motion as SM

    idx = {x: i for i, x in enumerate(labels)}
    X, Y = [], []
    for tk in takes:
        ends = [e for e in (SM.evaluation_ends if clear else SM.training_ends)(tk, rng, 3, 2) if e > tk.times_ms[1]]
        if not ends:
            continue
        f, lab = SM.take_windows(tk, ends, frames=cfg.model.frames, rate_hz=cfg.model.rate_hz)
        for fi, li in zip(f, lab):
            if li in idx:
                X.append(fi)
                Y.append(idx[li])
    C = 2 * len(cfg.model.points) + 1
    return np.asarray(X, np.float16).reshape(-1, cfg.model.frames, C), np.asarray(Y, np.int32)


def train_custom_motion(data_folder, base_bundle, output, *, set_name: str = "custom_motion", epochs: int = 20,
                        time_budget_s: float = 90.0, quantization: str = "int8", seed: int = 0,
                        val_fraction: float = 0.2, synthetic_negatives: int | None = None, min_takes: int = 3,
                        threads: int | None = 2, progress: Callable[[str], None] | None = print) -> dict:
    """Train a motion set on a ``handsdk capture --motion`` folder and write
    a bundle; returns the report (also ``<stem>.report.json`` beside the
    bundle, with ``<stem>.confusion.png``)."""
    from handsdk.train.custom import CustomTrainingError
    from handsdk.train.synth import motion as SM
    from handsdk.train.tf import set_threads

    from .config import MotionConfig
    from .evaluate import classification_report
    from .model import motion_decoding
    from .train import convert, fit, tflite_scores

    t_start = time.time()
    say = progress or (lambda s: None)
    output = Path(os.fspath(output))
    if output.suffix == "":
        output = output.with_suffix(".handsdk")
    quants = {"int8": ["int8", "fp16", "fp32"], "fp16": ["fp16", "fp32"], "fp32": ["fp32"]}
    if quantization not in quants:
        raise CustomTrainingError(f"quantization must be int8, fp16 or fp32 for a motion set, got {quantization!r}")
    try:
        takes = read_motion_dataset(data_folder)
    except CaptureError as e:
        raise CustomTrainingError(str(e)) from e
    gestures = sorted({t.label for t in takes if t.label != NONE_LABEL})
    counts = {lab: sum(t.label == lab for t in takes) for lab in sorted({t.label for t in takes})}
    if not gestures:
        raise CustomTrainingError(f"{data_folder}: no motion labels besides '{NONE_LABEL}'")
    small = {k: v for k, v in counts.items() if k != NONE_LABEL and v < min_takes}
    if small:
        raise CustomTrainingError("too few takes (need >= %d per motion): " % min_takes
                                  + ", ".join(f"{k}={v}" for k, v in small.items())
                                  + f"; record more with `handsdk capture --motion --label <name> -o {data_folder}`")
    labels = [NONE_LABEL] + gestures
    rng = np.random.default_rng(seed)
    cfg = MotionConfig()
    cfg.model.labels, cfg.model.label_set = labels, set_name
    cfg.model.filters, cfg.model.hidden = [16, 24, 32], 32
    cfg.train.seed, cfg.train.quantization = seed, quants[quantization]
    cfg.train.batch_size = 128
    # ---- takes -> SM.Take with their gestures; split (the last takes of each label held out)
    by_label: dict = {}
    found = {}
    for tk in takes:
        segs = [] if tk.label == NONE_LABEL else take_gestures(tk.times_ms, tk.keypoints)
        if tk.label != NONE_LABEL and not segs:
            segs = [(float(tk.times_ms[0]), float(tk.times_ms[-1]))]  # (no clear movement: the whole take)
        found[tk.label] = found.get(tk.label, 0) + len(segs)
        take = SM.Take(tk.times_ms, tk.keypoints, [(tk.label, a, b, b) for a, b in segs], "captured", "captured",
                       "captured")
        by_label.setdefault(tk.label, []).append(take)
    tr_takes, va_takes = [], []
    for lab, tks in by_label.items():
        n_va = int(round(len(tks) * val_fraction)) if len(tks) >= 3 else 0
        tr_takes += tks[:len(tks) - n_va]
        va_takes += tks[len(tks) - n_va:]
    n_syn = synthetic_negatives if synthetic_negatives is not None else max(200, 4 * len(takes))
    syn = []
    for i in range(int(n_syn)):  # holds, changes of shape, turns, drift: never a sweeping move
        hands = SM.SynthHands(rng, "Right")
        cur = SM._random_shape(hands, rng)
        segs = []
        for _ in range(int(rng.integers(2, 5))):
            u = rng.random()
            if u < 0.35:
                segs.append(SM.Segment("hold", rng.uniform(0.3, 1.2)))
            elif u < 0.7:
                segs.append(SM.Segment("trans", rng.uniform(0.2, 0.5), SM._random_shape(hands, rng)))
            else:
                segs.append(SM.Segment("path", path=SM.none_path(str(rng.choice(["drift", "still", "turn"])),
                                                                 "param", rng)))
        syn.append(SM.build_take(hands, segs, rng, start_shape=cur, mirror=bool(rng.random() < 0.5)))
    n_syn_va = int(round(len(syn) * val_fraction))
    say(f"data {data_folder}: " + ", ".join(f"{k}={v} takes ({found.get(k, 0)} movements)" if k != NONE_LABEL
                                            else f"{k}={v} takes" for k, v in counts.items())
        + f"; {len(syn)} synthetic takes for '{NONE_LABEL}'")
    Xtr, Ytr = _takes_to_windows(tr_takes + syn[n_syn_va:], labels, cfg, rng, clear=False)
    Xva, Yva = _takes_to_windows(va_takes + syn[:n_syn_va], labels, cfg, rng, clear=True)
    if not len(Ytr):
        raise CustomTrainingError("no training windows (takes too short?)")
    missing = [labels[i] for i in range(len(labels)) if not (Ytr == i).any()]
    if missing:
        raise CustomTrainingError(f"no training windows of {missing}: record longer takes")
    set_threads(threads)
    train = {"history": Xtr, "label": Ytr}
    val = {"history": Xva, "label": Yva} if len(Yva) else None
    say(f"motion net: {len(labels)} classes {labels}; {len(Ytr)} training / {len(Yva)} validation windows; "
        f"up to {epochs} epochs or {time_budget_s:.0f}s")
    model = fit(cfg, train, val, epochs=epochs, say=say, time_budget_s=time_budget_s)
    calib = Xtr[rng.permutation(len(Xtr))[:300]]
    tfl, q, tried = convert(model, cfg, val or train, calib, say=say)
    report = {"set_name": set_name, "labels": labels, "kind": "motion", "quantization": q,
              "conversion": tried, "takes": counts, "movements": found, "synthetic_negatives": len(syn),
              "train_windows": int(len(Ytr)), "val_windows": int(len(Yva)), "history": model._handsdk_history,
              "data_folder": str(Path(os.fspath(data_folder)).resolve()), "output": str(output)}
    metrics = {}
    if val is not None:
        pt = tflite_scores(tfl, Xva).argmax(-1)
        res = classification_report(Yva, pt, labels)
        png = output.with_name(output.stem + ".confusion.png")
        from handsdk.train.plots import plot_confusion

        output.parent.mkdir(parents=True, exist_ok=True)
        plot_confusion(np.array(res["confusion_matrix"]), labels, png, title=f"{set_name} ({q} TFLite, held-out takes)")
        report["validation"] = {"macro_f1": round(res["macro_f1"], 4), "accuracy": round(res["accuracy"], 4),
                                "per_class": res["per_class"], "confusion_png": str(png)}
        metrics = {"val_macro_f1": round(res["macro_f1"], 4), "val_windows": int(len(Yva))}
        say(f"validation ({q} TFLite, {len(Yva)} windows of held-out takes): macro-F1 {res['macro_f1']:.3f}; "
            f"confusion matrix {png}")
    from handsdk.bundle import add_gesture_set, check_gesture_set_name

    try:
        check_gesture_set_name(set_name)
    except ValueError as e:
        raise CustomTrainingError(str(e)) from None
    role = f"gesture:{set_name}"
    prov = {"custom_gestures": {set_name: {"data_folder": report["data_folder"], "takes": counts, "kind": "motion",
                                           "metrics": metrics, "seed": seed, "quantization": q}},
            "training_data_by_model": {role: [report["data_folder"], "synthetic takes (none)"]},
            "metrics": {role: metrics} if metrics else {}}
    data = add_gesture_set(base_bundle, set_name, tfl, labels, output=output, kind="motion", none_label=NONE_LABEL,
                           quantization=q, metrics=metrics, provenance=prov, decoding=motion_decoding(cfg.model))
    report.update(bundle_bytes=len(data), seconds=round(time.time() - t_start, 1))
    rp = output.with_name(output.stem + ".report.json")
    rp.write_text(json.dumps(report, indent=1, default=str))
    report["report_json"] = str(rp)
    say(f"wrote {output} ({len(data) / 1024:.0f} KiB; motion set '{set_name}' {labels}) in {report['seconds']:.0f}s")
    return report


#: options of train_custom_motion that `handsdk train gesture --data <motion folder> --set key=value` may set
CLI_OPTIONS = ("epochs", "time_budget_s", "quantization", "seed", "val_fraction", "synthetic_negatives", "min_takes",
               "threads")


__all__ = ["take_gestures", "train_custom_motion", "CLI_OPTIONS"]
