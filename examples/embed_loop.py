"""The recognizer inside your own application loop.

    python examples/embed_loop.py --bundle model.handsdk --source 0          # camera 0
    python examples/embed_loop.py --bundle model.handsdk --source clip.mp4   # a video, an image or a folder

Each frame: hands with stable track ids, handedness, keypoints (smoothed with
a One-Euro filter), the best gesture of each set, and per-stage timings.
"""
import argparse

from handsdk import GestureRecognizerOptions, RunningMode
from handsdk.session import Session
from handsdk.sources import SourceError


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the one shipped with handsdk)")
    ap.add_argument("--source", default="0", help="camera index, video file, image or folder (default: camera 0)")
    ap.add_argument("--max-frames", type=int, default=0, help="stop after N frames (0: all)")
    a = ap.parse_args()

    options = GestureRecognizerOptions(bundle=a.bundle, running_mode=RunningMode.VIDEO, max_hands=2)
    # the loop of `handsdk run` (source -> recognizer -> events -> speller); for frames of your own,
    # call session.step(frame, timestamp_ms) instead of iterating a source
    with Session(recognizer=options, max_frames=a.max_frames) as session:
        try:
            for step in session.run(a.source):
                result, timestamp_ms = step.result, step.timestamp_ms
                desc = []
                for hand in result.hands:
                    gestures = ", ".join(f"{s}={c[0].name} {c[0].score:.2f}" for s, c in hand.gestures.items())
                    wrist = hand.keypoints[0]
                    desc.append(f"hand #{hand.track_id} {hand.handedness.name} wrist=({wrist[0]:.0f},{wrist[1]:.0f}) "
                                f"{gestures}")
                print(f"t={timestamp_ms:6d} ms  {'; '.join(desc) or 'no hand'}  "
                      f"[{result.timings_ms['total']:.1f} ms]")
        except SourceError as e:           # no camera, unreadable file, camera unplugged...
            raise SystemExit(f"error: {e}")
    print(f"done: {session.frames} frames")


if __name__ == "__main__":
    main()
