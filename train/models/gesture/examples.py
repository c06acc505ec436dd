"""GestureNet examples: keypoint features of labelled one-hand samples
(numpy pools, the label set fixed from the config or the data) and the
feature augmentation (rotation, stretch, mirror, noise) in tf.data."""
from __future__ import annotations

import numpy as np

from handsdk.keypoints import keypoint_features


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


def frame_size(cfg) -> tuple[int, int]:
    """Generated sources render small: only their keypoints are used."""
    return (96, 96)


def pools(cfg, train_samples, val_samples, rng):
    """(train pool, val pool, labels): features and label indices of the
    config's labels, or of every label of the training data (the none class
    first)."""
    m = cfg.model
    labels = list(m.labels) or None
    ftr, ltr = gesture_pool(train_samples, labels)
    fva, lva = gesture_pool(val_samples, labels)
    if labels is None:
        labels = sorted(set(ltr.tolist()))
        if m.none_label in labels:  # the none class first
            labels = [m.none_label] + [x for x in labels if x != m.none_label]
    idx = {x: i for i, x in enumerate(labels)}
    keep_tr = np.array([x in idx for x in ltr], bool)
    keep_va = np.array([x in idx for x in lva], bool)
    train = {"keypoints": ftr[keep_tr], "label": np.array([idx[x] for x in ltr[keep_tr]], np.int32)}
    val = {"keypoints": fva[keep_va], "label": np.array([idx[x] for x in lva[keep_va]], np.int32)}
    return train, val, labels


def train_example(cfg, ex, augment):
    """A pool row -> ({"keypoints"}, {"scores": label}); with ``augment``:
    rotation, stretch, optional mirror, noise, re-normalised."""
    from handsdk.train.tf import tf

    m = cfg.model
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
