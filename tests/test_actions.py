"""The event state machine (handsdk.events) and the action mapping
(handsdk.actions) live apart: the action names have one home, handsdk.actions."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from handsdk.results import Category, Hand, RecognitionResult


def _result(ts, label, score, track_id=1):
    kp = np.zeros((21, 3), np.float32)
    hand = Hand(box=np.zeros(4, np.float32), keypoints=kp, keypoints_normalized=kp, presence=0.9,
                handedness=Category("Right", 0.9, 1), gestures={"commands": (Category(label, score, 0),)},
                detection_score=None, track_id=track_id)
    return RecognitionResult(hands=(hand,), image_size=(320, 240), timestamp_ms=ts, timings_ms={})


def test_action_names_live_in_actions_only():
    import handsdk.actions as actions
    import handsdk.events as events

    for name in ("Action", "ActionMap", "load_actions", "shell_warning"):
        assert name in actions.__all__ and hasattr(actions, name)
        assert not hasattr(events, name) and name not in events.__all__
    assert set(events.__all__) == {"GestureEvent", "GestureEvents"}

    with pytest.raises(AttributeError):
        events.no_such_name  # noqa: B018


@pytest.mark.parametrize("first", ["handsdk.actions", "handsdk.events"])
def test_either_module_imports_first(first):
    code = f"import {first}; from handsdk.events import GestureEvent; from handsdk.actions import ActionMap; " \
           f"assert ActionMap.__module__ == 'handsdk.actions' and GestureEvent.__module__ == 'handsdk.events'"
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr


def test_events_drive_an_action_map(tmp_path):
    from handsdk.actions import load_actions
    from handsdk.events import GestureEvents

    f = tmp_path / "map.yaml"
    f.write_text("commands:\n  fist: key space\nopen_palm: shell echo hi\n")
    keys = []
    amap = load_actions(f, on_key=keys.append)
    assert amap.has_shell and not amap.allow_shell
    events = GestureEvents(min_hold_ms=0, hold_interval_ms=0)
    done = []
    for ts, (label, score) in enumerate([("fist", 0.9), ("fist", 0.9), ("open_palm", 0.9), ("none", 0.9)]):
        for ev in events.update(_result(ts * 100, label, score)):
            done += amap.handle(ev)
    assert keys == ["space"]
    assert [d["action"] for d in done] == ["key", "shell"] and done[1]["skipped"].startswith("shell actions need")
    with pytest.raises(ValueError, match="exactly one of 'key' or 'shell'"):
        load_actions({"fist": {"on": "start"}})


def test_action_map_options_are_checked():
    from handsdk.actions import ActionMap

    # a truthy string must not let shell commands run: only True does
    with pytest.raises(ValueError, match="allow_shell must be True or False, got 'no'"):
        ActionMap({}, allow_shell="no")
    with pytest.raises(ValueError, match="on_key must be callable"):
        ActionMap({}, on_key="print")
    with pytest.raises(ValueError, match="shell_timeout_s must be a number > 0"):
        ActionMap({}, shell_timeout_s=0)
    assert ActionMap({}, allow_shell=True, shell_timeout_s=2).shell_timeout_s == 2.0
