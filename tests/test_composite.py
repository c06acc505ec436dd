"""Copy-paste composites: a hand cut out of one image lands in another with its
keypoints, on its own pixels, without covering the scene's hands."""
import numpy as np
import pytest

pytest.importorskip("cv2")

from handsdk.keypoints import keypoints_box  # noqa: E402
from handsdk.train.data import composite as C  # noqa: E402
from handsdk.train.data.sample import Sample  # noqa: E402
from handsdk.train.models.data import toy_sample  # noqa: E402


def _donor_sample(seed=0):
    rng = np.random.default_rng(seed)
    while True:  # a toy hand well inside its frame
        s = toy_sample(rng, (96, 96), hands=1)
        b = s.boxes[0]
        if b[0] > 6 and b[1] > 6 and b[2] < 90 and b[3] < 90 and b[2] - b[0] > 24:
            return s


def _background(h=120, w=160, hands=0, seed=1):
    rng = np.random.default_rng(seed)
    img = np.full((h, w, 3), (20, 40, 200), np.uint8)
    img = np.clip(img + rng.normal(0, 3, img.shape), 0, 255).astype(np.uint8)
    return Sample(image=img, boxes=np.zeros((0, 4)), keypoints=np.zeros((0, 21, 3)), source="bg", path="bg.png")


def test_alpha_covers_the_hand_not_the_background():
    s = _donor_sample()
    d = C.make_donor(s, 0)
    assert d is not None
    skin = s.image[int(s.keypoints[0, 9, 1]), int(s.keypoints[0, 9, 0])]
    is_skin = (np.abs(d.image.astype(int) - skin.astype(int)).sum(-1) < 20)
    # the alpha is high on the hand's pixels and low on the flat background
    assert d.alpha[is_skin].mean() > 0.8
    assert d.alpha[~is_skin].mean() < 0.3
    # keypoints are in patch pixels
    k = d.keypoints[:, :2].astype(int)
    assert (d.alpha[k[:, 1], k[:, 0]] > 0.5).mean() > 0.9


def test_donor_refused_when_the_hand_touches_the_border():
    s = _donor_sample()
    s.keypoints[0, 12, 0] = 0.0
    assert C.make_donor(s, 0) is None


def test_paste_moves_keypoints_with_the_hand():
    s = _donor_sample()
    d = C.make_donor(s, 0)
    bg = _background()
    rng = np.random.default_rng(3)
    out = C.paste(bg, d, rng, width=(0.25, 0.3), p_near=0.0)
    assert out is not None and out.num_hands == 1 and bg.num_hands == 0
    kp = out.keypoints[0]
    box = keypoints_box(kp)
    assert box[0] >= 0 and box[1] >= 0 and box[2] <= 160 and box[3] <= 120
    # the hand's own colour (not the blue background) lies under the moved palm keypoints
    for j in (0, 5, 9, 13):
        x, y = int(round(kp[j, 0])), int(round(kp[j, 1]))
        px = out.image[y, x].astype(int)
        assert px[2] < 180 or px[0] > 60, f"keypoint {j} is on background {px}"
    assert np.allclose(out.boxes[0], box)
    assert out.path.startswith("composite:")  # never looked up as a mined frame


def test_paste_keeps_scene_hands_uncovered_and_respects_max_hands():
    s = _donor_sample()
    d = C.make_donor(s, 0)
    rng = np.random.default_rng(0)
    bg = _background()
    first = C.paste(bg, d, rng, width=(0.3, 0.35), p_near=0.0)
    assert first is not None
    for _ in range(20):
        second = C.paste(first, d, rng, width=(0.3, 0.35), p_near=0.0)
        if second is None:
            continue
        a, b = keypoints_box(second.keypoints[0]), keypoints_box(second.keypoints[1])
        assert C._overlap_frac(a, b) <= 0.15 and C._overlap_frac(b, a) <= 0.15
    many = C.composite_samples([d], [bg, first], 10, np.random.default_rng(1), max_hands=2,
                               width=(0.2, 0.3), hands_per_image=(2, 2))
    assert many and all(m.num_hands <= 2 for m in many)


def test_mirrored_paste_swaps_handedness():
    s = _donor_sample()
    s.handedness = ["Right"]
    d = C.make_donor(s, 0)
    seen = set()
    for seed in range(12):
        out = C.paste(_background(), d, np.random.default_rng(seed), width=(0.25, 0.3), p_near=0.0)
        if out is not None:
            seen.add(out.handedness[0])
    assert seen == {"Left", "Right"}


def test_composites_need_donors_and_backgrounds():
    with pytest.raises(ValueError, match="donor"):
        C.composite_samples([], [_background()], 3, np.random.default_rng(0))
