"""Option checks: the one home of the range and type checks of options
(:class:`handsdk.GestureRecognizerOptions`, :class:`handsdk.session.SessionOptions`,
the detector's decoding, :class:`handsdk.looking.LookPolicy`,
:class:`handsdk.events.GestureEvents`, :class:`handsdk.spelling.SpellingOptions`,
:class:`handsdk.motion.MotionClassifier`, :class:`handsdk.filters.OneEuroFilter`,
the capture's and the action map's options, :func:`handsdk.image.to_rgb`'s colour order).

Each ``check_*`` returns the value normalised (a Python float, int or bool)
or raises ``error`` (ValueError unless the caller gives its own subclass)
naming the option, the values it takes and the value it got. Numpy scalars
are numbers; bools are not.
"""
from __future__ import annotations

import numpy as np

__all__ = ["check_bool", "check_box", "check_callable", "check_choice", "check_fraction", "check_int",
           "check_range", "is_int", "is_number"]


def is_int(v) -> bool:
    """An int (Python or numpy), not a bool."""
    return isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_))


def is_number(v) -> bool:
    """A finite real number (Python or numpy), not a bool."""
    if is_int(v):
        return True
    return isinstance(v, (float, np.floating)) and bool(np.isfinite(v))


def _fmt(x) -> str:
    return f"{x:g}" if isinstance(x, float) else str(x)


def _note(note: str | None) -> str:
    return f" ({note})" if note else ""


def check_range(name: str, v, lo=None, hi=None, *, lo_open: bool = False, off=None, note: str | None = None,
                error: type[Exception] = ValueError) -> float:
    """``v`` as a float: a finite number in [``lo``, ``hi``] (``lo_open``:
    above ``lo``; a bound None: none), or ``off`` (the value that turns the
    option off, when there is one). ``note`` (e.g. the unit) is said in the
    message."""
    ok = is_number(v) and (off is not None and v == off or (
        (lo is None or (v > lo if lo_open else v >= lo)) and (hi is None or v <= hi)))
    if not ok:
        if lo is not None and hi is not None:
            what = f"a number in {'(' if lo_open else '['}{_fmt(lo)}, {_fmt(hi)}]"
        elif lo is not None:
            what = f"a number {'>' if lo_open else '>='} {_fmt(lo)}"
        else:
            what = "a number" if hi is None else f"a number <= {_fmt(hi)}"
        if off is not None:
            what = f"{_fmt(off)} (off) or {what}"
        raise error(f"{name} must be {what}{_note(note)}, got {v!r}")
    return float(v)


def check_fraction(name: str, v, *, note: str | None = None, error: type[Exception] = ValueError) -> float:
    """``v`` as a float in [0, 1] (a score threshold, a fraction)."""
    return check_range(name, v, 0.0, 1.0, note=note, error=error)


def check_int(name: str, v, lo: int = 0, hi: int | None = None, *, note: str | None = None,
              error: type[Exception] = ValueError) -> int:
    """``v`` as an int in ``lo``..``hi`` (``hi`` None: at least ``lo``)."""
    if not is_int(v) or v < lo or (hi is not None and v > hi):
        rng = f"in {lo}..{hi}" if hi is not None else f">= {lo}"
        raise error(f"{name} must be an int {rng}{_note(note)}, got {v!r}")
    return int(v)


def check_bool(name: str, v, *, error: type[Exception] = ValueError) -> bool:
    """``v`` as a bool (True or False, numpy's too; not 0 or 1)."""
    if not isinstance(v, (bool, np.bool_)):
        raise error(f"{name} must be True or False, got {v!r}")
    return bool(v)


def check_choice(name: str, v, choices, *, error: type[Exception] = ValueError):
    """``v``, one of ``choices``."""
    choices = tuple(choices)
    if not any(isinstance(v, type(c)) and isinstance(v, bool) == isinstance(c, bool) and v == c for c in choices):
        raise error(f"{name} must be one of {', '.join(repr(c) for c in choices)}, got {v!r}")
    return v


def check_callable(name: str, v, signature: str = "", *, error: type[Exception] = ValueError):
    """``v``, callable (``signature``: how it is called, for the message)."""
    if not callable(v):
        raise error(f"{name} must be callable{': ' + signature if signature else ''}, got {v!r}")
    return v


def check_box(name: str, v, dtype=np.float64, *, error: type[Exception] = ValueError) -> np.ndarray:
    """``v`` as a (4,) array of ``dtype``: a box (x0, y0, x1, y1) of finite
    pixels with x1 > x0 and y1 > y0."""
    try:
        b = np.asarray(v, dtype).reshape(-1)
    except (TypeError, ValueError):
        b = None
    if b is None or b.shape != (4,) or not np.all(np.isfinite(b)) or b[2] <= b[0] or b[3] <= b[1]:
        raise error(f"{name} must be (x0, y0, x1, y1) with x1 > x0 and y1 > y0, got {v!r}")
    return b
