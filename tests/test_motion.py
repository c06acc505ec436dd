"""Motion gestures (issue 29): the resampled keypoint history, the motion
set in a bundle and in the recognizer, motion events, J and Z in the speller,
and spelling "JAZZ" / "ZOO" end to end with the shipped bundle."""
from __future__ import annotations

import numpy as np
import pytest

from handsdk.events import GestureEvents
from handsdk.motion import (MOTION_LABELS, Motion, MotionHistory, mirror_label, motion_channels, motion_features,
                            motion_segment)
from handsdk.results import Category, Hand, RecognitionResult
from handsdk.spelling import Speller, SpellingOptions

from conftest import TINY_MOTION_OVERRIDES, needs_data

# a hand (21 keypoints, pixels): an open hand's rough layout, 100 px
_HAND = np.array([[0, 0], [-20, -15], [-32, -30], [-40, -45], [-48, -58], [-15, -55], [-17, -75], [-18, -88],
                  [-19, -100], [0, -58], [0, -80], [0, -94], [0, -106], [14, -55], [15, -75], [16, -88],
                  [17, -98], [27, -50], [30, -66], [31, -76], [32, -85]], np.float32)


def _stream(fps, duration_s=2.0, drop=0.0, scale=1.0, offset=(300.0, 250.0), seed=0):
    """The hand still for 0.4 s, then drawing a circle (radius 1 hand size) in
    1 s, then still: (times_ms, keypoints)."""
    rng = np.random.default_rng(seed)
    t = np.arange(0, duration_s, 1.0 / fps)
    if drop:
        keep = rng.random(len(t)) >= drop
        keep[[0, -1]] = True
        t = t[keep]
    u = np.clip((t - 0.4) / 1.0, 0, 1)
    ang = 2 * np.pi * (u * u * (3 - 2 * u))
    c = np.stack([np.cos(ang) - 1, np.sin(ang)], 1) * 100.0
    kp = (_HAND[None] + c[:, None, :]) * scale + np.asarray(offset, np.float32)
    return t * 1000.0, kp.astype(np.float32)


def test_features_normalised_and_resampled():
    """Frame rate (15-60 fps), dropped frames, the hand's size and position
    change nothing but the interpolation error; the mask marks what the
    history covers."""
    ref = motion_features(*_stream(30), end_ms=1800)  # (one window end for all: the grids then agree)
    assert ref.shape == (32, motion_channels()) and ref.dtype == np.float32
    for kw in ({"fps": 15}, {"fps": 60}, {"fps": 30, "drop": 0.25}, {"fps": 30, "scale": 2.5, "offset": (50, 400)},
               {"fps": 24, "drop": 0.2, "scale": 0.5}):
        f = motion_features(*_stream(**kw), end_ms=1800)
        assert np.abs(f - ref).max() < 0.15, kw  # (chords across dropped frames at top speed)
    # the circle moves the points by about two hand sizes; a still hand is (almost) all zeros
    assert np.ptp(ref[:, 0]) > 1.5
    t, kp = _stream(30)
    assert np.abs(motion_features(t, kp) - ref).max() > 0.05  # (the window that ends at the last frame)
    still = motion_features(t, np.repeat(kp[:1], len(t), axis=0))
    assert np.abs(still[:, :-1]).max() < 1.0 and np.ptp(still[:, 0]) < 1e-5
    # a track younger than the window: its earlier steps are masked, the rest covered
    short = motion_features(t[-10:], kp[-10:])
    assert short[:, -1].sum() == pytest.approx(7, abs=1) and short[-1, -1] == 1 and short[0, -1] == 0
    # mirrored frames negate x: the feature of the camera's view
    mir = kp.copy()
    mir[..., 0] = 1000 - mir[..., 0]
    assert np.abs(motion_features(t, mir, mirrored=True, end_ms=1800) - ref).max() < 1e-4


def test_history_keeps_the_last_span():
    h = MotionHistory(span_ms=1000, capacity=16)
    for k in range(100):
        h.add(k * 33.0, _HAND + k)
    assert len(h) <= 32 and h.times[-1] == 99 * 33.0 and h.times[0] >= 99 * 33.0 - 1000 - 33
    assert np.all(np.diff(h.times) > 0) and h.keypoints[-1, 0, 0] == pytest.approx(_HAND[0, 0] + 99)
    h.add(99 * 33.0, _HAND)  # a repeated timestamp adds nothing
    assert h.keypoints[-1, 0, 0] == pytest.approx(_HAND[0, 0] + 99)


def test_segment_finds_the_movement():
    grid = []
    t, kp = _stream(30, duration_s=2.0)
    f = motion_features(t, kp, grid_out=grid)
    start, end = motion_segment(f, grid[0])
    assert abs(start - 400) <= 120 and abs(end - 1400) <= 120
    still = motion_features(t, np.repeat(kp[:1], len(t), axis=0), grid_out=grid)
    assert motion_segment(still, grid[-1]) == (None, None)


def test_mirror_labels():
    assert mirror_label("swipe_left") == "swipe_right" and mirror_label("circle_cw") == "circle_ccw"
    assert mirror_label("J") == "J" and mirror_label("swipe_up") == "swipe_up"
    assert set(MOTION_LABELS) >= {"none", "J", "Z", "wave"}


# ------------------------------------------------------------ events
def _result(ts, label, score, start=None, end=None, track=1, gset="motion"):
    cats = (Category(label, score, 1), Category("none", 1 - score, 0)) if label != "none" else (
        Category("none", score, 0), Category("J", 1 - score, 1))
    kp = np.zeros((21, 3), np.float32)
    m = Motion(gset, label, score, start, end, cats, ts)
    hand = Hand(box=np.zeros(4), keypoints=kp, keypoints_normalized=kp, presence=1.0,
                handedness=Category("Right", 1.0, 1), gestures={gset: cats}, track_id=track, motion={gset: m})
    return RecognitionResult((hand,), (640, 480), ts)


def test_motion_events_have_start_and_end():
    from handsdk.actions import load_actions

    ev = GestureEvents(motion_hold_ms=100, motion_cooldown_ms=300)
    amap = load_actions({"motion": {"swipe_left": {"key": "right"}}})
    out = []
    for ts in range(0, 400, 50):  # none
        out += ev.update(_result(ts, "none", 0.9))
    assert out == []
    for ts in range(400, 900, 50):  # the classifier is sure of a swipe that moved 200-600 ms
        out += ev.update(_result(ts, "swipe_left", 0.9, 200, 600))
    assert [e.type for e in out] == ["start", "end"]  # once, no hold events
    s, e = out
    assert s.timestamp_ms == 500 and s.start_ms == 200 and e.end_ms == 600 and e.duration_ms == 400
    assert e.reason == "completed" and e.to_dict()["end_ms"] == 600
    assert [a["key"] for a in amap.handle(s)] == ["right"]
    # released (score below end_score), then a new swipe: a second event
    out = []
    for ts in range(900, 1200, 50):
        out += ev.update(_result(ts, "none", 0.9))
    for ts in range(1200, 1500, 50):
        out += ev.update(_result(ts, "swipe_left", 0.9, 1000, 1150))
    assert [x.type for x in out] == ["start", "end"] and out[0].start_ms == 1000
    # the same movement whose score dips and comes back is not sent again
    out = []
    for ts, lab in ((1500, "none"), (1550, "swipe_left"), (1600, "swipe_left"), (1650, "swipe_left")):
        out += ev.update(_result(ts, lab, 0.9, 1000, 1150))
    assert out == []
    # a lost hand ends nothing (motion events are over when they are sent)
    assert ev.update(RecognitionResult((), (640, 480), 1700)) == [] and ev.flush() == []


def test_motion_cooldown_and_static_cooldown():
    ev = GestureEvents(motion_hold_ms=0, motion_cooldown_ms=500)
    out = []
    for ts in (0, 50):
        out += ev.update(_result(ts, "Z", 0.95, -800, 0))
    out += ev.update(_result(100, "swipe_right", 0.95, 60, 100))  # within the cooldown: nothing
    assert [(e.type, e.label) for e in out] == [("start", "Z"), ("end", "Z")]
    out = ev.update(_result(600, "swipe_right", 0.95, 400, 580))
    assert [(e.type, e.label) for e in out] == [("start", "swipe_right"), ("end", "swipe_right")]
    with pytest.raises(ValueError, match="cooldown_ms"):
        GestureEvents(cooldown_ms=-1)


# ------------------------------------------------------------ the speller's motion letters
def _feed(sp, ts, letter, *, motion=None, pos=(0.0, 0.0), kp=None, running=True):
    cats = [(letter, 0.95)] if letter else []
    return sp.feed(ts, cats, position=np.asarray(pos), hand_size=100.0, motion=motion, motion_running=running,
                   keypoints=kp)


def test_speller_drops_the_prefix_of_a_motion_letter():
    # I held, the pinky starts drawing (the keypoints move), the motion set completes a J
    sp = Speller(SpellingOptions(hold_ms=400))
    kp0 = np.zeros((21, 2))
    for ts in range(0, 600, 33):
        _feed(sp, ts, "I", kp=kp0)
    assert sp.text == "" and sp.pending == "I"  # held, but not committed yet
    for k, ts in enumerate(range(600, 1300, 33)):
        kp = kp0.copy()
        kp[20] += (5 * k, 5 * k)  # the pinky draws
        _feed(sp, ts, "I", kp=kp)
    assert sp.text == ""
    st = _feed(sp, 1300, "I", motion="J")
    assert st.committed == "J" and sp.text == "J" and sp.pending is None
    for ts in range(1333, 2000, 33):  # the J's end pose, still read as I, is no letter
        _feed(sp, ts, "I", pos=(5.0, 5.0))
    assert sp.text == "J"
    # a D held, then a Z: "JZ", no D
    for ts in range(2000, 2500, 33):
        _feed(sp, ts, "D", pos=(0, 300))
    _feed(sp, 2533, None, motion="Z", pos=(0, 300))
    assert sp.text == "JZ"


def test_speller_commits_a_prefix_letter_that_no_motion_follows():
    sp = Speller(SpellingOptions(hold_ms=400, motion_wait_ms=500))
    for ts in range(0, 1000, 33):  # I held still: committed once the wait is over
        _feed(sp, ts, "I")
    assert sp.text == "I"
    sp.reset()
    for ts in range(0, 500, 33):  # I, then A: both, in order
        _feed(sp, ts, "I")
    for ts in range(500, 1100, 33):
        _feed(sp, ts, "A")
    assert sp.text == "IA"
    sp.reset()
    for ts in range(0, 500, 33):  # X pending, then a J (X does not start a J): "XJ"
        _feed(sp, ts, "X")
    _feed(sp, 520, None, motion="J")
    assert sp.text == "XJ"
    sp.reset()
    for ts in range(0, 450, 33):  # without a motion set letters commit at once
        _feed(sp, ts, "I", running=False)
    assert sp.text == "I"


# ------------------------------------------------------------ a motion set in a bundle and the recognizer
@pytest.fixture(scope="module")
def tiny_motion(bundle_bytes, tmp_path_factory):
    """A tiny motion model (trained for a moment on generated windows),
    converted to int8, in a copy of the test bundle: (path, keras model,
    tflite bytes, windows)."""
    pytest.importorskip("tf_keras")
    from handsdk.bundle import add_gesture_set
    from handsdk.train.models.motion.config import MotionConfig
    from handsdk.train.models.motion.examples import motion_pool
    from handsdk.train.models.motion.model import motion_decoding
    from handsdk.train.models.motion.train import convert, fit

    cfg = MotionConfig()
    cfg.model.filters, cfg.model.hidden = [8, 8, 8], 8
    cfg.data.takes_per_class, cfg.data.none_takes, cfg.data.point_history = 3, 12, False
    cfg.data.real_hands, cfg.data.static_minutes = 0.0, 0.0
    cfg.train.batch_size, cfg.train.quantization = 64, ["int8", "fp32"]
    pool = motion_pool(cfg, np.random.default_rng(0))
    model = fit(cfg, pool, None, epochs=1, say=lambda s: None)
    tfl, q, tried = convert(model, cfg, pool, pool["history"][:64], say=lambda s: None)
    p = tmp_path_factory.mktemp("motion") / "m.handsdk"
    add_gesture_set(bundle_bytes, "moves", tfl, cfg.model.labels, output=p, kind="motion", quantization=q,
                    decoding=motion_decoding(cfg.model))
    return p, model, tfl, pool, q, tried


@pytest.mark.slow
def test_motion_set_in_the_bundle(tiny_motion, bundle_bytes):
    from handsdk.bundle import load_bundle
    from handsdk.motion import MotionClassifier

    path, model, tfl, pool, q, tried = tiny_motion
    b = load_bundle(path)  # loaded, every model run once
    e = b.gesture_sets["moves"]
    assert e.decoding["kind"] == "motion" and e.decoding["input"] == "keypoint_history"
    assert e.decoding["frames"] == 32 and e.decoding["rate_hz"] == 20 and "canonical_hand" not in e.decoding
    assert tuple(e.inputs["history"].shape) == (1, 32, motion_channels()) and e.labels == MOTION_LABELS
    old = load_bundle(bundle_bytes)
    assert all(b.files[old.models[r].file] == old.files[old.models[r].file] for r in old.models)
    # the converted model, reloaded, gives the Keras model's scores (int8: within quantisation error)
    clf = MotionClassifier(path, "moves")
    x = np.asarray(pool["history"][:40], np.float32)
    keras_s = np.asarray(model(x, training=False))
    tfl_s = np.stack([clf.scores_feature(f) for f in x])
    assert np.abs(tfl_s - keras_s).max() < (0.08 if q == "int8" else 1e-4), tried
    with pytest.raises(ValueError, match="not a motion gesture set"):
        MotionClassifier(path, "commands")


@pytest.mark.slow
def test_recognizer_reports_motion_per_track(tiny_motion):
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
    from handsdk.tools.motion_eval import oracle_recognizer

    path = tiny_motion[0]
    rec = oracle_recognizer(str(path))
    try:
        assert "moves" in rec.motion_classifiers and rec.classifiers["moves"].kind == "motion"
        t, kp = _stream(30, 1.5)
        last = None
        for ts, k in zip(t, kp):
            last = rec.feed_keypoints(k, ts)
        hand = last.hands[0]
        m = hand.motion["moves"]
        assert m.gesture_set == "moves" and hand.gestures["moves"][0].name == m.label
        assert list(hand.gestures) == ["commands", "letters", "moves"]  # the bundle's order
        assert "motion" in last.timings_ms and hand.to_dict()["motion"]["moves"]["label"] == m.label
        assert 0 < t[-1] - m.timestamp_ms < 100  # the model ran within the last 100 ms
        assert len(rec._tracker.tracks[0].history) == len(t)
    finally:
        rec.close()
    with GestureRecognizer(GestureRecognizerOptions(bundle=str(path), running_mode=RunningMode.IMAGE,
                                                    color_order="RGB")) as img:
        assert img.motion_classifiers and "moves" in img.classifiers  # (IMAGE mode: no history, no motion)


# ------------------------------------------------------------ the shipped set, end to end
def _shipped_motion():
    from handsdk.bundle import default_bundle_path, load_bundle
    from handsdk.motion import is_motion_entry

    p = default_bundle_path()
    if p is None:
        return None
    b = load_bundle(p, check=False)
    return p if any(is_motion_entry(e) for e in b.gesture_sets.values()) else None


@pytest.mark.skipif(_shipped_motion() is None, reason="the shipped bundle has no motion set")
@pytest.mark.parametrize("word,seed", [
    ("JAZZ", 0), ("ZOO", 1), ("ZOO", 3), ("JAZZ", 4), ("JAZZ", 6),
    # the letters GestureNet shipped since 2026-12-08 (trained on the 96 px landmarker's
    # keypoints) loses this signer's A (JZZ); the one before read it. Seeds 0-7: 7 of 8 exact
    pytest.param("JAZZ", 2, marks=pytest.mark.xfail(strict=True, reason="the shipped letters net reads JZZ"))])
def test_spell_jazz_and_zoo_end_to_end(word, seed):
    """A synthetic signer spells the word (J traced with the pinky from I, Z
    with the index from a pointing hand; the renderer's kinematic hand at 30
    fps with tracking noise): its keypoints go through the recognizer (the
    shipped letters and motion sets, tracking, smoothing) and the speller.
    The renderer's keypoints stand in for the landmarker, which does not read
    the renderer's hands reliably (see the README's motion section)."""
    from handsdk.tools.motion_eval import spell_words

    res = spell_words(_shipped_motion(), [word], seed=seed)
    assert res["pairs"] == [(word, word)]


# ------------------------------------------------------------ real photos moved along paths
def _dot_photo(seed=0):
    """A generated 'photo' (96x80): noise, and a bright dot at each of 21 keypoints."""
    rng = np.random.default_rng(seed)
    img = rng.integers(40, 90, (96, 80, 3)).astype(np.uint8)
    kp = np.c_[rng.uniform(15, 65, 21), rng.uniform(15, 80, 21)]
    kp[8] = (40.0, 12.0)  # the index tip (the Z's tracer) at the top
    kp[0] = (40.0, 84.0)  # the wrist at the bottom
    img[11:14, 39:42] = (255, 0, 0)  # the index tip, in red
    return img, kp


def test_photo_take_moves_the_photo_with_its_keypoints():
    """Each frame's keypoints are where the photo's keypoints land: the red
    dot drawn at the index tip is found there; the index tip (the Z's
    tracer) follows the Z's path (right, down-left, right in the user's view:
    left, down-right, left in the camera's image)."""
    from handsdk.train.synth import motion as SM
    from handsdk.train.synth.photos import PhotoHands, iter_photo_take

    img, kp = _dot_photo()
    hands = PhotoHands()
    hands.add(img, kp, "dots")
    rng = np.random.default_rng(3)
    path = SM.gesture_path("Z", "param", rng)
    segs = [SM.Segment("hold", 0.2), SM.Segment("path", path=path), SM.Segment("hold", 0.2)]
    out = list(iter_photo_take(hands, segs, size=(240, 320), fps=30.0, hand_px=70.0, noise=0.0))
    assert len(out) == SM.render_length(segs, 30.0)
    tips = []
    for frame, ts, k in out:
        red = (frame[..., 0] > 150) & (frame[..., 1] < 100) & (frame[..., 2] < 100)
        assert red.any(), f"the index tip's dot is not in the frame at {ts} ms"
        ys, xs = np.nonzero(red)
        assert np.hypot(xs.mean() - k[8, 0], ys.mean() - k[8, 1]) < 2.0
        tips.append(k[8])
    tips = np.array(tips)
    t = np.array([o[1] for o in out])
    during = (t > 200) & (t < 200 + 1000 * path.duration)
    dx = np.diff(tips[during, 0])
    # camera image: the first stroke goes left, the diagonal right, the last left
    thirds = np.array_split(dx, 3)
    assert thirds[0].sum() < -10 and thirds[2].sum() < -10
    assert tips[during, 1].max() - tips[during, 1].min() > 10  # the diagonal goes down


def test_photo_hands_refuse_bad_photos():
    from handsdk.train.synth.photos import PhotoHands, iter_photo_take

    img, kp = _dot_photo()
    with pytest.raises(ValueError, match="21 finite"):
        PhotoHands().add(img, kp[:20])
    with pytest.raises(ValueError, match="uint8 RGB"):
        PhotoHands().add(img.astype(np.float32), kp)
    with pytest.raises(ValueError, match="no photos"):
        next(iter_photo_take(PhotoHands(), []))


@pytest.mark.slow
@needs_data
@pytest.mark.skipif(_shipped_motion() is None, reason="the shipped bundle has no motion set")
def test_z_from_real_photos_through_the_sdk_landmarker():
    """Real hand photos (a D for Z, letters as they are read held still)
    moved along the signing paths, through the shipped detector and
    landmarker: the Zs of JAZZ and ZOO come out as motion events (measured:
    22 of 24 over seeds 0-7). J (traced by the pinky) and the full words are
    still short: the landmarker's pinky tip flickers (README, motion)."""
    from handsdk.tools.motion_eval import photo_words

    zs = other = 0
    for seed in (0, 1):
        r = photo_words(None, ("JAZZ", "ZOO"), seed=seed)
        assert r["hands_found"] > 0.95
        zs += sum(1 for _, lab, _ in r["motion_events"] if lab == "Z")
        other += sum(1 for _, lab, _ in r["motion_events"] if lab not in ("Z", "J"))
    assert zs >= 5, f"{zs} of 6 Zs read from pixels"
    assert other <= 1, f"{other} motion events that were not signed"


@pytest.mark.slow
def test_a_finished_motion_run_is_added_to_a_bundle_as_training_added_it(bundle_bytes, tmp_path):
    """``add_motion_run`` (build-default's motion step on a reused run) gives
    the bundle train_motion itself wrote: the same model, labels, decoding
    and metrics; a folder with no finished run is a clear error."""
    pytest.importorskip("tf_keras")
    from handsdk.bundle import load_bundle
    from handsdk.train.models.motion.train import add_motion_run, train_motion

    a, b = tmp_path / "a.handsdk", tmp_path / "b.handsdk"
    a.write_bytes(bundle_bytes)
    b.write_bytes(bundle_bytes)
    train_motion(None, tmp_path / "run", overrides=TINY_MOTION_OVERRIDES, bundle=a, progress=None)
    add_motion_run(tmp_path / "run", b, progress=lambda m: None)
    ea, eb = load_bundle(a).gesture_sets["motion"], load_bundle(b).gesture_sets["motion"]
    assert load_bundle(a).files[ea.file] == load_bundle(b).files[eb.file]
    assert (ea.labels, ea.decoding) == (eb.labels, eb.decoding) and ea.decoding["kind"] == "motion"
    assert ea.extra.get("metrics") == eb.extra.get("metrics")
    with pytest.raises(FileNotFoundError, match="no readable report.json"):
        add_motion_run(tmp_path / "nothing", b)


@pytest.mark.slow
@needs_data
@pytest.mark.skipif(_shipped_motion() is None, reason="the shipped bundle has no motion set")
def test_photo_takes_read_by_the_sdk_train_the_motion_set(tmp_path):
    """data.pipeline: takes of real hand photos (asl_letters/train) read by
    the shipped detector and landmarker, as a source of the motion pool (a
    fold of their own); a mirrored take is a left hand with the mirrored label."""
    from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
    from handsdk.bundle import default_bundle_path
    from handsdk.train.models.motion.config import MotionConfig
    from handsdk.train.models.motion.examples import fold_split, motion_pool
    from handsdk.train.synth.photos import PhotoBank, photo_motion_script, pipeline_take

    bank = PhotoBank()
    rng = np.random.default_rng(0)
    hands, segs = photo_motion_script("swipe_left", "param", rng, bank)
    with GestureRecognizer(GestureRecognizerOptions(running_mode=RunningMode.VIDEO, max_hands=1,
                                                    color_order="RGB")) as rec:
        take = pipeline_take(hands, segs, rec, mirror=True)
        again = pipeline_take(hands, segs, rec, mirror=True)  # (the same recognizer, reset: the same take)
    assert np.array_equal(again.keypoints, take.keypoints)
    assert take.hand_source == "photo_pipeline" and [g[0] for g in take.gestures] == ["swipe_right"]
    assert take.info["frames_with_hand"] >= 0.9 * take.info["frames"] and take.keypoints.shape[1:] == (21, 2)
    # a swipe to the user's left moves right in the camera's image: left in the mirrored one,
    # which is a swipe to the right of the (left-handed) user in front of it
    xs = take.keypoints[:, 9, 0]
    assert xs[0] - xs[-1] > 50
    cfg = MotionConfig()
    cfg.data.takes_per_class, cfg.data.none_takes, cfg.data.point_history = 1, 2, False
    cfg.data.real_hands, cfg.data.static_minutes = 0.0, 0.0
    cfg.data.pipeline, cfg.data.pipeline_takes_per_class, cfg.data.pipeline_none_takes = str(default_bundle_path()), 1, 2
    pool = motion_pool(cfg, np.random.default_rng(1))
    train, test = fold_split(pool, "source:photo_pipeline")
    assert test.any() and train.any() and set(pool["hand"][test]) == {"photo_pipeline"}
    labels = {pool["labels"][i] for i in pool["label"][test]} if "labels" in pool else set(pool["label"][test])
    assert len(labels) >= 5  # windows of most classes, not only none


def test_training_ends_of_a_stream_that_stops_before_its_gesture_is_recognisable():
    """A take read by the SDK can lose the hand before a gesture is done: its
    windows are negatives only (it used to raise)."""
    from handsdk.train.synth.motion import Take, training_ends, window_label

    t = np.arange(0, 900, 33.0)
    take = Take(t, np.zeros((len(t), 21, 2), np.float32), [("J", 400.0, 1500.0, 1400.0)])
    ends = training_ends(take, np.random.default_rng(0), 3, 2)
    assert all(e <= t[-1] + 1 for e in ends)
    assert all(window_label(take, e, 1550.0) == "none" for e in ends)
