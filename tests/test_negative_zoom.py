"""Detector frames zoomed in about mined non-hand boxes (data.negative_zoom):
a face close to the camera, with the frame's hands moved along."""
import numpy as np
import pytest

from handsdk.image import apply_affine, letterbox_matrix
from tests.test_align import _hand


def _frame(path, hand_at=None):
    from handsdk.train.data.sample import Sample

    img = np.zeros((240, 320, 3), np.uint8)
    img[60:120, 200:250] = (200, 150, 120)  # the 'face': the mined box below
    kps = np.zeros((0, 21, 3), np.float32)
    if hand_at is not None:
        kp = _hand(-90, centre=hand_at, length=30.0)
        kp[:, 2] = 1
        kps = kp[None]
    return Sample(image=img, boxes=np.zeros((len(kps), 4), np.float32), keypoints=kps, path=path)


FACE = [200.0, 60.0, 250.0, 120.0]


@pytest.mark.parametrize("frac", [(0.5, 0.5), (0.8, 0.8)])
def test_the_mined_box_is_zoomed_to_the_asked_share_of_the_frame(frac):
    from handsdk.train.models.detector.examples import negative_zoom_matrix

    m0 = letterbox_matrix((240, 320), (128, 160))
    m = negative_zoom_matrix(m0, FACE, 128, 160, np.random.default_rng(0), frac)
    c = apply_affine(m, np.array(FACE).reshape(2, 2))
    side = max(c[1] - c[0])
    assert side == pytest.approx(frac[0] * 128, rel=1e-6)
    centre = (c[0] + c[1]) / 2
    assert abs(centre[0] - 80) <= 0.2 * 160 + 1e-6 and abs(centre[1] - 64) <= 0.2 * 128 + 1e-6


def test_a_box_already_bigger_than_asked_is_not_zoomed_out():
    from handsdk.train.models.detector.examples import negative_zoom_matrix

    m0 = letterbox_matrix((240, 320), (128, 160))
    m = negative_zoom_matrix(m0, [0, 0, 300, 230], 128, 160, np.random.default_rng(0), (0.3, 0.3))
    assert np.linalg.det(m[:, :2]) == pytest.approx(np.linalg.det(m0[:, :2]))


def test_pool_zooms_only_frames_with_mined_boxes_and_moves_their_hands():
    from handsdk.train.models.detector.examples import detector_pool

    mined, plain = _frame("a.jpg", hand_at=(150.0, 200.0)), _frame("b.jpg", hand_at=(150.0, 200.0))
    pool = detector_pool([mined, plain], 128, 160, rng=np.random.default_rng(1), negatives={"a.jpg": [FACE]},
                         negative_zoom=[0.6, 0.6], negative_zoom_prob=1.0)
    ref = detector_pool([mined, plain], 128, 160)
    np.testing.assert_array_equal(pool["image"][1], ref["image"][1])  # no mined box: as plain letterboxing
    assert not np.array_equal(pool["image"][0], ref["image"][0])
    face = np.all(pool["image"][0] == (200, 150, 120), axis=-1)
    ys, xs = np.nonzero(face)
    assert (ys.max() - ys.min() + 1) == pytest.approx(0.6 * 128, abs=2)  # the face spans 60% of the height
    # the hand's keypoints are those of the zoomed frame: 2.56x their spread in the plain frame
    spread = np.ptp(pool["keypoints"][0, 0, :, 1]) / np.ptp(ref["keypoints"][0, 0, :, 1])
    assert spread == pytest.approx(0.6 * 128 / (60 * 0.5), rel=1e-3)  # (letterboxed at half size)


def test_negative_zoom_without_mined_boxes_is_a_clear_config_error():
    """Refused when the config loads, before any frame is read."""
    from handsdk.train.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="hard_negatives"):
        config_from_dict({"task": "detector", "data": {"negative_zoom": [0.4, 0.8], "negative_zoom_prob": 0.5}})
    with pytest.raises(ConfigError, match="hard_negatives"):  # a range that is not [lo, hi]
        config_from_dict({"task": "detector", "data": {"negative_zoom": [0.8, 0.4], "negative_zoom_prob": 0.5,
                                                       "hard_negatives": "mined.json"}})
    cfg = config_from_dict({"task": "detector", "data": {"negative_zoom": [0.4, 0.8], "negative_zoom_prob": 0.5,
                                                         "hard_negatives": "mined.json"}})
    assert cfg.data.negative_zoom_prob == 0.5
