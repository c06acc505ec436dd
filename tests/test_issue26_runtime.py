"""Issue 26, points 4 and 6: frames the caller still owns (LIVE_STREAM copies
them; the colour order is never assumed silently) and inputs that were
accepted silently (manifests without thresholds or normalization, a none label
outside the labels, huge timestamps, a LIVE_STREAM error lost at close(), a
finite video over HTTP replayed forever, integer frames read two ways)."""
from __future__ import annotations

import io
import json
import threading
import time
import warnings
import zipfile

import numpy as np
import pytest

from handsdk import GestureRecognizer
from handsdk.bundle import MANIFEST, BundleError, GestureSet, build_bundle, load_bundle
from handsdk.image import to_rgb
from handsdk.recognizer import ColorOrderWarning
from tests.conftest import red_stroke_frame
from tests.test_robustness import _break_landmarker, _wait


def _rezip(data: bytes, edit) -> bytes:
    zin = zipfile.ZipFile(io.BytesIO(data))
    m = json.loads(zin.read(MANIFEST))
    edit(m)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as z:
        for info in zin.infolist():
            z.writestr(info.filename, json.dumps(m) if info.filename == MANIFEST else zin.read(info))
    return out.getvalue()


# ------------------------------------------------------------------ 4. frames the caller owns
@pytest.mark.parametrize("order", ["RGB", "BGR"])
def test_live_stream_frame_buffer_reused_at_once_gives_the_frame_as_passed(bundle_path, order):
    """A capture loop refills one buffer right after recognize_async(): the
    worker must see (and the callback get) the frame as it was passed."""
    bgr = red_stroke_frame()
    frame = bgr[:, :, ::-1].copy() if order == "RGB" else bgr
    got = []

    def cb(result, f, ts):
        got.append((len(result.hands), np.array_equal(f, frame)))
        time.sleep(0.005)

    buf = np.empty_like(frame)
    with GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=cb,
                                  color_order=order) as rec:
        for i in range(30):
            buf[:] = frame
            rec.recognize_async(buf, timestamp_ms=i * 33)
            buf[:] = 0  # the next capture overwrites the buffer at once
        assert _wait(lambda: rec.pending_frames == 0 and len(got) + rec.dropped_frames == 30)
    assert got and all(n == 1 for n, _ in got), got  # (before: 0 hands in every RGB frame)
    assert all(same for _, same in got)  # the callback's frame is the frame passed, not the buffer now


def test_an_assumed_colour_order_warns_once_and_an_explicit_one_never(bundle_path, tmp_path):
    import cv2

    frame = red_stroke_frame()
    with GestureRecognizer.create(bundle_path) as rec:
        assert rec.options.color_order == "BGR"  # the default is unchanged
        with pytest.warns(ColorOrderWarning, match="color_order='RGB'") as w:
            r1 = rec.recognize(frame)
            r2 = rec.recognize(frame)
        assert len([x for x in w if x.category is ColorOrderWarning]) == 1
        assert len(r1.hands) == len(r2.hands) == 1
    for order in ("BGR", "RGB"):
        with GestureRecognizer.create(bundle_path, color_order=order) as rec, warnings.catch_warnings():
            warnings.simplefilter("error", ColorOrderWarning)
            rec.recognize(frame)
    with GestureRecognizer.create(bundle_path) as rec, warnings.catch_warnings():
        warnings.simplefilter("error", ColorOrderWarning)
        rec.recognize(frame[:, :, 0])  # a grayscale frame has no colour order to assume
    # frames stream() reads itself are OpenCV's: no warning; frames the caller hands it: one
    cv2.imwrite(str(tmp_path / "a.png"), frame)
    with GestureRecognizer.create(bundle_path) as rec, warnings.catch_warnings():
        warnings.simplefilter("error", ColorOrderWarning)
        assert [len(r.hands) for _, r in rec.stream(tmp_path)] == [1]
    with GestureRecognizer.create(bundle_path) as rec:
        with pytest.warns(ColorOrderWarning):
            list(rec.stream([frame, frame]))


def test_a_session_on_a_source_it_reads_does_not_warn(bundle_path, tmp_path):
    import cv2

    from handsdk.session import Session

    cv2.imwrite(str(tmp_path / "a.png"), red_stroke_frame())
    with warnings.catch_warnings():
        warnings.simplefilter("error", ColorOrderWarning)
        with Session(recognizer=GestureRecognizer.create(bundle_path, running_mode="video").options) as s:
            assert [len(st.result.hands) for st in s.run(tmp_path)] == [1]


# ------------------------------------------------------------------ 6. manifests
def test_a_manifest_without_thresholds_or_presence_is_refused(bundle_bytes):
    with pytest.raises(BundleError, match=r"manifest key thresholds: missing"):
        load_bundle(_rezip(bundle_bytes, lambda m: m.pop("thresholds")))
    with pytest.raises(BundleError, match=r"manifest key thresholds: missing"):
        load_bundle(_rezip(bundle_bytes, lambda m: m.update(thresholds=None)))
    with pytest.raises(BundleError, match=r"thresholds\.min_presence_score: missing"):
        load_bundle(_rezip(bundle_bytes, lambda m: m["thresholds"].pop("min_presence_score")))
    # the optional ones default to documented values
    from handsdk.bundle import THRESHOLD_DEFAULTS

    b = load_bundle(_rezip(bundle_bytes, lambda m: m.update(thresholds={"min_presence_score": 0.9})))
    with GestureRecognizer.create(b, color_order="BGR") as rec:
        assert rec.min_presence == 0.9 and rec.min_tracking_presence == 0.9
        assert rec.min_gesture == THRESHOLD_DEFAULTS["min_gesture_score"] == 0.5
        assert rec.detector.min_score == THRESHOLD_DEFAULTS["min_detection_score"] == 0.5


@pytest.mark.parametrize("role", ["detector", "landmarker"])
def test_an_image_input_without_normalization_is_refused(bundle_bytes, role):
    def drop(m):
        m["models"][role]["inputs"]["image"]["normalization"] = None

    with pytest.raises(BundleError, match=rf"models\.{role}\.inputs\.image\.normalization: missing mean and std"):
        load_bundle(_rezip(bundle_bytes, drop))

    def only_mean(m):
        m["models"][role]["inputs"]["image"]["normalization"].pop("std")

    with pytest.raises(BundleError, match=rf"models\.{role}\.inputs\.image\.normalization: missing std"):
        load_bundle(_rezip(bundle_bytes, only_mean))


def test_a_none_label_outside_the_labels_is_refused(bundle_bytes, tiny_tflite):
    def bad(m):
        m["models"]["gesture:commands"]["decoding"]["none_label"] = "nothing"

    with pytest.raises(BundleError, match=r"models\.gesture:commands\.decoding\.none_label: 'nothing' is not"):
        load_bundle(_rezip(bundle_bytes, bad))
    kw = dict(detector=tiny_tflite["detector"], landmarker=tiny_tflite["landmarker"],
              thresholds={"min_presence_score": 0.5})
    with pytest.raises(ValueError, match="none_label 'nothing' is not one of its labels"):
        build_bundle(gestures={"c": GestureSet(tiny_tflite["commands"], ("a", "b", "c"), none_label="nothing")},
                     **kw)
    # the default "none" names the set's none class only when it has one
    b = load_bundle(build_bundle(gestures={"c": GestureSet(tiny_tflite["commands"], ("a", "b", "c"))}, **kw))
    assert b.gesture_sets["c"].decoding["none_label"] is None
    b = load_bundle(build_bundle(gestures={"c": GestureSet(tiny_tflite["commands"], ("none", "b", "c"))}, **kw))
    assert b.gesture_sets["c"].decoding["none_label"] == "none"


# ------------------------------------------------------------------ 6. timestamps
@pytest.mark.parametrize("ts", [10**30, -1, 10**15, 10**13 + 1, -0.5])
def test_timestamps_out_of_range_are_value_errors_that_say_what_to_pass(bundle_path, ts):
    with GestureRecognizer.create(bundle_path, running_mode="video", color_order="BGR") as rec:
        with pytest.raises(ValueError, match=r"timestamp_ms must lie in \[0, 1e\+13\] milliseconds.*microseconds"):
            rec.recognize(red_stroke_frame(), ts)
        # a refused timestamp is not remembered: the stream goes on
        assert len(rec.recognize(red_stroke_frame(), 33).hands) == 1


def test_epoch_milliseconds_are_fine_and_a_backward_step_says_to_reset(bundle_path):
    now = int(time.time() * 1000)
    with GestureRecognizer.create(bundle_path, running_mode="video", color_order="BGR") as rec:
        assert rec.recognize(red_stroke_frame(), now).timestamp_ms == now
        assert rec.recognize(red_stroke_frame(), 10**13).timestamp_ms == 10**13  # the bound itself
        with pytest.raises(ValueError, match=r"must increase: got 33 ms after 10000000000000 ms.*reset\(\)"):
            rec.recognize(red_stroke_frame(), 33)
        rec.reset()
        assert rec.recognize(red_stroke_frame(), 33).timestamp_ms == 33


# ------------------------------------------------------------------ 6. the last LIVE_STREAM error
def test_close_raises_the_last_live_stream_error_nobody_took(bundle_path):
    rec = GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=lambda *a: None,
                                   color_order="BGR")
    _break_landmarker(rec)
    rec.recognize(red_stroke_frame(), timestamp_ms=0)
    assert _wait(lambda: rec.errors == 1)
    with pytest.raises(RuntimeError, match="interpreter failed"):
        rec.close()
    assert rec.closed
    rec.close()  # reported once
    # reported by recognize() already: close() is quiet
    rec = GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=lambda *a: None,
                                   color_order="BGR")
    _break_landmarker(rec)
    rec.recognize(red_stroke_frame(), timestamp_ms=0)
    assert _wait(lambda: rec.errors == 1)
    with pytest.raises(RuntimeError):
        rec.recognize(red_stroke_frame(), timestamp_ms=1)
    rec.close()
    # leaving a with-block normally raises it; an exception already leaving it wins
    with pytest.raises(RuntimeError, match="interpreter failed"):
        with GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=lambda *a: None,
                                      color_order="BGR") as rec:
            _break_landmarker(rec)
            rec.recognize(red_stroke_frame(), timestamp_ms=0)
            assert _wait(lambda: rec.errors == 1)
    with pytest.warns(RuntimeWarning, match="also failed"), pytest.raises(KeyError):
        with GestureRecognizer.create(bundle_path, running_mode="live_stream", result_callback=lambda *a: None,
                                      color_order="BGR") as rec:
            _break_landmarker(rec)
            rec.recognize(red_stroke_frame(), timestamp_ms=0)
            assert _wait(lambda: rec.errors == 1)
            raise KeyError("the caller's own error")


# ------------------------------------------------------------------ 6. a finite video over HTTP
class _FakeCapture:
    def __init__(self, n, frame_count):
        self.n, self.frame_count, self.read_n = n, frame_count, 0

    def read(self):
        self.read_n += 1
        return (self.read_n <= self.n), red_stroke_frame()

    def get(self, prop):
        import cv2

        if prop == cv2.CAP_PROP_FRAME_COUNT:
            return float(self.frame_count)
        if prop == cv2.CAP_PROP_FPS:
            return 25.0
        return 0.0

    def release(self):
        pass


@pytest.mark.parametrize("url, frame_count, finite", [
    ("http://host/clip", 5, True),             # a served file reports its frame count
    ("https://host/v/clip.mp4?token=1", 0, True),  # a video file's URL
    ("http://host/cam.mjpg", 0, False),        # a live MJPEG stream reports none: reconnected
    ("rtsp://host/live/stream.mp4", 5, False),  # RTSP is live, whatever its name
])
def test_a_finite_video_over_http_ends_instead_of_replaying(monkeypatch, url, frame_count, finite):
    import handsdk.sources as src

    opened = []

    def fake_open(u):
        opened.append(u)
        return _FakeCapture(5, frame_count)

    monkeypatch.setattr(src, "open_stream", fake_open)
    it = src.frames(url, reconnect=2, reconnect_delay=0.0)
    if finite:
        out = list(it)
        assert len(out) == 5 and len(opened) == 1  # ended, never reopened
        assert [ts for _, ts in out] == [0, 40, 80, 120, 160]  # the video's own clock (25 fps)
    else:  # a live stream that stops is reopened (here it delivers again: the stream goes on)
        import itertools

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = list(itertools.islice(it, 8))
        assert len(out) == 8 and len(opened) == 2


def test_a_real_video_served_over_http_ends(tmp_path):
    """OpenCV (FFmpeg) reading an .avi from a local HTTP server: its frames,
    then the end (before: reconnected, replaying it from the start)."""
    import functools
    import http.server

    import cv2

    import handsdk.sources as src

    p = tmp_path / "clip.avi"
    w = cv2.VideoWriter(str(p), cv2.VideoWriter_fourcc(*"MJPG"), 10, (320, 240))
    for _ in range(6):
        w.write(red_stroke_frame())
    w.release()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path))
    handler.log_message = lambda *a: None
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    opened = []
    real_open = src.open_stream
    try:
        url = f"http://127.0.0.1:{srv.server_address[1]}/clip.avi"
        try:
            real_open(url).release()
        except src.SourceError:
            pytest.skip("this OpenCV build reads no HTTP video")
        src.open_stream = lambda u: (opened.append(u), real_open(u))[1]
        t0 = time.monotonic()
        out = list(src.frames(url, reconnect=2, reconnect_delay=0.0))
    finally:
        src.open_stream = real_open
        srv.shutdown()
    assert len(out) == 6 and len(opened) == 1 and time.monotonic() - t0 < 30


# ------------------------------------------------------------------ 6. integer frames
def test_integer_frames_are_read_alike_whatever_their_type(bundle_path):
    f8 = red_stroke_frame()
    f16 = f8.astype(np.uint16) * 257  # the same picture in 16 bits
    assert np.array_equal(to_rgb(f16), to_rgb(f8))
    for dt in (np.int32, np.int64, np.uint32):
        assert np.array_equal(to_rgb(f16.astype(dt)), to_rgb(f8)), dt  # (before: int32 clipped to white)
        assert np.array_equal(to_rgb(f8.astype(dt)), to_rgb(f8)), dt  # 8-bit values stay as they are
    assert np.array_equal(to_rgb(f8.astype(np.int16)), to_rgb(f8))
    for bad in (f8.astype(np.int32) - 1, f16.astype(np.int64) * 2):
        with pytest.raises(ValueError, match=r"\[0, 255\] \(8-bit\) or \[0, 65535\] \(16-bit\)"):
            to_rgb(bad)
    with GestureRecognizer.create(bundle_path, color_order="BGR") as rec:
        counts = [len(rec.recognize(f).hands) for f in (f8, f16, f16.astype(np.int32))]
    assert counts == [1, 1, 1]
