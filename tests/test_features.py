"""The vectorised gesture feature agrees with the one-hand feature."""
import numpy as np
import pytest

from handsdk.keypoints import batch_keypoint_features, keypoint_features


def _random_hands(rng, n, dims):
    # hands of different sizes and places, in pixels and in normalised units
    scale = rng.choice([1.0, 640.0], size=(n, 1, 1))
    centre = rng.uniform(0.2, 0.8, size=(n, 1, dims)) * scale
    spread = rng.uniform(0.02, 0.3, size=(n, 1, 1)) * scale
    return (centre + spread * rng.normal(size=(n, 21, dims))).astype(np.float32)


@pytest.mark.parametrize("dims", [2, 3])
def test_batch_keypoint_features_agrees_with_keypoint_features(dims):
    rng = np.random.default_rng(12)
    kp = _random_hands(rng, 64, dims)
    hands = [("Left", "Right")[i] for i in rng.integers(0, 2, size=len(kp))]
    assert {"Left", "Right"} <= set(hands)
    for handedness in (hands, None):
        got = batch_keypoint_features(kp, handedness)
        assert got.shape == (len(kp), 21, 2) and got.dtype == np.float32
        want = np.stack([keypoint_features(k, None if handedness is None else h) for k, h in zip(kp, hands)])
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_batch_keypoint_features_agrees_on_a_degenerate_hand():
    """All keypoints on the wrist: both leave the zeros as they are."""
    kp = np.full((2, 21, 3), 5.0, np.float32)
    got = batch_keypoint_features(kp, ["Left", "Right"])
    want = np.stack([keypoint_features(kp[0], "Left"), keypoint_features(kp[1], "Right")])
    np.testing.assert_array_equal(got, want)
    assert not got.any()
