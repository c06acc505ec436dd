"""Smoke training of each model on tiny generated data (seconds each): the
loss goes down, the best model is exported with its contract and metadata,
and reloads with the same outputs; resume and MirroredStrategy on CPU."""
import json
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tf_keras")

from handsdk.train.config import load_config  # noqa: E402
from handsdk.train.trainer import load_exported, train  # noqa: E402

CONFIGS = Path(__file__).resolve().parents[1] / "train" / "configs"

FEEDS = {
    "detector": lambda: {"image": np.random.rand(2, 32, 32, 3).astype(np.float32)},
    "pose": lambda: {"image": np.random.rand(2, 32, 32, 3).astype(np.float32),
                     "skeleton": np.random.rand(2, 32, 32, 1).astype(np.float32)},
    "gesture": lambda: {"keypoints": np.random.uniform(-1, 1, (2, 21, 2)).astype(np.float32)},
}
OUTPUTS = {"detector": {"skeleton"}, "pose": {"heatmaps", "presence", "handedness"}, "gesture": {"scores"}}


@pytest.mark.parametrize("task", ["detector", "pose", "gesture"])
def test_smoke_train(task, tmp_path):
    cfg = load_config(CONFIGS / f"{task}_smoke.yaml")
    t0 = time.time()
    s = train(cfg, out=tmp_path)
    elapsed = time.time() - t0
    loss = s["history"]["loss"]
    assert len(loss) == cfg.train.epochs and loss[-1] < loss[0], loss
    for f in ("best.keras", "metadata.json", "metrics.csv", "history.json", "curves.png", "summary.json"):
        assert (tmp_path / f).is_file(), f
    meta = json.loads((tmp_path / "metadata.json").read_text())
    assert meta["task"] == task and "decoding" in meta and meta["params"] > 0
    m = load_exported(tmp_path / "best.keras")
    assert set(m.output_names) == OUTPUTS[task]
    feed = FEEDS[task]()
    a = m(feed)
    m.save(tmp_path / "again.keras")
    b = load_exported(tmp_path / "again.keras")(feed)
    a = a if isinstance(a, dict) else {"y": a}
    b = b if isinstance(b, dict) else {"y": b}
    for k in a:
        np.testing.assert_allclose(np.asarray(a[k]), np.asarray(b[k]), atol=1e-6)
    print(f"{task} smoke training: {elapsed:.1f}s")


def test_resume_continues(tmp_path):
    cfg = load_config(CONFIGS / "gesture_smoke.yaml", {"train.epochs": 2})
    train(cfg, out=tmp_path)
    hist = json.loads((tmp_path / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2]
    # an interrupted run leaves a backup; emulate by keeping one and resuming with more epochs
    cfg3 = load_config(CONFIGS / "gesture_smoke.yaml", {"train.epochs": 3})
    from handsdk.train import trainer

    class Stop(trainer.keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                raise KeyboardInterrupt

    orig = trainer.keras.callbacks.TerminateOnNaN
    trainer.keras.callbacks.TerminateOnNaN = Stop
    try:
        with pytest.raises(KeyboardInterrupt):
            train(cfg3, out=tmp_path / "r")
    finally:
        trainer.keras.callbacks.TerminateOnNaN = orig
    assert (tmp_path / "r" / "backup").is_dir()
    s = train(cfg3, out=tmp_path / "r", resume=True)
    assert len(s["history"]["loss"]) == 1  # only the third epoch ran
    hist = json.loads((tmp_path / "r" / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2, 3]


def test_a_run_stopped_by_its_time_limit_keeps_its_backup_and_resumes(tmp_path):
    """train.time_limit_min ends a run early (a session's CPU budget): its
    checkpoint stays, --resume runs the remaining epochs from it, and the
    finished run removes the backup."""
    cfg = load_config(CONFIGS / "gesture_smoke.yaml", {"train.epochs": 3, "train.time_limit_min": 1e-9})
    s = train(cfg, out=tmp_path)
    assert not s["finished"] and len(s["history"]["loss"]) == 1
    assert (tmp_path / "backup").is_dir()
    s = train(load_config(CONFIGS / "gesture_smoke.yaml", {"train.epochs": 3}), out=tmp_path, resume=True)
    assert s["finished"] and len(s["history"]["loss"]) == 2  # epochs 2 and 3 only
    assert [r["epoch"] for r in json.loads((tmp_path / "history.json").read_text())] == [1, 2, 3]
    assert not (tmp_path / "backup").exists()


def test_mirrored_strategy_on_cpu(tmp_path):
    cfg = load_config(CONFIGS / "detector_smoke.yaml",
                      {"train.distribute": "mirrored", "train.epochs": 1, "train.steps_per_epoch": 1})
    s = train(cfg, out=tmp_path)
    assert len(s["history"]["loss"]) == 1 and np.isfinite(s["history"]["loss"][0])


def test_cli_rejects_bad_config(tmp_path):
    from typer.testing import CliRunner

    from handsdk.cli.train import app

    bad = tmp_path / "bad.yaml"
    bad.write_text("task: gesture\nmodel: {filterz: 3}\n")
    r = CliRunner().invoke(app, ["gesture", "--config", str(bad)])
    assert r.exit_code != 0 and "filterz" in r.output
    r = CliRunner().invoke(app, ["pose", "--config", str(CONFIGS / "gesture_smoke.yaml")])
    assert r.exit_code != 0 and "not 'pose'" in r.output


def test_init_from_copies_matching_layers_and_keeps_a_new_head(tmp_path):
    from handsdk.train.models import build_model
    from handsdk.train.trainer import init_weights

    cfg = load_config(CONFIGS / "gesture_smoke.yaml", {"train.epochs": 1})
    train(cfg, out=tmp_path / "a")
    src = load_exported(tmp_path / "a" / "best.keras")
    n_src = src.get_layer("scores").get_weights()[0].shape[-1]
    fresh = build_model(cfg, num_classes=n_src + 2)
    head_before = fresh.get_layer("scores").get_weights()[0].copy()
    rep = init_weights(fresh, tmp_path / "a")
    assert rep["copied"] > 0 and "scores" in rep["skipped"]
    np.testing.assert_array_equal(fresh.get_layer("scores").get_weights()[0], head_before)
    body = [l for l in src.layers if l.weights and l.name != "scores"]
    for layer in body:
        for a, b in zip(layer.get_weights(), fresh.get_layer(layer.name).get_weights()):
            np.testing.assert_array_equal(a, b)
    with pytest.raises(FileNotFoundError, match="init_from"):
        init_weights(fresh, tmp_path / "nothing")


def test_export_best_saves_a_compiled_model_without_its_optimizer_state(tmp_path):
    """The detector exports its (compiled) training model: best.keras has the
    same weights, bit for bit, but not Adam's slots nor a compile config, and
    is smaller than the compiled model's own save."""
    import zipfile

    from handsdk.train.models import build_model, custom_objects
    from handsdk.train.tf import keras, tf
    from handsdk.train.trainer import compile_model, export_best

    cfg = load_config(CONFIGS / "detector_smoke.yaml")
    model = compile_model(build_model(cfg), cfg, 1)
    variables = model.trainable_variables
    model.optimizer.apply_gradients(zip([tf.ones_like(v) for v in variables], variables))  # Adam's slots
    assert model.optimizer.variables  # the state that must not ship
    model.save(tmp_path / "compiled.keras")
    export_best(model, cfg, tmp_path)
    best = tmp_path / "best.keras"
    assert not list(tmp_path.glob("*.tmp.keras"))
    with zipfile.ZipFile(best) as z:
        assert "compile_config" not in json.loads(z.read("config.json"))
    loaded = keras.models.load_model(best, custom_objects=custom_objects(), compile=True)
    assert loaded.optimizer is None
    assert len(loaded.weights) == len(model.weights)
    for a, b in zip(model.weights, loaded.weights):
        assert a.name == b.name
        np.testing.assert_array_equal(a.numpy(), b.numpy())
    assert best.stat().st_size < 0.8 * (tmp_path / "compiled.keras").stat().st_size


def _staged(tmp_path, **train):
    """gesture_smoke.yaml with two more stages: a lower rate, then more epochs and a
    harder mix (a schedule in one config)."""
    import yaml

    d = yaml.safe_load((CONFIGS / "gesture_smoke.yaml").read_text())
    d["train"].update(epochs=2, **train)
    d["stages"] = [{"name": "slow", "train": {"learning_rate": 0.001}},
                   {"name": "long", "train": {"epochs": 3}, "data": {"num_train": 128}}]
    p = tmp_path / "staged.yaml"
    p.write_text(yaml.safe_dump(d))
    return p


def test_a_staged_config_trains_its_stages_in_turn_each_from_the_one_before(tmp_path):
    from handsdk.train.config import stage_configs

    cfg = load_config(_staged(tmp_path))
    stages = stage_configs(cfg)
    assert [n for n, _ in stages] == ["base", "slow", "long"]
    # each stage is merged over the one before: the third keeps the second's rate
    assert [(c.train.learning_rate, c.train.epochs, c.data.num_train) for _, c in stages] == \
        [(0.003, 2, 256), (0.001, 2, 256), (0.001, 3, 128)]
    s = train(cfg, out=tmp_path / "run")
    assert s["finished"] and [d["name"] for d in s["stages"]] == ["base", "slow", "long"]
    first, second = tmp_path / "run" / "stages" / "1_base", tmp_path / "run" / "stages" / "2_slow"
    for folder in (first, second, tmp_path / "run"):
        assert (folder / "best.keras").is_file() and _done(folder)
    # the second stage started from the first's selected weights, the last from the second's
    meta2 = json.loads((second / "metadata.json").read_text())
    assert meta2["config"]["train"]["init_from"] == str(first / "best.keras")
    meta3 = json.loads((tmp_path / "run" / "metadata.json").read_text())
    assert meta3["config"]["train"]["init_from"] == str(second / "best.keras")
    assert len(s["history"]["loss"]) == 3  # the last stage's epochs


def _done(folder):
    return json.loads((folder / "summary.json").read_text())["finished"]


def test_a_staged_run_stopped_by_its_time_limit_resumes_in_the_stage_it_stopped(tmp_path):
    """The time limit bounds the whole schedule; --resume skips the finished stages and
    continues the unfinished one from its checkpoint."""
    cfg = load_config(_staged(tmp_path, time_limit_min=1e-9))
    s = train(cfg, out=tmp_path / "run")
    assert not s["finished"] and [d["name"] for d in s["stages"]] == ["base"]
    assert (tmp_path / "run" / "stages" / "1_base" / "backup").is_dir()
    assert not (tmp_path / "run" / "stages" / "2_slow").exists()
    s = train(load_config(_staged(tmp_path)), out=tmp_path / "run", resume=True)
    assert s["finished"] and [d["name"] for d in s["stages"]] == ["base", "slow", "long"]
    hist = json.loads((tmp_path / "run" / "stages" / "1_base" / "history.json").read_text())
    assert [r["epoch"] for r in hist] == [1, 2]  # the first stage went on from its epoch 1
    # resumed again when everything is finished: nothing trains, the summary is the last stage's
    again = train(load_config(_staged(tmp_path)), out=tmp_path / "run", resume=True)
    assert again["finished"] and again["best"] == s["best"]


@pytest.mark.parametrize("stage, message", [
    ({"name": "x", "train": {"init_from": "runs/a"}}, "init_from is set by the schedule"),
    ({"name": "x", "task": "pose"}, "unknown key(s) task"),
    ({"name": "base"}, "name must be a unique word"),
    ({"train": {"epochs": 2}}, "name must be a unique word"),
    ({"name": "x", "train": {"epochs": 0}}, "stages[0] (x): train.epochs"),
    ({"name": "x", "train": {"epoch": 2}}, "stages[0] (x): unknown config key(s): train.epoch"),
])
def test_a_stage_that_cannot_be_used_is_refused_at_load_naming_it(tmp_path, stage, message):
    import yaml

    from handsdk.train.config import ConfigError

    d = yaml.safe_load((CONFIGS / "gesture_smoke.yaml").read_text())
    d["stages"] = [stage]
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(d))
    with pytest.raises(ConfigError) as e:
        load_config(p)
    assert message in str(e.value), str(e.value)
