"""Motion examples: windows of synthetic and real keypoint streams
(:mod:`handsdk.train.synth.motion`) as (features, label) pools with where
each came from (path generator, hand source, trajectory source, take), so
that a model can be scored on a generator, a hand source or a trajectory
source it never saw."""
from __future__ import annotations

import time

import numpy as np

from handsdk.motion import motion_channels


def _root(cfg):
    from handsdk.train.data.catalog import data_root

    return data_root(cfg.data.root, must_exist=False)


def motion_pool(cfg, rng: np.random.Generator | None = None, *, progress=None) -> dict:
    """The windows of ``cfg.data`` (see :class:`..config.MotionDataConfig`):
    {"history" (N, frames, C) float16, "label" (N,) int32 (index in
    ``cfg.model.labels``), "generator", "hand", "trajectory" (N,) str, "take"
    (N,) int32, "clear" (N,) bool (a scoring window, clear of the label
    boundaries: :func:`handsdk.train.synth.motion.evaluation_ends`), "labels"
    [...], "seconds"}. The authors in ``cfg.data.heldout_authors`` are left
    out (their streams score false events)."""
    from handsdk.train.synth import motion as SM

    t0 = time.time()
    d, m = cfg.data, cfg.model
    rng = rng or np.random.default_rng(d.seed)
    say = progress or (lambda s: None)
    labels = list(m.labels)
    idx = {x: i for i, x in enumerate(labels)}
    root = _root(cfg)
    real = SM.real_hand_sets(root) if d.real_hands > 0 else {}
    real = {a: v for a, v in real.items() if a not in set(d.heldout_authors)}
    gesture_hands = None
    if "Kazuhito00" in real:  # the authors whose classes name their hand shapes (Open / Close / Pointer)
        labs, names, kps = real["Kazuhito00"]
        gesture_hands = ("Kazuhito00", labs, names, kps)
    authors = sorted(real)
    X, Y, G, H, TR, TK, CL = [], [], [], [], [], [], []
    take_id = [0]

    def add(take, n_pos=d.windows_pos, n_neg=d.windows_neg):
        tr_ends = [e for e in SM.training_ends(take, rng, n_pos, n_neg) if e > take.times_ms[1]]
        ev_ends = [e for e in SM.evaluation_ends(take, rng, max(1, n_pos // 2), max(1, n_neg // 2))
                   if e > take.times_ms[1]]
        ends = tr_ends + ev_ends
        if not ends:
            return
        clear = np.r_[np.zeros(len(tr_ends), bool), np.ones(len(ev_ends), bool)]
        f, lab = SM.take_windows(take, ends, frames=m.frames, rate_hz=m.rate_hz)
        keep = np.array([x in idx for x in lab], bool)
        if not keep.any():
            return
        X.append(f[keep].astype(np.float16))
        Y.append(np.array([idx[x] for x in lab[keep]], np.int32))
        k = int(keep.sum())
        hand = take.hand_source if take.hand_source != "real" else f"real:{take.info.get('author', '')}"
        G.append(np.full(k, take.generator, object))
        H.append(np.full(k, hand, object))
        TR.append(np.full(k, take.trajectory_source, object))
        TK.append(np.full(k, take_id[0], np.int32))
        CL.append(clear[keep])
        take_id[0] += 1

    gens = list(d.generators)
    gest = [x for x in labels if x != m.none_label]
    for li, lab in enumerate(gest):
        for i in range(d.takes_per_class):
            g = gens[i % len(gens)]
            use_real = gesture_hands is not None and rng.random() < d.real_hands and SM._family(lab) in SM.REAL_SHAPES
            take = SM.gesture_take(lab, g, rng, real=gesture_hands if use_real else None)
            if use_real:
                take.info["author"] = "Kazuhito00"
            add(take)
        say(f"motion pool: {lab} ({li + 1}/{len(gest)}) {sum(len(y) for y in Y)} windows, {time.time() - t0:.0f}s")
    for i in range(d.none_takes):
        g = gens[i % len(gens)]
        rr = None
        if authors and rng.random() < d.real_hands:
            a = authors[int(rng.integers(len(authors)))]
            rr = (a,) + tuple(real[a])
        take = SM.none_take(g, rng, real=rr)
        if rr is not None:
            take.info["author"] = rr[0]
        add(take)
    say(f"motion pool: none {sum(len(y) for y in Y)} windows, {time.time() - t0:.0f}s")
    if d.pipeline and (d.pipeline_takes_per_class or d.pipeline_none_takes):
        _pipeline_takes(cfg, rng, root, gest, add, say, t0)
    if d.point_history:
        runs = SM.point_history_runs(root)
        pointer = None
        if gesture_hands is not None:
            labs, names, kps = real["Kazuhito00"]
            pointer = kps[labs == names.index("Pointer")] if "Pointer" in names else None
        for rep in range(d.point_history_repeats):
            for run in runs:
                use_real = pointer is not None and rng.random() < 0.5
                take = SM.point_history_take(run, rng, real_pointer=pointer if use_real else None)
                take.info["author"] = "Kazuhito00"
                n = max(2, int(take.duration_ms / 400))
                add(take, n_pos=min(n, 8), n_neg=0)
        say(f"motion pool: point_history {len(runs)} runs x {d.point_history_repeats}, "
            f"{sum(len(y) for y in Y)} windows, {time.time() - t0:.0f}s")
    for a in sorted(real) if d.static_minutes > 0 else ():
        labs, names, kps = real[a]
        take = SM.static_stream(rng, (a, labs, names, kps), minutes=d.static_minutes)
        n = max(2, int(take.duration_ms / 400))
        add(take, n_pos=n, n_neg=0)
    if d.static_minutes > 0:
        say(f"motion pool: static CSV streams of {sorted(real)}, {sum(len(y) for y in Y)} windows, "
            f"{time.time() - t0:.0f}s")
    C = motion_channels(m.points)
    return {"history": np.concatenate(X) if X else np.zeros((0, m.frames, C), np.float16),
            "label": np.concatenate(Y) if Y else np.zeros(0, np.int32),
            "generator": np.concatenate(G) if G else np.zeros(0, object),
            "hand": np.concatenate(H) if H else np.zeros(0, object),
            "trajectory": np.concatenate(TR) if TR else np.zeros(0, object),
            "take": np.concatenate(TK) if TK else np.zeros(0, np.int32),
            "clear": np.concatenate(CL) if CL else np.zeros(0, bool),
            "labels": labels, "seconds": round(time.time() - t0, 1)}


def _pipeline_takes(cfg, rng, root, gestures, add, say, t0):
    """The takes of real hand photos read by the SDK (``data.pipeline``'s
    detector and landmarker): :func:`handsdk.train.synth.photos.pipeline_take`,
    half of them mirrored (left hands)."""
    from pathlib import Path

    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
    from handsdk.train.synth.photos import PhotoBank, photo_motion_script, pipeline_take

    d = cfg.data
    if not Path(d.pipeline).is_file():
        raise FileNotFoundError(f"data.pipeline: no bundle at {d.pipeline} (the bundle whose detector and "
                                f"landmarker read the photo takes)")
    bank = PhotoBank(d.pipeline_sets, root)
    gens = list(d.generators)
    plan = [lab for lab in gestures for _ in range(d.pipeline_takes_per_class)] + ["none"] * d.pipeline_none_takes
    n0 = 0
    with GestureRecognizer(GestureRecognizerOptions(bundle=d.pipeline, running_mode=RunningMode.VIDEO,
                                                    max_hands=1, color_order="RGB")) as rec:
        for i, lab in enumerate(plan):
            g = gens[i % len(gens)]
            hands, segs = photo_motion_script(lab, g, rng, bank)
            take = pipeline_take(hands, segs, rec, generator=g, seed=int(rng.integers(1 << 30)),
                                 hand_px=float(rng.uniform(100, 200)), mirror=bool(rng.random() < 0.5))
            if len(take.times_ms) >= 4:
                add(take)
                n0 += 1
            if (i + 1) % 50 == 0 or i + 1 == len(plan):
                say(f"motion pool: photo takes read by the SDK {i + 1}/{len(plan)} ({n0} with a hand), "
                    f"{time.time() - t0:.0f}s")


def subset(pool: dict, keep: np.ndarray) -> dict:
    return {k: (v[keep] if isinstance(v, np.ndarray) and len(v) == len(keep) else v) for k, v in pool.items()}


def split_by_take(pool: dict, fraction: float, rng: np.random.Generator) -> tuple[dict, dict]:
    """(train, validation): whole takes on one side (their windows overlap)."""
    takes = np.unique(pool["take"])
    val_takes = rng.choice(takes, int(round(len(takes) * fraction)), replace=False) if fraction > 0 else []
    v = np.isin(pool["take"], val_takes)
    return subset(pool, ~v), subset(pool, v)


def fold_split(pool: dict, fold: str) -> tuple[np.ndarray, np.ndarray]:
    """(train mask, test mask) of a held-out fold: ``generator:<g>`` (test:
    the windows of paths drawn by generator g; train: every other
    generator and the real trajectories), ``source:point_history`` (test: the
    real fingertip trajectories; train: synthetic paths only),
    ``source:real_hands`` (test: synthetic paths moved with real CSV hands;
    train: synthetic hands only, real trajectories with synthetic hands),
    ``source:photo_pipeline`` (test: the photo takes read by the SDK; train:
    everything else)."""
    kind, _, what = fold.partition(":")
    gen, hand, traj = pool["generator"], pool["hand"], pool["trajectory"]
    real = np.array([str(h).startswith("real") for h in hand], bool)
    if kind == "generator":
        test = gen == what
        return ~test, test
    if fold == "source:point_history":
        test = traj == "point_history"
        return ~test, test
    if fold == "source:real_hands":
        test = real & (traj != "point_history")
        return ~real, test
    if fold == "source:photo_pipeline":
        test = hand == "photo_pipeline"
        return ~test, test
    raise ValueError(f"unknown fold {fold!r} (generator:<g>, source:point_history, source:real_hands, "
                     f"source:photo_pipeline)")


def frame_size(cfg) -> tuple[int, int]:
    """(Generated keypoint streams: no frames are rendered.)"""
    return (96, 96)


def pools(cfg, train_samples, val_samples, rng):
    """The registry's (train pool, val pool, labels): generated windows (the
    samples of image sources do not apply), split by take."""
    pool = motion_pool(cfg, rng)
    tr, va = split_by_take(pool, cfg.train.val_fraction, rng)
    keys = ("history", "label")
    return {k: tr[k] for k in keys}, {k: va[k] for k in keys}, pool["labels"]


def train_example(cfg, ex, augment):
    """A pool row -> ({"history"}, {"scores"}); with ``augment``: Gaussian
    noise on the positions (not on the mask channel)."""
    from handsdk.train.tf import tf

    x = tf.cast(ex["history"], tf.float32)
    if augment:
        noise = tf.random.normal(tf.shape(x), stddev=cfg.model.noise)
        x = x + noise * tf.concat([tf.ones_like(x[:, :-1]), tf.zeros_like(x[:, -1:])], axis=-1)
    return {"history": x}, {"scores": ex["label"]}
