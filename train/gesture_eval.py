"""Gesture classifiers measured on people they never saw (issue 13).

* ``commands``: leave-one-source-out (LOSO) over every command source of
  :mod:`handsdk.train.data.gestures` (ten CSV authors, four photo sets,
  asl_letters' command-shaped letters): for each source, train on all the
  others (+ synthetic template hands) and score the held-out one
  (accuracy, macro-F1 over the classes that source has, ``none``
  precision); pooled confusion matrix and reliability curve (ECE) as PNGs,
  and the ``min_gesture_score`` chosen from the pooled held-out scores;
* ``letters``: train on asl_letters/train (shippable), score asl_letters/valid
  and the held-out signers (asl_two_signers/jack, asl_alphabet_subset).

Models (recipes, :data:`RECIPES`): ``mlp`` (a plain MLP on the same real rows,
no augmentation), ``gesturenet`` (:func:`handsdk.train.models.gesture.model.build_gesture`
with the recipe of :class:`Recipe`) and ``shipped`` (the bundle's own
GestureNet, not retrained: its scores on every source; it was trained on
Kazuhito00, so that row is not held out).

Run: ``python -m handsdk.train.gesture_eval commands --out runs/gesture_eval``
(``--recipes shipped,mlp,gesturenet``, ``--sources csv:gabesf,isl_phone``,
``--bundle B``). Everything works on keypoints alone (MediaPipe's
pseudo-labels), so it is fast: one LOSO fold of GestureNet is a few seconds
of CPU.
"""
from __future__ import annotations

import argparse
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

from handsdk.keypoints import batch_keypoint_features
from handsdk.train.models.gesture.augment import KeypointAugment, augment_keypoints, thumbs_flipped
from handsdk.train.plots import plot_confusion


# ------------------------------------------------------------------ recipe


@dataclass
class Recipe:
    """How a gesture classifier is trained on keypoint rows."""

    model: str = "gesture"  # "gesture" (GestureNet) or "mlp"
    epochs: int = 40
    examples_per_epoch: int = 8192
    batch_size: int = 128
    learning_rate: float = 3e-3
    label_smoothing: float = 0.0  # 0.1 measured: mean fold macro-F1 +0.002, ECE 0.082 vs 0.034
    balance: str = "class_source"  # "none" | "class" | "class_source"
    augment: bool = True
    rotation_deg: float = 20.0
    #: half of the rows of classes whose meaning does not depend on the hand's
    #: direction (all but thumbs up / down) turn up to this far instead
    wide_rotation_deg: float = 90.0
    #: thumbs_up rows turned by 180 degrees are thumbs_down rows (and back)
    thumbs_flip: bool = True
    scale: tuple = (0.85, 1.15)  # per axis
    jitter: float = 0.02  # std, fraction of the hand's size (after max-abs normalisation)
    mirror: bool = True  # random x flip (the CSV rows have no handedness)
    synth_per_class: int = 300  # synthetic template hands per class (kinematic model; 0: none)
    synth_none_margin: float = 1.0  # synthetic `none` inside a real class's region is dropped
    synth_none: int = 0  # synthetic `none` hands (0: synth_per_class)
    filters: int = 48  # 48 / 192 / 40 epochs measured: mean fold macro-F1 0.965 vs 0.958 (32 / 128 / 30)
    hidden: int = 192
    dropout: float = 0.3  # 0.5 measured: 0.956
    seed: int = 0

    def augmentation(self) -> KeypointAugment:
        """The recipe's draw of :func:`augment_keypoints` (on features: the wrist is jittered too)."""
        return KeypointAugment(rotation_deg=self.rotation_deg, wide_rotation_deg=self.wide_rotation_deg,
                               scale=self.scale, jitter=self.jitter, jitter_wrist=True,
                               mirror_prob=0.5 if self.mirror else 0.0)


RECIPES = {
    "mlp": Recipe(model="mlp", epochs=40, label_smoothing=0.0, balance="none", augment=False, synth_per_class=0,
                  dropout=0.0, thumbs_flip=False, hidden=128),
    "gesturenet": Recipe(),
}

#: letters: the hand's direction is part of a letter (G/H sideways, P/Q down), no thumbs classes
LETTER_RECIPES = {
    "gesturenet": Recipe(wide_rotation_deg=0.0, thumbs_flip=False, filters=32, hidden=128, epochs=30),
}


# ------------------------------------------------------------------ data helpers


def synth_hands(labels, per_class: int, rng: np.random.Generator, gesture_set: str = "commands",
                counts: dict | None = None):
    """Keypoints of synthetic template hands (:func:`handsdk.train.synth.template_hands`),
    ``per_class`` (or ``counts[label]``) per label: (kp (N, 21, 3),
    handedness (N,), labels (N,)). Labels the templates of ``gesture_set``
    do not have are skipped."""
    from handsdk.train import synth

    have = set(synth.GESTURE_SETS.get(gesture_set, ()))
    labs = [lab for lab in labels if lab in have for _ in range(int((counts or {}).get(lab, per_class)))]
    kp, hands = synth.template_hands(gesture_set, labs, rng)
    return kp, np.array(hands, object), np.array(labs, object)


def sample_weights(labels, sources, mode: str) -> np.ndarray:
    """Per-row sampling weights: ``class`` (each class the same mass),
    ``class_source`` (each class the same mass, shared equally by the sources
    that have it), ``none`` (uniform)."""
    labels = np.asarray(labels).astype(str)
    sources = np.asarray(sources).astype(str)
    w = np.ones(len(labels))
    if mode == "none":
        return w / w.sum()
    for c in np.unique(labels):
        m = labels == c
        if mode == "class":
            w[m] = 1.0 / m.sum()
        else:
            srcs = np.unique(sources[m])
            for s in srcs:
                ms = m & (sources == s)
                w[ms] = 1.0 / (ms.sum() * len(srcs))
    return w / w.sum()


# ------------------------------------------------------------------ models


def build_mlp(cfg, num_classes: int):
    """The plain MLP baseline (``cfg.hidden``, ``cfg.hidden // 2`` units)."""
    from handsdk.train.tf import keras

    inp = keras.Input((21, 2), name="keypoints", dtype="float32")
    x = keras.layers.Flatten()(inp)
    x = keras.layers.Dense(cfg.hidden, activation="relu")(x)
    x = keras.layers.Dense(cfg.hidden // 2, activation="relu")(x)
    out = keras.layers.Dense(num_classes, activation="softmax", name="scores")(x)
    return keras.Model(inp, out, name="plain_mlp")


def train_classifier(feats: np.ndarray, labels, sources, classes, recipe: Recipe, *,
                     extra=None, progress=None):
    """Train a model of ``recipe`` on features (N, 21, 2) with string labels;
    ``extra``: (features, labels) added to the pool as source "synth".
    Returns the Keras model (outputs softmax over ``classes``)."""
    from handsdk.train.config import GestureModelConfig
    from handsdk.train.models.gesture.fit import FitOptions, fit_gesture

    r = recipe
    rng = np.random.default_rng(r.seed)
    idx = {c: i for i, c in enumerate(classes)}
    X, L, S = feats, np.asarray(labels).astype(str), np.asarray(sources).astype(str)
    if extra is not None and len(extra[0]):
        X = np.concatenate([X, extra[0]])
        L = np.concatenate([L, np.asarray(extra[1]).astype(str)])
        S = np.concatenate([S, np.array(["synth"] * len(extra[0]))])
    keep = np.array([l in idx for l in L])
    X, L, S = X[keep], L[keep], S[keep]
    if r.thumbs_flip and "thumbs_up" in idx and "thumbs_down" in idx:
        flip, turned, turned_labels = thumbs_flipped(X, L)
        if flip.any():
            X = np.concatenate([X, batch_keypoint_features(turned)])
            L = np.concatenate([L, turned_labels])
            S = np.concatenate([S, np.char.add(S[flip].astype(str), "/rot180")])
    y = np.array([idx[l] for l in L], np.int64)
    w = sample_weights(L, S, r.balance)
    steps = max(1, r.examples_per_epoch // r.batch_size)
    aug = r.augmentation()

    def draw_epoch(ep):
        if r.balance == "none" and not r.augment:
            sel = rng.permutation(len(y))
            sel = np.resize(sel, max(len(sel), 1))[: steps * r.batch_size] if len(sel) > steps * r.batch_size else sel
        else:
            sel = rng.choice(len(y), steps * r.batch_size, p=w)
        xb = augment_keypoints(X[sel], rng, aug, labels=L[sel])[0] if r.augment else X[sel]
        return xb, y[sel], None

    mcfg = GestureModelConfig(labels=list(classes), filters=r.filters, hidden=r.hidden, dropout=r.dropout)
    fit = FitOptions(epochs=r.epochs, steps_per_epoch=steps, batch_size=r.batch_size, learning_rate=r.learning_rate,
                     label_smoothing=r.label_smoothing, seed=r.seed, shuffle=True, keep="last")
    return fit_gesture(mcfg, draw_epoch, fit, build=build_mlp if r.model == "mlp" else None, say=progress).model


def predict(model, feats: np.ndarray) -> np.ndarray:
    if callable(model) and not hasattr(model, "predict"):
        return model(feats)
    return model.predict(feats.astype(np.float32), batch_size=1024, verbose=0)


def shipped_scorer(bundle, set_name: str):
    """(scores function, labels) of a bundle's gesture set (its TFLite model)."""
    from handsdk.backends import open_model
    from handsdk.bundle import default_bundle_path, load_bundle

    b = load_bundle(bundle or default_bundle_path(), check=False)
    e = b.gesture_sets[set_name]
    m = open_model(b.files[e.file], num_threads=1, name=f"gesture:{set_name}")
    (inp,) = m.inputs

    def score(feats):
        out = [np.asarray(next(iter(m(**{inp: f[None].astype(np.float32)}).values())))[0] for f in feats]
        return np.asarray(out, np.float32).reshape(len(feats), len(e.labels))

    return score, list(e.labels)


def train_with_config(config, exclude, *, overrides=None, out=None):
    """Train through the project's trainer (``handsdk train gesture -c``) with
    ``exclude`` held out of every ``gestures:`` source (train and val);
    returns the exported Keras model. This checks that a config reproduces the
    recipe measured here."""
    import tempfile

    from handsdk.train.config import apply_overrides, config_from_dict, read_config
    from handsdk.train.trainer import load_exported, train

    d = read_config(config)
    apply_overrides(d, overrides)
    for sec in ("train", "val"):
        for src in d.get("data", {}).get(sec) or []:
            if str(src.get("name", "")).startswith("gestures:"):
                src.setdefault("options", {})["exclude"] = list(exclude)
    d.setdefault("name", Path(config).stem)
    d.setdefault("train", {})["verbose"] = 0
    out = Path(out or tempfile.mkdtemp(prefix="gesture_eval_"))
    train(config_from_dict(d), out)
    return load_exported(out / "best.keras")


# ------------------------------------------------------------------ metrics


def fold_metrics(y_true, y_pred, classes, none_label: str | None = "none") -> dict:
    """accuracy, macro-F1 over the classes present in ``y_true``, per-class
    F1 and ``none`` precision (None when nothing was predicted none)."""
    t, p = np.asarray(y_true), np.asarray(y_pred)
    f1 = {}
    for c in np.unique(t):
        tp = int(((t == c) & (p == c)).sum())
        fp = int(((t != c) & (p == c)).sum())
        fn = int(((t == c) & (p != c)).sum())
        f1[classes[c]] = 2 * tp / max(2 * tp + fp + fn, 1)
    out = {"n": int(len(t)), "accuracy": float((t == p).mean()) if len(t) else float("nan"),
           "macro_f1": float(np.mean(list(f1.values()))) if f1 else float("nan"), "per_class_f1": f1}
    if none_label is not None and none_label in classes:
        k = classes.index(none_label)
        pn = p == k
        out["none_predicted"] = int(pn.sum())
        out["none_precision"] = float((t[pn] == k).mean()) if pn.any() else None
        out["none_recall"] = float((p[t == k] == k).mean()) if (t == k).any() else None
    return out


def expected_calibration_error(conf, correct, bins: int = 10):
    conf, correct = np.asarray(conf, np.float64), np.asarray(correct, np.float64)
    edges = np.linspace(0, 1, bins + 1)
    ece, curve = 0.0, []
    for lo, hi in zip(edges[:-1], edges[1:]):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.mean() * abs(conf[m].mean() - correct[m].mean())
            curve.append((float(conf[m].mean()), float(correct[m].mean()), int(m.sum())))
    return float(ece), curve


def choose_min_score(scores, y_true, classes, none_label="none", target_precision: float = 0.97,
                     grid=np.round(np.arange(0.30, 0.96, 0.05), 2)) -> dict:
    """The smallest ``min_gesture_score`` whose accepted predictions (top
    class not ``none`` and score >= it) reach ``target_precision``; with the
    share of true gestures still accepted and of ``none`` hands rejected."""
    top = scores.argmax(1)
    conf = scores.max(1)
    k = classes.index(none_label) if none_label in classes else -1
    rows = []
    for t in grid:
        acc = (top != k) & (conf >= t)
        prec = float((top[acc] == y_true[acc]).mean()) if acc.any() else 1.0
        is_g = y_true != k
        rec = float(((top == y_true) & acc)[is_g].mean()) if is_g.any() else float("nan")
        rej = float((~acc)[~is_g].mean()) if (~is_g).any() else float("nan")
        rows.append({"min_score": float(t), "precision": prec, "gesture_recall": rec, "none_rejected": rej})
    ok = [r for r in rows if r["precision"] >= target_precision]
    best = ok[0] if ok else max(rows, key=lambda r: r["precision"])
    return {"chosen": best, "target_precision": target_precision, "table": rows}


# ------------------------------------------------------------------ plots


def _safe(name: str) -> str:
    import re

    return re.sub(r"[^A-Za-z0-9_.-]+", "_", str(name)).strip("_")


def plot_reliability(curves: dict, path, title=""):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.2, 4.2))
    ax.plot([0, 1], [0, 1], "k:", lw=1)
    for name, (ece, curve) in curves.items():
        if curve:
            c = np.asarray([(a, b) for a, b, _ in curve])
            ax.plot(c[:, 0], c[:, 1], "o-", ms=3, label=f"{name} (ECE {ece:.3f})")
    ax.set_xlabel("top score")
    ax.set_ylabel("accuracy")
    ax.set_title(title, fontsize=8)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


# ------------------------------------------------------------------ evaluations


def loso_commands(recipes=("shipped", "mlp", "gesturenet"), sources=None, *, held_out=None, root=None,
                  bundle=None, out=None, classes=None, recipe_overrides=None, own_bundle=None, say=print) -> dict:
    """Leave-one-source-out on the command sources. Returns
    {recipe: {"folds": {source: metrics}, "pooled": metrics, "ece", "min_score"}}."""
    from handsdk.train.data import gestures as G
    from handsdk.train.tf import set_threads

    set_threads(1)
    classes = list(classes or G.COMMAND_LABELS)
    sources = list(sources or G.ALL_SOURCES)
    rows = G.command_rows(sources, root)
    held_out = list(held_out or sources)
    feats = rows.features()
    labels = rows.labels.astype(str)
    srcs = rows.sources.astype(str)
    y = np.array([classes.index(l) for l in labels])
    # rows whose four long fingers agree with their label (gestures._agrees); the
    # CSV rows are not filtered, and some are transition frames (e.g. a "point"
    # with a curled index): metrics on these rows are reported beside the others
    agree = np.ones(len(y), bool)
    for lab in np.unique(labels):
        m = labels == lab
        agree[m] = G._agrees(rows.keypoints[m], lab)
    out = Path(out) if out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    say(f"commands: {len(rows)} real hands from {len(sources)} sources; classes {classes}")
    results = {"data": rows.report, "classes": classes}
    own = {}  # photo set -> (features, y) of the SDK's own keypoints (own_bundle's detector + landmarker)
    if own_bundle:
        for src in held_out:
            if not src.startswith("csv:"):
                pr = G.pipeline_rows(src, own_bundle, root)
                own[src] = (pr.features(), np.array([classes.index(l) for l in pr.labels.astype(str)]))
                say(f"own keypoints of {src}: {len(pr)} of {pr.report['mediapipe_rows']} hands found by the bundle")
        results["own_bundle"] = str(own_bundle)

    def score_own(name, src, scorer, folds):
        if src in own and len(own[src][1]):
            so = scorer(own[src][0])
            folds[src]["own"] = fold_metrics(own[src][1], so.argmax(1), classes)
            own_scores.setdefault(name, []).append((own[src][1], so))

    own_scores: dict = {}
    synth_cache = {}
    for name in recipes:
        t0 = time.time()
        pooled_scores = np.zeros((len(y), len(classes)), np.float32)
        folds = {}
        if name == "shipped":
            score, slabels = shipped_scorer(bundle, "commands")
            known = np.array([l in slabels for l in labels])
            s = score(feats[known])
            # map onto our classes (absent classes get score 0)
            full = np.zeros((len(s), len(classes)), np.float32)
            for j, l in enumerate(slabels):
                if l in classes:
                    full[:, classes.index(l)] = s[:, j]
            pooled_scores[known] = full
            pred = pooled_scores.argmax(1)
            def shipped_full(f):
                s_ = score(f)
                o = np.zeros((len(s_), len(classes)), np.float32)
                for j, l in enumerate(slabels):
                    if l in classes:
                        o[:, classes.index(l)] = s_[:, j]
                return o

            for src in sources:
                m = (srcs == src) & known
                folds[src] = fold_metrics(y[m], pred[m], classes)
                folds[src]["skipped_unknown_classes"] = int(((srcs == src) & ~known).sum())
                if src in own:
                    kn = np.isin(np.array(classes)[own[src][1]], slabels)
                    so = shipped_full(own[src][0][kn])
                    folds[src]["own"] = fold_metrics(own[src][1][kn], so.argmax(1), classes)
                    own_scores.setdefault(name, []).append((own[src][1][kn], so))
            mask_all = known
        else:
            base = RECIPES[name] if name in RECIPES else Recipe()
            r = replace(base, **({} if name.startswith("config:") else (recipe_overrides or {}).get(name, {})))
            if name.startswith("config:"):
                r = replace(r, synth_per_class=0)
            extra = None
            if r.synth_per_class:
                key = (r.synth_per_class, r.synth_none, r.seed)
                if key not in synth_cache:
                    srng = np.random.default_rng(1000 + r.seed)
                    kp, hh, ll = synth_hands(classes, r.synth_per_class, srng,
                                             counts={"none": r.synth_none} if r.synth_none else None)
                    synth_cache[key] = (batch_keypoint_features(kp, list(hh)), ll)
                sf, sl = synth_cache[key]
                extra = (sf, sl)
            for src in held_out:
                te = srcs == src
                tr = ~te
                if name.startswith("config:"):
                    model = train_with_config(name[7:], [src], overrides=(recipe_overrides or {}).get("config"))
                    tail = ""
                else:
                    ex = extra
                    if extra is not None and r.synth_none_margin > 0:
                        from handsdk.train.custom import class_regions, outside_regions

                        regions = class_regions(feats[tr], labels[tr], [c for c in classes if c != "none"])
                        isn = extra[1] == "none"
                        keep = ~isn | outside_regions(extra[0], regions, r.synth_none_margin)
                        ex = (extra[0][keep], extra[1][keep])
                    model = train_classifier(feats[tr], labels[tr], srcs[tr], classes, r, extra=ex)
                    tail = " none-precision {}"
                s = predict(model, feats[te])
                pooled_scores[te] = s
                folds[src] = fold_metrics(y[te], s.argmax(1), classes)
                score_own(name, src, lambda f, model=model: predict(model, f), folds)
                say(f"  {name} held out {src}: n={folds[src]['n']} acc {folds[src]['accuracy']:.3f} "
                    f"macro-F1 {folds[src]['macro_f1']:.3f}" + tail.format(folds[src].get("none_precision")))
            mask_all = np.isin(srcs, held_out)
            results.setdefault("recipes", {})[name] = asdict(r)
        pred = pooled_scores.argmax(1)
        pooled = fold_metrics(y[mask_all], pred[mask_all], classes)
        for src, f in folds.items():
            m = (srcs == src) & mask_all & agree
            f["agreeing"] = {k: v for k, v in fold_metrics(y[m], pred[m], classes).items() if k != "per_class_f1"}
        from handsdk.train.metrics import confusion_matrix

        cm = confusion_matrix(y[mask_all], pred[mask_all], len(classes))
        conf = pooled_scores[mask_all].max(1)
        ece, curve = expected_calibration_error(conf, pred[mask_all] == y[mask_all])
        ms = choose_min_score(pooled_scores[mask_all], y[mask_all], classes)
        res = {"folds": folds, "pooled": pooled, "confusion": np.asarray(cm).tolist(), "ece": ece,
               "reliability": curve, "min_score": ms, "seconds": round(time.time() - t0, 1),
               "mean_fold_macro_f1": float(np.nanmean([f["macro_f1"] for f in folds.values()])),
               "worst_fold_macro_f1": float(np.nanmin([f["macro_f1"] for f in folds.values()]))}
        res["agreeing_pooled"] = fold_metrics(y[mask_all & agree], pred[mask_all & agree], classes)
        res["agreeing_mean_fold_macro_f1"] = float(np.nanmean([f["agreeing"]["macro_f1"] for f in folds.values()]))
        if own_scores.get(name):
            yo = np.concatenate([a for a, _ in own_scores[name]])
            so = np.concatenate([b for _, b in own_scores[name]])
            res["own_pooled"] = fold_metrics(yo, so.argmax(1), classes)
            res["own_pooled"]["photo_sets"] = [k for k in own]
        results[name] = res
        if out:
            plot_confusion(cm, classes, out / f"commands_{_safe(name)}_confusion.png",
                           f"commands, {name}, leave-one-source-out (pooled)")
            np.save(out / f"commands_{_safe(name)}_scores.npy", pooled_scores)
        say(f"{name}: pooled acc {pooled['accuracy']:.3f} macro-F1 {pooled['macro_f1']:.3f} none precision "
            f"{pooled.get('none_precision')}; mean fold macro-F1 {res['mean_fold_macro_f1']:.3f}, worst "
            f"{res['worst_fold_macro_f1']:.3f}; ECE {ece:.3f}; min_gesture_score {ms['chosen']} "
            f"({res['seconds']}s)")
    if out:
        plot_reliability({k: (results[k]["ece"], results[k]["reliability"]) for k in recipes},
                         out / "commands_reliability.png", "commands, leave-one-source-out")
        (out / "commands_loso.json").write_text(json.dumps(results, indent=1, default=str))
    return results


LETTERS = tuple("ABCDEFGHIKLMNOPQRSTUVWXY")
LETTER_EVAL = (("asl_letters", "valid"), ("asl_two_signers", "jack"), ("asl_alphabet_subset", None))


def letters_by_signer(recipes=("shipped", "mlp", "gesturenet"), *, root=None, bundle=None, out=None,
                      recipe_overrides=None, own_bundle=None, say=print) -> dict:
    """Train on asl_letters/train, score the held-out signers."""
    from handsdk.train.data import gestures as G
    from handsdk.train.tf import set_threads

    set_threads(1)
    classes = list(LETTERS)
    tr = G.letter_rows("asl_letters", "train", root)
    evals = {f"{d}/{s}" if s else d: G.letter_rows(d, s, root) for d, s in LETTER_EVAL}
    out = Path(out) if out else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    say(f"letters: train asl_letters/train {len(tr)} hands; " + ", ".join(f"{k} {len(v)}" for k, v in evals.items()))
    ftr = tr.features()
    results = {}
    own = {}
    if own_bundle:
        for (d, sp), (k, rows) in zip(LETTER_EVAL, evals.items()):
            own[k] = G.match_pipeline(rows, d, sp, own_bundle, root)
            say(f"own keypoints of {k}: {len(own[k])} of {len(rows)} hands found by the bundle")
        results["own_bundle"] = str(own_bundle)
    for name in recipes:
        t0 = time.time()
        if name == "shipped":
            score, slabels = shipped_scorer(bundle, "asl_letters")
            perm = [slabels.index(c) for c in classes]

            def scorer(f, score=score, perm=perm):
                return score(f)[:, perm]
        elif name.startswith("config:"):
            cmodel = train_with_config(name[7:], [], overrides=(recipe_overrides or {}).get("config"))

            def scorer(f, model=cmodel):
                return predict(model, f)
        else:
            base = LETTER_RECIPES.get(name) or RECIPES.get(name) or LETTER_RECIPES["gesturenet"]
            r = replace(base, **(recipe_overrides or {}).get(name, {}))
            results.setdefault("recipes", {})[name] = asdict(r)
            extra = None
            if r.synth_per_class:
                kp, hh, ll = synth_hands(classes, r.synth_per_class, np.random.default_rng(2000 + r.seed),
                                         gesture_set="asl_letters")
                extra = (batch_keypoint_features(kp, list(hh)), ll)
            model = train_classifier(ftr, tr.labels, tr.sources, classes, r, extra=extra)

            def scorer(f, model=model):
                return predict(model, f)
        res = {}
        for k, rows in evals.items():
            s = scorer(rows.features())
            yt = np.array([classes.index(l) for l in rows.labels])
            m = fold_metrics(yt, s.argmax(1), classes, none_label=None)
            ece, curve = expected_calibration_error(s.max(1), s.argmax(1) == yt)
            m.update(ece=ece, reliability=curve)
            acc_at = {}
            for t in (0.3, 0.5, 0.7):
                a = s.max(1) >= t
                acc_at[str(t)] = {"coverage": float(a.mean()),
                                  "accuracy": float((s.argmax(1)[a] == yt[a]).mean()) if a.any() else None}
            m["accepted_at"] = acc_at
            m["min_score"] = choose_min_score(s, yt, classes, none_label=None, target_precision=0.95)
            if k in own and len(own[k]):
                so = scorer(own[k].features())
                yo = np.array([classes.index(l) for l in own[k].labels])
                m["own"] = {kk: v for kk, v in fold_metrics(yo, so.argmax(1), classes, none_label=None).items()
                            if kk != "per_class_f1"}
                say(f"  {name} {k} own keypoints: n={m['own']['n']} acc {m['own']['accuracy']:.3f} "
                    f"macro-F1 {m['own']['macro_f1']:.3f}")
            res[k] = m
            if out:
                from handsdk.train.metrics import confusion_matrix

                plot_confusion(confusion_matrix(yt, s.argmax(1), len(classes)), classes,
                               out / f"letters_{_safe(name)}_{_safe(k)}_confusion.png", f"letters, {name}, {k}")
            say(f"  {name} {k}: n={m['n']} acc {m['accuracy']:.3f} macro-F1 {m['macro_f1']:.3f} ECE {ece:.3f}")
        res["seconds"] = round(time.time() - t0, 1)
        results[name] = res
        results.setdefault("recipes", {})
    if out:
        plot_reliability({n: (results[n][k]["ece"], results[n][k]["reliability"]) for n in recipes
                          for k in ["asl_two_signers/jack"]}, out / "letters_reliability.png",
                         "letters, held-out signer jack")
        (out / "letters_by_signer.json").write_text(json.dumps(results, indent=1, default=str))
    return results


def format_commands_table(results: dict, recipes) -> str:
    lines = []
    srcs = list(next(results[r]["folds"] for r in recipes if r in results).keys())
    head = f"{'held-out source':24s} " + " ".join(f"{r:>22s}" for r in recipes)
    lines.append(head)
    lines.append(f"{'':24s} " + " ".join(f"{'acc  mF1  noneP':>22s}" for _ in recipes))
    for s in srcs:
        cells = []
        for r in recipes:
            f = results[r]["folds"].get(s, {})
            npv = f.get("none_precision")
            cells.append(f"{f.get('accuracy', float('nan')):.3f} {f.get('macro_f1', float('nan')):.3f} "
                         f"{'  -  ' if npv is None else f'{npv:.3f}'}".rjust(22))
        lines.append(f"{s:24s} " + " ".join(cells))
    cells = []
    for r in recipes:
        p = results[r]["pooled"]
        npv = p.get("none_precision")
        cells.append(f"{p['accuracy']:.3f} {p['macro_f1']:.3f} {'  -  ' if npv is None else f'{npv:.3f}'}".rjust(22))
    lines.append(f"{'pooled':24s} " + " ".join(cells))
    if any("own_pooled" in results[r] for r in recipes):
        lines.append("SDK's own keypoints (photo sets; acc mF1 noneP):")
        for s_ in srcs:
            if not any("own" in results[r]["folds"].get(s_, {}) for r in recipes):
                continue
            cells = []
            for r in recipes:
                f = results[r]["folds"].get(s_, {}).get("own", {})
                npv = f.get("none_precision")
                cells.append(f"{f.get('accuracy', float('nan')):.3f} {f.get('macro_f1', float('nan')):.3f} "
                             f"{'  -  ' if npv is None else f'{npv:.3f}'}".rjust(22))
            lines.append(f"{'  ' + s_:24s} " + " ".join(cells))
    lines.append(f"{'mean / worst fold mF1':24s} " + " ".join(
        f"{results[r]['mean_fold_macro_f1']:.3f} / {results[r]['worst_fold_macro_f1']:.3f}".rjust(22) for r in recipes))
    return "\n".join(lines)


def markdown_commands(results: dict, recipes) -> str:
    """The LOSO table as markdown: per held-out source acc / macro-F1 / none
    precision per recipe (MediaPipe keypoints; own keypoints where measured)."""
    def cell(f):
        if not f or f.get("n", 0) == 0:
            return "-"
        npv = f.get("none_precision")
        if f.get("none_recall") is None:  # the source has no `none` hands: count the hands read as none
            k = f.get("none_predicted", 0)
            return f"{f['accuracy']:.3f} / {f['macro_f1']:.3f} / " + (f"- ({k} read none)" if k else "-")
        return f"{f['accuracy']:.3f} / {f['macro_f1']:.3f} / " + ("-" if npv is None else f"{npv:.3f}")

    recipes = [r for r in recipes if r in results]
    srcs = list(dict.fromkeys(k for r in recipes for k in results[r]["folds"]))
    out = ["| held-out source | n | " + " | ".join(f"{r} acc / mF1 / noneP" for r in recipes) + " |",
           "|---|---|" + "---|" * len(recipes)]
    for s_ in srcs:
        n = max(results[r]["folds"].get(s_, {}).get("n", 0) for r in recipes)
        out.append(f"| {s_} | {n} | " + " | ".join(cell(results[r]["folds"].get(s_)) for r in recipes) + " |")
    out.append("| **pooled** | | " + " | ".join(cell(results[r]["pooled"]) for r in recipes) + " |")
    out.append("| mean / worst fold macro-F1 | | " + " | ".join(
        f"{results[r]['mean_fold_macro_f1']:.3f} / {results[r]['worst_fold_macro_f1']:.3f}" for r in recipes) + " |")
    out.append("| rows agreeing with their label: pooled | | " + " | ".join(
        cell(results[r].get("agreeing_pooled")) + f" (mean fold mF1 {results[r].get('agreeing_mean_fold_macro_f1', float('nan')):.3f})"
        for r in recipes) + " |")
    out.append("| ECE / min_gesture_score (precision, gesture recall, none rejected) | | " + " | ".join(
        f"{results[r]['ece']:.3f} / {results[r]['min_score']['chosen']['min_score']:.2f} "
        f"({results[r]['min_score']['chosen']['precision']:.3f}, {results[r]['min_score']['chosen']['gesture_recall']:.3f}, "
        f"{results[r]['min_score']['chosen']['none_rejected']:.3f})" for r in recipes) + " |")
    if any("own_pooled" in results[r] for r in recipes):
        out += ["", "SDK's own keypoints (the bundle's detector + landmarker) on the photo sets:", "",
                "| held-out source | " + " | ".join(recipes) + " |", "|---|" + "---|" * len(recipes)]
        for s_ in srcs:
            if any("own" in results[r]["folds"].get(s_, {}) for r in recipes):
                out.append(f"| {s_} | " + " | ".join(cell(results[r]["folds"].get(s_, {}).get("own"))
                                                   for r in recipes) + " |")
        out.append("| **pooled** | " + " | ".join(cell(results[r].get("own_pooled")) for r in recipes) + " |")
    return "\n".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser(prog="python -m handsdk.train.gesture_eval", description=__doc__.split("\n\n")[0])
    ap.add_argument("what", choices=["commands", "letters", "all"])
    ap.add_argument("--recipes", default="shipped,mlp,gesturenet")
    ap.add_argument("--sources", default=None, help="comma-separated (default: all command sources)")
    ap.add_argument("--held-out", default=None, help="comma-separated sources to hold out (default: each)")
    ap.add_argument("--bundle", default=None, help="bundle for 'shipped' (default: the shipped default bundle)")
    ap.add_argument("--out", default="runs/gesture_eval")
    ap.add_argument("--data-root", default=None)
    ap.add_argument("--own-bundle", default=None,
                    help="also score the photo sets on this bundle's own keypoints (detector + landmarker)")
    ap.add_argument("--set", action="append", default=[], metavar="RECIPE.KEY=VALUE",
                    help="override a recipe field, e.g. gesturenet.epochs=20")
    a = ap.parse_args(argv)
    import yaml

    ov: dict = {}
    for kv in a.set:
        k, v = kv.split("=", 1)
        rname, field_ = k.split(".", 1)
        ov.setdefault(rname, {})[field_] = yaml.safe_load(v)
    recipes = [r for r in a.recipes.split(",") if r]
    if a.what in ("commands", "all"):
        res = loso_commands(recipes, a.sources.split(",") if a.sources else None,
                            held_out=a.held_out.split(",") if a.held_out else None, root=a.data_root,
                            bundle=a.bundle, out=a.out, recipe_overrides=ov, own_bundle=a.own_bundle)
        print(format_commands_table(res, recipes))
        if a.out:
            (Path(a.out) / "commands_loso.md").write_text(markdown_commands(res, recipes) + "\n")
    if a.what in ("letters", "all"):
        res = letters_by_signer(recipes, root=a.data_root, bundle=a.bundle, out=a.out, recipe_overrides=ov,
                                own_bundle=a.own_bundle)
        keys = [k for k in res[recipes[0]] if k != "seconds"]
        print(f"{'held-out':26s} " + " ".join(f"{r:>16s}" for r in recipes))
        for k in keys:
            print(f"{k:26s} " + " ".join(f"{res[r][k]['accuracy']:.3f} {res[r][k]['macro_f1']:.3f}".rjust(16)
                                         for r in recipes))


if __name__ == "__main__":
    main()
