"""Train the motion model: held-out folds, the final model, its conversion
and (optionally) its gesture set in a bundle.

    python -m handsdk.train.models.motion.train --config train/configs/motion.yaml \\
        [--out runs/motion] [--bundle sdk/models/default.handsdk [--bundle-out B]] [--set train.epochs=4]

1. one pool of windows (:func:`.examples.motion_pool`);
2. each fold of ``train.folds`` trains a model on its training part and
   scores its held-out part (a path generator never seen, the real fingertip
   trajectories, the real hands): per-class precision / recall, macro-F1;
3. the final model trains on every window but a validation split of whole
   takes, is converted (int8 when its predictions agree with Keras on
   ``int8_min_agreement`` of the validation windows and its macro-F1 drops
   by at most ``int8_max_drop``, else fp16, else fp32), reloaded and scored
   again as converted;
4. ``out``: ``best.keras``, ``motion.weights.h5``, ``metadata.json``, the
   ``.tflite``, ``report.json`` and confusion PNGs; with ``--bundle`` the set
   is added to that bundle through :func:`handsdk.bundle.add_gesture_set`
   (the other models' bytes unchanged).
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path

import numpy as np

from .config import load_motion_config
from .examples import fold_split, motion_pool, split_by_take, subset


def fit(cfg, train: dict, val: dict | None, *, epochs: int, say=print, time_budget_s: float | None = None):
    """A motion model trained on ``train`` (class-balanced sample weights,
    label smoothing; each window turned, scaled and time-warped a little,
    with Gaussian position noise); the epoch with the best
    validation macro-F1 is kept (the last when there is no validation)."""
    from handsdk.train.metrics import classification_metrics
    from handsdk.train.tf import keras, tf

    from .evaluate import predict_keras
    from .model import build_motion, compile_motion

    m, t = cfg.model, cfg.train
    keras.utils.set_random_seed(t.seed)
    n_cls = len(m.labels)
    model = build_motion(m, n_cls)
    y = train["label"].astype(np.int64)
    cnt = np.bincount(y, minlength=n_cls).astype(np.float64)
    w = (len(y) / (n_cls * np.maximum(cnt, 1)))[y].astype(np.float32)
    steps = max(1, len(y) // t.batch_size)
    sched = keras.optimizers.schedules.CosineDecay(t.learning_rate, max(1, epochs * steps), alpha=0.05)
    compile_motion(model, cfg, keras.optimizers.Adam(sched), t.label_smoothing)
    X = train["history"]
    noise = float(m.noise)

    T, C = X.shape[1], X.shape[2]
    P = (C - 1) // 2

    def prep(x, yy, ww):
        # per window: a small camera roll (+-12 deg), the gesture drawn bigger or smaller (0.8-1.25),
        # faster or slower (a time warp of 0.8-1.25 about the window's end), position noise
        x = tf.cast(x, tf.float32)
        b = tf.shape(x)[0]
        xy, mask = tf.reshape(x[..., :-1], (b, T, P, 2)), x[..., -1:]
        a = tf.random.uniform((b, 1, 1), -0.21, 0.21)
        c, s_ = tf.cos(a), tf.sin(a)
        sc = tf.exp(tf.random.uniform((b, 1, 1), -0.22, 0.22))
        xr = (c * xy[..., 0] - s_ * xy[..., 1]) * sc
        yr = (s_ * xy[..., 0] + c * xy[..., 1]) * sc
        f = tf.concat([tf.reshape(tf.stack([xr, yr], -1), (b, T, 2 * P)), mask], -1)
        speed = tf.exp(tf.random.uniform((b, 1), -0.22, 0.22))
        pos = tf.clip_by_value((T - 1.0) - (T - 1.0 - tf.range(T, dtype=tf.float32)[None]) * speed, 0.0, T - 1.0)
        i0 = tf.cast(tf.floor(pos), tf.int32)
        i1 = tf.minimum(i0 + 1, T - 1)
        w = (pos - tf.cast(i0, tf.float32))[..., None]
        f = tf.gather(f, i0, batch_dims=1) * (1 - w) + tf.gather(f, i1, batch_dims=1) * w
        nz = tf.random.normal(tf.shape(f), stddev=noise)
        f = f + nz * tf.concat([tf.ones_like(f[..., :-1]), tf.zeros_like(f[..., -1:])], axis=-1)
        return f, tf.one_hot(yy, n_cls), ww

    ds = (tf.data.Dataset.from_tensor_slices((X, y, w)).shuffle(min(len(y), 65536), seed=t.seed)
          .batch(t.batch_size, drop_remainder=True).map(prep, num_parallel_calls=2).prefetch(2))
    best = {"f1": -1.0, "epoch": 0, "weights": None}
    t0 = time.time()
    history = []
    for ep in range(1, epochs + 1):
        h = model.fit(ds, epochs=1, verbose=0)
        rec = {"epoch": ep, "loss": round(float(h.history["loss"][-1]), 4), "seconds": round(time.time() - t0, 1)}
        if val is not None and len(val["label"]):
            p = predict_keras(model, val["history"]).argmax(-1)
            res = classification_metrics(val["label"], p, n_cls)
            rec.update(val_acc=round(res["accuracy"], 4), val_macro_f1=round(res["macro_f1"], 4))
            if res["macro_f1"] > best["f1"]:
                best.update(f1=res["macro_f1"], epoch=ep, weights=model.get_weights())
        history.append(rec)
        say(f"  epoch {ep}/{epochs}: " + ", ".join(f"{k} {v}" for k, v in rec.items() if k != "epoch"))
        if time_budget_s and time.time() - t0 > time_budget_s:
            say(f"  time budget of {time_budget_s:.0f}s reached")
            break
    if best["weights"] is not None:
        model.set_weights(best["weights"])
    model._handsdk_history = history  # noqa: SLF001 (for the report)
    model._handsdk_best_epoch = best["epoch"] or len(history)
    return model


def convert(model, cfg, val: dict, calib: np.ndarray, say=print) -> tuple[bytes, str, dict]:
    """(TFLite bytes, quantization, parity report): the first of
    ``train.quantization`` whose converted model agrees with Keras."""
    from handsdk.convert.tflite import keras_to_tflite
    from handsdk.train.metrics import classification_metrics

    from .evaluate import predict_keras

    t = cfg.train
    n_cls = len(cfg.model.labels)
    Xv = np.asarray(val["history"], np.float32)
    pk = predict_keras(model, Xv)
    fk = classification_metrics(val["label"], pk.argmax(-1), n_cls)["macro_f1"]
    tried = {}
    for q in t.quantization:
        rep = None
        if q == "int8":
            cal = np.asarray(calib, np.float32)

            def rep():
                for x in cal:
                    yield {"history": x[None]}
        tfl = keras_to_tflite(model, q, representative_data=rep)
        pt = tflite_scores(tfl, Xv)
        agree = float((pt.argmax(-1) == pk.argmax(-1)).mean())
        ft = classification_metrics(val["label"], pt.argmax(-1), n_cls)["macro_f1"]
        tried[q] = {"bytes": len(tfl), "agreement_with_keras": round(agree, 4), "macro_f1": round(ft, 4),
                    "keras_macro_f1": round(fk, 4), "max_abs_score_diff": round(float(np.abs(pt - pk).max()), 4)}
        say(f"  {q}: {len(tfl)} bytes, agreement {agree:.4f}, macro-F1 {ft:.4f} (Keras {fk:.4f})")
        if q == "int8":
            ok = agree >= t.int8_min_agreement and fk - ft <= t.int8_max_drop
        else:
            ok = q == "fp32" or agree >= 0.995
        if ok:
            return tfl, q, tried
    return tfl, q, tried


def tflite_scores(model_bytes: bytes, X: np.ndarray) -> np.ndarray:
    """Scores of the converted model, reloaded by the runtime's interpreter."""
    from handsdk.backends import open_model

    mdl = open_model(model_bytes, num_threads=1, name="motion")
    (name,) = mdl.inputs
    out = [next(iter(mdl(**{name: x[None]}).values())).reshape(-1) for x in np.asarray(X, np.float32)]
    return np.asarray(out, np.float32)


def macro_f1_true(res: dict, present) -> float:
    """Macro-F1 over the classes the test windows have (a fold of the real
    trajectories has three)."""
    return round(float(np.mean([res["per_class"][c]["f1"] for c in present])), 4) if present else 0.0


def train_motion(config=None, out=None, *, overrides: dict | None = None, bundle=None, bundle_out=None,
                 progress=print) -> dict:
    """Run the whole recipe (module docstring); returns the report."""
    from handsdk.train.tf import keras  # noqa: F401 (TensorFlow up front: a clear error without it)

    from .evaluate import classification_report, predict_keras
    from .model import motion_decoding, motion_metadata

    say = progress or (lambda s: None)
    cfg = load_motion_config(config, overrides)
    out = Path(out or cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    from handsdk.train.tf import set_threads

    set_threads(cfg.train.threads)
    t_start = time.time()
    rng = np.random.default_rng(cfg.data.seed)
    pool = motion_pool(cfg, rng, progress=say)
    labels = list(cfg.model.labels)
    n = len(pool["label"])
    say(f"pool: {n} windows in {pool['seconds']}s; per class "
        + ", ".join(f"{lab} {int((pool['label'] == i).sum())}" for i, lab in enumerate(labels)))
    report: dict = {"config": cfg.to_dict(), "labels": labels, "pool": {
        "windows": n, "seconds": pool["seconds"],
        "per_class": {lab: int((pool["label"] == i).sum()) for i, lab in enumerate(labels)},
        "by_generator": {g: int((pool["generator"] == g).sum()) for g in sorted(set(pool["generator"].tolist()))},
        "by_trajectory": {g: int((pool["trajectory"] == g).sum()) for g in sorted(set(pool["trajectory"].tolist()))},
        "real_hand_windows": int(sum(str(h).startswith("real") for h in pool["hand"]))}}
    held = {}
    for fold in cfg.train.folds:
        trm, tem = fold_split(pool, fold)
        if not tem.any() or not trm.any():
            say(f"fold {fold}: nothing to hold out, skipped")
            continue
        say(f"fold {fold}: train {int(trm.sum())} / test {int(tem.sum())} windows")
        mdl = fit(cfg, subset(pool, trm), None, epochs=cfg.train.fold_epochs, say=say,
                  time_budget_s=cfg.train.time_budget_s)
        te = subset(pool, tem & pool["clear"])
        p = predict_keras(mdl, te["history"]).argmax(-1)
        res = classification_report(te["label"], p, labels, plots_dir=out, tag=f"_{fold.replace(':', '_')}",
                                    title=f"held out: {fold}")
        present = sorted({labels[i] for i in np.unique(te["label"])})
        f1 = macro_f1_true(res, present)
        held[fold] = {"macro_f1": f1, "macro_f1_all_predicted": round(res["macro_f1"], 4),
                      "accuracy": round(res["accuracy"], 4), "windows": int(len(te["label"])), "classes": present,
                      "per_class": res["per_class"], "confusion_png": res.get("confusion_png")}
        say(f"fold {fold}: macro-F1 {f1:.4f} over {present} ({len(te['label'])} windows)")
    report["held_out"] = held
    # ---- the final model
    tr, va = split_by_take(pool, cfg.train.val_fraction, rng)
    say(f"final model: train {len(tr['label'])} / validation {len(va['label'])} windows")
    model = fit(cfg, tr, va, epochs=cfg.train.epochs, say=say, time_budget_s=cfg.train.time_budget_s)
    va_clear = subset(va, va["clear"])
    pk = predict_keras(model, va_clear["history"]).argmax(-1)
    rk = classification_report(va_clear["label"], pk, labels)
    report["validation_keras"] = {"macro_f1": round(rk["macro_f1"], 4), "accuracy": round(rk["accuracy"], 4),
                                  "per_class": rk["per_class"]}
    report["training"] = {"history": model._handsdk_history, "best_epoch": model._handsdk_best_epoch,
                          "params": int(model.count_params())}
    model.save(out / "best.keras")
    model.save_weights(str(out / "motion.weights.h5"))
    meta = motion_metadata(model, cfg, labels)
    meta.update({"task": "motion", "name": cfg.name, "config": cfg.to_dict()})
    (out / "metadata.json").write_text(json.dumps(meta, indent=1, default=str))
    calib = tr["history"][rng.permutation(len(tr["label"]))[:400]]
    tfl, q, tried = convert(model, cfg, va, calib, say=say)
    (out / f"motion_{q}.tflite").write_bytes(tfl)
    pt = tflite_scores(tfl, va_clear["history"]).argmax(-1)
    rt = classification_report(va_clear["label"], pt, labels, plots_dir=out, tag="_validation_tflite",
                               title=f"validation ({q} TFLite)")
    report["conversion"] = {"quantization": q, "tried": tried, "bytes": len(tfl)}
    report["validation_tflite"] = {"macro_f1": round(rt["macro_f1"], 4), "accuracy": round(rt["accuracy"], 4),
                                   "per_class": rt["per_class"], "confusion_png": rt.get("confusion_png")}
    say(f"final ({q} TFLite) validation macro-F1 {rt['macro_f1']:.4f}")
    report["seconds"] = round(time.time() - t_start, 1)
    metrics = {"val_macro_f1": report["validation_tflite"]["macro_f1"],
               "held_out_macro_f1": {k: v["macro_f1"] for k, v in held.items()},
               "held_out_authors": list(cfg.data.heldout_authors)}
    report["metrics"] = metrics
    (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    if bundle is not None:
        report["bundle"] = add_motion_run(out, bundle, bundle_out, progress=say)
        (out / "report.json").write_text(json.dumps(report, indent=1, default=str))
    return report


def add_motion_run(run, bundle, bundle_out=None, *, progress=print) -> dict:
    """Add a finished motion run (``run``: the folder :func:`train_motion`
    wrote: its report, metadata and converted model) to ``bundle`` as a
    gesture set of kind motion, written to ``bundle_out`` (default: in
    place). Returns {"path", "bytes"}."""
    from handsdk.bundle import add_gesture_set

    from .model import motion_decoding

    run = Path(run)
    try:
        report = json.loads((run / "report.json").read_text())
    except (OSError, json.JSONDecodeError) as e:
        raise FileNotFoundError(f"{run}: no readable report.json of a finished motion run ({e}); train it with "
                                f"python -m handsdk.train.models.motion.train --out {run}") from None
    cfg = load_motion_config(None, None, from_dict=report["config"])
    q = report["conversion"]["quantization"]
    tfl = (run / f"motion_{q}.tflite").read_bytes()
    role = f"gesture:{cfg.model.label_set}"
    metrics = report["metrics"]
    prov = {"training_data_by_model": {role: [
                "synthetic keypoint streams (handsdk.train.synth.motion: the renderer's kinematic hand, "
                "three path generators)", "gesture_keypoints_csv/*/keypoint.csv (real static hands, Apache-2.0)",
                "gesture_keypoints_csv/Kazuhito00/point_history.csv (real fingertip trajectories, Apache-2.0; "
                "kinivi's is the same file)"]
            + ([f"real hand photos ({', '.join(cfg.data.pipeline_sets)}) moved along the paths, read by the "
                f"detector and landmarker of {Path(cfg.data.pipeline).name}"]
               if cfg.data.pipeline and (cfg.data.pipeline_takes_per_class or cfg.data.pipeline_none_takes) else [])},
            "metrics": {role: metrics},
            "configs": {role: f"train/configs/{cfg.name}.yaml"}}
    data = add_gesture_set(bundle, cfg.model.label_set, tfl, list(report["labels"]), output=bundle_out or bundle,
                           kind="motion", none_label=cfg.model.none_label, quantization=q, metrics=metrics,
                           provenance=prov, decoding=motion_decoding(cfg.model))
    progress(f"wrote {bundle_out or bundle} ({len(data)} bytes)")
    return {"path": str(bundle_out or bundle), "bytes": len(data)}


def main(argv=None):
    import argparse

    ap = argparse.ArgumentParser(prog="python -m handsdk.train.models.motion.train", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", "-c", default=None, help="YAML config (default: the built-in defaults)")
    ap.add_argument("--out", "-o", default=None, help="output folder (default: the config's out)")
    ap.add_argument("--bundle", default=None, help="add the set to this bundle (written in place unless --bundle-out)")
    ap.add_argument("--bundle-out", default=None)
    ap.add_argument("--set", action="append", default=[], help="override, e.g. train.epochs=4")
    a = ap.parse_args(argv)
    ov = {}
    for item in a.set:
        k, _, v = item.partition("=")
        import yaml

        ov[k] = yaml.safe_load(v)
    rep = train_motion(a.config, a.out, overrides=ov, bundle=a.bundle, bundle_out=a.bundle_out)
    print(json.dumps({"held_out": {k: v["macro_f1"] for k, v in rep["held_out"].items()},
                      "validation_tflite": rep["validation_tflite"]["macro_f1"],
                      "quantization": rep["conversion"]["quantization"], "seconds": rep["seconds"]}, indent=1))


if __name__ == "__main__":
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    main()
