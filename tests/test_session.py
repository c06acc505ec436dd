"""handsdk.session: the run loop as an SDK object (options checked at
construction, step()/iteration, events, speller, actions, video, close)."""
from __future__ import annotations

import numpy as np
import pytest

from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
from handsdk.session import FrameError, MissingSpellingSet, Session, SessionError, SessionOptions
from tests.conftest import red_stroke_frame


def _frames(n=6):
    return [red_stroke_frame(green_at=(130 + 2 * i, 110)) for i in range(n)]


def _video(bundle_path, **kw):
    return GestureRecognizerOptions(bundle=bundle_path, running_mode=RunningMode.VIDEO, **kw)


@pytest.mark.parametrize("kw, match", [
    ({"start_score": 0.3, "end_score": 0.5}, "must not exceed start_score"),
    ({"min_hold_ms": -1}, "min_hold_ms must be an int >= 0"),
    ({"max_frames": 1.5}, "max_frames must be an int"),
    ({"source": np.zeros((4, 4, 3), np.uint8)}, "single frame"),
    ({"camera_size": (640,)}, "camera_size must be"),
    ({"actions": 3}, "actions must be an ActionMap"),
    ({"recognizer": "video"}, "recognizer must be a GestureRecognizerOptions"),
    ({"recognizer": GestureRecognizerOptions(running_mode="live_stream", result_callback=print)}, "LIVE_STREAM"),
    ({"spelling": None, "require_spelling": True}, "require_spelling needs spelling options"),
])
def test_options_are_checked_at_construction(kw, match):
    with pytest.raises(SessionError, match=match):
        SessionOptions(**kw)
    assert issubclass(SessionError, ValueError)


def test_options_are_frozen_and_normalised():
    o = SessionOptions(event_sets="commands", camera_size=[640, 480], save="out.avi")
    assert o.event_sets == ("commands",) and o.camera_size == (640, 480) and o.save.suffix == ".avi"
    with pytest.raises(Exception):
        o.max_frames = 3


def test_session_runs_the_loop_like_the_recognizer(bundle_path):
    frames = _frames()
    with GestureRecognizer(_video(bundle_path)) as rec:
        want = [rec.recognize(f, 33 * i) for i, f in enumerate(frames)]
    with Session(recognizer=_video(bundle_path), source=[(f, 33 * i) for i, f in enumerate(frames)],
                 max_frames=5, min_hold_ms=0) as s:
        assert s.speller is not None and s.command_sets == ["commands"]
        steps = list(s)
        assert [st.index for st in steps] == [1, 2, 3, 4, 5] and s.frames == 5  # max_frames
        for st, r in zip(steps, want):
            assert st.timestamp_ms == r.timestamp_ms and len(st.result.hands) == len(r.hands) == 1
            np.testing.assert_array_equal(st.result.hands[0].keypoints, r.hands[0].keypoints)
            assert st.result.hands[0].gestures == r.hands[0].gestures
            assert st.spelling is not None and isinstance(st.events, tuple)
        assert set(s.times) >= {"detect", "landmark", "gesture", "total"} and len(s.times["total"]) == 5
        held = dict(s.events.active)
    assert s.closed and s.recognizer.closed
    assert s.flush() == []  # (flushed once, on close)
    assert all(k[1] == "commands" for k in held)


def test_step_by_step_with_an_open_recognizer_which_stays_open(bundle_path):
    with GestureRecognizer(_video(bundle_path)) as rec:
        s = Session(SessionOptions(recognizer=_video(bundle_path), min_hold_ms=0, hold_interval_ms=0), recognizer=rec)
        starts = []
        for i, f in enumerate(_frames(3)):
            starts += [e for e in s.step(f, 100 * i).events if e.type == "start"]
        ends = s.close()
        assert not rec.closed and s.closed
        assert [e.label for e in ends] == [e.label for e in starts] and all(e.reason == "lost" for e in ends)
        with pytest.raises(RuntimeError, match="session is closed"):
            s.step(_frames(1)[0], 1000)


def test_frame_errors_name_the_frame_and_timestamps_can_be_made_monotonic(bundle_path):
    f = _frames(1)[0]
    with Session(recognizer=_video(bundle_path)) as s:
        s.step(f, 100)
        with pytest.raises(FrameError, match=r"processing frame 2 .*failed: ValueError: timestamps must increase") as e:
            s.step(f, 100, {"index": 2, "path": "x.png"})
        assert isinstance(e.value.error, ValueError)
    with Session(recognizer=_video(bundle_path), monotonic_timestamps=True) as s:
        assert [s.step(f, ts).timestamp_ms for ts in (100, 100, 50)] == [100, 101, 102]


def test_missing_spelling_set_and_unknown_control_gestures(bundle_path):
    from handsdk.spelling import SpellingOptions

    with pytest.raises(MissingSpellingSet) as e:
        Session(recognizer=_video(bundle_path, gesture_sets="commands"), require_spelling=True)
    assert e.value.sets == ["commands"]
    with pytest.raises(SessionError, match="gesture set 'gestures' of gestures:fist is not in the bundle"):
        Session(recognizer=_video(bundle_path), spelling=SpellingOptions(space_gesture="gestures:fist"))
    with pytest.raises(SessionError, match="nothing to run on"):
        Session(recognizer=_video(bundle_path)).run()


def test_annotated_video_and_actions(bundle_path, tmp_path):
    import cv2

    out = tmp_path / "v" / "out.avi"
    acted = []
    with Session(recognizer=_video(bundle_path), save=out, save_fps=10, min_hold_ms=0,
                 actions={"open_palm": {"key": "space"}, "fist": {"key": "f"}, "none": {"key": "n"}}) as s:
        s.actions.on_key = acted.append
        for st in s.run(_frames(4)):
            canvas = s.annotate(st)
            assert canvas.shape == st.frame.shape and canvas is not st.frame
            assert [a["key"] for a in st.actions] == [a for a in acted[len(acted) - len(st.actions):]]
    cap = cv2.VideoCapture(str(out))
    assert cap.isOpened() and int(cap.get(cv2.CAP_PROP_FRAME_COUNT)) == 4
    cap.release()


def test_a_stand_in_recognizer_needs_only_recognize():
    """What `handsdk capture` relies on: any object with recognize(frame,
    timestamp_ms) runs in a Session (no gesture sets, the options' mode)."""
    from handsdk.results import RecognitionResult

    class Echo:
        def recognize(self, frame, timestamp_ms=None):
            return RecognitionResult(hands=(), image_size=(frame.shape[1], frame.shape[0]), timestamp_ms=timestamp_ms,
                                     timings_ms={})

    f = np.zeros((8, 8, 3), np.uint8)
    with Session(recognizer=Echo(), monotonic_timestamps=True, event_sets=()) as s:
        assert s.running_mode is RunningMode.VIDEO and s.command_sets == [] and s.speller is None
        assert [s.step(f, t).timestamp_ms for t in (5, 5, 3, 9)] == [5, 6, 7, 9]
    with pytest.raises(SessionError, match="recognizer must be an open GestureRecognizer"):
        Session(recognizer=3)
