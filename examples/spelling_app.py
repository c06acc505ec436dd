"""Fingerspelling to text.

    python examples/spelling_app.py --bundle model.handsdk --source 0

Hold a letter steady for --hold-ms to type it; to type the same letter twice,
move the hand a little (or change letter) in between; take the hand out of
view for a second for a space. Static letters only (J and Z are motion
letters: future work).
"""
import argparse

from handsdk import GestureRecognizerOptions, RunningMode
from handsdk.session import Session
from handsdk.sources import SourceError
from handsdk.spelling import SpellingOptions


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--bundle", help="model bundle (default: the one shipped with handsdk)")
    ap.add_argument("--source", default="0", help="camera index, video file or folder (default: camera 0)")
    ap.add_argument("--hold-ms", type=int, default=400)
    ap.add_argument("--space-gesture", default=None, help="e.g. commands:open_palm")
    ap.add_argument("--delete-gesture", default=None, help="e.g. commands:thumbs_down")
    a = ap.parse_args()

    options = GestureRecognizerOptions(bundle=a.bundle, running_mode=RunningMode.VIDEO, max_hands=1)
    try:
        session = Session(recognizer=options, require_spelling=True,
                          spelling=SpellingOptions(hold_ms=a.hold_ms, space_gesture=a.space_gesture,
                                                   delete_gesture=a.delete_gesture))
    except ValueError as e:
        raise SystemExit(f"error: {e}")
    with session:
        speller = session.speller
        print(f"spelling with gesture set {speller.options.gesture_set!r}")
        try:
            for step in session.run(a.source):
                state = step.spelling
                if state.committed is not None:
                    print(f"[{step.timestamp_ms:6d} ms] +{state.committed!r:10} text: {state.text!r}")
        except SourceError as e:
            raise SystemExit(f"error: {e}")
        except KeyboardInterrupt:
            pass
    print(f"text: {speller.text!r}")


if __name__ == "__main__":
    main()
