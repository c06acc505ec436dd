"""The training pipeline (sources -> samples -> each model's pools ->
tf.data examples): geometry stays on the image content, flips swap
handedness, pools and batches have the declared shapes and are seeded,
sources mix by weight. (The second, generator-based pipeline these tests
once covered was folded into this one.)"""
from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from handsdk.image import apply_affine, crop_matrix, warp  # noqa: E402
from handsdk.keypoints import keypoint_features, keypoints_box  # noqa: E402
from handsdk.train.config import PoseModelConfig, SourceConfig, load_config  # noqa: E402
from handsdk.train.data import sources as S  # noqa: E402
from handsdk.train.data.sample import Sample  # noqa: E402
from handsdk.train.models.detector.examples import detector_pool, letterboxed_boxes  # noqa: E402
from handsdk.train.models.gesture.examples import gesture_pool  # noqa: E402
from handsdk.train.models.pose.examples import _negative_crop, pose_pool  # noqa: E402

CONFIGS = __import__("pathlib").Path(__file__).resolve().parents[1] / "train" / "configs"


def dot_sample(rng, h=90, w=140, handedness="Right"):
    """Black image with a bright 2x2-pixel dot centred on each of a few
    keypoints (the others lie around them, so we know exactly where the
    content is)."""
    img = np.zeros((h, w, 3), np.uint8)
    kp = np.zeros((21, 3), np.float32)
    # a hand-like spread of points, integer positions = corners shared by 4 pixels
    base = rng.uniform([30, 20], [w - 30, h - 20])
    for i in range(21):
        kp[i, :2] = np.round(base + rng.uniform(-18, 18, 2))
        kp[i, 2] = 0
    for i in (0, 8, 20):  # three dots, far enough apart
        kp[i, :2] = np.round(base + {0: (0, 15), 8: (-20, -14), 20: (20, -14)}[i])
        x, y = int(kp[i, 0]), int(kp[i, 1])
        img[y - 1:y + 1, x - 1:x + 1] = 255  # pixels x-1, x span [x-1, x+1): centred on x
        kp[i, 2] = 1
    return Sample(image=img, keypoints=kp[None], keypoint_source="synthetic", handedness=[handedness],
                  source="dots")


def _blob_centre(img, xy, r=5):
    """Intensity-weighted centre of the bright blob around ``xy``."""
    g = img.astype(np.float64).mean(-1) if img.ndim == 3 else img.astype(np.float64)
    x0, y0 = int(xy[0]) - r, int(xy[1]) - r
    win = g[max(y0, 0):y0 + 2 * r + 1, max(x0, 0):x0 + 2 * r + 1]
    ys, xs = np.mgrid[0:win.shape[0], 0:win.shape[1]]
    wsum = win.sum()
    assert wsum > 0.5, f"no dot near {xy}"
    return np.array([(xs * win).sum() / wsum + max(x0, 0) + 0.5, (ys * win).sum() / wsum + max(y0, 0) + 0.5])


def test_detector_frames_keep_keypoints_on_content():
    rng = np.random.default_rng(0)
    samples = [dot_sample(rng) for _ in range(12)]
    pool = detector_pool(samples, 96, 128, zoom=(0.7, 1.4), zoom_prob=0.5, rng=rng)
    assert pool["image"].shape == (12, 96, 128, 3) and pool["keypoints"].shape == (12, 2, 21, 3)
    for t in range(12):
        k = pool["keypoints"][t, 0]
        for i in (0, 8, 20):
            c = _blob_centre(pool["image"][t], k[i, :2])
            assert np.linalg.norm(c - k[i, :2]) < 0.6, (t, i, c, k[i])
        assert (pool["keypoints"][t, 1] == -1).all()  # the second hand slot is padding


def test_pose_crops_keep_keypoints_on_content():
    rng = np.random.default_rng(1)
    cfg = PoseModelConfig(rotation=25.0, aspect_jitter=0.2)
    samples = [dot_sample(rng) for _ in range(10)]
    pool = pose_pool(samples, 64, cfg, rng, negatives=0.0, jitter=True)
    assert pool["image"].shape == (10, 64, 64, 3) and (pool["presence"] == 1).all()
    checked = 0
    for t in range(10):
        k = pool["keypoints"][t]
        for i in (0, 8, 20):
            if not (6 <= k[i, 0] <= 58 and 6 <= k[i, 1] <= 58):
                continue  # jittered out of the crop
            checked += 1
            c = _blob_centre(pool["image"][t], k[i, :2], r=6)
            assert np.linalg.norm(c - k[i, :2]) < 1.0, (t, i, c, k[i])
    assert checked >= 20 and set(pool["handedness"]) == {1.0}


def test_pose_crop_without_jitter_is_the_runtime_crop():
    rng = np.random.default_rng(2)
    s = dot_sample(rng)
    cfg = PoseModelConfig()
    pool = pose_pool([s], 64, cfg, rng, negatives=0.0, jitter=False)
    kp = s.keypoints[0]
    m = crop_matrix(keypoints_box(kp[:, :2], kp[:, 2] >= 0), 64, scale=cfg.crop_scale)
    np.testing.assert_array_equal(pool["image"][0], warp(s.image, m, (64, 64)))
    np.testing.assert_allclose(pool["keypoints"][0, :, :2], apply_affine(m, kp[:, :2]), atol=1e-3)


def _example(task, pool, augment, seed, **over):
    from handsdk.train.models import get
    from handsdk.train.tf import keras, tf

    cfg = load_config(CONFIGS / f"{task}_smoke.yaml", over)
    keras.utils.set_random_seed(seed)
    row = {k: tf.constant(v[0]) for k, v in pool.items() if k != "boxes"}
    x, y = get(task).example(cfg, row, augment)
    return {k: v.numpy() for k, v in x.items()}, {k: v.numpy() for k, v in y.items()}


def test_detector_flip_mirrors_image_and_targets_together():
    pytest.importorskip("tf_keras")
    rng = np.random.default_rng(3)
    pool = detector_pool([dot_sample(rng, h=64, w=64)], 32, 32)
    _, base = _example("detector", pool, False, 0)
    flips = 0
    for seed in range(8):
        x, y = _example("detector", pool, True, seed)
        flipped = not np.allclose(y["skeleton"], base["skeleton"], atol=1e-5)
        np.testing.assert_allclose(y["skeleton"], base["skeleton"][:, ::-1] if flipped else base["skeleton"],
                                   atol=1e-5)
        assert x["image"].shape == (32, 32, 3) and 0 <= x["image"].min() and x["image"].max() <= 1
        flips += flipped
    assert 0 < flips < 8  # both cases were exercised


@pytest.mark.parametrize("hand,expected", [("Right", 1.0), ("Left", 0.0)])
def test_pose_flip_swaps_handedness_and_mirrors(hand, expected):
    pytest.importorskip("tf_keras")
    rng = np.random.default_rng(3)
    pool = pose_pool([dot_sample(rng, h=64, w=64, handedness=hand)], 32, PoseModelConfig(), rng, 0.0,
                     jitter=False)
    _, base = _example("pose", pool, False, 0)
    assert base["handedness"][0] == expected
    seen = set()
    for seed in range(8):
        _, y = _example("pose", pool, True, seed)
        flipped = y["handedness"][0] != expected
        if flipped:
            assert y["handedness"][0] == 1.0 - expected
        want = base["hm_s2"][:, ::-1, :21] if flipped else base["hm_s2"][..., :21]
        np.testing.assert_allclose(y["hm_s2"][..., :21], want, atol=1e-5)
        seen.add(bool(flipped))
    assert seen == {True, False}


def test_letterbox_and_padding():
    rng = np.random.default_rng(4)
    s = dot_sample(rng, h=50, w=100)
    pool = detector_pool([s], 100, 100, max_hands=3)
    assert pool["keypoints"].shape == (1, 3, 21, 3)
    np.testing.assert_allclose(pool["keypoints"][0, 0, :, :2], s.keypoints[0, :, :2] + [0, 25], atol=1e-4)
    assert (pool["keypoints"][0, 1:] == -1).all()
    assert pool["image"][0, :25].max() == 0  # letterbox padding


def test_box_only_hand_box_follows_the_letterbox():
    img = np.zeros((40, 40, 3), np.uint8)
    s = Sample(image=img, boxes=[[10, 10, 20, 30]], handedness=[None], extras={"box_classes": ["A"]})
    np.testing.assert_allclose(letterboxed_boxes([s], 80, 80)[0, 0], [20, 20, 40, 60], atol=1e-4)
    assert (detector_pool([s], 80, 80)["keypoints"] == -1).all()
    drawn = Sample(image=img, boxes=[[10, 10, 20, 30]], extras={"human_boxes": np.array([[0, 0, 10, 10]])})
    np.testing.assert_allclose(letterboxed_boxes([drawn], 80, 80)[0, 0], [0, 0, 20, 20], atol=1e-4)


def test_negative_crops_avoid_hands():
    rng = np.random.default_rng(5)
    img = np.zeros((200, 200, 3), np.uint8)
    img[150:, 150:] = 255  # the "hand"
    kp = np.zeros((21, 3), np.float32)
    kp[:, :2] = rng.uniform(155, 195, (21, 2))
    kp[:, 2] = 1
    s = Sample(image=img, keypoints=kp[None], boxes=[[150, 150, 200, 200]], handedness=["Left"])
    for _ in range(10):
        crop = _negative_crop(s, 32, PoseModelConfig(), rng)
        assert crop is not None and crop.shape == (32, 32, 3)
        assert crop.max() == 0  # no hand pixels


def test_negative_rate_is_respected():
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(300):
        img = np.zeros((120, 120, 3), np.uint8)
        kp = np.zeros((21, 3), np.float32)
        kp[:, :2] = rng.uniform(80, 115, (21, 2))
        kp[:, 2] = 1
        samples.append(Sample(image=img, keypoints=kp[None], handedness=["Right"]))
    pool = pose_pool(samples, 24, PoseModelConfig(), rng, negatives=0.3, jitter=False)
    neg = pool["presence"] == 0
    assert 0.22 * 300 < neg.sum() < 0.38 * 300 and (pool["keypoints"][neg] == -1).all()
    assert (pool["handedness"][neg] == -1).all()


def test_pools_and_batches_shapes_and_determinism():
    pytest.importorskip("tf_keras")
    from handsdk.train.trainer import TaskData

    cfg = load_config(CONFIGS / "pose_smoke.yaml")
    a, b = TaskData(cfg), TaskData(cfg)
    for k in a.train:
        np.testing.assert_array_equal(a.train[k], b.train[k])
    other = TaskData(load_config(CONFIGS / "pose_smoke.yaml", {"data.seed": 1}))
    assert not np.array_equal(a.val["image"], other.val["image"])
    x, y = next(iter(a.dataset("train", 8, training=True)))
    s = cfg.model.input_size
    assert x["image"].shape == (8, s, s, 3) and x["image"].dtype.name == "float32"
    assert x["skeleton"].shape == (8, s, s, 1)
    assert y["hm_s2"].shape == (8, s // 2, s // 2, 42) and y["presence"].shape == (8, 1)
    assert y["handedness"].shape == (8, 1)
    v1 = [t.numpy() for t in tf_flat(next(iter(a.dataset("val", 4, training=False))))]
    v2 = [t.numpy() for t in tf_flat(next(iter(b.dataset("val", 4, training=False))))]
    for p, q in zip(v1, v2):
        np.testing.assert_array_equal(p, q)


def tf_flat(x):
    from handsdk.train.tf import tf

    return tf.nest.flatten(x)


def test_mixing_weights():
    a = SourceConfig(name="toy", weight=0.8, options={"seed": 1, "size": [32, 32]})
    b = SourceConfig(name="toy", weight=0.2, options={"seed": 2, "size": [40, 40]})
    got = S.mixed_samples([a, b], np.random.default_rng(0), 50)
    sizes = [s.image.shape[0] for s in got]
    assert len(got) == 50 and sizes.count(32) == 40 and sizes.count(40) == 10
    capped = S.mixed_samples([SourceConfig(name="toy", limit=7)], np.random.default_rng(0), 50)
    assert len(capped) == 7


def _kp_sample(label, hand="Left", seed=0):
    kp = np.zeros((21, 3), np.float32)
    kp[:, :2] = np.random.default_rng(seed).uniform(0, 50, (21, 2))
    kp[:, 2] = 1
    return Sample(image=None, keypoints=kp[None], handedness=[hand], label=label, keypoint_source="mediapipe",
                  extras={"has_image": False})


def test_gesture_pool_features_and_labels():
    s = _kp_sample("ok", "Left")
    feats, labels = gesture_pool([s, _kp_sample("wave"), _kp_sample("fist", seed=9)], ["fist", "ok"])
    assert feats.shape == (2, 21, 2) and list(labels) == ["ok", "fist"]
    np.testing.assert_allclose(feats[0], keypoint_features(s.keypoints[0], "Left"))
    # the label set: the config's, else the data's with the none class first
    from handsdk.train.models import get

    cfg = load_config(CONFIGS / "gesture_smoke.yaml", {"model.labels": []})
    samples = [_kp_sample(x, seed=i) for i, x in enumerate(["ok", "none", "fist", "ok"])]
    train, val, names = get("gesture").pools(cfg, samples, samples[:2], np.random.default_rng(0))
    assert names == ["none", "fist", "ok"] and list(train["label"]) == [2, 0, 1, 2]
    assert list(val["label"]) == [2, 0]


def test_gesture_augmentation_changes_features_never_labels():
    pytest.importorskip("tf_keras")
    s = _kp_sample("ok", "Left")
    feats, _ = gesture_pool([s])
    pool = {"keypoints": feats, "label": np.array([1], np.int32)}
    x, y = _example("gesture", pool, False, 0)
    np.testing.assert_allclose(x["keypoints"], feats[0])
    xa, ya = _example("gesture", pool, True, 1)
    assert ya["scores"] == 1 and 0 < np.abs(xa["keypoints"] - feats[0]).max() < 0.6
    assert np.abs(xa["keypoints"]).max() == pytest.approx(1.0) and np.allclose(xa["keypoints"][0], 0)


def test_colour_jitter_keeps_shape_and_range():
    pytest.importorskip("tf_keras")
    from handsdk.train.models.targets import color_jitter_tf
    from handsdk.train.tf import tf

    tf.random.set_seed(0)
    img = np.random.default_rng(0).uniform(0, 1, (30, 40, 3)).astype(np.float32)
    out = color_jitter_tf(tf.constant(img)).numpy()
    assert out.shape == img.shape and out.dtype == np.float32 and 0 <= out.min() and out.max() <= 1
    assert not np.allclose(out, img)


def test_training_examples_preview(tmp_path):
    from handsdk.train.data.preview import example_to_sample, pool_rows, preview_grid, training_examples

    rng = np.random.default_rng(0)
    samples = [dot_sample(rng) for _ in range(3)]
    frames = training_examples(samples, "frames", 64)
    crops = training_examples(samples, "crops", 48)
    assert len(frames) == 3 and all(f.image.shape == (64, 64, 3) and f.num_hands == 1 for f in frames)
    assert all(c.image.shape == (48, 48, 3) for c in crops) and sum(c.num_hands for c in crops) == 3
    assert crops[0].handedness == ["Right"]
    rows = pool_rows(detector_pool(samples[:1], 64, 64))
    np.testing.assert_array_equal(example_to_sample(rows[0]).image, rows[0]["image"])
    with pytest.raises(ValueError, match="frames or crops"):
        training_examples(samples, "tiles", 64)
    grid = preview_grid(frames[:1] + crops[:1], tmp_path / "p.png", tile=64)
    assert grid.shape == (64, 128, 3) and (tmp_path / "p.png").is_file()


def test_cli_preview_on_a_folder(tmp_path):
    typer_testing = pytest.importorskip("typer.testing")
    from handsdk.cli.data import app

    (tmp_path / "set" / "wave").mkdir(parents=True)
    cv2.imwrite(str(tmp_path / "set" / "wave" / "x.jpg"), np.full((20, 30, 3), 90, np.uint8))
    out = tmp_path / "prev.png"
    r = typer_testing.CliRunner().invoke(app, ["preview", "--source", str(tmp_path / "set"), "--n", "4",
                                               "--out", str(out)])
    assert r.exit_code == 0, r.output
    assert out.is_file()
    r = typer_testing.CliRunner().invoke(app, ["preview", "--source", str(tmp_path / "set"), "--n", "1",
                                               "--pipeline", "frames", "--tile", "64", "--out", str(out)])
    assert r.exit_code == 0 and "1 frames examples" in r.output, r.output
    r = typer_testing.CliRunner().invoke(app, ["preview", "--source", str(tmp_path / "set"), "--n", "1",
                                               "--pipeline", "crops", "--tile", "64", "--out", str(out)])
    assert r.exit_code != 0 and "gave no crops" in r.output, r.output
    r = typer_testing.CliRunner().invoke(app, ["preview", "--source", "no_such_thing", "--out", str(out)])
    assert r.exit_code != 0 and "unknown source" in r.output


def test_synthetic_sources_when_available():
    synth = pytest.importorskip("handsdk.train.synth")
    if not hasattr(synth, "render_scene"):
        pytest.skip("synthetic renderer not there yet")
    src = S.synthetic_keypoint_source("commands", ["fist", "open_palm"])
    rng = np.random.default_rng(0)
    got = [src.sample(rng) for _ in range(6)]
    assert all(s.image is None and s.label in ("fist", "open_palm") for s in got)
    feats, labels = gesture_pool(got, ["fist", "open_palm"])
    assert feats.shape == (6, 21, 2) and set(labels) <= {"fist", "open_palm"}
    scene = S.synthetic_source(size=(64, 64)).sample(rng)
    pool = detector_pool([scene], 64, 64)
    assert int((pool["keypoints"][0, :, :, 2] >= 0).any(-1).sum()) == min(scene.num_hands, 2)


def test_pose_detector_skeleton_input_is_cut_with_each_crops_own_matrix():
    """data.skeleton_bundle: every crop (hand, hard and random negatives;
    squeezed and rotated) gets the detector's map cut with the crop's own
    matrix, so the map lies on the crop's keypoints."""
    from handsdk.keypoints import render_skeleton
    from handsdk.stages import Detection

    rng = np.random.default_rng(4)
    samples = [dot_sample(rng, h=120, w=160) for _ in range(6)]

    def detections(s):  # a 'detector' whose map is the hand's skeleton drawn in the frame
        sk = render_skeleton(s.keypoints[0][:, :2], s.image.shape[:2], thickness=0.03)
        return Detection(boxes=np.zeros((0, 4), np.float32), scores=np.zeros(0, np.float32),
                         masses=np.zeros(0, np.float32), skeleton=sk.astype(np.float32),
                         map_to_frame=np.eye(3)[:2])

    cfg = PoseModelConfig(rotation=90, aspect_jitter=0.4, aspect_prob=1.0)
    pool = pose_pool(samples, 48, cfg, np.random.default_rng(0), negatives=1.0, jitter=True,
                     detections=detections)
    n = len(pool["image"])
    assert pool["det_skeleton"].shape == (n, 48, 48) and (pool["has_det_skeleton"] == 1).all()
    hands = np.flatnonzero(pool["presence"] == 1)
    assert len(hands) == 6 and n > 6  # the hands and hand-free crops
    for i in hands:
        k = pool["keypoints"][i]
        inside = (k[:, 0] > 1) & (k[:, 0] < 47) & (k[:, 1] > 1) & (k[:, 1] < 47) & (k[:, 2] >= 0)
        xy = np.round(k[inside, :2] - 0.5).astype(int)
        on = pool["det_skeleton"][i][xy[:, 1], xy[:, 0]]
        assert (on > 60).mean() > 0.8  # the map is drawn where this crop's keypoints are
    # without a detector the pool has no such keys; validation crops get the map too
    assert "det_skeleton" not in pose_pool(samples, 48, cfg, rng, negatives=0.0, jitter=True)
    val = pose_pool(samples, 48, cfg, rng, negatives=0.0, jitter=False, detections=detections)
    assert (val["has_det_skeleton"] == 1).all()


def test_pose_example_feeds_the_detector_map_when_asked():
    pytest.importorskip("tf_keras")
    rng = np.random.default_rng(3)
    pool = pose_pool([dot_sample(rng, h=64, w=64)], 32, PoseModelConfig(), rng, 0.0, jitter=False)
    dmap = np.zeros((1, 32, 32), np.uint8)
    dmap[0, :, :8] = 255  # a map unlike the rendered keypoints
    pool = dict(pool, det_skeleton=dmap, has_det_skeleton=np.ones(1, np.float32))
    x, _ = _example("pose", pool, False, 0)
    np.testing.assert_allclose(x["skeleton"][..., 0], dmap[0] / 255.0, atol=1e-6)
    # a frame without a detection keeps the rendered skeleton
    x2, _ = _example("pose", dict(pool, has_det_skeleton=np.zeros(1, np.float32)), False, 0)
    assert np.abs(x2["skeleton"][..., 0] - dmap[0] / 255.0).max() > 0.5
    # training: a flipped image gets a flipped map (seeded: both cases occur)
    seen = set()
    for seed in range(10):
        x, y = _example("pose", pool, True, seed, **{"model.detector_skeleton_prob": 1.0,
                                                      "model.skeleton_blank": 0.0})
        sk = x["skeleton"][..., 0]
        if sk.max() > 0.5:
            left = sk[:, :8].mean() > 0.9
            seen.add(left)
            assert left or sk[:, -8:].mean() > 0.9
    assert seen == {True, False}
