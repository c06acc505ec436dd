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

from handsdk.train.config import TASKS, Config, data_root
from handsdk.train.models import get as get_task
from handsdk.train.tf import keras, tf

#: the metric that picks the best epoch, per task (from the models' registry)
DEFAULT_MONITOR = {name: get_task(name).monitor for name in TASKS}


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
    """The pools of one task and their tf.data pipelines (what differs per
    task comes from its :class:`~handsdk.train.models.TaskSpec`)."""

    def __init__(self, cfg: Config):
        from handsdk.train.data import sources as D

        self.cfg = cfg
        self.spec = spec = get_task(cfg.task)
        rng = np.random.default_rng(cfg.data.seed)
        root = None
        try:
            root = data_root(cfg)
        except Exception:  # pragma: no cover
            pass
        kw = dict(root=root, task=spec.source_task, size=spec.frame_size(cfg), pipeline=cfg.data.pipeline)
        t0 = time.time()
        hands = None
        if cfg.data.teacher:  # hands MediaPipe's pipeline missed, labelled by its landmark model
            from handsdk.train.data import teacher

            hands = teacher.load_all(cfg.data.teacher)
        train_s = D.mixed_samples(cfg.data.train, rng, cfg.data.num_train, teacher=hands, **kw)
        self.teacher_hands = sum(s.extras.get("teacher_hands", 0) for s in train_s)
        vkw = dict(kw, task=spec.eval_source_task)
        val_s = D.mixed_samples(cfg.data.val, rng, cfg.data.num_val, **vkw) if cfg.data.val else []
        self.train, self.val, self.labels = spec.pools(cfg, train_s, val_s, rng)
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
        fn, cfg = self.spec.example, self.cfg
        ds = ds.map(lambda ex: fn(cfg, ex, training and cfg.data.augment), num_parallel_calls=tf.data.AUTOTUNE)
        ds = ds.batch(batch_size, drop_remainder=training)
        opts = tf.data.Options()
        opts.experimental_distribute.auto_shard_policy = tf.data.experimental.AutoShardPolicy.DATA
        opts.deterministic = not training
        return ds.with_options(opts).prefetch(tf.data.AUTOTUNE)


# ------------------------------------------------------------------ model


def freeze_except(model, prefixes) -> list[str]:
    """Freeze every layer of ``model`` whose name starts with none of
    ``prefixes`` (frozen BatchNorm layers keep their statistics); returns the
    names of the layers left trainable."""
    prefixes = [str(p) for p in prefixes]
    if not prefixes or any(not p for p in prefixes):
        raise ValueError("train.trainable: give the name prefixes of the layers to train "
                         "(e.g. [presence_fc, presence]); leave it out to train every layer")
    kept = []
    for layer in model.layers:
        layer.trainable = any(layer.name.startswith(p) for p in prefixes)
        if layer.trainable and layer.weights:
            kept.append(layer.name)
    if not kept:
        names = ", ".join(layer.name for layer in model.layers if layer.weights)
        raise ValueError(f"train.trainable: no layer with weights is named {prefixes} (the model has: {names})")
    return kept


def compile_model(model, cfg: Config, steps_per_epoch: int):
    """The optimizer and learning-rate schedule of ``cfg.train``; the task's
    losses and metrics (its ``TaskSpec.compile``)."""
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
    get_task(cfg.task).compile(model, cfg, opt)
    return model


# ------------------------------------------------------------- callbacks


class EvalCallback(keras.callbacks.Callback):
    """Task metrics on the validation pool (numpy, :mod:`handsdk.train.metrics`),
    added to the epoch logs as ``val_*``; exports the best model."""

    def __init__(self, cfg: Config, data: TaskData, out: Path, best: dict, chief: bool = True):
        super().__init__()
        self.cfg, self.data, self.out, self.best = cfg, data, out, best
        self.chief = chief
        self.monitor = cfg.train.monitor or DEFAULT_MONITOR[cfg.task]
        self.window = int(cfg.train.select_window)
        self.values: list[float] = []  # the monitor of each validated epoch

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
        elif self.window > 1:  # the mean of the last `window` validated epochs
            self.values.append(float(value))
            value = float(np.mean(self.values[-self.window:]))
            logs[f"{self.monitor}_mean{self.window}"] = value
        if self.chief and (self.best.get("value") is None or value > self.best["value"]):
            self.best.update(value=float(value), epoch=int(epoch + 1))
            extra = {"epoch": epoch + 1, "monitor": self.monitor, "value": float(value),
                     "metrics": {k: float(v) for k, v in logs.items()}}
            if self.window > 1:
                extra["select_window"] = self.window
            export_best(self.model, self.cfg, self.out, self.data.labels, extra=extra)
            (self.out / "best.json").write_text(json.dumps(self.best))


class TimeLimit(keras.callbacks.Callback):
    """Stop at the end of the epoch that passes ``minutes`` of training."""

    def __init__(self, minutes: float, epochs: int | None = None):
        super().__init__()
        self.limit = minutes * 60.0
        self.epochs = epochs
        self.t0 = time.time()
        self.stopped = False  # stopped before the last epoch: the run is to be resumed

    def on_epoch_end(self, epoch, logs=None):
        if time.time() - self.t0 > self.limit and (self.epochs is None or epoch + 1 < self.epochs):
            print(f"[handsdk] time limit reached after epoch {epoch + 1}; continue with --resume", flush=True)
            self.model.stop_training = True
            self.stopped = True


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
    _save_uncompiled(exported, path)
    meta = model_metadata(exported, cfg, labels)
    meta.update({"task": cfg.task, "name": cfg.name, "config": cfg.to_dict(),
                 "data": {"train": [s.name for s in cfg.data.train], "val": [s.name for s in cfg.data.val]}})
    if extra:
        meta["best"] = extra
    (out / "metadata.json").write_text(json.dumps(meta, indent=1, default=_json_default))
    m = getattr(cfg, "model", None)
    if getattr(m, "rotation_head", False) and not getattr(m, "rotation_output", True):
        # the head trained but is not exported: a copy with it, for a later stage's
        # train.init_from (else that stage's head would start from random weights)
        from dataclasses import replace

        full = export_model(model, replace(cfg, model=replace(m, rotation_output=True)))
        _save_uncompiled(full, out / "best_with_rotation.keras")
    return path


def _save_uncompiled(model, path: Path) -> None:
    """``model.save(path)`` (through a temporary file, replaced at the end)
    without the optimizer's state: the ``.keras`` format has no
    ``include_optimizer``, and the detector and GestureNet export their
    compiled training model, so a compiled model is saved, reloaded uncompiled
    (:func:`load_exported`) and saved again; the weights are the same, bit
    for bit."""
    path = Path(path)
    tmp = path.with_name(path.name.removesuffix(".keras") + ".tmp.keras")
    model.save(tmp)
    if getattr(model, "optimizer", None) is not None:
        load_exported(tmp).save(tmp)
    os.replace(tmp, path)


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



def stage_folders(cfg: Config, out: str | os.PathLike | None = None) -> list[tuple[str, Config, Path]]:
    """(name, config, folder) of each stage of ``cfg`` (:func:`~handsdk.train.config.stage_configs`):
    ``<out>/stages/<k>_<name>`` for all but the last, which trains in ``out`` itself."""
    from handsdk.train.config import stage_configs

    out = Path(out or cfg.out)
    stages = stage_configs(cfg)
    return [(name, sc, out if k == len(stages) else out / "stages" / f"{k}_{name}")
            for k, (name, sc) in enumerate(stages, start=1)]


def _stage_done(folder: Path) -> bool:
    try:
        return bool(json.loads((folder / "summary.json").read_text()).get("finished"))
    except (OSError, ValueError):
        return False


def selected_weights(folder: Path) -> Path:
    """The weights a run selected, for the next stage's ``init_from``: its
    ``best_with_rotation.keras`` (the rotation head kept) when there is one, else ``best.keras``."""
    folder = Path(folder)
    full = folder / "best_with_rotation.keras"
    return full if full.is_file() else folder / "best.keras"


def train(cfg: Config, out: str | os.PathLike | None = None, resume: bool = False,
          data: TaskData | None = None) -> dict:
    """Train ``cfg.task``; returns a summary (paths, best metric, history).

    A config with ``stages`` (a schedule in one config) trains them in turn, each
    from the weights the one before selected; ``train.time_limit_min`` then bounds the
    whole schedule. With ``resume`` the finished stages are skipped and the
    unfinished one continues from its checkpoint. The summary is the last stage's that
    ran, with ``stages``: each stage's name, folder, best and whether it finished."""
    if not cfg.stages:
        return _train_one(cfg, out, resume, data)
    import dataclasses

    t0 = time.time()
    limit = cfg.train.time_limit_min
    folders = stage_folders(cfg, out)
    done, summary, prev = [], None, None
    for k, (name, sc, folder) in enumerate(folders, start=1):
        if resume and _stage_done(folder):
            print(f"[handsdk] stage {k}/{len(folders)} {name}: finished before ({folder})", flush=True)
            done.append({"name": name, "out": str(folder), "finished": True,
                         "best": json.loads((folder / "summary.json").read_text()).get("best")})
            prev = folder
            continue
        if prev is not None:
            src = selected_weights(prev)
            if not src.is_file():
                raise FileNotFoundError(f"stage {name}: the stage before selected no weights ({src}); "
                                        f"train it again (without --resume)")
            sc = dataclasses.replace(sc, train=dataclasses.replace(sc.train, init_from=str(src)))
        if limit:
            left = limit - (time.time() - t0) / 60.0
            sc = dataclasses.replace(sc, train=dataclasses.replace(sc.train, time_limit_min=max(left, 1e-9)))
        print(f"[handsdk] stage {k}/{len(folders)} {name}: {sc.train.epochs} epochs at {sc.train.learning_rate:g}"
              + (f" from {sc.train.init_from}" if sc.train.init_from else "") + f" -> {folder}", flush=True)
        summary = _train_one(sc, folder, resume, data if k == 1 else None)
        done.append({"name": name, "out": str(folder), "finished": summary["finished"], "best": summary["best"]})
        prev = folder
        if not summary["finished"]:
            print(f"[handsdk] stopped in stage {k}/{len(folders)} {name}; continue with --resume", flush=True)
            break
    if summary is None:  # every stage had finished before
        summary = json.loads((folders[-1][2] / "summary.json").read_text())
    summary = dict(summary, stages=done, finished=len(done) == len(folders) and all(d["finished"] for d in done),
                   seconds=round(time.time() - t0, 2))
    return summary


def _train_one(cfg: Config, out: str | os.PathLike | None = None, resume: bool = False,
               data: TaskData | None = None) -> dict:
    """One stage: :func:`train` of a config without ``stages``."""
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
          + (f"({data.teacher_hands} teacher hands) " if getattr(data, "teacher_hands", 0) else "")
          + f"(pools built in {data.seconds:.1f}s); strategy {type(strategy).__name__} "
          f"with {strategy.num_replicas_in_sync} replica(s)", flush=True)
    global_batch = t.batch_size * strategy.num_replicas_in_sync
    steps = t.steps_per_epoch or max(1, data.num_train // global_batch)
    train_ds = data.dataset("train", global_batch, training=True)

    from handsdk.train.models import build_model

    with strategy.scope():
        model = build_model(cfg, num_classes=len(data.labels) if data.labels else None)
        if t.trainable is not None:
            kept = freeze_except(model, t.trainable)
            print(f"training only {', '.join(kept)} (train.trainable)", flush=True)
        compile_model(model, cfg, steps)
        if t.init_from and not (resume and (backup).is_dir()):
            init_weights(model, t.init_from)
    best = json.loads((out / "best.json").read_text()) if resume and (out / "best.json").is_file() else {}
    evaluator = EvalCallback(cfg, data, out, best, chief)
    if resume and (out / "history.json").is_file():  # the selection window goes on where it stopped
        evaluator.values = [float(r[evaluator.monitor]) for r in json.loads((out / "history.json").read_text())
                            if evaluator.monitor in r]
    # the backup (weights, optimizer, epoch) is kept until the last epoch is done, also
    # when the time limit stops the run: `--resume` continues it (a later session)
    callbacks = [
        keras.callbacks.BackupAndRestore(str(backup), delete_checkpoint=False),
        evaluator,
        keras.callbacks.CSVLogger(str(out / "metrics.csv"), append=resume),
        HistoryWriter(out, resume),
        keras.callbacks.TerminateOnNaN(),
    ]
    limit = TimeLimit(t.time_limit_min, t.epochs) if t.time_limit_min else None
    if limit is not None:
        callbacks.append(limit)
    t0 = time.time()
    hist = model.fit(train_ds, epochs=t.epochs, steps_per_epoch=steps, callbacks=callbacks,
                     verbose=t.verbose)
    seconds = time.time() - t0
    unfinished = limit is not None and limit.stopped
    if not unfinished:
        shutil.rmtree(backup, ignore_errors=True)
    summary = {"task": cfg.task, "out": str(out), "best": best, "seconds": round(seconds, 2),
               "finished": not unfinished,
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
