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
