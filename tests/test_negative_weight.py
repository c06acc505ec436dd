"""The detector's loss weighs the map's pixels inside mined non-hand boxes
(faces) more (data.negative_weight)."""
import numpy as np
import pytest

from tests.test_negative_zoom import FACE, _frame


def test_pool_keeps_the_mined_boxes_in_model_pixels_only_when_asked():
    from handsdk.train.models.detector.examples import MAX_NEGATIVE_BOXES, detector_pool

    frames = [_frame("a.jpg", hand_at=(150.0, 200.0)), _frame("b.jpg")]
    plain = detector_pool(frames, 128, 160, negatives={"a.jpg": [FACE]})
    assert "neg_boxes" not in plain
    pool = detector_pool(frames, 128, 160, negatives={"a.jpg": [FACE] * 20}, negative_boxes=True)
    nb = pool["neg_boxes"]
    assert nb.shape == (2, MAX_NEGATIVE_BOXES, 4)
    # letterboxed 320x240 -> 160x120 in a 160x128 frame: half size, 4 px down
    np.testing.assert_allclose(nb[0, 0], [100, 34, 125, 64], atol=1e-4)
    assert (nb[1] == -1).all()  # no mined box: padding only


def test_weight_map_is_one_plus_weight_inside_the_boxes_and_ignores_padding():
    from handsdk.train.models.detector.examples import negative_weight_map

    boxes = np.array([[10, 20, 30, 40], [-1, -1, -1, -1]], np.float32)
    w = np.asarray(negative_weight_map(boxes, 64, 48, 9.0))[..., 0]
    assert w.shape == (64, 48)
    assert w[25, 15] == 10.0 and w[5, 5] == 1.0 and w[45, 40] == 1.0
    assert (w == 10.0).sum() == 20 * 20


def _example(flip_seed=None, weight=10.0):
    from handsdk.train.config import config_from_dict
    from handsdk.train.models.detector.examples import detector_pool, train_example
    from handsdk.train.tf import tf

    cfg = config_from_dict({"task": "detector", "model": {"input_height": 128, "input_width": 160},
                            "data": {"hard_negatives": "mined.json", "negative_weight": weight}})
    pool = detector_pool([_frame("a.jpg", hand_at=(60.0, 200.0))], 128, 160, negatives={"a.jpg": [FACE]},
                         negative_boxes=True)
    ex = {k: tf.constant(v[0]) for k, v in pool.items()}
    return train_example(cfg, ex, augment=flip_seed is not None)


def test_target_carries_the_weight_channel_and_a_flip_moves_boxes_with_the_frame():
    from handsdk.train.tf import tf

    _, y = _example()
    t = np.asarray(y["skeleton"])
    assert t.shape == (128, 160, 2)
    face = t[..., 1] > 1
    ys, xs = np.nonzero(face)
    assert (xs.min(), xs.max(), ys.min(), ys.max()) == (100, 124, 34, 63)
    assert t[..., 0][face].max() == 0  # the face is dark in the target
    flipped = 0
    for seed in range(8):  # some of these draws flip the frame
        tf.random.set_seed(seed)
        x, y = _example(flip_seed=seed)
        t = np.asarray(y["skeleton"])
        ys, xs = np.nonzero(t[..., 1] > 1)
        if xs.min() == 160 - 125:
            flipped += 1
            # the face's pixels are where the flipped image has them
            assert (xs.max(), ys.min(), ys.max()) == (160 - 101, 34, 63)
        else:
            assert (xs.min(), xs.max()) == (100, 124)
    assert 0 < flipped < 8


def test_loss_charges_a_lit_face_more_and_is_unchanged_without_weights():
    from handsdk.train.models.losses import skeleton_loss
    from handsdk.train.tf import tf

    target = np.zeros((1, 32, 32, 1), np.float32)
    target[0, 20:28, 4:8] = 1.0  # the hand
    pred = target.copy()
    pred[0, 2:10, 2:10] = 0.8  # the map lights the face
    w = np.ones_like(target)
    w[0, 0:12, 0:12] = 11.0
    loss = skeleton_loss(0.4, 0.6)
    plain = float(loss(tf.constant(target), tf.constant(pred))[0])
    ones = float(loss(tf.constant(np.concatenate([target, np.ones_like(w)], -1)), tf.constant(pred))[0])
    weighted = float(loss(tf.constant(np.concatenate([target, w], -1)), tf.constant(pred))[0])
    assert ones == pytest.approx(plain, rel=1e-6)
    l1_face = 0.8 * 64 / (32 * 32)
    assert weighted - plain == pytest.approx(0.4 * 10 * l1_face, rel=1e-5)
    # a lit pixel outside any box costs as before
    pred2 = target.copy()
    pred2[0, 20:28, 20:28] = 0.8
    a = float(loss(tf.constant(target), tf.constant(pred2))[0])
    b = float(loss(tf.constant(np.concatenate([target, w], -1)), tf.constant(pred2))[0])
    assert a == pytest.approx(b, rel=1e-6)


def test_negative_weight_needs_mined_boxes_and_a_sane_value():
    from handsdk.train.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match="hard_negatives"):
        config_from_dict({"task": "detector", "data": {"negative_weight": 5.0}})
    for bad in (-1.0, "ten", True):
        with pytest.raises(ConfigError, match="negative_weight"):
            config_from_dict({"task": "detector", "data": {"negative_weight": bad, "hard_negatives": "m.json"}})
    assert config_from_dict({"task": "detector"}).data.negative_weight == 0.0
