"""The landmarker's rotation head: training targets (the angle that turns
the crop's hand upright), conversion with parity of the angle, and the
runtime turning its second crop by the angle the model reads."""
import math
import types

import numpy as np
import pytest

from handsdk.image import apply_affine, crop_matrix
from handsdk.keypoints import hand_rotation
from tests.conftest import red_stroke_frame
from tests.test_align import _hand, upright_bundle

ANGLES = [-100, 0, 60, 150]  # image coordinates: 0 = pointing right, 90 = down


def _sample(angle):
    from handsdk.train.data.sample import Sample

    kp = _hand(angle)
    kp[:, 2] = 1
    return Sample(image=np.zeros((240, 320, 3), np.uint8), boxes=np.zeros((1, 4), np.float32), keypoints=kp[None],
                  handedness=["Right"])


@pytest.mark.parametrize("angle", ANGLES)
def test_rotation_targets_turn_an_axis_aligned_crop_upright(angle):
    from handsdk.train.config import PoseModelConfig
    from handsdk.train.models.pose.examples import pose_pool

    rng = np.random.default_rng(0)
    pool = pose_pool([_sample(angle)], 64, PoseModelConfig(align=False), rng, negatives=0.0, jitter=False)
    c, s, w = pool["rotation"][0]
    assert w == 1.0 and abs(c * c + s * s - 1) < 1e-5
    # turning the crop by the target angle (the runtime's crop rule) puts the knuckles straight above the wrist
    turned = apply_affine(crop_matrix((0, 0, 64, 64), 64, rotation=math.atan2(s, c)), pool["keypoints"][0, :, :2])
    knuckles = turned[[5, 9, 13]].mean(axis=0)
    assert abs(knuckles[0] - turned[0, 0]) < 1e-3 and knuckles[1] < turned[0, 1] - 5


def test_upright_crops_have_angle_zero_and_hand_free_crops_weigh_nothing():
    from handsdk.train.config import PoseModelConfig
    from handsdk.train.models.pose.examples import pose_pool

    rng = np.random.default_rng(0)
    up = pose_pool([_sample(150)], 64, PoseModelConfig(align=True), rng, negatives=0.0, jitter=False)
    np.testing.assert_allclose(up["rotation"][0], [1.0, 0.0, 1.0], atol=1e-5)
    pool = pose_pool([_sample(60)], 64, PoseModelConfig(align=False), rng, negatives=50.0, jitter=False)
    assert (pool["presence"] == 0).any()
    assert (pool["rotation"][pool["presence"] == 0, 2] == 0).all()


def test_mirrored_training_examples_get_the_mirrored_angle():
    """train_example flips half of the crops: the target must stay the angle of
    the keypoints it trains the heatmaps on (read back from the heatmap targets)."""
    import tensorflow as tf

    from handsdk.train.config import PoseModelConfig
    from handsdk.train.models.pose.examples import pose_pool
    from handsdk.train.models.pose.examples import train_example

    m = PoseModelConfig(input_size=32, filters=[8, 12, 16], scales=[2], scale_weights=[1.0], align=False,
                        rotation_head=True, sigma=1.0)
    pool = pose_pool([_sample(60)], 32, m, np.random.default_rng(0), negatives=0.0, jitter=False)
    ex = {k: tf.constant(v[0]) for k, v in pool.items()}
    tf.random.set_seed(3)
    signs = set()
    for _ in range(12):
        _, t = train_example(types.SimpleNamespace(model=m), ex, True)
        hm = t["hm_s2"].numpy()[..., :21]
        idx = hm.reshape(-1, 21).argmax(0)
        kp = np.stack([idx % hm.shape[1], idx // hm.shape[1]], 1).astype(np.float32) * 2 + 1
        c, s, w = t["rotation"].numpy()
        want = hand_rotation(kp)
        assert w == 1.0
        assert abs((math.atan2(s, c) - want + math.pi) % (2 * math.pi) - math.pi) < math.radians(12)
        signs.add(bool(s > 0))
    assert signs == {True, False}  # both the crop and its mirror were drawn


class _ReadsAngle:
    """A landmarker model wrapper that also 'reads' a fixed angle."""

    def __init__(self, model, angle):
        self.model, self.angle = model, angle

    def __call__(self, **feed):
        out = dict(self.model(**feed))
        out["rotation"] = np.array([[math.cos(self.angle), math.sin(self.angle)]], np.float32)
        return out


def test_the_second_crop_is_turned_by_the_angle_the_model_reads(tiny_tflite):
    import handsdk

    lm = handsdk.HandLandmarker(upright_bundle(tiny_tflite))
    assert lm.look.align and not lm.reads_rotation  # the tiny model has no rotation output
    turns = []
    run = lm.landmark_crop
    lm.landmark_crop = lambda rgb, box, **kw: (turns.append(kw["rotation"]), run(rgb, box, **kw))[1]
    frame = red_stroke_frame(240, 320, green_at=(150, 100))
    first = lm.landmark(frame, (110, 70, 190, 150))
    assert turns[0] == 0.0 and turns[1] == pytest.approx(hand_rotation(lm.landmark(frame, (110, 70, 190, 150),
                                                                                  rotation=0.0).keypoints))
    lm.model, lm.reads_rotation = _ReadsAngle(lm.model, 1.2), True
    turns.clear()
    res = lm.landmark(frame, (110, 70, 190, 150))
    assert turns == [0.0, pytest.approx(1.2)]
    assert res.keypoints.shape == first.keypoints.shape == (21, 3)
    turns.clear()
    lm.landmark(frame, (110, 70, 190, 150), rotation=0.3)  # a tracked hand's rotation is given: one pass
    assert turns == [0.3]


def convert_tiny_landmarker(cfg, fmt="int8"):
    """A freshly built landmarker of ``cfg`` (32 px) converted to ``fmt`` on 8
    random crops: (Trained, model bytes, those inputs)."""
    from handsdk.convert.api import Trained, convert_model
    from handsdk.train.models.pose.model import build_inference_model, build_pose, pose_metadata

    inf = build_inference_model(build_pose(cfg), cfg)
    rng = np.random.default_rng(0)
    inputs = [{"image": rng.uniform(0, 1, (1, 32, 32, 3)).astype(np.float32),
               "skeleton": rng.uniform(0, 1, (1, 32, 32, 1)).astype(np.float32)} for _ in range(8)]
    t = Trained("landmarker", inf, pose_metadata(inf, cfg), "mem")
    data, _ = convert_model(t, fmt, inputs, progress=lambda m: None)
    return t, data, inputs


def test_a_landmarker_with_a_rotation_head_converts_and_the_runtime_reads_it():
    from handsdk.backends import open_model
    from handsdk.convert.api import Trained, convert_model, measure_parity
    from handsdk.train.config import PoseModelConfig
    from handsdk.train.models.pose.model import build_inference_model, build_pose, pose_metadata
    from tests.fixtures import make_fixtures

    import handsdk

    cfg = PoseModelConfig(input_size=32, filters=[8, 12, 16], scales=[4, 2], scale_weights=[0.5, 1.0],
                          align=True, rotation_head=True)
    t, data, inputs = convert_tiny_landmarker(cfg)
    m = open_model(data)
    assert m(**inputs[0])["rotation"].shape == (1, 2)
    parity = measure_parity(t, data, inputs)
    assert "rotation_error_deg" in parity and parity["rotation_error_deg"] < 8.0, parity
    tiny = make_fixtures.load_fixtures() or make_fixtures.build_models()
    lm = handsdk.HandLandmarker(upright_bundle(tiny, data, t.metadata["decoding"], quantization="int8"))
    assert lm.reads_rotation
    calls, outs = [], []
    run, model = lm.landmark_crop, lm.model

    def spy(rgb, box, **kw):
        calls.append((kw["rotation"], run(rgb, box, **kw)))
        return calls[-1][1]

    lm.landmark_crop, lm.model = spy, lambda **feed: outs.append(model(**feed)) or outs[-1]
    lm.landmark(red_stroke_frame(240, 320, green_at=(150, 100)), (110, 70, 190, 150))
    (r0, first), (r1, _) = calls
    c, s = outs[0]["rotation"].reshape(-1)
    assert r0 == 0.0 and r1 == pytest.approx(math.atan2(s, c), abs=1e-6) == first.read_rotation


def test_an_unexported_rotation_head_is_saved_for_the_next_stage(tmp_path):
    """rotation_output false: best.keras has no rotation output, but a copy with the
    head is saved, and a later stage's train.init_from takes the head's weights from it."""
    from handsdk.train.config import config_from_dict
    from handsdk.train.models import build_model
    from handsdk.train.trainer import export_best, init_weights, load_exported

    cfg = config_from_dict({"task": "pose", "model": {"input_size": 32, "filters": [8, 12, 16], "scales": [4, 2],
                                                      "scale_weights": [0.5, 1.0], "rotation_head": True,
                                                      "rotation_output": False}})
    model = build_model(cfg)
    export_best(model, cfg, tmp_path)
    assert "rotation" not in load_exported(tmp_path / "best.keras").output_names
    full = load_exported(tmp_path / "best_with_rotation.keras")
    assert "rotation" in full.output_names
    fresh = build_model(cfg)
    want = model.get_layer("rotation").get_weights()[0]
    assert not np.allclose(fresh.get_layer("rotation").get_weights()[0], want)
    init_weights(fresh, tmp_path / "best_with_rotation.keras")
    np.testing.assert_allclose(fresh.get_layer("rotation").get_weights()[0], want)
