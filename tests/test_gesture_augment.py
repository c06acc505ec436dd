"""Keypoint augmentation of GestureNet's training hands (handsdk.train.models.gesture.augment)."""
import numpy as np
import pytest

from handsdk.keypoints import batch_keypoint_features
from handsdk.train import gesture_eval as E
from handsdk.train.data.sources import TOY_GESTURES, toy_hand
from handsdk.train.models.gesture.augment import (KeypointAugment, augment_keypoints, direction_free_half,
                                                  rotate_keypoints, thumbs_flipped)


def _toy(label, n, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.stack([toy_hand(rng, TOY_GESTURES[label]) for _ in range(n)])
    return np.concatenate([kp, np.ones((n, 21, 1), np.float32)], -1)


def test_augmented_features_stay_normalised_and_rotation_is_exact():
    f = batch_keypoint_features(_toy("point", 16), ["Right"] * 16)
    r = E.Recipe()
    a, hands = augment_keypoints(f, np.random.default_rng(1), r.augmentation(),
                                 labels=np.array(["thumbs_up"] * 8 + ["point"] * 8))
    assert hands is None
    assert np.allclose(a[:, 0], 0) and np.allclose(np.abs(a).reshape(16, -1).max(1), 1)
    assert not np.allclose(a, f)
    back = rotate_keypoints(rotate_keypoints(f, 180.0), 180.0)
    assert np.allclose(back, f, atol=1e-5)
    up = rotate_keypoints(f, 180.0)  # a finger pointing up now points down
    assert (f[:, 8, 1] < 0).all() and (up[:, 8, 1] > 0).all()


def test_augmentation_mirroring_keeps_features():
    """Mirroring flips x and handedness: the canonical features do not change,
    rotation/scale/jitter do."""
    rng = np.random.default_rng(0)
    kp = rng.uniform(0, 100, (64, 21, 3)).astype(np.float32)
    hands = ["Right", "Left"] * 32
    base = batch_keypoint_features(kp, hands)
    f, h = augment_keypoints(kp, rng, KeypointAugment(rotation_deg=0, scale=(1, 1), jitter=0, mirror_prob=1.0),
                             handedness=hands)
    assert h == ["Left", "Right"] * 32
    assert np.allclose(f, base, atol=1e-5)
    f2, _ = augment_keypoints(kp, rng, KeypointAugment(), handedness=hands)
    assert not np.allclose(f2, base, atol=1e-3) and np.abs(f2).max() <= 1.0 + 1e-6


def test_rotation_about_the_wrist_keeps_distances_and_visibility():
    kp = _toy("thumb_up", 6)
    kp[..., :2] = kp[..., :2] * 50 + 100
    kp[:, 3, 2] = 0.0
    t = rotate_keypoints(kp, 30.0)
    assert np.allclose(t[:, 0], kp[:, 0]) and np.array_equal(t[..., 2], kp[..., 2])
    assert np.allclose(np.linalg.norm(t[:, :, :2] - t[:, :1, :2], axis=2),
                       np.linalg.norm(kp[:, :, :2] - kp[:, :1, :2], axis=2), atol=1e-3)
    assert np.allclose(rotate_keypoints(t, -30.0), kp, atol=1e-3)


def test_thumbs_flip_and_the_direction_free_half():
    labels = np.array(["thumbs_up", "fist", "thumbs_down", "point"] * 50)
    kp = _toy("thumb_up", len(labels))
    m, turned, new = thumbs_flipped(kp, labels)
    assert m.sum() == 100 and list(new[:2]) == ["thumbs_down", "thumbs_up"]
    assert np.allclose(turned, rotate_keypoints(kp[m], 180.0))
    half = direction_free_half(labels, np.random.default_rng(0))
    assert not half[m].any() and 30 < half[~m].sum() < 70


def test_wide_turns_only_for_direction_free_classes():
    f = batch_keypoint_features(_toy("point", 400))
    labels = np.array(["thumbs_up", "point"] * 200)
    aug = KeypointAugment(rotation_deg=10, wide_rotation_deg=90, scale=(1, 1), jitter=0, mirror_prob=0)
    a, _ = augment_keypoints(f, np.random.default_rng(3), aug, labels=labels)
    turn = np.degrees(np.abs(np.arctan2(a[:, 9, 0], -a[:, 9, 1]) - np.arctan2(f[:, 9, 0], -f[:, 9, 1])))
    turn = np.minimum(turn, 360 - turn)
    assert turn[labels == "thumbs_up"].max() <= 10.5 and turn[labels == "point"].max() > 45


@pytest.mark.parametrize("kw, msg", [({"scale": (1.2, 0.8)}, "low <= high"), ({"scale": (1.0,)}, "scale"),
                                     ({"jitter": -0.1}, "jitter must be a number >= 0"),
                                     ({"mirror_prob": 1.5}, r"mirror_prob must be a number in \[0, 1\]")])
def test_augment_options_are_checked_at_construction(kw, msg):
    with pytest.raises(ValueError, match=msg):
        KeypointAugment(**kw)
