"""`handsdk run`: the live pipeline on a camera, a video, an image, a folder
or the synthetic demo clip; command events, fingerspelling, overlay."""
from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Optional

import typer

from .common import fail, percentile_table, stats_ms

MODES = ("frames", "commands", "spelling", "all")


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


def _gates(rec) -> dict:
    """{gesture set: (its none label, the score its top class needs)} of a recognizer."""
    by_set = getattr(rec, "min_gesture_by_set", {}) or {}
    return {n: (getattr(c, "none_label", None), by_set.get(n))
            for n, c in (getattr(rec, "classifiers", {}) or {}).items()}


def _hand_text(hand, gates=None) -> str:
    """``#1 Right commands=point 0.93``; when no class of a set reached its
    gate, the recognizer reports the set's none label first (scores
    unchanged): ``commands=none (top pinch 0.20 < 0.80)``."""
    parts = [hand.handedness.name]
    for name, cats in hand.gestures.items():
        if not cats:
            continue
        none, gate = (gates or {}).get(name, (None, None))
        top = max(cats, key=lambda c: c.score)
        if none is not None and cats[0].name == none and top.name != none:
            below = f" < {gate:.2f}" if gate is not None else " below the gate"
            parts.append(f"{name}={none} (top {top.name} {top.score:.2f}{below})")
        else:
            parts.append(f"{name}={cats[0].name} {cats[0].score:.2f}")
    if hand.track_id is not None:
        parts.insert(0, f"#{hand.track_id}")
    return " ".join(parts)


def _err(msg: str):
    typer.echo(msg, err=True)


def _demo_steps(session, frames, fps: float, started: list):
    """The session's steps on the demo clip: the speller reads the word's
    frames only (the command hand shapes read as letters too: an open palm
    is a B); ``started`` collects the commands that start."""
    from handsdk.tools.demo import word_frames

    n_word = word_frames(fps)
    for i, st in enumerate(session.run(frames)):
        if i == n_word - 1:
            session.speller = None  # (the CLI keeps its own reference for the text)
        started.extend(e.label for e in st.events if e.type == "start")
        yield st


def register(app: typer.Typer):
    @app.command("run")
    def run(
        camera: Optional[int] = typer.Option(None, "--camera", help="camera index (e.g. 0)"),
        source: Optional[str] = typer.Option(None, "--source", help="camera index, video file, image, folder of "
                                                                    "images, or a stream URL (rtsp://, http://, "
                                                                    "https://: whatever OpenCV opens)"),
        demo: bool = typer.Option(False, "--demo", help="play a synthetic demo clip (a hand spelling a word "
                                                        "and making commands) through the pipeline"),
        bundle: Optional[Path] = typer.Option(None, "--bundle", help="model bundle (default: the shipped one)"),
        as_json: bool = typer.Option(False, "--json", help="print one JSON result per frame"),
        mode: Optional[str] = typer.Option(
            None, "--mode", help="what to print: frames (one line per frame; default), commands (gesture "
                                 "events as JSON lines), spelling (the spelled text), all (events and text; "
                                 "default with --demo)"),
        save: Optional[Path] = typer.Option(None, "--save", help="write the annotated video (.mp4: mp4v, .avi: MJPG)"),
        max_hands: Optional[int] = typer.Option(None, "--max-hands", min=1, max=4,
                                                help="hands to track (default 2; 1 with --demo, whose clip has one)"),
        threads: Optional[int] = typer.Option(None, "--threads", min=1, max=64,
                                              help="interpreter threads (default: the device profile's, or 2)"),
        device: Optional[str] = typer.Option(None, "--device", help="device profile (handsdk devices list): "
                                                                    "threads and camera resolution"),
        window: bool = typer.Option(True, "--window/--no-window", help="show a window if a display exists"),
        max_frames: int = typer.Option(0, "--max-frames", min=0, help="stop after N frames (0: all)"),
        running_mode: str = typer.Option("auto", "--running-mode",
                                         help="auto (video for cameras and videos, image for images), image or video"),
        smoothing: bool = typer.Option(True, "--smoothing/--no-smoothing", help="One-Euro keypoint smoothing"),
        min_presence: Optional[float] = typer.Option(
            None, "--min-presence", min=0.0, max=1.0,
            help="landmarker presence a new hand needs (default: the bundle's, 0.97 for the shipped one; "
                 "lower finds more hands and takes more faces for hands)"),
        min_tracking_presence: Optional[float] = typer.Option(
            None, "--min-tracking-presence", min=0.0, max=1.0,
            help="presence a tracked hand needs to stay (default: the bundle's, 0.75; never above --min-presence)"),
        actions: Optional[Path] = typer.Option(None, "--actions", help="JSON map of gestures to actions "
                                                                       "(key / shell)"),
        allow_shell: bool = typer.Option(False, "--allow-shell",
                                         help="let shell actions of the --actions map run (off by default)"),
        start_score: float = typer.Option(0.6, "--start-score", min=0.0, max=1.0,
                                          help="a command gesture starts above this score"),
        end_score: float = typer.Option(0.4, "--end-score", min=0.0, max=1.0,
                                        help="... and ends below this one"),
        min_hold_ms: int = typer.Option(200, "--min-hold-ms", min=0, help="hold before a command starts"),
        hold_interval_ms: int = typer.Option(500, "--hold-interval-ms", min=0,
                                             help="period of 'hold' events (0: none)"),
        spell_hold_ms: int = typer.Option(400, "--spell-hold-ms", min=0, help="hold before a letter is committed"),
        spell_min_score: float = typer.Option(0.6, "--spell-min-score", min=0.0, max=1.0,
                                              help="a letter counts only with at least this score"),
        space_pause_ms: int = typer.Option(1000, "--space-pause-ms", min=0,
                                           help="no hand this long adds a space (0: off)"),
        space_gesture: Optional[str] = typer.Option(None, "--space-gesture",
                                                    help="set:label that types a space, e.g. commands:open_palm"),
        delete_gesture: Optional[str] = typer.Option(None, "--delete-gesture",
                                                     help="set:label that deletes, e.g. commands:thumbs_down"),
        reconnect: int = typer.Option(2, "--reconnect", min=0, help="camera reconnect attempts"),
        seed: Optional[int] = typer.Option(None, "--seed", help="seed of the --demo clip (default 1: the hand "
                                                                "the shipped bundle reads; others may be misread)"),
    ):
        """Run detection, keypoints and gestures on frames: per-frame lines with
        per-stage timings, command events (--mode commands), fingerspelled
        text (--mode spelling), an overlay window and/or an annotated video."""
        from handsdk import GestureRecognizerOptions, RunningMode
        from handsdk.actions import load_actions, shell_warning
        from handsdk.bundle import BundleError, default_bundle_path
        from handsdk.session import FrameError, MissingSpellingSet, Session, SessionError, SessionOptions
        from handsdk.sources import SourceError, is_camera, is_stream_url, source_fps
        from handsdk.spelling import SpellingOptions

        given = [n for n, v in (("--camera", camera), ("--source", source), ("--demo", demo or None))
                 if v is not None]
        if len(given) > 1:
            fail(f"give either --camera or --source{' or --demo' if demo else ''}, not both")
        src = camera if camera is not None else source
        if src is None and not demo:
            fail("nothing to run on: give --camera 0, --source <video|image|folder|stream URL>, or --demo")
        mode = mode or ("all" if demo else "frames")
        if max_hands is None:
            max_hands = 1 if demo else 2
        if mode not in MODES:
            fail(f"--mode must be one of {', '.join(MODES)}")
        if end_score > start_score:
            fail("--end-score must not exceed --start-score")
        cam_w = cam_h = None
        if device is not None:
            from handsdk.devices import load_device

            try:
                prof = load_device(device)
            except (KeyError, ValueError) as e:
                fail(str(e).strip("'\""))
            threads = threads or int(prof.get("threads", 2))
            if prof.get("camera"):
                cam_w, cam_h = (int(v) for v in prof["camera"][:2])
        threads = threads or 2
        if demo and bundle is None and default_bundle_path() is None:
            fail("--demo needs a model bundle: this install ships no default bundle; pass --bundle <file.handsdk>")
        is_files = (not demo and isinstance(src, str) and not src.isdigit() and not is_stream_url(src)
                    and (Path(src).is_dir() or Path(src).suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp")))
        if running_mode == "auto":
            rm = RunningMode.IMAGE if is_files else RunningMode.VIDEO
        elif running_mode in ("image", "video"):
            rm = RunningMode(running_mode)
        else:
            fail("--running-mode must be auto, image or video")
        amap = None
        if actions is not None:
            try:
                amap = load_actions(actions, allow_shell=allow_shell)
            except (FileNotFoundError, ValueError) as e:
                fail(str(e))
            if allow_shell and amap.has_shell:
                typer.secho(shell_warning(), fg=typer.colors.YELLOW, err=True)
            elif amap.has_shell:
                _err("note: the action map has shell actions; they are reported, not run (pass --allow-shell)")
        try:
            spell_opts = SpellingOptions(hold_ms=spell_hold_ms, min_score=spell_min_score,
                                         space_pause_ms=space_pause_ms, space_gesture=space_gesture,
                                         delete_gesture=delete_gesture)
        except ValueError as e:
            fail(str(e))
        try:
            session = Session(SessionOptions(
                recognizer=GestureRecognizerOptions(bundle=bundle, running_mode=rm, max_hands=max_hands,
                                                    color_order="BGR",  # (OpenCV's frames, and the demo's)
                                                    num_threads=threads, smoothing=smoothing,
                                                    min_presence_score=min_presence,
                                                    min_tracking_presence=min_tracking_presence),
                camera_size=(cam_w, cam_h) if cam_w is not None else None, reconnect=reconnect,
                max_frames=max_frames, start_score=start_score, end_score=end_score, min_hold_ms=min_hold_ms,
                hold_interval_ms=hold_interval_ms, spelling=spell_opts, require_spelling=mode == "spelling",
                actions=amap, save=save, save_fps=15.0 if demo else None))
        except MissingSpellingSet as e:
            fail(f"--mode spelling needs a bundle with a spelling gesture set (this one has {e.sets})")
        except (BundleError, FileNotFoundError, ValueError) as e:
            fail(str(e))
        rec, speller = session.recognizer, session.speller
        gates = _gates(rec)
        letters = speller.options.gesture_set if speller is not None else None
        command_sets = session.command_sets
        if mode == "frames":
            sets = list(rec.classifiers)
        elif mode == "spelling":
            sets = [letters]
        elif mode == "commands":
            sets = command_sets or list(rec.classifiers)
        else:
            sets = list(rec.classifiers)
        # where the human-readable summary goes: stdout in frames mode, stderr when stdout carries JSON lines
        summary = typer.echo if (mode == "frames" and not as_json) else _err
        show = False
        if window and not as_json:
            show, why = gui_available()
            if not show:
                _err(f"(no window: {why}; running headless)")
        code = 0
        started: list = []  # (--demo) the commands that started
        out_fps = 15.0 if demo else source_fps(src)
        import warnings

        warn_ctx = warnings.catch_warnings()
        warn_ctx.__enter__()
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: _err(f"warning: {message}")  # (camera reconnects...)
        try:
            if demo:
                from handsdk.tools.demo import DEMO_COMMANDS, DEMO_SEED, DEMO_WORD, demo_frames, demo_length

                note = ("" if seed is None or seed == DEMO_SEED else
                        f"; seed {seed} renders another hand and scene than seed {DEMO_SEED}, the one the shipped "
                        f"bundle is checked on: it may misread them")
                _err(f"demo: a synthetic hand spells {DEMO_WORD!r}, then makes the commands "
                     f"{', '.join(DEMO_COMMANDS)} ({demo_length(out_fps)} frames at {out_fps:g} fps, rendered on "
                     f"the fly{note})")
                steps = _demo_steps(session, demo_frames(seed=DEMO_SEED if seed is None else seed, fps=out_fps),
                                    out_fps, started)
            else:
                steps = session.run(src)
                if is_camera(src) or is_stream_url(src):
                    _err(f"{'camera' if is_camera(src) else 'stream'} {src} open; press q or Esc in the window, "
                         f"or Ctrl+C, to stop")
            for st in steps:
                frame, result, info, n = st.frame, st.result, st.info, session.frames
                evs, state, acted = st.events, st.spelling, st.actions
                if as_json:
                    d = result.to_dict()
                    d["frame"] = st.index  # a folder's file number: skipped files keep theirs
                    if "path" in info:
                        d["path"] = info["path"]
                        d["images"] = info.get("count")
                    if mode != "frames":
                        d["events"] = [e.to_dict() for e in evs]
                        if acted:
                            d["actions"] = list(acted)
                        if state is not None:
                            d["spelling"] = state.to_dict()
                    typer.echo(json.dumps(d))
                else:
                    if mode == "frames":
                        hands = "; ".join(_hand_text(h, gates) for h in result.hands) or "no hand"
                        t = result.timings_ms
                        where = (f"image {info['index']}/{info['count']} path: {info['path']} " if "path" in info
                                 else f"frame {info.get('index', n):5d} ")
                        typer.echo(f"{where}{frame.shape[1]}x{frame.shape[0]}  {len(result.hands)} hand(s): "
                                   f"{hands}  | detect {t['detect']:.1f} landmark {t['landmark']:.1f} "
                                   f"gesture {t['gesture']:.1f} total {t['total']:.1f} ms")
                    if mode in ("commands", "all"):
                        for e in evs:
                            typer.echo(e.to_json())
                        for a in acted:
                            typer.echo(json.dumps(a))
                    if mode in ("spelling", "all") and state is not None and state.committed is not None:
                        typer.echo(json.dumps({"spelling": state.text, "committed": state.committed,
                                               "timestamp_ms": state.timestamp_ms}) if mode == "all"
                                   else f"text: {state.text!r}  (+{state.committed!r} at {state.timestamp_ms} ms)")
                if show or save:
                    try:
                        canvas = session.annotate(st, gesture_sets=sets, spelling=mode in ("spelling", "all"))
                    except SessionError as e:  # the video cannot be written
                        fail(str(e))
                    if show:
                        import cv2

                        try:
                            cv2.imshow("handsdk", canvas)
                            key = cv2.waitKey(1) & 0xFF
                        except cv2.error as e:
                            _err(f"(the window failed: {str(e).strip().splitlines()[-1]}; running headless)")
                            show = False
                            key = 0
                        if key in (27, ord("q")):
                            break
        except SourceError as e:
            if session.frames == 0:
                session.release()
                fail(str(e) + (" (or run --demo: no camera needed)" if is_camera(src) else ""))
            typer.secho(f"error: {e}", fg=typer.colors.RED, err=True)
            code = 1
        except FrameError as e:
            # a ValueError is about the frame or its timestamp (the message says which); only an
            # interpreter that fails on a good frame points at the bundle
            hint = ("" if isinstance(e.error, ValueError)
                    else " (is the bundle corrupt? `handsdk bundle inspect` checks it)")
            typer.secho(f"error: {e}{hint}", fg=typer.colors.RED, err=True)
            code = 1
        except KeyboardInterrupt:
            _err("stopped")
        finally:
            warn_ctx.__exit__(None, None, None)
            session.release()
            if show:
                import cv2

                cv2.destroyAllWindows()
        for ev in session.flush():  # (the gestures still held end; their actions run)
            if mode in ("commands", "all") and not as_json:
                typer.echo(ev.to_json())
        n = session.frames
        if n == 0:
            if code:
                raise typer.Exit(code)
            fail("no frames were read from the source")
        if mode in ("spelling", "all") and speller is not None and not as_json:
            (typer.echo if mode == "spelling" else _err)(f"spelled: {speller.text!r}")
        if demo and mode in ("commands", "all") and not as_json:
            _err(f"commands: {', '.join(started) or 'none'}")
        if not as_json:
            rows = {k: stats_ms(v) for k, v in session.times.items()}
            summary(f"\n{n} frames; per-stage latency in ms:")
            summary(percentile_table(rows))
            tot = rows["total"]["mean"]
            if tot > 0:
                summary(f"throughput: {1000.0 / tot:.1f} frames/s (pipeline only)")
        if save:
            _err(f"wrote {save}")
        if code:
            raise typer.Exit(code)
