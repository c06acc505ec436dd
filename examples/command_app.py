"""Command gestures driving an application through callbacks (LIVE_STREAM).

    python examples/command_app.py --bundle model.handsdk --source 0

Camera frames go to ``recognize()`` which returns at once; results arrive in
``on_result`` on the recognizer's worker thread (stale frames are dropped),
which feeds :class:`handsdk.events.GestureEvents`; ``on_event`` gets start /
hold / end events. Here the events drive a pretend media player: open palm =
play/pause, fist = stop, thumbs up/down = volume, victory = next track.
"""
import argparse
import threading
import time

from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
from handsdk.events import GestureEvents
from handsdk.sources import SourceError, frames, is_camera, source_fps

PLAYER = {"open_palm": "play/pause", "fist": "stop", "thumbs_up": "volume up", "thumbs_down": "volume down",
          "victory": "next track"}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the one shipped with handsdk)")
    ap.add_argument("--source", default="0", help="camera index, video file or folder (default: camera 0)")
    ap.add_argument("--min-hold-ms", type=int, default=200)
    a = ap.parse_args()

    lock = threading.Lock()
    counts = {"results": 0, "events": 0}

    def on_event(ev):
        counts["events"] += 1
        action = PLAYER.get(ev.label, "-")
        if ev.type == "start":
            print(f"[{ev.timestamp_ms:6d} ms] hand #{ev.track_id}: {ev.label} ({ev.score:.2f}) -> {action}")
        elif ev.type == "hold" and ev.label.startswith("thumbs"):
            print(f"[{ev.timestamp_ms:6d} ms] hand #{ev.track_id}: still {ev.label} -> {action} again")
        elif ev.type == "end":
            print(f"[{ev.timestamp_ms:6d} ms] hand #{ev.track_id}: {ev.label} released after {ev.duration_ms} ms")

    events = GestureEvents(min_hold_ms=a.min_hold_ms, hold_interval_ms=400, on_event=on_event)

    def on_result(result, frame, timestamp_ms):     # runs on the recognizer's thread
        with lock:
            counts["results"] += 1
            events.update(result)

    options = GestureRecognizerOptions(bundle=a.bundle, running_mode=RunningMode.LIVE_STREAM,
                                       color_order="BGR",           # frames() reads with OpenCV
                                       result_callback=on_result)
    with GestureRecognizer(options) as rec:
        live = is_camera(a.source)
        period = 0.0 if live else 1.0 / source_fps(a.source)   # play files in real time
        t0 = time.monotonic()
        sent = 0
        try:
            for i, (frame, ts) in enumerate(frames(a.source)):
                if period:
                    time.sleep(max(0.0, t0 + i * period - time.monotonic()))
                rec.recognize_async(frame, ts)
                sent += 1
        except SourceError as e:
            raise SystemExit(f"error: {e}")
        except KeyboardInterrupt:
            pass
        while rec.pending_frames:
            time.sleep(0.01)
        time.sleep(0.1)
        dropped = rec.dropped_frames
    with lock:
        events.flush()
    print(f"done: {sent} frames sent, {counts['results']} processed, {dropped} dropped as stale, "
          f"{counts['events']} events")


if __name__ == "__main__":
    main()
