"""GestureNet's one training loop (handsdk.train.models.gesture.fit) and the
synthetic template hands (handsdk.train.synth.template_hands)."""
import numpy as np
import pytest

from handsdk.keypoints import batch_keypoint_features
from handsdk.train.data.sources import TOY_GESTURES, toy_hand
from handsdk.train.models.gesture.fit import FitOptions


def _toy_features(classes, n, seed=0):
    rng = np.random.default_rng(seed)
    kp = np.stack([toy_hand(rng, TOY_GESTURES[c]) for c in classes for _ in range(n)])
    return batch_keypoint_features(kp), np.repeat(np.arange(len(classes)), n)


@pytest.mark.parametrize("kw, msg", [({"epochs": 0}, "epochs must be an int >= 1"), ({"keep": "first"}, "keep must be"),
                                     ({"label_smoothing": 1.5}, "label_smoothing must be a number in"),
                                     ({"learning_rate": 0}, "learning_rate must be a number > 0"),
                                     ({"patience": -1}, "patience must be an int >= 0"),
                                     ({"time_budget_s": -1}, "time_budget_s must be a number >= 0")])
def test_fit_options_are_checked_at_construction(kw, msg):
    with pytest.raises(ValueError, match=msg):
        FitOptions(**kw)


def test_fit_keeps_the_best_epoch_stops_early_and_keeps_to_the_budget():
    pytest.importorskip("tensorflow")
    from handsdk.train.config import GestureModelConfig
    from handsdk.train.models.gesture.fit import fit_gesture

    classes = ["open", "fist", "point"]
    x, y = _toy_features(classes, 30)
    xv, yv = _toy_features(classes, 10, seed=1)
    cfg = GestureModelConfig(labels=classes, filters=4, hidden=8)
    drawn = []

    def draw(ep):
        drawn.append(ep)
        return x, y, None

    lines = []
    opts = FitOptions(epochs=8, steps_per_epoch=2, batch_size=45, patience=0, label_smoothing=0.1)
    res = fit_gesture(cfg, draw, opts, val=(xv, yv), say=lines.append)
    assert drawn == [1, 2, 3, 4, 5] and res.epochs == 5 and len(res.history) == 5  # patience 0: stops at epoch 5
    assert lines[0].startswith("GestureNet: 3 classes") and lines[1].startswith("epoch 1/8 [")
    assert lines[-1] == "validation has not improved for 0 epochs; stopping"
    f1 = [h["val_f1"] for h in res.history]
    assert 1 <= res.best_epoch <= 5 and f1[res.best_epoch - 1] == max(f1)
    p = res.model.predict(xv, verbose=0)
    from handsdk.train.metrics import classification_metrics

    assert classification_metrics(yv, p.argmax(1), 3)["macro_f1"] == pytest.approx(max(f1))  # the best epoch's weights

    res = fit_gesture(cfg, draw, FitOptions(epochs=8, steps_per_epoch=2, batch_size=45, keep="last",
                                            time_budget_s=0.0), say=lines.append)
    assert res.epochs == 1 and res.best_epoch == 1 and lines[-1] == "time budget of 0s reached"
    assert "val_f1" not in res.history[0]


def test_template_hands_are_keypoint_hands_of_template_poses():
    from handsdk.train import synth

    kp, hands = synth.template_hands("commands", ["fist", "ok", "fist"], np.random.default_rng(4))
    assert kp.shape == (3, 21, 3) and kp.dtype == np.float32 and set(hands) <= {"Left", "Right"}
    assert (kp[..., 2] == 1).all()
    calls = []

    def draw(rng, i):
        lab = ["fist", "ok", "fist"][i]
        calls.append(i)
        return synth.pose_from_template("commands", lab, rng, 6.0), lab

    kp2, hands2, tags = synth.keypoint_hands(3, np.random.default_rng(4), draw)
    assert calls == [0, 1, 2] and tags == ["fist", "ok", "fist"] and hands2 == hands
    assert np.array_equal(kp, kp2)


def test_set_threads_leaves_a_running_tensorflow_alone():
    T = pytest.importorskip("handsdk.train.tf")
    assert float(T.tf.constant(1.0) + 1.0) == 2.0  # TensorFlow has started: its pools are fixed
    before = T.tf.config.threading.get_intra_op_parallelism_threads()
    T.set_threads(None)
    T.set_threads(3)
    assert T.tf.config.threading.get_intra_op_parallelism_threads() == before
