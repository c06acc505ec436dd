"""The three models: exported contract, losses, targets, decoding, config."""
import numpy as np
import pytest

pytest.importorskip("tf_keras")

from handsdk.decode import heatmaps_to_keypoints, skeleton_to_boxes  # noqa: E402
from handsdk.keypoints import keypoints_box, render_skeleton  # noqa: E402
from handsdk.train.config import (  # noqa: E402
    ConfigError, DetectorModelConfig, GestureModelConfig, PoseModelConfig, config_from_dict)
from handsdk.train.tf import keras, tf  # noqa: E402


def _hand(rng, size=64):
    from handsdk.train.data.sources import toy_sample

    return toy_sample(rng, (size, size), hands=1)


def test_detector_contract():
    from handsdk.train.models.detector.model import build_detector, detector_metadata

    cfg = DetectorModelConfig(input_height=64, input_width=80, filters=[4, 8, 16])
    m = build_detector(cfg)
    assert m.input_names == ["image"] and m.output_names == ["skeleton"]
    assert tuple(m.input_shape) == (None, 64, 80, 3) and tuple(m.output_shape) == (None, 64, 80, 1)
    y = m(np.random.rand(2, 64, 80, 3).astype(np.float32)).numpy()
    assert ((y >= 0) & (y <= 1)).all()
    meta = detector_metadata(m, cfg)
    assert meta["input_size"] == [64, 80] and {"threshold", "min_mass"} <= set(meta["decoding"])
    full = build_detector(DetectorModelConfig())
    assert 100_000 <= full.count_params() <= 400_000


@pytest.mark.parametrize("kw", [dict(), dict(use_skeleton=False), dict(scales=[2], scale_weights=[1.0]),
                                dict(attention=True, keypoints_output=True, coord_weight=0.1),
                                dict(rotation_head=True), dict(rotation_head=True, rotation_output=False),
                                dict(presence_from="scales")])
def test_pose_contract(kw):
    from handsdk.train.models.pose.model import build_inference_model, build_pose, pose_metadata

    cfg = PoseModelConfig(input_size=32, filters=[8, 12, 16, 16], **kw)
    train_m = build_pose(cfg)
    inf = build_inference_model(train_m, cfg)
    want_in = ["image", "skeleton"] if cfg.use_skeleton else ["image"]
    assert inf.input_names == want_in
    want_out = {"heatmaps", "presence", "handedness"} | ({"keypoints"} if cfg.keypoints_output else set()) \
        | ({"rotation"} if cfg.rotation_head and cfg.rotation_output else set())
    assert set(inf.output_names) == want_out
    feed = {"image": np.random.rand(2, 32, 32, 3).astype(np.float32)}
    if cfg.use_skeleton:
        feed["skeleton"] = np.random.rand(2, 32, 32, 1).astype(np.float32)
    out = inf(feed)
    assert out["heatmaps"].shape == (2, 16, 16, 21)
    assert out["presence"].shape == (2, 1) and out["handedness"].shape == (2, 1)
    if cfg.rotation_head:  # trained either way; exported when rotation_output
        assert set(train_m.output_names) >= {"rotation", "presence"}
    if "rotation" in want_out:
        assert out["rotation"].shape == (2, 2)
    if cfg.keypoints_output:
        k = out["keypoints"].numpy()
        assert k.shape == (2, 21, 2) and (k >= 0).all() and (k <= 1).all()
    meta = pose_metadata(inf, cfg)
    assert meta["heatmap_size"] == [16, 16] and meta["quantizable"] == (not cfg.attention)
    assert set(meta["outputs"]) == want_out


def test_pose_average_is_weighted_mean():
    from handsdk.train.models.pose.model import build_inference_model, build_pose

    cfg = PoseModelConfig(input_size=32, filters=[8, 8, 8], scales=[4, 2], scale_weights=[1.0, 3.0])
    train_m = build_pose(cfg)
    inf = build_inference_model(train_m, cfg)
    feed = {"image": np.random.rand(1, 32, 32, 3).astype(np.float32),
            "skeleton": np.random.rand(1, 32, 32, 1).astype(np.float32)}
    t = train_m(feed)
    up = tf.image.resize(t["hm_s4"], (16, 16), method="bilinear").numpy()
    want = 0.25 * up + 0.75 * t["hm_s2"].numpy()
    got = inf(feed)["heatmaps"].numpy()
    # Keras bilinear UpSampling2D uses half-pixel centres like tf.image.resize
    np.testing.assert_allclose(got, want, atol=1e-5)


def test_gesture_contract():
    from handsdk.train.models.gesture.model import build_gesture, gesture_metadata

    cfg = GestureModelConfig(labels=["none", "a", "b"])
    m = build_gesture(cfg)
    assert m.input_names == ["keypoints"] and m.output_names == ["scores"]
    s = m(np.random.rand(4, 21, 2).astype(np.float32)).numpy()
    assert s.shape == (4, 3)
    np.testing.assert_allclose(s.sum(-1), 1, atol=1e-5)
    meta = gesture_metadata(m, cfg)
    assert meta["labels"] == ["none", "a", "b"] and meta["decoding"]["none_label"] == "none"


def test_render_skeleton_tf_matches_numpy():
    from handsdk.train.models.targets import render_skeleton_tf

    s = _hand(np.random.default_rng(0))
    kp = s.keypoints
    want = render_skeleton(kp[:, :, :2], (48, 40), thickness=0.03)
    got = render_skeleton_tf(kp, 48, 40, 0.03).numpy()
    np.testing.assert_allclose(got, want, atol=1e-4)
    absent = np.full((1, 21, 3), -1, np.float32)
    assert render_skeleton_tf(absent, 8, 8).numpy().max() == 0


def test_heatmap_targets_decode_to_keypoints():
    from handsdk.train.models.targets import gaussian_heatmaps_tf

    rng = np.random.default_rng(1)
    kp = np.concatenate([rng.uniform(4, 60, (21, 2)), np.ones((21, 1))], 1).astype(np.float32)
    hm = gaussian_heatmaps_tf(kp, 64, 32, 32, 1.75).numpy()
    xy, peaks = heatmaps_to_keypoints(hm)
    # quadratic refinement of a Gaussian: well under a tenth of a heatmap pixel
    np.testing.assert_allclose(xy * 2, kp[:, :2], atol=0.35)
    assert (peaks > 0.8).all()


def test_losses():
    from handsdk.train.models import losses as LS

    y = np.random.rand(2, 8, 8, 1).astype(np.float32)
    assert np.allclose(LS.soft_dice_loss(tf.constant(y), tf.constant(y)).numpy(), 0, atol=1e-6)
    assert (LS.skeleton_loss()(tf.constant(y), tf.zeros_like(y)).numpy() > 0.5).all()
    t = np.zeros((1, 4, 4, 2), np.float32)
    t[0, 1, 1, 0] = 1.0
    pred = np.zeros((1, 4, 4, 1), np.float32)
    hl = LS.heatmap_loss(1.0)
    assert hl(tf.constant(t), tf.constant(pred)).numpy()[0] == 0.0  # weight 0: masked
    t[..., 1] = 1.0
    assert hl(tf.constant(t), tf.constant(pred)).numpy()[0] > 0
    bce = LS.masked_bce()(tf.constant([[-1.0], [1.0]]), tf.constant([[0.1], [0.9]])).numpy()
    assert bce[0] == 0 and bce[1] == pytest.approx(-np.log(0.9), rel=1e-4)


def test_soft_argmax():
    from handsdk.train.models.layers import SoftArgmax

    hm = np.zeros((1, 8, 8, 2), np.float32)
    hm[0, 2, 5, 0] = 1
    hm[0, 7, 0, 1] = 1
    xy = SoftArgmax()(hm).numpy()[0]
    np.testing.assert_allclose(xy, [[5.5 / 8, 2.5 / 8], [0.5 / 8, 7.5 / 8]], atol=1e-5)


def test_skeleton_to_boxes_on_rendered_skeleton():
    s = _hand(np.random.default_rng(3), 96)
    skel = render_skeleton(s.keypoints[:, :, :2], (96, 96))
    boxes = skeleton_to_boxes(skel, min_mass=5, pad=0.0)
    assert len(boxes) == 1
    from handsdk.boxes import box_iou

    assert box_iou(boxes[0].box[None], keypoints_box(s.keypoints[0])[None])[0, 0] > 0.6
    assert skeleton_to_boxes(np.zeros((32, 32))) == []


def test_config_rejects_unknown_keys(tmp_path):
    with pytest.raises(ConfigError, match="model.filterz"):
        config_from_dict({"task": "pose", "model": {"filterz": [1]}})
    with pytest.raises(ConfigError, match="train.epoch"):
        config_from_dict({"task": "gesture", "train": {"epoch": 1}})
    with pytest.raises(ConfigError, match="data.train\\[0\\].wieght"):
        config_from_dict({"task": "gesture", "data": {"train": [{"name": "toy", "wieght": 1}]}})
    with pytest.raises(ConfigError, match="expected an integer"):
        config_from_dict({"task": "detector", "train": {"epochs": "ten"}})
    with pytest.raises(ConfigError, match="distribute"):
        config_from_dict({"task": "detector", "train": {"distribute": "tpu"}})
    from handsdk.train.config import load_config

    p = tmp_path / "c.yaml"
    p.write_text("task: detector\nmodel: {input_height: 64, input_width: 96}\ntrain: {epochs: 2}\n")
    c = load_config(p, {"train.batch_size": 4})
    assert c.model.input_width == 96 and c.train.batch_size == 4 and c.name == "c"


def test_config_base_merges_over_its_base(tmp_path):
    """``base:`` (relative to the file, chained): mappings merge key by key, lists and
    scalars (null too) replace; the name is the file's own and ``base`` is gone."""
    from handsdk.train.config import load_config, read_config
    from handsdk.train.models.motion.config import load_motion_config

    (tmp_path / "sub").mkdir()
    (tmp_path / "a.yaml").write_text(
        "task: pose\nname: a_run\nout: runs/a\n"
        "model: {input_size: 32, filters: [8, 12, 16], scales: [4, 2], scale_weights: [0.5, 1.0]}\n"
        "data: {train: [{name: toy}, {name: toy, weight: 2.0}], num_train: 64}\n"
        "train: {epochs: 5, init_from: runs/x, trainable: [presence]}\n")
    (tmp_path / "sub" / "b.yaml").write_text(
        "base: ../a.yaml\nmodel: {filters: [4, 8, 16]}\ndata: {train: [{name: toy, limit: 3}]}\n"
        "train: {init_from: null}\n")
    (tmp_path / "c.yaml").write_text("base: sub/b.yaml\nout: runs/c\ntrain: {epochs: 2}\n")
    b = load_config(tmp_path / "sub" / "b.yaml")
    assert b.name == "b" and b.out == "runs/a" and b.task == "pose"
    assert b.model.input_size == 32 and b.model.filters == [4, 8, 16] and b.model.scales == [4, 2]
    assert [(s.weight, s.limit) for s in b.data.train] == [(1.0, 3)] and b.data.num_train == 64
    assert b.train.init_from is None and b.train.epochs == 5 and b.train.trainable == ["presence"]
    c = load_config(tmp_path / "c.yaml", {"train.batch_size": 4})  # (a chain, then --set)
    assert (c.name, c.out, c.train.epochs, c.train.batch_size) == ("c", "runs/c", 2, 4)
    assert c.model.filters == [4, 8, 16] and c.train.init_from is None and c.data.train[0].limit == 3
    assert "base" not in read_config(tmp_path / "c.yaml") and "base" not in c.to_dict()
    assert read_config(tmp_path / "a.yaml")["name"] == "a_run" and "name" not in read_config(tmp_path / "c.yaml")
    # cycles, missing bases and bad values name the files
    (tmp_path / "d.yaml").write_text("base: e.yaml\n")
    (tmp_path / "e.yaml").write_text("base: d.yaml\n")
    with pytest.raises(ConfigError, match=r"base cycle: \S*d\.yaml -> \S*e\.yaml -> \S*d\.yaml"):
        load_config(tmp_path / "d.yaml")
    (tmp_path / "f.yaml").write_text("base: f.yaml\n")
    with pytest.raises(ConfigError, match=r"f\.yaml: base cycle"):
        load_config(tmp_path / "f.yaml")
    (tmp_path / "g.yaml").write_text("base: c.yaml\n")
    (tmp_path / "c.yaml").write_text("base: missing.yaml\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: base 'missing\.yaml' not found"):
        load_config(tmp_path / "g.yaml")
    (tmp_path / "h.yaml").write_text("base: [a.yaml]\n")
    with pytest.raises(ConfigError, match="h.yaml: base: give the path"):
        load_config(tmp_path / "h.yaml")
    # the motion config resolves its base the same way
    (tmp_path / "m0.yaml").write_text("task: motion\nmodel: {hidden: 32}\ntrain: {epochs: 9, batch_size: 64}\n")
    (tmp_path / "m.yaml").write_text("base: m0.yaml\ntrain: {epochs: 3}\n")
    m = load_motion_config(tmp_path / "m.yaml")
    assert (m.name, m.model.hidden, m.train.epochs, m.train.batch_size) == ("m", 32, 3, 64)


def test_options_of_dropped_experiments_are_refused():
    """Options only measured-and-not-kept configs used (docs/experiments.md)
    are gone: a config that still sets one fails with the key's path."""
    for task, section, key, value in (("detector", "data", "negative_weight", 10.0),
                                      ("detector", "data", "negative_zoom_prob", 0.5),
                                      ("pose", "model", "crops_per_hand", 3),
                                      ("pose", "model", "zoom_negatives", 0.3),
                                      ("pose", "model", "zoom_positives", 0.3),
                                      ("pose", "model", "blur_prob", 0.35)):
        with pytest.raises(ConfigError, match=f"{section}.{key}"):
            config_from_dict({"task": task, section: {key: value}})
    from handsdk.train.config import SourceConfig
    from handsdk.train.data.sources import iter_source

    with pytest.raises(ValueError, match="unknown data source 'composite'"):
        list(iter_source(SourceConfig(name="composite"), np.random.default_rng(0), 1))


def test_shipped_configs_load():
    from pathlib import Path

    from handsdk.train.config import load_config

    from handsdk.train.models.motion.config import load_motion_config

    configs = Path(__file__).resolve().parents[1] / "train" / "configs"
    files = sorted(configs.glob("*.yaml"))
    assert len(files) >= 6
    files += sorted((configs / "experiments").glob("*.yaml"))  # (runs in progress load too)
    for f in files:  # (the motion set trains with its own loop and config: handsdk.train.models.motion)
        (load_motion_config if "\ntask: motion" in f.read_text() else load_config)(f)
    import yaml

    for f in sorted(configs.glob("*.yaml")):  # (the wheel ships these, not experiments/: a base stays beside them)
        base = (yaml.safe_load(f.read_text()) or {}).get("base")
        assert base is None or (configs / base).resolve().parent == configs, (f, base)


def test_metadata_specs_parse_as_manifest_tensors():
    from handsdk.bundle import TensorSpec
    from handsdk.train.config import config_from_dict
    from handsdk.train.models import build_model, export_model, model_metadata

    for task, model in (("detector", {"input_height": 32, "input_width": 32, "filters": [4, 8, 16]}),
                        ("pose", {"input_size": 32, "filters": [8, 8, 8, 8]}),
                        ("gesture", {"labels": ["none", "x"]})):
        cfg = config_from_dict({"task": task, "model": model})
        m = export_model(build_model(cfg), cfg)
        meta = model_metadata(m, cfg)
        assert set(meta["inputs"]) == set(m.input_names) and set(meta["outputs"]) == set(m.output_names)
        for k, v in {**meta["inputs"], **meta["outputs"]}.items():
            TensorSpec.from_json(k, v, task)
        if "image" in meta["inputs"]:
            spec = TensorSpec.from_json("image", meta["inputs"]["image"], task)
            assert spec.std == (255.0, 255.0, 255.0) and spec.color == "RGB"


def test_presence_from_scales_reads_every_decoder_scale_and_is_validated():
    from handsdk.train.models.pose.model import build_pose

    cfg = PoseModelConfig(input_size=32, filters=[8, 12, 16, 16], presence_from="scales")
    m = build_pose(cfg)
    # the deepest features (16) and the decoder's stride-4 (16) and stride-2 (12) ones, each averaged
    assert m.get_layer("presence_fc").input.shape[-1] == 16 + 16 + 12
    assert m.get_layer("handedness_fc").input.shape[-1] == 16  # handedness still reads the deepest alone
    assert build_pose(PoseModelConfig(input_size=32, filters=[8, 12, 16, 16])).get_layer(
        "presence_fc").input.shape[-1] == 16
    with pytest.raises(ConfigError, match="presence_from"):
        config_from_dict({"task": "pose", "model": {"presence_from": "everything"}})
