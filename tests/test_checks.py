"""handsdk.checks: the option checks the recognizer, the session, the decoding
and the look policy share (what they accept, and errors naming the option and
its values)."""
from __future__ import annotations

import numpy as np
import pytest

from handsdk.checks import (check_bool, check_box, check_callable, check_choice, check_fraction, check_int,
                            check_range, is_int, is_number)


def test_numbers_and_ints_are_numpy_scalars_too_but_never_bools():
    assert is_int(3) and is_int(np.int64(3)) and is_int(np.uint8(3)) and not is_int(True) and not is_int(3.0)
    assert is_number(1.5) and is_number(np.float32(2)) and is_number(10**400)  # (a big int is finite)
    for bad in (True, np.bool_(False), float("nan"), float("inf"), "1", None):
        assert not is_number(bad), bad


def test_check_range_says_the_range_and_the_off_value():
    assert check_range("x", np.float32(0.5), 0, 1) == 0.5 and type(check_range("x", 2, 0)) is float
    with pytest.raises(ValueError, match=r"x must be a number in \[0, 1\], got 1.5"):
        check_range("x", 1.5, 0, 1)
    with pytest.raises(ValueError, match=r"cutoff must be a number > 0 \(Hz\), got 0"):
        check_range("cutoff", 0, 0, lo_open=True, note="Hz")
    with pytest.raises(ValueError, match=r"beta must be a number >= 0, got -1"):
        check_range("beta", -1, 0)
    assert check_range("aspect", 0, 1, 100, off=0) == 0.0 and check_range("aspect", 2, 1, 100, off=0) == 2.0
    with pytest.raises(ValueError, match=r"aspect must be 0 \(off\) or a number in \[1, 100\], got 0.5"):
        check_range("aspect", 0.5, 1, 100, off=0)
    for bad in (True, float("nan"), "0.5", None):
        with pytest.raises(ValueError, match="x must be"):
            check_fraction("x", bad)


def test_check_int_says_its_bounds_and_the_unit():
    assert check_int("n", np.int32(4), 1, 4) == 4 and type(check_int("n", np.int32(4), 1, 4)) is int
    with pytest.raises(ValueError, match=r"n must be an int in 1\.\.4, got 5"):
        check_int("n", 5, 1, 4)
    with pytest.raises(ValueError, match=r"wait must be an int >= 0 \(milliseconds\), got 1.5"):
        check_int("wait", 1.5, note="milliseconds")
    with pytest.raises(ValueError, match="n must be an int"):
        check_int("n", False)


def test_the_caller_chooses_the_error_class():
    class OptionError(ValueError):
        pass

    with pytest.raises(OptionError, match="score"):
        check_fraction("score", 2, error=OptionError)
    with pytest.raises(OptionError, match="count"):
        check_int("count", -1, error=OptionError)


def test_bools_choices_callables_and_boxes():
    assert check_bool("flag", np.bool_(True)) is True
    with pytest.raises(ValueError, match="flag must be True or False, got 1"):
        check_bool("flag", 1)
    assert check_choice("order", "RGB", ("BGR", "RGB")) == "RGB"
    with pytest.raises(ValueError, match="order must be one of 'BGR', 'RGB', got 'BRG'"):
        check_choice("order", "BRG", ("BGR", "RGB"))
    with pytest.raises(ValueError, match="mode must be one of 1, 2, got True"):
        check_choice("mode", True, (1, 2))  # (True == 1, but a bool is no choice of ints)
    f = check_callable("cb", print)
    assert f is print
    with pytest.raises(ValueError, match=r"cb must be callable: cb\(result\), got 3"):
        check_callable("cb", 3, "cb(result)")
    b = check_box("box", [1, 2, 3, 4], np.float32)
    assert b.dtype == np.float32 and b.tolist() == [1, 2, 3, 4]
    for bad in ([1, 2, 3], [3, 2, 1, 4], [1, 2, np.nan, 4], "abcd", None):
        with pytest.raises(ValueError, match=r"box must be \(x0, y0, x1, y1\) with x1 > x0"):
            check_box("box", bad)


def _capture(**kw):
    from handsdk.capture import capture_stream

    capture_stream("missing.mp4", "ds", "x", **kw)


def _motion_capture(**kw):
    from handsdk.capture import capture_motion

    capture_motion("missing.mp4", "ds", "x", **kw)


def _action_on(on):
    from handsdk.actions import load_actions

    load_actions({"x": {"key": "a", "on": on}})


def _to_rgb(order):
    from handsdk.image import to_rgb

    to_rgb(np.zeros((8, 8, 3), np.uint8), order)


def _events(**kw):
    from handsdk.events import GestureEvents

    GestureEvents(**kw)


def _spelling(**kw):
    from handsdk.spelling import SpellingOptions

    SpellingOptions(**kw)


def _motion(**kw):
    from handsdk.motion import MotionClassifier

    MotionClassifier(b"not a bundle", "moves", **kw)  # (the options are checked before the bundle is read)


def _filter(**kw):
    from handsdk.filters import OneEuroFilter

    OneEuroFilter(**kw)


@pytest.mark.parametrize("make, kw, msg", [
    (_events, {"start_score": True}, r"start_score must be a number in \[0, 1\], got True"),
    (_events, {"end_score": 1.5}, r"end_score must be a number in \[0, 1\], got 1.5"),
    (_events, {"min_hold_ms": -1}, r"min_hold_ms must be an int >= 0 \(milliseconds\), got -1"),
    (_events, {"hold_interval_ms": 0.5}, r"hold_interval_ms must be an int >= 0 \(milliseconds\), got 0.5"),
    (_events, {"motion_cooldown_ms": True}, r"motion_cooldown_ms must be an int >= 0 \(milliseconds\), got True"),
    (_events, {"on_event": 3}, r"on_event must be callable: on_event\(event\), got 3"),
    (_spelling, {"min_score": -0.1}, r"min_score must be a number in \[0, 1\], got -0.1"),
    (_spelling, {"hold_ms": 400.0}, r"hold_ms must be an int >= 0 \(milliseconds\), got 400.0"),
    (_spelling, {"release_move": 0}, r"release_move must be a number > 0 \(hand sizes\), got 0"),
    (_spelling, {"top_k": 0}, r"top_k must be an int >= 1 \(candidates\), got 0"),
    (_spelling, {"top_k": 2.0}, r"top_k must be an int >= 1 \(candidates\), got 2.0"),
    (_spelling, {"top_k": True}, r"top_k must be an int >= 1 \(candidates\), got True"),
    (_motion, {"min_score": 1.5}, r"min_score must be a number in \[0, 1\], got 1.5"),
    (_motion, {"min_score": True}, r"min_score must be a number in \[0, 1\], got True"),
    (_motion, {"every_ms": 0}, r"every_ms must be a number > 0 \(milliseconds\), got 0"),
    (_motion, {"every_ms": float("inf")}, r"every_ms must be a number > 0 \(milliseconds\), got inf"),
    (_filter, {"min_cutoff": 0}, r"min_cutoff must be a number > 0 \(Hz\), got 0"),
    (_filter, {"d_cutoff": float("inf")}, r"d_cutoff must be a number > 0 \(Hz\), got inf"),
    (_filter, {"beta": "1"}, r"beta must be a number >= 0, got '1'"),
    (_action_on, {"on": "never"}, r"actions: 'on' of 'x' must be one of 'start', 'hold', 'end', got 'never'"),
    (_to_rgb, {"order": "bgr"}, r"color_order must be one of 'BGR', 'RGB', got 'bgr'"),
    (_capture, {"every": 0}, r"--every must be an int >= 1, got 0"),
    (_capture, {"max_samples": 0}, r"--max-samples must be an int >= 1, got 0"),
    (_capture, {"max_samples": 5.0}, r"--max-samples must be an int >= 1, got 5.0"),
    (_capture, {"max_samples": True}, r"--max-samples must be an int >= 1, got True"),
    (_motion_capture, {"take_seconds": 0}, r"--take-seconds must be a number > 0 \(seconds\), got 0"),
])
def test_the_sdks_options_say_the_option_its_values_and_the_value(make, kw, msg):
    with pytest.raises(ValueError, match=msg):
        make(**kw)


def test_the_dataset_writers_crop_size_is_checked_before_the_folder_is_made(tmp_path):
    from handsdk.capture import CaptureError, DatasetWriter

    for bad, msg in ((8, "got 8"), (2048, "got 2048"), (128.0, "got 128.0"), (True, "got True")):
        with pytest.raises(CaptureError, match=r"crop_size must be an int in 16\.\.1024 \(pixels\), " + msg):
            DatasetWriter(tmp_path / "ds", crops=True, crop_size=bad)
    assert not (tmp_path / "ds").exists()
    w = DatasetWriter(tmp_path / "ds", crops=True, crop_size=np.int64(64))
    assert w.crop_size == 64 and type(w.crop_size) is int


def test_the_sdks_options_take_numpy_scalars_as_python_numbers():
    from handsdk.events import GestureEvents
    from handsdk.filters import OneEuroFilter
    from handsdk.spelling import SpellingOptions

    ev = GestureEvents(start_score=np.float32(0.75), min_hold_ms=np.int64(100), cooldown_ms=np.int32(5))
    assert (ev.start_score, ev.min_hold_ms, ev.cooldown_ms) == (0.75, 100, 5)
    assert type(ev.start_score) is float and type(ev.min_hold_ms) is int and type(ev.cooldown_ms) is int
    sp = SpellingOptions(min_score=np.float64(0.5), hold_ms=np.int64(300), max_motion=1)
    assert type(sp.min_score) is float and type(sp.hold_ms) is int and type(sp.max_motion) is float
    assert SpellingOptions(top_k=np.int64(5)).top_k == 5 and type(SpellingOptions(top_k=np.int64(5)).top_k) is int
    f = OneEuroFilter(np.float32(2), np.int64(0), 1)
    assert (f.min_cutoff, f.beta, f.d_cutoff) == (2.0, 0.0, 1.0) and type(f.beta) is float
