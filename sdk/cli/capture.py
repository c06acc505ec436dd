"""`handsdk capture`: record keypoint samples of custom gestures from a camera,
a video, an image folder or a photo collection (one folder per gesture) into a
dataset folder for `handsdk train gesture --data`. Base install only."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Optional

import typer

from .common import err, fail, gui_available, warnings_to_stderr


def register(app: typer.Typer):
    @app.command("capture")
    def capture(
        output: Path = typer.Option(..., "--output", "-o", help="dataset folder (created; samples are appended)"),
        camera: Optional[int] = typer.Option(None, "--camera", help="camera index (e.g. 0)"),
        source: Optional[str] = typer.Option(
            None, "--source", help="video file, image folder, or a photo collection with one folder per "
                                   "gesture (folder name = label; 'none' for negatives)"),
        label: Optional[str] = typer.Option(None, "--label", "-l", help="record the hand under this label"),
        keys: Optional[str] = typer.Option(
            None, "--keys", help="window mode: digit keys record the current hand, e.g. "
                                 "'0=none,1=thumbs_up,2=peace'"),
        bundle: Optional[Path] = typer.Option(None, "--bundle", help="model bundle (default: the shipped one)"),
        every: int = typer.Option(1, "--every", min=1, help="record every Nth frame with a hand"),
        max_samples: Optional[int] = typer.Option(None, "--max-samples", min=1,
                                                  help="stop after this many new samples of --label"),
        crops: bool = typer.Option(False, "--crops", help="also save the hand crops (crops/*.jpg)"),
        window: bool = typer.Option(True, "--window/--no-window",
                                    help="show a preview window with the counts (when a display exists)"),
        as_json: bool = typer.Option(False, "--json", help="print the final report as JSON"),
        motion: bool = typer.Option(False, "--motion", help="record takes of a motion gesture (the hand's keypoint "
                                                            "history) for a motion set, under --label"),
        take_seconds: float = typer.Option(3.0, "--take-seconds", help="--motion: seconds per take (make the "
                                                                       "motion once or a few times in each)"),
    ):
        """Record keypoint samples of custom gestures into a dataset folder.

        \b
        handsdk capture --camera 0 --label thumbs_up -o my_gestures
        handsdk capture --camera 0 --keys "0=none,1=thumbs_up,2=peace" -o my_gestures
        handsdk capture --source clip.mp4 --label peace --every 3 -o my_gestures
        handsdk capture --source photos/ -o my_gestures      # photos/<label>/*.jpg
        handsdk capture --motion --camera 0 --label knock -o my_moves   # motion takes (history.jsonl)
        """
        from handsdk.capture import (CaptureError, capture_stream, convert_class_folders,
                                     is_class_folder_collection, parse_keys)
        from handsdk.bundle import BundleError
        from handsdk.sources import SourceError, is_camera

        if camera is not None and source is not None:
            fail("give either --camera or --source, not both")
        if camera is None and source is None:
            fail("nothing to capture from: give --camera 0 or --source <video|folder>")
        if bundle is not None and not bundle.is_file():
            fail(f"bundle not found: {bundle}")
        if bundle is None:
            from handsdk.bundle import default_bundle_path

            if default_bundle_path() is None:
                fail("this install ships no default bundle; pass --bundle <model.handsdk>")
        try:
            keymap = parse_keys(keys)
        except CaptureError as e:
            fail(str(e))
        src = camera if camera is not None else source
        if camera is None and not is_camera(source) and not Path(source).exists():
            fail(f"source not found: {source} (expected a video file, an image folder or a folder of "
                 f"gesture folders)")
        live = camera is not None or is_camera(source)
        try:
            collection = not (motion or live) and label is None and is_class_folder_collection(source)
        except CaptureError as e:  # (a gesture folder whose name is no label)
            fail(str(e))
        # the usage errors before the run (a fail() inside its try would read as a failed pipeline)
        if motion and label is None:
            fail("--motion needs --label (the motion's name; 'none' for takes with no motion)")
        show_fn = _preview({} if motion else keymap, label, quiet=motion) if window and live else None
        if not motion and not collection and keymap and show_fn is None and label is None:
            fail("--keys needs a preview window (a display and opencv-python); use --label without one")
        with warnings_to_stderr():  # (skipped files ...)
            try:
                if motion:
                    from handsdk.capture import capture_motion

                    report = capture_motion(src, output, label, bundle=bundle, take_seconds=take_seconds,
                                            max_takes=max_samples, show=show_fn, progress=err)
                elif collection:
                    err(f"photo collection: one folder per label in {source}")
                    report = convert_class_folders(source, output, bundle=bundle, crops=crops, progress=err)
                else:
                    if live:
                        err(f"camera {src}: recording {label or 'on key presses'}; "
                            + ("q or Esc in the window stops" if show_fn else "Ctrl+C stops"))
                    report = capture_stream(src, output, label, bundle=bundle, every=every, max_samples=max_samples,
                                            crops=crops, keys=keymap, show=show_fn, progress=err)
            except (CaptureError, SourceError, FileNotFoundError, BundleError) as e:
                fail(str(e))
            except RuntimeError as e:  # the pipeline failed on a frame (a corrupt model ...)
                fail(f"the pipeline failed: {type(e).__name__}: {e} (the samples recorded so far are saved)", 1)
            finally:
                if camera is not None or (source is not None and is_camera(source)):
                    try:
                        import cv2

                        cv2.destroyAllWindows()
                    except Exception:
                        pass
        if as_json:
            typer.echo(json.dumps(report.to_dict(), indent=1))
        else:
            added = ", ".join(f"{k} +{v}" for k, v in report.added.items()) or "nothing"
            typer.echo(f"{output}: added {added} ({report.frames} frames, {report.frames_with_hand} with a hand, "
                       f"{report.seconds:.1f}s)")
            typer.echo("totals: " + (", ".join(f"{k}={v}" for k, v in report.totals.items()) or "none"))
        if report.error:
            err(f"stopped: {report.error} (the samples recorded so far are saved)")
            if report.error != "interrupted":
                raise typer.Exit(1)


def _preview(keymap: dict, label: Optional[str], *, quiet: bool = False):
    """The preview window's ``show`` (:func:`_window`), or None without a
    display (said on stderr unless ``quiet``)."""
    ok, why = gui_available()
    if ok:
        return _window(keymap, label)
    if not quiet:
        err(f"(no window: {why}; counts are printed, Ctrl+C stops)")
    return None


def _window(keymap: dict, label: Optional[str]):
    """The preview: the pipeline's overlay, the counts per label and the keys."""
    import cv2

    from handsdk.draw import draw_result

    help_keys = "  ".join(f"{chr(k)}={v}" for k, v in sorted(keymap.items()))

    def show(frame, result, counts, recording):
        lines = []
        if label is not None:
            lines.append(f"{'REC' if recording else 'paused'} {label}: {counts.get(label, 0)}  (space: pause)")
        if keymap:
            lines.append("keys: " + help_keys)
        lines.append("  ".join(f"{k}:{v}" for k, v in sorted(counts.items())) or "no samples yet")
        lines.append("q / Esc: stop")
        canvas = draw_result(frame, result, text_lines=lines)
        cv2.imshow("handsdk capture", canvas)
        return cv2.waitKey(1)

    return show
