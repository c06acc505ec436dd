"""The landmarker's MobileNet encoder (model.encoder: mobilenet): the levels
keep the strides the decoder reads, it is cheaper than the residual encoder
at the same crop, it converts to int8 and the runtime decodes what the
reloaded model gives, and a bad encoder config is refused."""
import numpy as np
import pytest


def _cfg(**kw):
    from handsdk.train.config import PoseModelConfig

    base = dict(input_size=32, filters=[8, 12, 16, 24], scales=[4, 2], scale_weights=[0.5, 1.0],
                encoder="mobilenet", blocks=[1, 1, 2, 1], expansion=3, presence_from="scales",
                rotation_head=True, rotation_output=False, coord_weight=1.0)
    base.update(kw)
    return PoseModelConfig(**base)


def test_mobilenet_levels_have_the_strides_the_decoder_reads_and_depthwise_blocks():
    from handsdk.train.models.pose.model import build_inference_model, build_pose

    cfg = _cfg()
    m = build_pose(cfg)
    assert m.get_layer("hm_s2").output.shape[1:] == (16, 16, 21)
    assert m.get_layer("hm_s4").output.shape[1:] == (8, 8, 21)
    kinds = {type(layer).__name__ for layer in m.layers}
    assert "DepthwiseConv2D" in kinds
    # the bottom level (stride 8, 24 channels) and its blocks: 1 + 2 + 1 after the stem
    assert m.get_layer("down3_project_bn").output.shape[1:] == (4, 4, 24)
    assert m.get_layer("down2_1_add").output.shape[1:] == (8, 8, 16)
    inf = build_inference_model(m, cfg)
    assert sorted(inf.output_names) == ["handedness", "heatmaps", "presence"]
    # it trains: one step lowers the loss on a fixed batch
    from handsdk.train.config import config_from_dict
    from handsdk.train.trainer import compile_model

    full = config_from_dict({"task": "pose", "model": {k: getattr(cfg, k) for k in (
        "input_size", "filters", "scales", "scale_weights", "encoder", "blocks", "expansion", "presence_from",
        "rotation_head", "rotation_output", "coord_weight")}})
    compile_model(m, full, 10)
    rng = np.random.default_rng(0)
    x = {"image": rng.uniform(0, 1, (4, 32, 32, 3)).astype(np.float32),
         "skeleton": rng.uniform(0, 1, (4, 32, 32, 1)).astype(np.float32)}
    y = {n: np.zeros((4,) + tuple(o.shape[1:]), np.float32) for n, o in zip(m.output_names, m.outputs)}
    for k in ("hm_s2", "hm_s4"):  # targets then weights (see losses.heatmap_loss)
        h = y[k].shape[1]
        y[k] = np.concatenate([np.zeros((4, h, h, 21)), np.ones((4, h, h, 21))], -1).astype(np.float32)
    y["coords"] = np.concatenate([np.full((4, 21, 2), 0.5), np.ones((4, 21, 1))], -1).astype(np.float32)
    y["rotation"] = np.tile([1.0, 0.0, 1.0], (4, 1)).astype(np.float32)
    first = m.train_on_batch(x, y, return_dict=True)["loss"]
    for _ in range(5):
        last = m.train_on_batch(x, y, return_dict=True)["loss"]
    assert last < first


def test_mobilenet_costs_less_than_the_residual_encoder_at_the_same_crop():
    from handsdk.train.models.layers import multiply_adds
    from handsdk.train.models.pose.model import build_pose

    mb = build_pose(_cfg(input_size=64, filters=[16, 24, 32, 64], blocks=[1, 1, 2, 2]))
    rn = build_pose(_cfg(input_size=64, filters=[16, 24, 32, 64], encoder="resnet", blocks=[]))
    # (a 3x3 convolution 8 -> 16 on a 4x4 map: 4*4*9*8*16 multiply-adds)
    from handsdk.train.tf import keras

    x = keras.Input((4, 4, 8))
    assert multiply_adds(keras.Model(x, keras.layers.Conv2D(16, 3, padding="same")(x))) == 4 * 4 * 9 * 8 * 16
    assert multiply_adds(mb) < 0.5 * multiply_adds(rn), (multiply_adds(mb), multiply_adds(rn))


def test_mobilenet_landmarker_converts_to_int8_and_the_runtime_decodes_it():
    from handsdk.backends import open_model
    from handsdk.convert.api import measure_parity
    from handsdk.decode import landmarker_keypoints
    from tests.test_rotation_head import convert_tiny_landmarker

    t, data, inputs = convert_tiny_landmarker(_cfg())
    m = open_model(data)
    out = m(**inputs[0])
    assert out["heatmaps"].shape == (1, 16, 16, 21) and 0.0 <= float(out["presence"].reshape(-1)[0]) <= 1.0
    kp = landmarker_keypoints(out, 32)
    assert kp.shape == (21, 2) and np.isfinite(kp).all() and (kp >= 0).all() and (kp <= 32).all()
    parity = measure_parity(t, data, inputs)
    assert parity, parity


@pytest.mark.parametrize("bad, match", [({"encoder": "vgg"}, "model.encoder"),
                                        ({"blocks": [1, 1]}, "model.blocks"),
                                        ({"expansion": 0}, "model.expansion")])
def test_bad_encoder_configs_are_refused(bad, match):
    from handsdk.train.config import ConfigError, config_from_dict

    with pytest.raises(ConfigError, match=match):
        config_from_dict({"task": "pose", "model": {"input_size": 32, "filters": [8, 12, 16, 24],
                                                    "scales": [4, 2], "scale_weights": [0.5, 1.0], **bad}})
