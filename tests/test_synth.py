"""Tests of the synthetic hand renderer (handsdk.train.synth)."""
import numpy as np
import pytest

from handsdk.keypoints import batch_keypoint_features
from handsdk.train.data.sample import Sample
from handsdk.train.synth import (GESTURE_SETS, TEMPLATES, HandPose, HandShape, SceneConfig, SyntheticSource,
                                 forward_kinematics, place_hand, pose_from_template, preview_grid,
                                 random_pose, render_hand_crop, render_scene, render_sequence,
                                 view_rotation)
from handsdk.train.synth.hand import DOF_INDEX, LIMITS_HI, LIMITS_LO, angles_from_degrees
from handsdk.train.synth.scene import _compose, _random_light

CFG = SceneConfig(size=(96, 96), render_scale=1.5)


def _render_one(shape, pose, size=96, seed=0):
    """One hand, palm centre in the middle of a plain image, no effects."""
    rng = np.random.default_rng(seed)
    cfg = SceneConfig(size=(size, size), render_scale=2.0)
    f = size * 1.0
    spec = place_hand(rng, shape, pose, f, size, size, 0.6 * size, (size / 2, size / 2),
                      forearm=0.0)
    bg = np.full((size, size, 3), 90, np.uint8)
    light = _random_light(rng, SceneConfig(p_shadow=0.0), size, size)
    return _compose(rng, cfg, f, [spec], bg, light, effects=False)


def test_determinism():
    a = SyntheticSource(CFG, seed=7).take(3)
    b = SyntheticSource(CFG, seed=7).take(3)
    c = SyntheticSource(CFG, seed=8).take(3)
    for x, y in zip(a, b):
        assert np.array_equal(x.image, y.image)
        assert np.array_equal(x.keypoints, y.keypoints)
        assert np.array_equal(x.extras["parts"], y.extras["parts"])
    assert not all(np.array_equal(x.image, z.image) for x, z in zip(a, c))


def test_label_consistency():
    rng = np.random.default_rng(3)
    cfg = SceneConfig(size=(96, 96), render_scale=1.5, p_no_hand=0.0, p_occluder=0.3)
    on_mask = total = 0
    peaks = []
    n_hands = 0
    for _ in range(12):
        s = render_scene(rng, cfg)
        assert s.image.shape == (96, 96, 3) and s.image.dtype == np.uint8
        assert s.keypoint_source == "synthetic"
        assert len(s.boxes) == len(s.keypoints) == len(s.handedness) == len(s.extras["keypoints3d"])
        mask, parts, sk = s.extras["mask"], s.extras["parts"], s.extras["skeleton"]
        # hand pixels carry hand part ids, and only they do
        assert set(np.unique(parts[mask > 0])) <= set(range(1, 17))
        assert not np.isin(parts[mask == 0], np.arange(1, 17)).any()
        for i, kp in enumerate(s.keypoints):
            n_hands += 1
            vis = kp[:, 2] > 0
            bm = s.extras["boxes_mask"][i]
            if vis.any() and np.isfinite(bm).all():
                # visible keypoints lie inside the box of the hand's own mask
                assert (kp[vis, 0] >= bm[0] - 2).all() and (kp[vis, 0] <= bm[2] + 2).all()
                assert (kp[vis, 1] >= bm[1] - 2).all() and (kp[vis, 1] <= bm[3] + 2).all()
            for x, y in kp[vis, :2]:
                xi, yi = int(x), int(y)
                total += 1
                on_mask += (mask[max(yi - 1, 0):yi + 2, max(xi - 1, 0):xi + 2] == i + 1).any()
                peaks.append(sk[yi, xi])
            # the 3D keypoints project to the 2D ones
            P = s.extras["keypoints3d"][i]
            f = s.extras["focal"]
            u = f * P[:, 0] / P[:, 2] + 48
            assert np.allclose(u, kp[:, 0], atol=0.05)
    assert n_hands >= 10
    assert on_mask / total > 0.9
    assert np.median(peaks) > 0.9 and np.min(peaks) > 0.6


def test_zero_hand_scene_has_empty_labels():
    s = render_scene(np.random.default_rng(0), SceneConfig(size=(64, 64), p_no_hand=1.0))
    assert s.num_hands == 0 and s.keypoints.shape == (0, 21, 3) and s.boxes.shape == (0, 4)
    assert s.handedness == [] and s.label is None
    assert not s.extras["mask"].any()
    assert not np.isin(s.extras["parts"], np.arange(1, 17)).any()
    assert s.extras["skeleton"].max() == 0


def test_mirrored_handedness():
    rng = np.random.default_rng(1)
    pose = random_pose(rng)
    right = HandShape.random(rng, "Right")
    left = right.mirrored()
    kr, kl = forward_kinematics(right, pose), forward_kinematics(left, pose)
    assert np.allclose(kl, kr * [-1, 1, 1])
    # palm to the camera, fingers up: a right hand's thumb is on the image right
    # of its little finger, a left hand's on the left; and the renders mirror
    open_palm = HandPose(angles_from_degrees({"thumb_cmc_abd": 40}), np.zeros(3))
    sr, sl = _render_one(right, open_palm), _render_one(left, open_palm)
    ur, ul = sr.keypoints[0, :, 0], sl.keypoints[0, :, 0]
    assert ur[4] > ur[20] + 10 and ul[4] < ul[20] - 10
    pose.view = np.radians([30, 20, 25])
    sr, sl = _render_one(right, pose), _render_one(left, pose)
    assert np.allclose(sr.keypoints[0, :, 0], 96 - sl.keypoints[0, :, 0], atol=0.05)
    assert np.allclose(sr.keypoints[0, :, 1], sl.keypoints[0, :, 1], atol=0.05)
    assert sr.handedness == ["Right"] and sl.handedness == ["Left"]


def test_visibility_from_depth():
    shape = HandShape()
    open_palm = HandPose(angles_from_degrees({"thumb_cmc_abd": 40, "index_abd": 10,
                                              "pinky_abd": -15}), np.zeros(3))
    s = _render_one(shape, open_palm)
    assert (s.keypoints[0, :, 2] == 1).all()
    # a fist from the back: the finger tips are hidden behind the knuckles
    fist = pose_from_template("commands", "fist", np.random.default_rng(0), noise=0)
    fist.view = np.radians([180, 0, 0])
    s = _render_one(shape, fist)
    vis = s.keypoints[0, :, 2]
    assert vis[[8, 12, 16, 20]].sum() == 0
    assert vis[[5, 9, 13, 17]].sum() >= 3


def test_joint_limits_and_kinematics():
    rng = np.random.default_rng(2)
    shape = HandShape.random(rng)
    poses = [random_pose(rng) for _ in range(100)]
    for gset, labels in GESTURE_SETS.items():
        poses += [pose_from_template(gset, lab, rng, noise=15) for lab in labels]
    for p in poses:
        assert (p.angles >= LIMITS_LO - 1e-9).all() and (p.angles <= LIMITS_HI + 1e-9).all()
        k = forward_kinematics(shape, p)
        L = shape.bone_lengths()
        for f in range(5):
            j = 1 + 4 * f
            seg = np.linalg.norm(np.diff(k[j:j + 4], axis=0), axis=1)
            assert np.allclose(seg, L[f])
    # flexion curls towards the palm side (+z), hyper-extension away from it
    flexed = forward_kinematics(shape, angles_from_degrees({"index_mcp": 60, "index_pip": 60}))
    hyper = forward_kinematics(shape, angles_from_degrees({"index_mcp": -20}))
    assert flexed[8, 2] > 0.03 and hyper[8, 2] < -0.01
    # the thumb opposes: opposition moves its tip in front of the palm
    opp = forward_kinematics(shape, angles_from_degrees({"thumb_cmc_opp": 70, "thumb_mcp": 30}))
    assert opp[4, 2] > 0.03 and opp[4, 0] < forward_kinematics(shape, np.zeros(22))[4, 0]


def _view_features(gset, labels, rng, n):
    """Noisy template samples (joint noise, random hand shapes and
    handedness) seen from near the centre of the template's view range."""
    kps, hands, ys = [], [], []
    for y, lab in enumerate(labels):
        centre = np.radians([np.mean(r) for r in TEMPLATES[gset][lab].view])
        for _ in range(n):
            shape = HandShape.random(rng)
            p = pose_from_template(gset, lab, rng)
            p.view = centre + np.radians(rng.normal(0, 5, 3))
            k = forward_kinematics(shape, p) @ view_rotation(p.view, shape.handedness).T
            kps.append(k[:, :2])  # orthographic projection of the camera-frame hand
            hands.append(shape.handedness)
            ys.append(y)
    return batch_keypoint_features(np.array(kps), hands).reshape(len(ys), -1), np.array(ys)


@pytest.mark.parametrize("gset", sorted(GESTURE_SETS))
def test_templates_are_separable(gset):
    labels = [lab for lab in GESTURE_SETS[gset] if lab != "none"]
    rng = np.random.default_rng(5)
    xtr, ytr = _view_features(gset, labels, rng, 20)
    xte, yte = _view_features(gset, labels, rng, 15)
    cent = np.stack([xtr[ytr == c].mean(0) for c in range(len(labels))])
    pred = np.argmin(((xte[:, None] - cent[None]) ** 2).sum(-1), 1)
    acc = (pred == yte).mean()
    assert acc > 0.9, f"{gset}: nearest-centroid accuracy {acc:.2f}"


def test_gesture_label_and_crop():
    rng = np.random.default_rng(4)
    s = render_scene(rng, SceneConfig(size=(64, 64), gesture_set="commands", p_no_hand=0.0,
                                      max_hands=1))
    assert s.label in GESTURE_SETS["commands"] and s.label_set == "commands"
    c = render_hand_crop(rng, 64, gesture_set="asl_letters", label="L")
    assert c.label == "L" and c.num_hands == 1
    kp = c.keypoints[0]
    assert np.ptp(kp[:, 0]) > 20 or np.ptp(kp[:, 1]) > 20  # the hand fills the crop


def test_sequence_lengths_and_labels():
    steps = [("asl_letters", "H", 3), ("asl_letters", "I", 2), ("commands", "fist", 4)]
    clip = render_sequence(steps, size=(48, 64), seed=3, transition_frames=2)
    n = 3 + 2 + 4 + 2 * 2
    assert clip.frames.shape == (n, 48, 64, 3) and len(clip.samples) == len(clip.labels) == n
    assert clip.labels == ["H"] * 3 + [None] * 2 + ["I"] * 2 + [None] * 2 + ["fist"] * 4
    assert all(s.keypoints.shape == (1, 21, 3) for s in clip.samples)
    # motion is smooth: consecutive wrists move little, gestures change the hand
    wr = np.array([s.keypoints[0, 0, :2] for s in clip.samples])
    assert np.abs(np.diff(wr, axis=0)).max() < 12
    again = render_sequence(steps, size=(48, 64), seed=3, transition_frames=2)
    assert np.array_equal(again.frames, clip.frames)


def test_preview_grid_generic(tmp_path):
    s = render_scene(np.random.default_rng(0), CFG)
    bare = Sample(image=np.zeros((50, 70, 3), np.uint8),
                  keypoints=np.concatenate([np.random.default_rng(0).uniform(0, 50, (1, 21, 2)),
                                            np.ones((1, 21, 1))], -1),
                  boxes=np.array([[5, 5, 40, 40]]))
    grid = preview_grid([s, bare], tmp_path / "p.png", tile=96)
    assert (tmp_path / "p.png").exists() and grid.ndim == 3 and grid.shape[2] == 3
