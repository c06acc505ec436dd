"""Training pipelines: geometry stays on the image content, flips swap
handedness, batches have the declared shapes, streams are seeded."""
from __future__ import annotations

import numpy as np
import pytest

cv2 = pytest.importorskip("cv2")

from handsdk.keypoints import keypoint_features  # noqa: E402
from handsdk.train.data import pipeline as pl  # noqa: E402
from handsdk.train.data.augment import AugmentConfig, KeypointAugmentConfig  # noqa: E402
from handsdk.train.data.sample import Sample  # noqa: E402

GEOM_ONLY = AugmentConfig(rotation_deg=30, scale=(0.7, 1.3), translate=0.1, flip_prob=0.5, brightness=0,
                          contrast=0, saturation=0, hue_deg=0, gray_prob=0, blur_prob=0, lowres_prob=0,
                          noise_prob=0)


def dot_sample(rng, h=90, w=140, handedness="Right"):
    """Black image with a bright 2x2-pixel dot centred on each of a few
    keypoints (the other keypoints are marked occluded, so we know exactly
    where the content is)."""
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
    g = img.mean(-1) if img.ndim == 3 else img
    x0, y0 = int(xy[0]) - r, int(xy[1]) - r
    win = g[max(y0, 0):y0 + 2 * r + 1, max(x0, 0):x0 + 2 * r + 1]
    ys, xs = np.mgrid[0:win.shape[0], 0:win.shape[1]]
    wsum = win.sum()
    assert wsum > 0.5, f"no dot near {xy}"
    return np.array([(xs * win).sum() / wsum + max(x0, 0) + 0.5, (ys * win).sum() / wsum + max(y0, 0) + 0.5])


def test_frame_geometry_keeps_keypoints_on_content():
    rng = np.random.default_rng(0)
    flips = 0
    for t in range(12):
        s = dot_sample(rng)
        ex = pl.frame_example(s, (96, 128), rng, GEOM_ONLY)
        assert ex["num_hands"] == 1
        k = ex["keypoints"][0]
        for i in (0, 8, 20):
            if k[i, 2] <= 0:
                continue
            c = _blob_centre(ex["image"], k[i, :2])
            assert np.linalg.norm(c - k[i, :2]) < 0.6, (t, i, c, k[i])
        flips += ex["handedness"][0] == 0
    assert 0 < flips < 12  # both flipped and unflipped cases were exercised


def test_crop_geometry_keeps_keypoints_on_content():
    rng = np.random.default_rng(1)
    cfg = pl.CropConfig(size=64, min_visible=3, negative_rate=0)
    for t in range(10):
        s = dot_sample(rng)
        ex = pl.crop_example(s, cfg, rng, GEOM_ONLY)
        assert ex is not None and ex["presence"] == 1
        k = ex["keypoints"]
        assert ex["image"].shape == (64, 64, 3)
        for i in (0, 8, 20):
            if k[i, 2] > 0:
                c = _blob_centre(ex["image"], k[i, :2], r=6)
                assert np.linalg.norm(c - k[i, :2]) < 1.0, (t, i, c, k[i])
        # keypoints in crop pixels are the frame keypoints through the returned matrix
        from handsdk.image import apply_affine

        np.testing.assert_allclose(apply_affine(ex["matrix"].astype(np.float64), s.keypoints[0, [0, 8, 20], :2]),
                                   k[[0, 8, 20], :2], atol=1e-3)


def test_crop_without_augmentation_is_the_runtime_crop():
    from handsdk.image import crop_matrix
    from handsdk.keypoints import keypoints_box

    rng = np.random.default_rng(2)
    s = dot_sample(rng)
    ex = pl.crop_example(s, pl.CropConfig(size=64, min_visible=3), rng, augment=False)
    m = crop_matrix(keypoints_box(s.keypoints[0], s.keypoints[0, :, 2]), 64, scale=1.4)
    np.testing.assert_allclose(ex["matrix"], m, atol=1e-5)


@pytest.mark.parametrize("hand,expected", [("Right", 0), ("Left", 1)])
def test_flip_swaps_handedness_and_mirrors(hand, expected):
    rng = np.random.default_rng(3)
    s = dot_sample(rng, h=64, w=64, handedness=hand)
    flip = AugmentConfig.none()
    flip.flip_prob = 1.0
    ex = pl.frame_example(s, (64, 64), rng, flip)
    assert ex["handedness"][0] == expected
    vis = s.keypoints[0, :, 2] > 0
    np.testing.assert_allclose(ex["keypoints"][0, vis, 0], 64 - s.keypoints[0, vis, 0], atol=1e-4)
    np.testing.assert_allclose(ex["image"][:, ::-1], s.image / 255.0, atol=1e-6)
    same = pl.frame_example(s, (64, 64), rng, False)
    assert same["handedness"][0] == 1 - expected
    np.testing.assert_allclose(same["image"], s.image / 255.0, atol=1e-6)


def test_letterbox_and_padding():
    rng = np.random.default_rng(4)
    s = dot_sample(rng, h=50, w=100)
    ex = pl.frame_example(s, (100, 100), rng, False, max_hands=3)
    assert ex["keypoints"].shape == (3, 21, 3) and ex["boxes"].shape == (3, 4)
    np.testing.assert_allclose(ex["keypoints"][0, :, :2], s.keypoints[0, :, :2] + [0, 25], atol=1e-4)
    assert (ex["keypoints"][1:, :, 2] == -1).all() and (ex["handedness"][1:] == -1).all()
    assert ex["image"][:25].max() == 0  # letterbox padding


def test_yolo_only_hand_box_follows_transform():
    img = np.zeros((40, 40, 3), np.uint8)
    s = Sample(image=img, boxes=[[10, 10, 20, 30]], handedness=[None], extras={"box_classes": ["A"]})
    rng = np.random.default_rng(0)
    flip = AugmentConfig.none()
    flip.flip_prob = 1.0
    ex = pl.frame_example(s, (80, 80), rng, flip)
    np.testing.assert_allclose(ex["boxes"][0], [40, 20, 60, 60], atol=1e-4)
    assert ex["num_hands"] == 1 and (ex["keypoints"][0, :, 2] == -1).all() and ex["handedness"][0] == -1


def test_negative_crops_avoid_hands():
    rng = np.random.default_rng(5)
    img = np.zeros((200, 200, 3), np.uint8)
    img[150:, 150:] = 255  # the "hand"
    kp = np.zeros((21, 3), np.float32)
    kp[:, :2] = rng.uniform(155, 195, (21, 2))
    kp[:, 2] = 1
    s = Sample(image=img, keypoints=kp[None], boxes=[[150, 150, 200, 200]], handedness=["Left"])
    cfg = pl.CropConfig(size=32, rotation_deg=0)
    for _ in range(10):
        ex = pl.negative_crop(s, cfg, rng, False)
        assert ex is not None and ex["presence"] == 0 and ex["handedness"] == -1
        assert (ex["keypoints"][:, 2] == -1).all()
        assert ex["image"].max() == 0  # no hand pixels
    # an image where MediaPipe found no hand is not used for negatives (a hand may be there)
    assert pl.negative_crop(Sample(image=img), cfg, rng) is None
    assert pl.negative_crop(Sample(image=img, label="nothing"), cfg, rng) is not None


def _dot_source(n=6, seed=0, name="dots"):
    rng = np.random.default_rng(seed)
    return pl.ListSource([dot_sample(rng) for _ in range(n)], name)


def test_tf_batches_shapes_and_determinism():
    src = [(_dot_source(), 1.0)]
    ds = pl.frame_examples(src, (48, 64), batch_size=4, max_hands=2, seed=7)
    b = next(iter(ds))
    assert b["image"].shape == (4, 48, 64, 3) and b["image"].dtype.name == "float32"
    assert b["keypoints"].shape == (4, 2, 21, 3) and b["boxes"].shape == (4, 2, 4)
    assert b["handedness"].shape == (4, 2) and b["num_hands"].shape == (4,)
    b2 = next(iter(pl.frame_examples(src, (48, 64), batch_size=4, max_hands=2, seed=7)))
    np.testing.assert_array_equal(b["image"].numpy(), b2["image"].numpy())
    b3 = next(iter(pl.frame_examples(src, (48, 64), batch_size=4, max_hands=2, seed=8)))
    assert not np.array_equal(b["image"].numpy(), b3["image"].numpy())

    c = next(iter(pl.crop_examples(src, {"size": 32, "min_visible": 3, "negative_rate": 0.0}, batch_size=3)))
    assert c["image"].shape == (3, 32, 32, 3) and c["keypoints"].shape == (3, 21, 3)
    assert c["presence"].shape == (3,) and c["matrix"].shape == (3, 2, 3)
    assert (c["presence"].numpy() == 1).all()


def test_mixing_weights():
    a, b = _dot_source(3, 0, "a"), _dot_source(3, 1, "b")
    gen = pl.frame_generator([(a, 0.8), (b, 0.2)], (32, 32), augment=False, seed=0, num_examples=400)
    idx = np.array([ex["source_index"] for ex in gen])
    assert len(idx) == 400 and 0.72 < np.mean(idx == 0) < 0.88


def _kp_sample(label, hand="Left", seed=0):
    kp = np.zeros((21, 3), np.float32)
    kp[:, :2] = np.random.default_rng(seed).uniform(0, 50, (21, 2))
    kp[:, 2] = 1
    return Sample(image=None, keypoints=kp[None], handedness=[hand], label=label, keypoint_source="mediapipe",
                  extras={"has_image": False})


def test_keypoint_examples_features_and_labels():
    classes = ["fist", "ok"]
    s = _kp_sample("ok", "Left")
    f, y = pl.keypoint_example(s, classes, np.random.default_rng(0), augment=False)
    assert y == 1
    np.testing.assert_allclose(f, keypoint_features(s.keypoints[0], "Left"))
    assert pl.keypoint_example(_kp_sample("wave"), classes, np.random.default_rng(0)) is None
    # augmentation changes the features a little, never the label
    fa, ya = pl.keypoint_example(s, classes, np.random.default_rng(1), augment=True)
    assert ya == 1 and 0 < np.abs(fa - f).max() < 0.6
    # mirroring only for unknown handedness: known hands are canonicalised by keypoint_features
    mirror_all = KeypointAugmentConfig.none()
    mirror_all.mirror_prob = 1.0
    fk, _ = pl.keypoint_example(s, classes, np.random.default_rng(0), augment=mirror_all)
    np.testing.assert_allclose(fk, f)
    u = _kp_sample("ok", None)
    fu, _ = pl.keypoint_example(u, classes, np.random.default_rng(0), augment=mirror_all)
    np.testing.assert_allclose(fu[:, 0], -keypoint_features(u.keypoints[0])[:, 0], atol=1e-6)

    src = pl.ListSource([_kp_sample("ok", seed=i) for i in range(5)] + [_kp_sample("fist", seed=9)], "kp")
    ds = pl.keypoint_examples([(src, 1.0)], classes, batch_size=8, seed=0)
    x, y = next(iter(ds))
    assert x.shape == (8, 21, 2) and y.shape == (8,) and set(y.numpy()) <= {0, 1}
    feats, labels = pl.keypoint_arrays(src.samples, classes)
    assert feats.shape == (6, 21, 2) and list(labels).count(1) == 5


def test_photometric_keeps_shape_and_dtype():
    from handsdk.train.data.augment import photometric

    img = np.random.default_rng(0).integers(0, 255, (30, 40, 3)).astype(np.uint8)
    cfg = AugmentConfig(blur_prob=1, lowres_prob=1, noise_prob=1, gray_prob=1)
    out = photometric(img, np.random.default_rng(0), cfg)
    assert out.shape == img.shape and out.dtype == np.uint8 and not np.array_equal(out, img)
    assert np.array_equal(photometric(img, np.random.default_rng(0), AugmentConfig.none()), img)


def test_build_sources_from_folder_and_preview(tmp_path):
    from handsdk.train.data.preview import example_to_sample, preview_grid

    for cls in ("a", "b"):
        (tmp_path / "set" / cls).mkdir(parents=True)
        cv2.imwrite(str(tmp_path / "set" / cls / "x.png"), np.full((20, 30, 3), 90, np.uint8))
    srcs = pl.build_sources({str(tmp_path / "set"): 1.0}, filter=None)
    assert len(srcs) == 1 and len(srcs[0][0]) == 2
    with pytest.raises(ValueError, match="no sources"):
        pl.build_sources({"x": 0})
    rng = np.random.default_rng(0)
    ex = pl.frame_example(dot_sample(rng), (64, 64), rng)
    grid = preview_grid([example_to_sample(ex), srcs[0][0].item(0)], tmp_path / "p.png", tile=64)
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
    r = typer_testing.CliRunner().invoke(app, ["preview", "--source", "no_such_thing", "--out", str(out)])
    assert r.exit_code != 0 and "unknown source" in r.output


def test_negative_rate_is_respected():
    rng = np.random.default_rng(0)
    samples = []
    for _ in range(4):
        img = np.zeros((120, 120, 3), np.uint8)
        kp = np.zeros((21, 3), np.float32)
        kp[:, :2] = rng.uniform(80, 115, (21, 2))
        kp[:, 2] = 1
        samples.append(Sample(image=img, keypoints=kp[None], handedness=["Right"]))
    gen = pl.crop_generator([(pl.ListSource(samples, "s"), 1.0)], pl.CropConfig(size=24, negative_rate=0.3),
                            augment=False, seed=0, num_examples=300)
    rate = np.mean([ex["presence"] == 0 for ex in gen])
    assert 0.22 < rate < 0.38


def test_synthetic_sources_when_available():
    synth = pytest.importorskip("handsdk.train.synth")
    if not hasattr(synth, "render_scene"):
        pytest.skip("synthetic renderer not there yet")
    src = pl.synthetic_keypoint_source("commands", ["fist", "open_palm"])
    rng = np.random.default_rng(0)
    s = src.sample(rng)
    assert s.image is None and s.label in ("fist", "open_palm") and s.handedness[0] in ("Left", "Right")
    f, y = pl.keypoint_example(s, ["fist", "open_palm"], rng, augment=False)
    assert f.shape == (21, 2) and y == ["fist", "open_palm"].index(s.label)
    scene = pl.synthetic_source(size=(64, 64)).sample(rng)
    ex = pl.frame_example(scene, (64, 64), rng, GEOM_ONLY)
    assert ex["num_hands"] == min(scene.num_hands, 2)
