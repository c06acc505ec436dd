"""The training loop of the three models: data pools -> tf.data -> Keras fit
under a ``tf.distribute`` strategy, with resumable checkpoints, per-epoch
metrics (CSV + JSON), curves (PNG) and export of the best model
(``best.keras`` with the exported contract + ``metadata.json``).

``train(cfg, out=None, resume=False)`` is the one entry point (the CLI
``handsdk train detector|pose|gesture --config ...`` calls it).
"""
from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from handsdk.train.config import Config, data_root
from handsdk.train.tf import keras, tf

DEFAULT_MONITOR = {"detector": "val_ap", "pose": "val_pck20", "gesture": "val_macro_f1"}


# ------------------------------------------------------------ distribution


def get_strategy(name: str = "default"):
    """``default``: the default (one device) strategy; ``mirrored``:
    MirroredStrategy over the local GPUs (the CPU when there is none);
    ``multi_worker``: MultiWorkerMirroredStrategy configured from TF_CONFIG."""
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        return tf.distribute.MirroredStrategy(devices=None if gpus else ["/cpu:0"])
    if name == "multi_worker":
        return tf.distribute.MultiWorkerMirroredStrategy()
    raise ValueError(f"unknown distribute strategy {name!r}")


def _is_chief(strategy) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return resolver.task_type in ("chief", None) or (resolver.task_type == "worker" and resolver.task_id == 0)


# ------------------------------------------------------------------- data


class TaskData:
    """The pools of one task and their tf.data pipelines."""

    def __init__(self, cfg: Config):
        from handsdk.train.models import data as D

        self.cfg = cfg
        rng = np.random.default_rng(cfg.data.seed)
        root = None
        try:
            root = data_root(cfg)
        except Exception:  # pragma: no cover
            pass
        task = cfg.task
        m = cfg.model
        size = (m.input_height, m.input_width) if task == "detector" else (
            (m.input_size * 2, m.input_size * 2) if task == "pose" else (96, 96))
        kw = dict(root=root, task=task, size=size, pipeline=cfg.data.pipeline)
        t0 = time.time()
        train_s = D.mixed_samples(cfg.data.train, rng, cfg.data.num_train, **kw)
        vkw = dict(kw, task="detector_eval") if task == "detector" else kw
        val_s = D.mixed_samples(cfg.data.val, rng, cfg.data.num_val, **vkw) if cfg.data.val else []
        self.labels = None
        if task == "detector":
            mh = int(cfg.data.max_hands)
            self.train = D.detector_pool(train_s, m.input_height, m.input_width, mh, zoom=cfg.data.zoom,
                                         zoom_prob=cfg.data.zoom_prob, rng=rng)
            self.val = D.detector_pool(val_s, m.input_height, m.input_width, mh)
            self.val["boxes"] = _letterboxed_boxes(val_s, m.input_height, m.input_width, mh)
        elif task == "pose":
            from handsdk.train.data import mining

            hard = mining.load(cfg.data.hard_negatives) if cfg.data.hard_negatives else None
            vhard = mining.load(cfg.data.val_hard_negatives) if cfg.data.val_hard_negatives else None
            self.train = D.pose_pool(train_s, m.input_size, m, rng, cfg.data.negatives, jitter=cfg.data.augment,
                                     hard_negatives=hard)
            vr = np.random.default_rng(cfg.data.seed + 1)
            self.val = D.pose_pool(val_s, m.input_size, m, vr, cfg.data.negatives, jitter=False,
                                   hard_negatives=vhard)
        else:
            labels = list(m.labels) or None
            ftr, ltr = D.gesture_pool(train_s, labels)
            fva, lva = D.gesture_pool(val_s, labels)
            if labels is None:
                labels = sorted(set(ltr.tolist()))
                if m.none_label in labels:  # the none class first
                    labels = [m.none_label] + [x for x in labels if x != m.none_label]
            self.labels = labels
            idx = {x: i for i, x in enumerate(labels)}
            keep_tr = np.array([x in idx for x in ltr], bool)
            keep_va = np.array([x in idx for x in lva], bool)
            self.train = {"keypoints": ftr[keep_tr], "label": np.array([idx[x] for x in ltr[keep_tr]], np.int32)}
            self.val = {"keypoints": fva[keep_va], "label": np.array([idx[x] for x in lva[keep_va]], np.int32)}
        self.seconds = time.time() - t0
        self.num_train = len(next(iter(self.train.values())))
        self.num_val = len(next(iter(self.val.values()))) if self.val else 0
        if self.num_train == 0:
            raise RuntimeError("the training pool is empty: check data.train sources")

    # -- pipelines

    def dataset(self, split: str, batch_size: int, *, training: bool):
        pool = self.train if split == "train" else self.val
        pool = {k: v for k, v in pool.items() if k != "boxes"}
        n = len(next(iter(pool.values())))
        ds = tf.data.Dataset.from_tensor_slices(pool)
        if training:
            ds = ds.shuffle(min(n, 4096), seed=self.cfg.train.seed, reshuffle_each_iteration=True).repeat()
        fn = {"detector": self._detector_example, "pose": self._pose_example,
              "gesture": self._gesture_example}[self.cfg.task]
        ds = ds.map(lambda ex: fn(ex, training and self.cfg.data.augment), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch_size, drop_remainder=training)
        opts = tf.data.Options()
        opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        opts.deterministic = not training
        return ds.with_options(opts).prefetch(tf.data.AUTOTUNE)

    @staticmethod
    def _color(img, seed_ok=True):
        img = tf.image.random_brightness(img, 0.15)
        img = tf.image.random_contrast(img, 0.75, 1.25)
        img = tf.image.random_saturation(img, 0.7, 1.3)
        return tf.clip_by_value(img, 0.0, 1.0)

    def _detector_example(self, ex, augment):
        from handsdk.train.models.targets import render_skeleton_tf

        m = self.cfg.model
        img = tf.cast(ex["image"], tf.float32) / 255.0
        kp = ex["keypoints"]
        if augment:
            flip = tf.random.uniform(()) < 0.5
            img = tf.cond(flip, lambda: img[:, ::-1], lambda: img)
            fx = tf.where(kp[..., 2] >= 0, float(m.input_width) - kp[..., 0], kp[..., 0])
            kp = tf.cond(flip, lambda: tf.stack([fx, kp[..., 1], kp[..., 2]], -1), lambda: kp)
            img = self._color(img)
        skel = render_skeleton_tf(kp, m.input_height, m.input_width, m.skeleton_thickness)
        return {"image": img}, {"skeleton": skel[..., None]}

    def _pose_example(self, ex, augment):
        from handsdk.train.models.targets import gaussian_heatmaps_tf, render_skeleton_tf

        m = self.cfg.model
        s = int(m.input_size)
        img = tf.cast(ex["image"], tf.float32) / 255.0
        kp = ex["keypoints"]
        hand = ex["handedness"]
        pres = ex["presence"]
        if augment:
            flip = tf.random.uniform(()) < 0.5
            img = tf.cond(flip, lambda: img[:, ::-1], lambda: img)
            fx = tf.where(kp[:, 2] >= 0, float(s) - kp[:, 0], kp[:, 0])
            kp = tf.cond(flip, lambda: tf.stack([fx, kp[:, 1], kp[:, 2]], -1), lambda: kp)
            hand = tf.cond(flip & (hand >= 0), lambda: 1.0 - hand, lambda: hand)
            img = self._color(img)
        inputs = {"image": img}
        if m.use_skeleton:
            skp = kp
            if augment:
                # per-keypoint noise plus a shift of the whole hand (a skeleton from
                # the previous frame or from a coarse detector map is off as a whole)
                noise = tf.random.normal(tf.shape(kp[:, :2]), stddev=m.skeleton_jitter * s)
                noise += tf.random.normal((1, 2), stddev=m.skeleton_jitter * s)
                skp = tf.concat([kp[:, :2] + noise, kp[:, 2:]], -1)
                bones = tf.random.uniform((1, 21)) >= m.skeleton_dropout
                thick = tf.random.uniform((), 0.6, 2.0) * m.skeleton_thickness
                sk = render_skeleton_tf(skp[None], s, s, thick, bone_mask=bones)
                blank = tf.random.uniform(()) < m.skeleton_blank
                sk = tf.where(blank, tf.zeros_like(sk), sk)
            else:
                sk = render_skeleton_tf(skp[None], s, s, m.skeleton_thickness)
            # a hand-free crop has no skeleton, except a mined hard negative (where a
            # detector fired), which carries a hand-like one (see pose_pool)
            sk = tf.where((pres > 0.5) | tf.reduce_any(kp[:, 2] >= 0), sk, tf.zeros_like(sk))
            inputs["skeleton"] = sk[..., None]
        targets = {}
        finest = min(m.scales)
        w = tf.cast(kp[:, 2] >= 0, tf.float32) * pres  # (21,)
        for stride in m.scales:
            r = s // stride
            sigma = max(m.sigma * finest / stride, 1.0)
            hm = gaussian_heatmaps_tf(kp, s, r, r, sigma)
            wm = tf.broadcast_to(w[None, None, :], (r, r, 21))
            targets[f"hm_s{stride}"] = tf.concat([hm, wm], -1)
        targets["presence"] = pres[None]
        targets["handedness"] = tf.where(pres > 0.5, hand, -1.0)[None]
        if m.coord_weight > 0:
            targets["coords"] = tf.concat([kp[:, :2] / float(s), w[:, None]], -1)
        return inputs, targets

    def _gesture_example(self, ex, augment):
        m = self.cfg.model
        f = ex["keypoints"]
        if augment:
            a = tf.random.uniform((), -0.25, 0.25)
            c, sn = tf.cos(a), tf.sin(a)
            rot = tf.stack([tf.stack([c, sn]), tf.stack([-sn, c])])
            f = tf.matmul(f, rot)
            sx = tf.random.uniform((), 0.85, 1.15)
            f = f * tf.stack([sx, 1.0 / sx])
            if m.mirror:
                f = tf.cond(tf.random.uniform(()) < 0.5, lambda: f * tf.constant([-1.0, 1.0]), lambda: f)
            f = f + tf.random.normal(tf.shape(f), stddev=m.noise)
            f = f - f[:1]
            f = f / tf.maximum(tf.reduce_max(tf.abs(f)), 1e-6)
        return {"keypoints": f}, {"scores": ex["label"]}


def _letterboxed_boxes(samples, h, w, max_hands=2):
    from handsdk.image import apply_affine, letterbox_matrix

    out = np.full((len(samples), max_hands, 4), -1.0, np.float32)
    for i, s in enumerate(samples):
        m = letterbox_matrix(s.image.shape[:2], (h, w))
        human = s.extras.get("human_boxes")  # scene sets: the boxes people drew
        for j, b in enumerate((s.boxes if human is None else human)[:max_hands]):
            c = apply_affine(m, np.array([[b[0], b[1]], [b[2], b[3]]], np.float64))
            out[i, j] = [c[0, 0], c[0, 1], c[1, 0], c[1, 1]]
    return out


# ------------------------------------------------------------------ model


def compile_model(model, cfg: Config, steps_per_epoch: int):
    from handsdk.train.models import losses as LS

    t = cfg.train
    total = max(1, t.epochs * steps_per_epoch)
    if t.lr_schedule == "cosine":
        lr = keras.optimizers.schedules.CosineDecay(t.learning_rate, total, alpha=0.05)
    elif t.lr_schedule == "step":
        lr = keras.optimizers.schedules.ExponentialDecay(
            t.learning_rate, max(1, t.lr_decay_epochs * steps_per_epoch), 0.9, staircase=True)
    else:
        lr = t.learning_rate
    if t.weight_decay > 0:
        opt = keras.optimizers.AdamW(lr, weight_decay=t.weight_decay)
    else:
        opt = keras.optimizers.Adam(lr)
    m = cfg.model
    if cfg.task == "detector":
        model.compile(opt, loss={"skeleton": LS.skeleton_loss(m.l1_weight, m.dice_weight)})
    elif cfg.task == "pose":
        finest = min(m.scales)
        loss, weights = {}, {}
        for st, wt in zip(m.scales, m.scale_weights):
            sigma = max(m.sigma * finest / st, 1.0)
            loss[f"hm_s{st}"] = LS.heatmap_loss(sigma, m.heatmap_weight)
            weights[f"hm_s{st}"] = float(wt)
        loss["presence"] = LS.masked_bce()
        weights["presence"] = m.presence_weight
        loss["handedness"] = LS.masked_bce()
        weights["handedness"] = m.handedness_weight
        if m.coord_weight > 0:
            loss["coords"] = LS.coord_l1_loss()
            weights["coords"] = m.coord_weight
        model.compile(opt, loss=loss, loss_weights=weights,
                      metrics={"handedness": [LS.binary_accuracy_known]})
    else:
        model.compile(opt, loss={"scores": keras.losses.SparseCategoricalCrossentropy()},
                      metrics={"scores": ["accuracy"]})
    return model


# ------------------------------------------------------------- callbacks


class EvalCallback(keras.callbacks.Callback):
    """Task metrics on the validation pool (numpy, :mod:`handsdk.metrics`),
    added to the epoch logs as ``val_*``; exports the best model."""

    def __init__(self, cfg: Config, data: TaskData, out: Path, best: dict, chief: bool = True):
        super().__init__()
        self.cfg, self.data, self.out, self.best = cfg, data, out, best
        self.chief = chief
        self.monitor = cfg.train.monitor or DEFAULT_MONITOR[cfg.task]

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        if self.data.num_val and ((epoch + 1) % self.cfg.train.val_every == 0 or epoch + 1 == self.cfg.train.epochs):
            from handsdk.train.evaluate import evaluate_pool
            from handsdk.train.models import export_model

            exported = export_model(self.model, self.cfg)
            res = evaluate_pool(exported, self.cfg, self.data.val, labels=self.data.labels)
            for k, v in res.items():
                if isinstance(v, (int, float)) and not isinstance(v, bool):
                    logs[f"val_{k}"] = float(v)
        value = logs.get(self.monitor)
        if value is None:  # no validation: fall back to the training loss
            value = -float(logs.get("loss", np.inf))
        if self.chief and (self.best.get("value") is None or value > self.best["value"]):
            self.best.update(value=float(value), epoch=int(epoch + 1))
            export_best(self.model, self.cfg, self.out, self.data.labels,
                        extra={"epoch": epoch + 1, "monitor": self.monitor, "value": float(value),
                               "metrics": {k: float(v) for k, v in logs.items()}})
            (self.out / "best.json").write_text(json.dumps(self.best))


class TimeLimit(keras.callbacks.Callback):
    """Stop at the end of the epoch that passes ``minutes`` of training."""

    def __init__(self, minutes: float):
        super().__init__()
        self.limit = minutes * 60.0
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        if time.time() - self.t0 > self.limit:
            print(f"[handsdk] time limit reached after epoch {epoch + 1}", flush=True)
            self.model.stop_training = True


class HistoryWriter(keras.callbacks.Callback):
    """history.json (one record per epoch, appended on resume) and curves.png."""

    def __init__(self, out: Path, resume: bool):
        super().__init__()
        self.path = out / "history.json"
        self.out = out
        self.records = json.loads(self.path.read_text()) if resume and self.path.is_file() else []
        self.t0 = time.time()

    def on_epoch_end(self, epoch, logs=None):
        rec = {"epoch": epoch + 1, "time_s": round(time.time() - self.t0, 2)}
        rec.update({k: float(v) for k, v in (logs or {}).items()
                    if isinstance(v, (int, float, np.floating)) or hasattr(v, "__float__")})
        self.records = [r for r in self.records if r["epoch"] < epoch + 1] + [rec]
        self.path.write_text(json.dumps(self.records, indent=1))
        try:
            plot_curves(self.records, self.out / "curves.png")
        except Exception as e:  # pragma: no cover - plotting must not stop training
            print(f"warning: could not plot curves: {e}")


def plot_curves(records, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = sorted({k for r in records for k in r if k not in ("epoch", "time_s")})
    loss_keys = [k for k in keys if k in ("loss", "val_loss")]
    skip = ("num_", "threshold", "_tp", "_fp", "_fn", "_tn")
    vals = [k for k in keys if k.startswith("val_") and not k.endswith("loss") and not any(x in k for x in skip)]
    unit = [k for k in vals if all(0.0 <= r.get(k, 0.0) <= 1.0 or r.get(k) != r.get(k) for r in records)]
    other = [k for k in vals if k not in unit]
    fig, axes = plt.subplots(1, 3 if other else 2, figsize=(15 if other else 11, 4))
    ep = [r["epoch"] for r in records]
    for k in loss_keys or ["loss"]:
        axes[0].plot(ep, [r.get(k, np.nan) for r in records], marker="o", label=k)
    axes[0].set_xlabel("epoch"), axes[0].set_title("loss"), axes[0].legend()
    for ax, ks, title in ((axes[1], unit[:10], "validation metrics"),
                          (axes[2] if other else None, other[:6], "validation errors")):
        if ax is None:
            continue
        for k in ks:
            ax.plot(ep, [r.get(k, np.nan) for r in records], marker="o", label=k)
        ax.set_xlabel("epoch"), ax.set_title(title)
        if ks:
            ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def export_best(model, cfg: Config, out: Path, labels=None, extra: dict | None = None) -> Path:
    """Save the exported-contract model as ``best.keras`` + ``metadata.json``."""
    from handsdk.train.models import export_model, model_metadata

    exported = export_model(model, cfg)
    path = out / "best.keras"
    tmp = out / "best.tmp.keras"
    exported.save(tmp)
    os.replace(tmp, path)
    meta = model_metadata(exported, cfg, labels)
    meta.update({"task": cfg.task, "name": cfg.name, "config": cfg.to_dict(),
                 "data": {"train": [s.name for s in cfg.data.train], "val": [s.name for s in cfg.data.val]}})
    if extra:
        meta["best"] = extra
    (out / "metadata.json").write_text(json.dumps(meta, indent=1, default=_json_default))
    return path


def _json_default(o):
    if isinstance(o, (np.integer,)):
        return int(o)
    if isinstance(o, (np.floating,)):
        return float(o)
    if isinstance(o, np.ndarray):
        return o.tolist()
    return str(o)


def load_exported(path):
    """Load a ``best.keras`` (with the project's custom layers)."""
    from handsdk.train.models import custom_objects

    return keras.models.load_model(path, custom_objects=custom_objects(), compile=False)


# ------------------------------------------------------------------- train


def init_weights(model, source: str | os.PathLike) -> dict:
    """Copy weights from a trained model (a run folder or a ``.keras`` file)
    into ``model``, layer by layer where names and weight shapes agree (a head
    with another number of classes keeps its fresh weights). Returns counts."""
    path = Path(source)
    if path.is_dir():
        path = path / "best.keras"
    if not path.is_file():
        raise FileNotFoundError(f"train.init_from: no trained model at {path} "
                                f"(give a run folder with best.keras, or a .keras file)")
    src = {layer.name: layer for layer in load_exported(path).layers}
    copied, skipped = 0, []
    for layer in model.layers:
        other = src.get(layer.name)
        if other is None or not layer.weights:
            continue
        theirs = other.get_weights()
        if [w.shape for w in theirs] == [tuple(w.shape) for w in layer.weights]:
            layer.set_weights(theirs)
            copied += 1
        else:
            skipped.append(layer.name)
    if not copied:
        raise ValueError(f"train.init_from: no layer of {path} matches the model being trained "
                         f"(different architecture?)")
    print(f"[handsdk] initialised {copied} layer(s) from {path}"
          + (f"; kept fresh (shape differs): {', '.join(skipped)}" if skipped else ""), flush=True)
    return {"copied": copied, "skipped": skipped}



def train(cfg: Config, out: str | os.PathLike | None = None, resume: bool = False,
          data: TaskData | None = None) -> dict:
    """Train ``cfg.task``; returns a summary (paths, best metric, history)."""
    t = cfg.train
    if t.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(int(t.threads))
            tf.config.threading.set_inter_op_parallelism_threads(max(1, int(t.threads)))
        except RuntimeError:
            pass  # already initialised (tests)
    keras.utils.set_random_seed(t.seed)
    out = Path(out or cfg.out)
    out.mkdir(parents=True, exist_ok=True)
    backup = out / "backup"
    if not resume:
        shutil.rmtree(backup, ignore_errors=True)
        for name in ("best.json", "history.json", "metrics.csv"):
            (out / name).unlink(missing_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=1, default=_json_default))

    strategy = get_strategy(t.distribute)
    chief = _is_chief(strategy)
    if data is None:
        data = TaskData(cfg)
    print(f"[handsdk] {cfg.task}: {data.num_train} training / {data.num_val} validation examples "
          f"(pools built in {data.seconds:.1f}s); strategy {type(strategy).__name__} "
          f"with {strategy.num_replicas_in_sync} replica(s)", flush=True)
    global_batch = t.batch_size * strategy.num_replicas_in_sync
    steps = t.steps_per_epoch or max(1, data.num_train // global_batch)
    train_ds = data.dataset("train", global_batch, training=True)

    from handsdk.train.models import build_model

    with strategy.scope():
        model = build_model(cfg, num_classes=len(data.labels) if data.labels else None)
        compile_model(model, cfg, steps)
        if t.init_from and not (resume and (backup).is_dir()):
            init_weights(model, t.init_from)
    best = json.loads((out / "best.json").read_text()) if resume and (out / "best.json").is_file() else {}
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup)),
        EvalCallback(cfg, data, out, best, chief),
        keras.callbacks.CSVLogger(str(out / "metrics.csv"), append=resume),
        HistoryWriter(out, resume),
        keras.callbacks.TerminateOnNaN(),
    ]
    if t.time_limit_min:
        callbacks.append(TimeLimit(t.time_limit_min))
    t0 = time.time()
    hist = model.fit(train_ds, epochs=t.epochs, steps_per_epoch=steps, callbacks=callbacks,
                     verbose=t.verbose)
    seconds = time.time() - t0
    summary = {"task": cfg.task, "out": str(out), "best": best, "seconds": round(seconds, 2),
               "steps_per_epoch": steps, "params": int(model.count_params()),
               "history": {k: [float(x) for x in v] for k, v in hist.history.items()},
               "labels": data.labels}
    if chief and (out / "best.keras").is_file() and data.num_val:
        try:
            from handsdk.train.evaluate import evaluate_pool

            final = evaluate_pool(load_exported(out / "best.keras"), cfg, data.val, labels=data.labels,
                                  plots_dir=out)
            summary["val"] = {k: v for k, v in final.items() if not isinstance(v, (list, dict))}
            (out / "val_metrics.json").write_text(json.dumps(final, indent=1, default=_json_default))
        except Exception as e:  # pragma: no cover
            print(f"warning: final evaluation failed: {e}")
    (out / "summary.json").write_text(json.dumps(summary, indent=1, default=_json_default))
    return summary


__all__ = ["train", "init_weights", "get_strategy", "TaskData", "compile_model", "export_best", "load_exported", "plot_curves"]
