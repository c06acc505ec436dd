"""Losses of the three models (Keras loss functions returning one value per
sample, so that Keras/tf.distribute do the batch reduction)."""
from __future__ import annotations

import math

from handsdk.train.tf import keras, tf


def soft_dice_loss(y_true, y_pred, eps: float = 1.0):
    """Per-sample SoftDice (Skeleton-aware multi-scale heatmap regression,
    Kourbane & Genc, eq. 2): 1 - 2 x.y / (|x|^2 + |y|^2)."""
    y_true = tf.cast(y_true, y_pred.dtype)
    axes = list(range(1, len(y_pred.shape)))
    num = 2.0 * tf.reduce_sum(y_true * y_pred, axis=axes)
    den = tf.reduce_sum(tf.square(y_true), axis=axes) + tf.reduce_sum(tf.square(y_pred), axis=axes)
    return 1.0 - (num + eps) / (den + eps)


def l1_map_loss(y_true, y_pred):
    y_true = tf.cast(y_true, y_pred.dtype)
    return tf.reduce_mean(tf.abs(y_true - y_pred), axis=list(range(1, len(y_pred.shape))))


def skeleton_loss(l1_weight: float = 0.4, dice_weight: float = 0.6):
    """Detector loss: l1_weight * L1 + dice_weight * SoftDice (0.4/0.6 as in
    Skeleton-aware multi-scale heatmap regression, Kourbane & Genc)."""

    def loss(y_true, y_pred):
        return l1_weight * l1_map_loss(y_true, y_pred) + dice_weight * soft_dice_loss(y_true, y_pred)

    loss.__name__ = "skeleton_loss"
    return loss


def heatmap_loss(sigma: float, weight: float = 1.0):
    """Masked heatmap MSE. ``y_true`` packs (h, w, 2K): the K Gaussian targets
    then K weight maps (visibility x presence, broadcast over the map).
    The squared error is summed over the map and divided by the Gaussian's
    area (2 pi sigma^2): a keypoint predicted as all zero costs ~0.5 whatever
    the resolution, so the loss does not vanish into the background (the
    seed-002 failure, where keypoints collapsed to the corners)."""
    norm = 2.0 * math.pi * sigma * sigma

    def loss(y_true, y_pred):
        y_true = tf.cast(y_true, y_pred.dtype)
        k = y_pred.shape[-1]
        target, w = y_true[..., :k], y_true[..., k:]
        se = w * tf.square(y_pred - target)
        return weight * tf.reduce_sum(se, axis=[1, 2, 3]) / (norm * k)

    loss.__name__ = "heatmap_loss"
    return loss


def masked_bce(weight: float = 1.0):
    """Binary cross-entropy where ``y_true`` < 0 means unknown (no loss)."""

    def loss(y_true, y_pred):
        y_true = tf.cast(tf.reshape(y_true, [-1]), y_pred.dtype)
        p = tf.clip_by_value(tf.reshape(y_pred, [-1]), 1e-6, 1 - 1e-6)
        known = tf.cast(y_true >= 0, p.dtype)
        t = tf.clip_by_value(y_true, 0.0, 1.0)
        bce = -(t * tf.math.log(p) + (1 - t) * tf.math.log(1 - p))
        return weight * known * bce

    loss.__name__ = "masked_bce"
    return loss


def coord_l1_loss(weight: float = 1.0):
    """Integral-regression L1 (SenoritaHand, Wan 2019) on normalised coordinates; ``y_true``
    (K, 3) = x, y, weight."""

    def loss(y_true, y_pred):
        y_true = tf.cast(y_true, y_pred.dtype)
        w = y_true[..., 2]
        d = tf.reduce_sum(tf.abs(y_pred - y_true[..., :2]), axis=-1)
        return weight * tf.reduce_sum(w * d, axis=-1) / (tf.reduce_sum(w, axis=-1) + 1e-6)

    loss.__name__ = "coord_l1"
    return loss


def rotation_loss(weight: float = 1.0):
    """Squared error of the predicted (cos, sin) of an angle; ``y_true`` (3,) =
    cos, sin, weight (0 where the crop shows no hand or its palm is hidden)."""

    def loss(y_true, y_pred):
        y_true = tf.cast(tf.reshape(y_true, [-1, 3]), y_pred.dtype)
        p = tf.reshape(y_pred, [-1, 2])
        return weight * y_true[:, 2] * tf.reduce_sum(tf.square(p - y_true[:, :2]), axis=-1)

    loss.__name__ = "rotation_loss"
    return loss


def binary_accuracy_known(y_true, y_pred):
    y_true = tf.reshape(tf.cast(y_true, tf.float32), [-1])
    p = tf.reshape(tf.cast(y_pred, tf.float32), [-1])
    known = y_true >= 0
    ok = tf.cast(tf.equal(tf.cast(p >= 0.5, tf.float32), y_true), tf.float32)
    return tf.where(known, ok, tf.ones_like(ok))


__all__ = ["soft_dice_loss", "l1_map_loss", "skeleton_loss", "heatmap_loss", "masked_bce",
           "coord_l1_loss", "rotation_loss", "binary_accuracy_known", "keras"]
