"""`handsdk run`: the live pipeline on a camera, a video, an image or a folder."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import fail, percentile_table, stats_ms


def gui_available() -> tuple[bool, str]:
    """Can cv2.imshow open a window here? (It aborts the process when there is
    no display, so ask first.)"""
    if sys.platform.startswith("linux") and not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
        return False, "no display (DISPLAY is not set)"
    import cv2

    info = cv2.getBuildInformation()
    gui = ""
    for line in info.splitlines():
        if line.strip().startswith("GUI:"):
            gui = line.split(":", 1)[1].strip()
    if not gui or gui.upper() == "NONE":
        return False, "this OpenCV has no GUI (opencv-python-headless); pip install opencv-python for a window"
    return True, gui


def _hand_text(hand) -> str:
    parts = [hand.handedness.name]
    for name, cats in hand.gestures.items():
        if cats:
            parts.append(f"{name}={cats[0].name} {cats[0].score:.2f}")
    if hand.track_id is not None:
        parts.insert(0, f"#{hand.track_id}")
    return " ".join(parts)


def register(app: typer.Typer):
    @app.command("run")
    def run(
        camera: Optional[int] = typer.Option(None, "--camera", help="camera index (e.g. 0)"),
        source: Optional[str] = typer.Option(None, "--source", help="camera index, video file, image or folder"),
        bundle: Optional[Path] = typer.Option(None, "--bundle", help="model bundle (default: the shipped one)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON result per frame"),
        mode: str = typer.Option("commands", "--mode", help="commands or spelling: which gesture sets to show"),
        save: Optional[Path] = typer.Option(None, "--save", help="write the annotated video (.mp4 or .avi)"),
        max_hands: int = typer.Option(2, "--max-hands", min=1, max=4),
        threads: int = typer.Option(2, "--threads", min=1, max=64),
        window: bool = typer.Option(True, "--window/--no-window", help="show a window if a display exists"),
        max_frames: int = typer.Option(0, "--max-frames", min=0, help="stop after N frames (0: all)"),
        running_mode: str = typer.Option("auto", "--running-mode",
                                         help="auto (video for cameras and videos, image for images), image or video"),
    ):
        """Run detection, keypoints and gestures on frames and print what is found
        with per-stage timings."""
        import numpy as np

        from handsdk import GestureRecognizer, GestureRecognizerOptions, RunningMode
        from handsdk.bundle import BundleError
        from handsdk.sources import SourceError, frames

        if camera is not None and source is not None:
            fail("give either --camera or --source, not both")
        src = camera if camera is not None else source
        if src is None:
            fail("nothing to run on: give --camera 0, or --source <video|image|folder>")
        if mode not in ("commands", "spelling"):
            fail("--mode must be commands or spelling")
        is_files = isinstance(src, str) and not src.isdigit() and (Path(src).is_dir() or Path(src).suffix.lower()
                                                                  in (".jpg", ".jpeg", ".png", ".bmp", ".webp"))
        if running_mode == "auto":
            rm = RunningMode.IMAGE if is_files else RunningMode.VIDEO
        elif running_mode in ("image", "video"):
            rm = RunningMode(running_mode)
        else:
            fail("--running-mode must be auto, image or video")
        try:
            rec = GestureRecognizer(GestureRecognizerOptions(
                bundle=bundle, running_mode=rm, max_hands=max_hands, num_threads=threads))
        except (BundleError, FileNotFoundError, ValueError) as e:
            fail(str(e))
        sets = [n for n, c in rec.classifiers.items() if c.kind == mode] or list(rec.classifiers)
        show = False
        if window and not as_json:
            show, why = gui_available()
            if not show:
                typer.echo(f"(no window: {why}; running headless)", err=True)
        writer = None
        times: dict[str, list] = {}
        n = 0
        try:
            it = frames(src)
            for frame, ts in it:
                result = rec.recognize(frame, ts if rm is not RunningMode.IMAGE else None)
                n += 1
                for k, v in result.timings_ms.items():
                    times.setdefault(k, []).append(v)
                if as_json:
                    d = result.to_dict()
                    d["frame"] = n
                    typer.echo(json.dumps(d))
                else:
                    hands = "; ".join(_hand_text(h) for h in result.hands) or "no hand"
                    t = result.timings_ms
                    typer.echo(f"frame {n:5d} {frame.shape[1]}x{frame.shape[0]}  {len(result.hands)} hand(s): "
                               f"{hands}  | detect {t['detect']:.1f} landmark {t['landmark']:.1f} "
                               f"gesture {t['gesture']:.1f} total {t['total']:.1f} ms")
                if show or save:
                    from handsdk.draw import draw_result

                    canvas = draw_result(frame, result, gesture_sets=sets)
                    if save:
                        if writer is None:
                            writer = _open_writer(save, canvas.shape)
                        writer.write(canvas)
                    if show:
                        import cv2

                        cv2.imshow("handsdk", canvas)
                        if cv2.waitKey(1) & 0xFF in (27, ord("q")):
                            break
                if max_frames and n >= max_frames:
                    break
        except SourceError as e:
            fail(str(e))
        except KeyboardInterrupt:
            typer.echo("stopped", err=True)
        finally:
            rec.close()
            if writer is not None:
                writer.release()
            if show:
                import cv2

                cv2.destroyAllWindows()
        if n == 0:
            fail("no frames were read from the source")
        if not as_json:
            rows = {k: stats_ms(v) for k, v in times.items()}
            typer.echo(f"\n{n} frames; per-stage latency in ms:")
            typer.echo(percentile_table(rows))
            tot = rows["total"]["mean"]
            if tot > 0:
                typer.echo(f"throughput: {1000.0 / tot:.1f} frames/s (pipeline only)")
        if save:
            typer.echo(f"wrote {save}", err=True)


def _open_writer(path: Path, shape):
    import cv2

    fourcc = cv2.VideoWriter_fourcc(*("MJPG" if path.suffix.lower() == ".avi" else "mp4v"))
    w = cv2.VideoWriter(str(path), fourcc, 30.0, (shape[1], shape[0]))
    if not w.isOpened():
        fail(f"cannot write video {path} (use .mp4 or .avi)")
    return w
