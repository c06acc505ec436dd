"""train.trainable: only the named layers learn (e.g. a landmarker's presence
recalibrated while its keypoints stay as they are)."""
from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tf_keras")


def _model():
    from handsdk.train.tf import keras

    L = keras.layers
    x = keras.Input((8, 8, 3))
    h = L.Conv2D(4, 3, padding="same", name="stem")(x)
    h = L.BatchNormalization(name="stem_bn")(h)
    g = L.GlobalAveragePooling2D(name="pool")(h)
    heat = L.Dense(5, name="heatmaps")(g)
    pres = L.Dense(1, activation="sigmoid", name="presence")(L.Dense(4, activation="relu", name="presence_fc")(g))
    return keras.Model(x, {"heatmaps": heat, "presence": pres})


def test_only_the_named_layers_learn():
    from handsdk.train.trainer import freeze_except

    m = _model()
    kept = freeze_except(m, ["presence_fc", "presence"])
    assert sorted(kept) == ["presence", "presence_fc"]
    m.compile("adam", {"heatmaps": "mse", "presence": "binary_crossentropy"})
    before = {l.name: [w.copy() for w in l.get_weights()] for l in m.layers if l.weights}
    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 8, 8, 3)).astype(np.float32)
    m.fit(x, {"heatmaps": rng.normal(size=(16, 5)), "presence": (rng.random((16, 1)) > 0.5).astype(np.float32)},
          epochs=3, verbose=0)
    for l in m.layers:
        if not l.weights:
            continue
        same = all(np.array_equal(a, b) for a, b in zip(before[l.name], l.get_weights()))
        assert same == (l.name not in kept), l.name  # frozen BatchNorm keeps its statistics too


def test_a_prefix_that_names_no_layer_or_none_is_refused():
    from handsdk.train.trainer import freeze_except

    with pytest.raises(ValueError, match="no layer with weights is named"):
        freeze_except(_model(), ["nothing_like_this"])
    with pytest.raises(ValueError, match="name prefixes"):
        freeze_except(_model(), [])
    with pytest.raises(ValueError, match="name prefixes"):
        freeze_except(_model(), [""])


@pytest.mark.parametrize("bad", [[], [""], "presence", [3]])
def test_an_empty_or_malformed_trainable_list_is_refused_when_the_config_loads(tmp_path, bad):
    import yaml

    from handsdk.train.config import ConfigError, load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"task": "pose", "train": {"trainable": bad}}))
    with pytest.raises(ConfigError, match="train.trainable"):
        load_config(cfg)
    cfg.write_text(yaml.safe_dump({"task": "pose", "train": {"trainable": ["presence_fc", "presence"]}}))
    assert load_config(cfg).train.trainable == ["presence_fc", "presence"]


@pytest.mark.parametrize("window, exported", [(1, [1, 2]), (3, [1, 2, 6])])
def test_select_window_picks_the_end_of_the_best_stretch_not_a_spike(monkeypatch, tmp_path, window, exported):
    import types

    from handsdk.train import trainer
    from handsdk.train.config import config_from_dict

    cfg = config_from_dict({"task": "gesture", "train": {"select_window": window}})
    data = types.SimpleNamespace(num_val=0, labels=None)  # no validation pass: the logs carry the monitor
    calls = []
    monkeypatch.setattr(trainer, "export_best", lambda model, cfg, out, labels, extra: calls.append(extra["epoch"]))
    cb = trainer.EvalCallback(cfg, data, tmp_path, {}, chief=True)
    for epoch, v in enumerate([0.5, 0.9, 0.5, 0.7, 0.72, 0.74]):
        cb.on_epoch_end(epoch, {"val_macro_f1": v, "loss": 1.0})
    assert calls == exported


def test_select_window_below_one_is_refused(tmp_path):
    import yaml

    from handsdk.train.config import ConfigError, load_config

    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump({"task": "gesture", "train": {"select_window": 0}}))
    with pytest.raises(ConfigError, match="select_window"):
        load_config(cfg)
