"""Live recognition: One-Euro smoothing, tracking (lost tracks, ids), LIVE_STREAM
delivery, gesture events and actions, fingerspelling and its evaluation, and
`handsdk run` (modes, device profiles, demo, a camera that fails mid-run)."""
from __future__ import annotations

import json
import threading
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from handsdk import Category, GestureRecognizer, GestureRecognizerOptions, Hand, RecognitionResult, RunningMode
from handsdk.actions import load_actions
from handsdk.events import GestureEvents
from handsdk.filters import OneEuroFilter
from handsdk.spelling import DELETE, SPACE, Speller, SpellingOptions
from handsdk.tools.spelling_eval import edit_distance, error_rates, evaluate_spelling, label_oracle, word_steps
from tests.conftest import red_stroke_frame

runner = CliRunner()


# ---------------------------------------------------------------- One-Euro
def test_one_euro_smooths_jitter_and_follows_motion():
    rng = np.random.default_rng(0)
    t = np.arange(300) / 30.0
    still = 100 + rng.normal(0, 2.0, t.size)
    f = OneEuroFilter(min_cutoff=1.0, beta=0.0)
    out = np.array([f(x, ti) for x, ti in zip(still, t)])
    assert out[30:].std() < 0.4 * still[30:].std()
    # a fast ramp: with beta the filter lags far less than without
    ramp = 300 * t + rng.normal(0, 0.5, t.size)
    lag = {}
    for beta in (0.0, 1.0):
        f = OneEuroFilter(min_cutoff=1.0, beta=beta)
        y = np.array([f(x, ti) for x, ti in zip(ramp, t)])
        lag[beta] = float(np.mean(ramp[60:] - y[60:]))
    assert lag[0.0] > 30 and lag[1.0] < 0.25 * lag[0.0], lag
    # arrays are filtered element-wise; a repeated timestamp returns the last output
    f = OneEuroFilter()
    a = f(np.zeros((21, 3)), 0.0)
    b = f(np.ones((21, 3)), 0.1)
    assert a.shape == (21, 3) and 0 < b[0, 0] < 1
    np.testing.assert_array_equal(f(np.full((21, 3), 9.0), 0.1), b)
    with pytest.raises(ValueError, match="min_cutoff"):
        OneEuroFilter(min_cutoff=0)
    with pytest.raises(ValueError, match="beta"):
        OneEuroFilter(beta=-1)


def _jitter_run(bundle_path, smoothing, mode="video"):
    rng = np.random.default_rng(3)
    kps = []
    with GestureRecognizer.create(bundle_path, running_mode=mode, smoothing=smoothing,
                                  smoothing_min_cutoff=0.5, smoothing_beta=0.0) as rec:
        for i in range(40):
            dot = (140 + rng.integers(-3, 4), 110 + rng.integers(-3, 4))
            r = rec.recognize(red_stroke_frame(green_at=dot), timestamp_ms=i * 33 if mode == "video" else None)
            kps.append(r.hands[0].keypoints[0, :2])
    return np.array(kps)


def test_smoothing_reduces_keypoint_jitter_in_video_mode_only(bundle_path):
    raw = _jitter_run(bundle_path, False)
    smooth = _jitter_run(bundle_path, True)
    jr = np.abs(np.diff(raw[10:], axis=0)).mean()
    js = np.abs(np.diff(smooth[10:], axis=0)).mean()
    assert jr > 1.0 and js < 0.5 * jr, (jr, js)
    # smoothing stays near the truth (no drift)
    assert np.abs(smooth[10:].mean(axis=0) - raw[10:].mean(axis=0)).max() < 3
    # IMAGE mode never smooths
    np.testing.assert_allclose(_jitter_run(bundle_path, True, "image"), _jitter_run(bundle_path, False, "image"))
    with pytest.raises(ValueError, match="smoothing_min_cutoff"):
        GestureRecognizerOptions(smoothing_min_cutoff=0)
    with pytest.raises(ValueError, match="smoothing_beta"):
        GestureRecognizerOptions(smoothing_beta=-1)


# ---------------------------------------------------------------- tracking
def _two_strokes(h=240, w=480, boxes=((40, 60, 140, 160), (300, 60, 400, 160))):
    import cv2

    img = np.full((h, w, 3), 40, np.uint8)
    for x0, y0, x1, y1 in boxes:
        cv2.line(img, (x0, y0), (x1, y1), (0, 0, 255), 8)
        cv2.line(img, (x0, y1), (x1, y0), (0, 0, 255), 8)
        cv2.circle(img, ((x0 + x1) // 2, (y0 + y1) // 2), 4, (0, 255, 0), -1)
    return img


def test_two_hands_keep_their_ids_and_a_new_hand_is_found_by_periodic_redetection(bundle_path):
    with GestureRecognizer.create(bundle_path, running_mode="video", max_hands=3, redetect_interval=4) as rec:
        one = _two_strokes(boxes=((40, 60, 140, 160),))
        r = rec.recognize(one, 0)
        first = {h.track_id for h in r.hands}
        assert len(first) == 1
        detect = []
        ids = []
        for i in range(1, 8):
            r = rec.recognize(_two_strokes(), i * 33)
            detect.append(r.timings_ms["detect"] > 0)
            ids.append(sorted(h.track_id for h in r.hands))
        # the second hand is picked up at the first periodic re-detection, not before
        k = detect.index(True)
        assert 3 <= k <= 4 and ids[k - 1] == sorted(first) and len(ids[k]) == 2
        assert all(x == ids[k] for x in ids[k:]) and min(ids[k]) == min(first)
        assert rec.tracks == [h.track_id for h in r.hands]


def test_a_lost_track_is_redetected_in_the_same_frame_and_keeps_its_id(bundle_path):
    """The landmarker is faked: presence is high only when the crop covers the
    stroke well, so a jump of the hand loses the track."""
    from handsdk.keypoints import keypoints_box
    from handsdk.boxes import box_iou
    from handsdk.stages import Landmarks

    truth = {"box": None}

    def fake_landmark(rgb, box, detection=None, prior_keypoints=None, rotation=None):
        tb = truth["box"]
        x0, y0, x1, y1 = tb
        g = np.stack(np.meshgrid(np.linspace(x0, x1, 7), np.linspace(y0, y1, 3)), -1).reshape(-1, 2)
        kp = np.concatenate([g, np.zeros((21, 1))], 1).astype(np.float32)
        return Landmarks(kp, 0.9 if box_iou(box, keypoints_box(kp))[0, 0] > 0.45 else 0.1, 0.8, np.asarray(box))

    with GestureRecognizer.create(bundle_path, running_mode="video", max_hands=1, redetect_interval=0) as rec:
        rec.landmarker.landmark_rgb = fake_landmark
        seq = [(100, 60, 180, 160)] * 3 + [(130, 70, 210, 170)] * 3 + [(10, 10, 70, 90)] * 2
        ids, detected = [], []
        for i, b in enumerate(seq):
            truth["box"] = b
            r = rec.recognize(red_stroke_frame(box=b), i * 33)
            assert len(r.hands) == 1, i
            ids.append(r.hands[0].track_id)
            detected.append(r.timings_ms["detect"] > 0)
    assert detected == [True, False, False, True, False, False, True, False]
    # a moderate jump: re-detected in the same frame, same id; a jump far away: a new hand
    assert ids[:6] == [ids[0]] * 6 and ids[6] != ids[0] and ids[7] == ids[6]
    assert rec.tracks_lost == 2


# ---------------------------------------------------------------- LIVE_STREAM
def test_live_stream_callback_gets_its_frame_and_timestamp_and_never_queues(bundle_path):
    got = []
    pending = []
    frames = {}

    def cb(result, frame, ts):
        # the frame as passed, copied (the caller may reuse its buffer: tests/test_issue26_runtime.py)
        got.append((ts, result.timestamp_ms, np.array_equal(frame, frames[ts]) and frame is not frames[ts]))
        time.sleep(0.01)

    with GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=cb) as rec:
        for i in range(60):
            frames[i * 10] = red_stroke_frame()
            rec.recognize(frames[i * 10], timestamp_ms=i * 10)
            pending.append(rec.pending_frames)
        deadline = time.time() + 10
        while rec.pending_frames and time.time() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)
        dropped = rec.dropped_frames
        with pytest.raises(ValueError, match="increase"):
            rec.recognize(red_stroke_frame(), timestamp_ms=5)
    n = len(got)
    assert max(pending) <= 1
    assert all(a == b and same for a, b, same in got)
    assert [g[0] for g in got] == sorted(g[0] for g in got) and got[-1][0] == 590
    assert dropped > 0 and n + dropped == 60
    time.sleep(0.05)
    assert len(got) == n  # nothing after close


# ---------------------------------------------------------------- events
def _result(ts, hands):
    """hands: [(track_id, {set: [(label, score), ...]}), ...]"""
    out = []
    for tid, sets in hands:
        kp = np.tile([[50.0, 50.0, 0.0]], (21, 1))
        g = {s: tuple(sorted((Category(n, sc) for n, sc in cats), key=lambda c: -c.score)) for s, cats in sets.items()}
        out.append(Hand(np.array([40, 40, 60, 60]), kp, kp / 100, 0.9, Category("Right", 0.9), g, None, tid))
    return RecognitionResult(tuple(out), (100, 100), ts)


def _cmd(label, score):
    rest = (1 - score) / 2
    return {"commands": [(label, score)] + [(n, rest) for n in ("none", "open_palm", "fist") if n != label][:2]}


def test_gesture_events_start_after_the_hold_hold_periodically_and_end_with_hysteresis():
    seen = []
    ev = GestureEvents(start_score=0.7, end_score=0.4, min_hold_ms=100, hold_interval_ms=200, on_event=seen.append)
    scores = [0.2, 0.8, 0.8, 0.6, 0.8, 0.8, 0.8, 0.75, 0.5, 0.45, 0.5, 0.5, 0.5, 0.3, 0.3]
    out = []
    for i, s in enumerate(scores):
        out += [(i, e) for e in ev.update(_result(i * 40, [(7, _cmd("open_palm", s))]))]
    kinds = [(i, e.type) for i, e in out]
    # 0.6 at frame 3 (below start) restarts the hold: start at frame 4 + 100 ms -> frame 7
    assert kinds[0] == (7, "start")
    assert [k for k in kinds if k[1] == "hold"] == [(12, "hold")]   # 7*40 + 200 ms
    assert kinds[-1] == (13, "end")                                  # below end_score 0.4, not at 0.45
    end = out[-1][1]
    assert (end.track_id, end.gesture_set, end.label, end.reason) == (7, "commands", "open_palm", "released")
    assert end.start_ms == 280 and end.duration_ms == 13 * 40 - 280 and end.score == pytest.approx(0.3)
    assert [e for _, e in out] == seen
    assert json.loads(end.to_json())["event"] == "end"


def test_gesture_events_per_hand_none_ignored_changes_and_lost_hands():
    ev = GestureEvents(min_hold_ms=0, hold_interval_ms=0)
    a = ev.update(_result(0, [(1, _cmd("none", 0.9)), (2, _cmd("fist", 0.9))]))
    assert [(e.type, e.track_id, e.label) for e in a] == [("start", 2, "fist")]
    b = ev.update(_result(33, [(1, _cmd("fist", 0.9)), (2, _cmd("open_palm", 0.95))]))
    assert [(e.type, e.track_id, e.label) for e in b] == [("start", 1, "fist"), ("end", 2, "fist"),
                                                          ("start", 2, "open_palm")]
    assert b[1].reason == "changed"
    assert ev.active == {(1, "commands"): "fist", (2, "commands"): "open_palm"}
    c = ev.update(_result(66, [(2, _cmd("open_palm", 0.95))]))
    assert [(e.type, e.track_id, e.reason) for e in c] == [("end", 1, "lost")]
    assert [(e.type, e.track_id) for e in ev.flush()] == [("end", 2)]
    with pytest.raises(ValueError, match="end_score"):
        GestureEvents(start_score=0.5, end_score=0.6)


def test_action_map_keys_shell_opt_in_and_file_formats(tmp_path):
    marker = tmp_path / "ran.txt"
    m = tmp_path / "map.json"
    m.write_text(json.dumps({"open_palm": {"key": "space"},
                             "commands": {"fist": {"shell": f"echo hi > {marker}"},
                                          "thumbs_up": ["key volume_up", {"key": "up", "on": "hold"}]}}))
    ev = GestureEvents(min_hold_ms=0, hold_interval_ms=0)
    start = ev.update(_result(0, [(1, _cmd("fist", 0.9))]))[0]
    amap = load_actions(m)
    assert amap.has_shell
    done = amap.handle(start)
    assert done[0]["skipped"] and not marker.exists()
    keys = []
    amap = load_actions(m, allow_shell=True, on_key=keys.append)
    amap.handle(start)
    amap.wait()
    assert marker.read_text().strip() == "hi"
    palm = ev.update(_result(33, [(1, _cmd("open_palm", 0.9))]))[-1]
    assert amap.handle(palm) == [{"action": "key", "label": "open_palm", "set": "commands", "hand": 1,
                                  "timestamp_ms": 33, "key": "space"}] and keys == ["space"]
    assert len(amap.actions["thumbs_up"]) == 2 and amap.actions["thumbs_up"][1].on == "hold"
    y = tmp_path / "map.yaml"
    y.write_text("# media player\ncommands:\n  open_palm: key space   # play/pause\n  fist: shell playerctl stop\n"
                 "victory: key right\n")
    amap = load_actions(y)
    assert amap.actions["open_palm"][0].value == "space" and amap.actions["open_palm"][0].gesture_set == "commands"
    assert amap.actions["fist"][0].kind == "shell" and amap.actions["victory"][0].gesture_set is None
    for bad, msg in [({"x": {"key": "a", "shell": "b"}}, "exactly one"), ({"x": {"key": "a", "on": "never"}}, "on"),
                     ({"x": {"key": ""}}, "non-empty"), ([1], "object")]:
        with pytest.raises(ValueError, match=msg):
            load_actions(bad)
    with pytest.raises(FileNotFoundError):
        load_actions(tmp_path / "none.json")


# ---------------------------------------------------------------- spelling
def _letter_stream(spec, fps=20, noise=0.0, seed=0, labels="ABCDEHILOW"):
    """spec: [(letter or None, frames, dx), ...] -> feed() arguments per frame;
    None frames have no hand, '?' frames random letters."""
    rng = np.random.default_rng(seed)
    k = 0
    x = 100.0
    prev = None
    for letter, n, dx in spec:
        others = [c for c in labels if c != prev]
        prev = letter if letter not in (None, "?") else prev
        for _ in range(n):
            x += dx
            ts = int(k * 1000 / fps)
            k += 1
            if letter is None:
                yield ts, None, None
                continue
            sc = {c: rng.uniform(0, 0.05) for c in labels}
            truth = letter if letter != "?" else rng.choice(others)
            if rng.random() < noise:
                truth = rng.choice(list(labels))
            sc[truth] = rng.uniform(0.7, 0.95)
            yield ts, list(sc.items()), (x, 100.0)


def _spell(spec, speller=None, **kw):
    sp = speller or Speller(SpellingOptions(**kw))
    states = [sp.feed(ts, cats, position=pos, hand_size=80.0 if pos else None) for ts, cats, pos in _letter_stream(spec)]
    return sp.text, states


def test_letters_commit_after_the_hold_and_repeats_need_a_release():
    text, states = _spell([("H", 10, 0), ("?", 3, 0), ("I", 10, 0)])
    assert text == "HI"
    commits = [s.committed for s in states if s.committed]
    assert commits == ["H", "I"]
    h = next(i for i, s in enumerate(states) if s.committed == "H")
    assert h == 8  # 400 ms at 20 fps
    assert 0 < states[4].progress < 1 and states[4].candidate == "H" and states[4].candidates[0].name == "H"
    # a long hold is one letter; the same letter again needs a release
    assert _spell([("L", 30, 0)])[0] == "L"
    assert _spell([("L", 10, 0), ("L", 10, 0)])[0] == "L"
    assert _spell([("L", 10, 0), ("?", 4, 0), ("L", 10, 0)])[0] == "LL"          # another letter in between
    assert _spell([("L", 10, 0), (None, 4, 0), ("L", 10, 0)])[0] == "LL"         # the hand left
    assert _spell([("L", 10, 0), (None, 2, 0), ("L", 10, 0)])[0] == "L"          # a dropout is not a release
    assert _spell([("L", 10, 0), ("L", 3, 12), ("L", 10, 0)])[0] == "LL"         # a small move (36 px, 0.45 hand)
    assert _spell([("L", 10, 0), ("L", 3, 2), ("L", 10, 0)])[0] == "L"           # drift is not a move
    # a moving hand never commits (not steady), a single-frame misread does not break a hold
    assert _spell([("A", 30, 10)])[0] == ""
    assert _spell([("A", 4, 0), ("B", 1, 0), ("A", 5, 0)])[0] == "A"
    # weak scores never commit
    assert _spell([("A", 20, 0)], min_score=0.99)[0] == ""


def test_spaces_deletes_and_noise():
    assert _spell([("H", 10, 0), ("I", 10, 0), (None, 25, 0), ("O", 10, 0)])[0] == "HI O"
    assert _spell([("H", 10, 0), (None, 50, 0)])[0] == "H "           # one space per pause
    assert _spell([(None, 30, 0), ("A", 10, 0)])[0] == "A"            # no leading space
    assert _spell([("H", 10, 0), (None, 25, 0)], space_pause_ms=0)[0] == "H"
    sp = Speller(space_gesture="commands:open_palm", delete_gesture=("commands", "thumbs_down"))
    assert sp.options.space_gesture == ("commands", "open_palm")
    k = 0
    for token, n in (("A", 10), (SPACE, 10), ("B", 10), ("C", 10), (DELETE, 10), ("D", 10)):
        for _ in range(n):
            cats = [(token if len(token) == 1 else "A", 0.9), ("E", 0.05)]
            sp.feed(k * 50, cats, control=None if len(token) == 1 else token)
            k += 1
    assert sp.text == "A BD"
    with pytest.raises(ValueError, match="space_gesture"):
        SpellingOptions(space_gesture="open_palm")
    # 10 % of frames misread: the spelled word survives
    rng = np.random.default_rng(1)
    spec = []
    for c in "HELLOWORLD":
        if spec and spec[-1][0] == c:
            spec.append(("?", 3, 0))
        spec.append((c, int(rng.integers(10, 20)), 0))
        spec.append(("?", 2, 0))
    sp = Speller()
    for ts, cats, pos in _letter_stream(spec, noise=0.1, seed=2):
        sp.feed(ts, cats, position=pos, hand_size=80.0 if pos else None)
    assert edit_distance(sp.text, "HELLOWORLD") <= 1, sp.text


def test_edit_distance_and_error_rates():
    assert edit_distance("kitten", "sitting") == 3 and edit_distance("", "abc") == 3 and edit_distance("ab", "ab") == 0
    assert edit_distance(["a", "b"], ["b"]) == 1
    cer, wer = error_rates([("HELLO", "HELO"), ("CAB", "CAB")])
    assert cer == pytest.approx(1 / 8) and wer == pytest.approx(1 / 2)
    assert error_rates([("AB", "")]) == (1.0, 1.0)


@pytest.mark.slow
def test_evaluate_spelling_with_a_fake_classifier():
    words = ["HELLO", "CAB"]
    clean = evaluate_spelling(label_oracle(0.0, seed=1), words, seed=0, size=(72, 96))
    assert clean.cer == 0 and clean.wer == 0 and [p[1] for p in clean.pairs] == words
    noisy = evaluate_spelling(label_oracle(0.95, seed=1), words, seed=0, size=(72, 96))
    assert noisy.cer > 0.2 and noisy.wer == 1.0
    assert noisy.frames == clean.frames > 5 * 8  # same clips (same seed), held 0.5-1 s each at 20 fps
    assert "CER" in str(noisy) and json.dumps(noisy.to_dict())
    steps = word_steps("LL", np.random.default_rng(0), 20)
    assert [s[:2] for s in steps] == [("asl_letters", "L"), ("commands", "none"), ("asl_letters", "L")]
    assert all(10 <= s[2] <= 20 for s in steps[::2])
    with pytest.raises(ValueError, match="motion letter"):
        word_steps("JAZZ", np.random.default_rng(0), 20)


def test_evaluate_spelling_runs_the_real_pipeline_on_a_bundle(bundle_path):
    # plumbing only: the tiny test bundle sees no hand in rendered frames, so nothing is spelled
    rep = evaluate_spelling(bundle_path, ["AB"], seed=0, size=(72, 96), fps=15)
    assert rep.pairs == [("AB", "")] and rep.cer == 1.0 and rep.frames > 10 and "tiny-test" in rep.source
    with pytest.raises(ValueError, match="not in the bundle"):
        evaluate_spelling(bundle_path, ["HI"], size=(72, 96))
    with GestureRecognizer.create(bundle_path) as rec:
        with pytest.raises(ValueError, match="VIDEO"):
            evaluate_spelling(rec, ["AB"])


def test_speller_on_recognizer_results(bundle_path):
    """Speller.update picks the spelling set and the hand from real results."""
    with GestureRecognizer.create(bundle_path, running_mode="video") as rec:
        sp = Speller.for_recognizer(rec, SpellingOptions(min_score=0.2, hold_ms=100))
        assert sp.options.gesture_set == "letters"
        st = None
        for i in range(6):
            st = sp.update(rec.recognize(red_stroke_frame(green_at=(140, 110)), i * 50))
        # the tiny classifier gives 0.25 to every letter: one of them is committed once
        assert len(sp.text) == 1 and sp.text in "ABCD" and st.hand == 1
        rec.reset()  # (the tiny landmarker never loses a track: start again on blank frames)
        for i in range(6, 40):
            st = sp.update(rec.recognize(np.full((240, 320, 3), 40, np.uint8), i * 50))
        assert sp.text.endswith(" ") and st.hand is None and st.candidates == ()


# ---------------------------------------------------------------- CLI
@pytest.fixture()
def gesture_by_position(monkeypatch):
    """A fake classifier: the commands set says open_palm when the keypoints
    are in the left half of a 320 px frame, fist in the right half; letters
    say A / B likewise."""
    from handsdk.stages import GestureClassifier

    def scores(self, keypoints, handedness=None):
        left = float(np.mean(np.asarray(keypoints)[:, 0])) < 160
        n = len(self.labels)
        s = np.full(n, 0.02, np.float32)
        s[1 if left else 2] = 0.9
        return s

    monkeypatch.setattr(GestureClassifier, "scores", scores)


def _video(path, dots, fps=20):
    import cv2

    w = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), fps, (320, 240))
    for d in dots:
        w.write(red_stroke_frame(box=(80, 60, 240, 180), green_at=d) if d else np.full((240, 320, 3), 40, np.uint8))
    w.release()
    return path


def test_run_commands_mode_prints_events_and_actions(bundle_path, tmp_path, gesture_by_position):
    # (the tiny landmarker's presence is constant: its track is never lost, so no blank frames here)
    video = _video(tmp_path / "clip.avi", [(120, 120)] * 15 + [(200, 120)] * 15)
    amap = tmp_path / "map.json"
    amap.write_text(json.dumps({"open_palm": {"key": "space"}, "fist": {"shell": "echo no"}}))
    r = runner.invoke(app(), ["run", "--source", str(video), "--bundle", str(bundle_path), "--mode", "commands",
                              "--actions", str(amap), "--no-window"])
    assert r.exit_code == 0, r.output
    lines = [json.loads(x) for x in r.stdout.splitlines() if x.startswith("{")]
    evs = [(d["event"], d["label"]) for d in lines if "event" in d]
    assert evs[0] == ("start", "open_palm") and ("end", "open_palm") in evs and ("start", "fist") in evs
    assert evs[-1] == ("end", "fist")
    assert any(d.get("key") == "space" for d in lines)
    assert any(d.get("command") == "echo no" and "skipped" in d for d in lines)
    assert [e for e in evs if e[1] == "open_palm"] == [("start", "open_palm"), ("hold", "open_palm"),
                                                       ("end", "open_palm")]
    assert "pass --allow-shell" in r.stderr and "30 frames" in r.stderr
    assert all(x.startswith("{") for x in r.stdout.splitlines() if x.strip())


def test_run_spelling_mode_and_json(bundle_path, tmp_path, gesture_by_position):
    video = _video(tmp_path / "clip.avi", [(120, 120)] * 12 + [(200, 120)] * 12)
    r = runner.invoke(app(), ["run", "--source", str(video), "--bundle", str(bundle_path), "--mode", "spelling",
                              "--no-window"])
    assert r.exit_code == 0, r.output
    assert "text: 'B'" in r.stdout and "text: 'BC'" in r.stdout and "spelled: 'BC'" in r.stdout
    r = runner.invoke(app(), ["run", "--source", str(video), "--bundle", str(bundle_path), "--mode", "all",
                              "--json", "--max-frames", "20"])
    rows = [json.loads(x) for x in r.stdout.splitlines()]
    assert len(rows) == 20 and rows[-1]["spelling"]["text"] == "B" and "events" in rows[0]
    assert any(e["event"] == "start" for row in rows for e in row["events"])


class FakeCapture:
    """A camera that delivers ``n`` frames and then fails; records settings."""

    opened = []

    def __init__(self, n, size=(240, 320)):
        self.n, self.size = n, size
        self.props = {}
        FakeCapture.opened.append(self)

    def read(self):
        if self.n <= 0:
            return False, None
        self.n -= 1
        return True, red_stroke_frame(*self.size)

    def get(self, prop):
        return 0.0

    def set(self, prop, v):
        self.props[prop] = v

    def release(self):
        pass


def _fake_cameras(monkeypatch, counts):
    import handsdk.sources as src

    counts = list(counts)
    FakeCapture.opened = []
    calls = []

    def open_camera(index, width=None, height=None):
        calls.append((index, width, height))
        if not counts:
            raise src.SourceError(f"camera {index} could not be opened: fake")
        return FakeCapture(counts.pop(0))

    monkeypatch.setattr(src, "open_camera", open_camera)
    monkeypatch.setattr(src.time, "sleep", lambda s: None)
    return calls


def test_live_timestamps_strictly_increase_when_frames_arrive_within_a_millisecond(bundle_path, monkeypatch):
    import handsdk.sources as src

    # a buffered stream on a fast machine: every frame is read at the same clock reading
    monkeypatch.setattr(src.time, "monotonic", lambda: 100.0)
    ts = []
    with pytest.raises(src.SourceError, match="stopped delivering"):  # (after its 6 frames)
        for _, t in src.iter_capture(FakeCapture(6), "camera 0", live=True):
            ts.append(t)
    assert ts == [0, 1, 2, 3, 4, 5]
    # and handsdk run takes all of them in VIDEO mode, no "timestamps must increase"
    _fake_cameras(monkeypatch, [6])
    r = runner.invoke(app(), ["run", "--camera", "0", "--bundle", str(bundle_path), "--no-window"])
    assert "timestamps must increase" not in r.output and r.output.count("1 hand(s)") == 6, r.output


def test_run_camera_unplugged_mid_run_is_a_clean_error(bundle_path, monkeypatch):
    calls = _fake_cameras(monkeypatch, [5])  # 5 frames, then every reopen fails
    r = runner.invoke(app(), ["run", "--camera", "0", "--bundle", str(bundle_path), "--no-window"])
    assert r.exit_code == 1, r.output
    assert "stopped delivering frames" in r.output and "2 reconnect attempt(s) failed" in r.output
    assert "Traceback" not in r.output and r.exception is None or isinstance(r.exception, SystemExit)
    assert r.output.count("1 hand(s)") == 5 and "5 frames" in r.output
    assert len(calls) == 3


def test_run_camera_reconnects_and_device_profiles(bundle_path, monkeypatch):
    calls = _fake_cameras(monkeypatch, [3, 4])  # fails after 3 frames, the reopened camera gives 4 more
    r = runner.invoke(app(), ["run", "--camera", "0", "--bundle", str(bundle_path), "--no-window",
                              "--device", "rpi4", "--json"])
    assert r.exit_code == 1, r.output  # after 7 frames the second camera dies too
    assert len([x for x in r.stdout.splitlines() if x.startswith("{")]) == 7
    assert calls[0] == (0, 320, 240) and len(calls) == 4
    r = runner.invoke(app(), ["run", "--camera", "0", "--bundle", str(bundle_path), "--device", "toaster"])
    assert r.exit_code == 2 and "unknown device" in r.output


def test_run_demo_headless_saves_video(bundle_path, tmp_path):
    import cv2

    out = tmp_path / "demo.avi"
    r = runner.invoke(app(), ["run", "--demo", "--bundle", str(bundle_path), "--max-frames", "25", "--save", str(out),
                              "--no-window"])
    assert r.exit_code == 0, r.output
    assert "demo:" in r.stderr and "25 frames" in r.stderr and "spelled:" in r.stderr
    cap = cv2.VideoCapture(str(out))
    n = 0
    while cap.read()[0]:
        n += 1
    assert n == 25 and abs(cap.get(cv2.CAP_PROP_FPS) - 15) < 0.5
    r = runner.invoke(app(), ["run", "--demo", "--source", "x", "--bundle", str(bundle_path)])
    assert r.exit_code == 2 and "not both" in r.output


def test_demo_frames_show_a_hand_spelling_then_commands():
    from handsdk.tools.demo import demo_frames, demo_length, demo_script

    steps = demo_script("HI", ("fist",), fps=10)
    assert [s[:2] for s in steps] == [("asl_letters", "H"), ("asl_letters", "I"), ("commands", "none"),
                                      ("commands", "fist")]
    frames = list(demo_frames(seed=0, fps=10, size=(60, 80), word="HI", commands=("fist",)))
    assert len(frames) == demo_length(10, "HI", ("fist",))
    f0 = frames[0][0]
    assert f0.shape == (60, 80, 3) and f0.dtype == np.uint8 and f0.std() > 5
    assert [t for _, t in frames[:3]] == [0, 100, 200]
    # consecutive frames differ a little (motion), never jump to a new scene
    d = [np.abs(a[0].astype(int) - b[0].astype(int)).mean() for a, b in zip(frames, frames[1:])]
    assert max(d) < 25
    with pytest.raises(ValueError, match="motion"):
        demo_script("JAM")


def app():
    from handsdk.cli import app as a

    return a


@pytest.mark.slow
def test_spelling_module_cli_with_the_fake_classifier(tmp_path, capsys):
    from handsdk.tools.spelling_eval import main

    out = tmp_path / "rep.json"
    rep = main(["--oracle", "0", "--words", "CAB,FOX", "--size", "72x96", "--json", str(out)])
    assert rep.cer == 0 and json.loads(out.read_text())["words"] == 2
    assert "CER 0.000" in capsys.readouterr().out


def test_python_m_handsdk_tools_spelling_eval_runs_the_harness(tmp_path):
    import subprocess
    import sys

    out = tmp_path / "rep.json"
    p = subprocess.run([sys.executable, "-m", "handsdk.tools.spelling_eval", "--oracle", "0", "--words", "CAB", "--size",
                        "72x96", "--json", str(out)], capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr[-2000:]
    assert "CER 0.000" in p.stdout and json.loads(out.read_text())["words"] == 1


def test_tracking_crop_shrinks_gradually_and_follows_collapsed_keypoints():
    from handsdk.looking import next_box as _next_box

    prev = np.array([100, 100, 200, 200], np.float32)
    grid = np.stack(np.meshgrid(np.linspace(0, 1, 7), np.linspace(0, 1, 3)), -1).reshape(-1, 2)[:21]
    kp = np.concatenate([grid, np.zeros((21, 1))], 1).astype(np.float32)
    same = kp * [100, 100, 1] + [100, 100, 0]
    np.testing.assert_allclose(_next_box(same, prev), prev)  # a steady hand keeps its box
    half = kp * [50, 50, 1] + [125, 125, 0]  # keypoints drifted inwards to half the size
    b = _next_box(half, prev)
    assert np.isclose(b[2] - b[0], 80) and np.allclose((b[:2] + b[2:]) / 2, 150)
    dot = np.tile([[160.0, 140.0, 0.0]], (21, 1)).astype(np.float32)  # collapsed to one point
    b = _next_box(dot, prev)
    assert np.isclose(b[2] - b[0], 100) and np.allclose((b[:2] + b[2:]) / 2, [160, 140])
