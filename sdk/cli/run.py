"""`handsdk run`: the live pipeline on a camera, a video, an image, a folder
or the synthetic demo clip; command events, fingerspelling, overlay."""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import typer

from .common import err, fail, gui_available, percentile_table, stats_ms, warnings_to_stderr

MODES = ("frames", "commands", "spelling", "all")


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


def _demo_steps(session, frames, fps: float, started: list):
    """The session's steps on the demo clip: the speller reads the word's
    frames only (the command hand shapes read as letters too: an open palm
    is a B); ``started`` collects the (gesture set, label, in the motion
    part) of the events that start."""
    from handsdk.tools.demo import demo_length, word_frames

    n_word, n_static = word_frames(fps), demo_length(fps)
    for i, st in enumerate(session.run(frames)):
        if i == n_word - 1:
            session.speller = None  # (the CLI keeps its own reference for the text)
        started.extend((e.gesture_set, e.label, i >= n_static) for e in st.events if e.type == "start")
        yield st


# ---------------------------------------------------------------- options
def _source(camera: Optional[int], source: Optional[str], demo: bool):
    """The one source given: a camera index, a path or URL, or None (--demo)."""
    given = [n for n, v in (("--camera", camera), ("--source", source), ("--demo", demo or None))
             if v is not None]
    if len(given) > 1:
        fail(f"give either --camera or --source{' or --demo' if demo else ''}, not both")
    src = camera if camera is not None else source
    if src is None and not demo:
        fail("nothing to run on: give --camera 0, --source <video|image|folder|stream URL>, or --demo")
    return src


def _mode(mode: Optional[str], demo: bool, start_score: float, end_score: float) -> str:
    """--mode (default: all with --demo, else frames), checked with the event thresholds."""
    mode = mode or ("all" if demo else "frames")
    if mode not in MODES:
        fail(f"--mode must be one of {', '.join(MODES)}")
    if end_score > start_score:
        fail("--end-score must not exceed --start-score")
    return mode


def _device_settings(device: Optional[str], threads: Optional[int]) -> tuple[int, Optional[tuple]]:
    """(interpreter threads, camera (width, height) or None): --threads, else
    the --device profile's, else 2 threads and the camera's own size."""
    camera_size = None
    if device is not None:
        from handsdk.devices import load_device

        try:
            prof = load_device(device)
        except (KeyError, ValueError) as e:
            fail(str(e).strip("'\""))
        threads = threads or int(prof.get("threads", 2))
        if prof.get("camera"):
            camera_size = tuple(int(v) for v in prof["camera"][:2])
    return threads or 2, camera_size


def _running_mode(running_mode: str, src, demo: bool):
    """--running-mode; auto: image for images and folders of them, else video."""
    from handsdk import RunningMode
    from handsdk.sources import is_stream_url

    is_files = (not demo and isinstance(src, str) and not src.isdigit() and not is_stream_url(src)
                and (Path(src).is_dir() or Path(src).suffix.lower() in (".jpg", ".jpeg", ".png", ".bmp", ".webp")))
    if running_mode == "auto":
        return RunningMode.IMAGE if is_files else RunningMode.VIDEO
    if running_mode in ("image", "video"):
        return RunningMode(running_mode)
    fail("--running-mode must be auto, image or video")


def _action_map(actions: Optional[Path], allow_shell: bool):
    """The --actions map (None without one); says whether its shell actions run."""
    if actions is None:
        return None
    from handsdk.actions import load_actions, shell_warning

    try:
        amap = load_actions(actions, allow_shell=allow_shell)
    except (FileNotFoundError, ValueError) as e:
        fail(str(e))
    if allow_shell and amap.has_shell:
        typer.secho(shell_warning(), fg=typer.colors.YELLOW, err=True)
    elif amap.has_shell:
        err("note: the action map has shell actions; they are reported, not run (pass --allow-shell)")
    return amap


# ---------------------------------------------------------------- the session
def _open_session(recognizer: dict, spelling: dict, *, mode: str, demo: bool, **session):
    """The session: ``recognizer`` and ``spelling`` are the fields of
    GestureRecognizerOptions and SpellingOptions, ``session`` the rest of
    SessionOptions'; a bundle or an option that does not fit fails, saying why."""
    from handsdk import GestureRecognizerOptions
    from handsdk.bundle import BundleError
    from handsdk.session import MissingSpellingSet, Session, SessionOptions
    from handsdk.spelling import SpellingOptions

    try:
        spell_opts = SpellingOptions(**spelling)
    except ValueError as e:
        fail(str(e))
    try:
        return Session(SessionOptions(
            recognizer=GestureRecognizerOptions(**recognizer, color_order="BGR"),  # (OpenCV's frames, and the demo's)
            spelling=spell_opts, require_spelling=mode == "spelling", save_fps=15.0 if demo else None, **session))
    except MissingSpellingSet as e:
        fail(f"--mode spelling needs a bundle with a spelling gesture set (this one has {e.sets})")
    except (BundleError, FileNotFoundError, ValueError) as e:
        fail(str(e))


@dataclass(frozen=True)
class _Output:
    """What a run prints and draws."""
    mode: str
    as_json: bool
    demo: bool
    save: Optional[Path]
    gates: dict     # {gesture set: (none label, gate)}: the frame lines' notes
    sets: list      # the gesture sets the overlay shows
    speller: object  # the session's (the demo's steps take it off the session once the word is spelled)
    motion_sets: tuple = ()  # the bundle's motion gesture sets

    @property
    def events(self) -> bool:
        return self.mode in ("commands", "all")

    @property
    def spelling(self) -> bool:
        return self.mode in ("spelling", "all")

    def summary(self, msg: str):
        """The human-readable summary: stdout in frames mode, stderr when stdout carries JSON lines."""
        (typer.echo if (self.mode == "frames" and not self.as_json) else err)(msg)


def _output(session, mode: str, as_json: bool, demo: bool, save: Optional[Path]) -> _Output:
    """What the run prints; the overlay shows every set, the spelling set
    (--mode spelling) or the command sets (--mode commands)."""
    rec, speller = session.recognizer, session.speller
    every = list(rec.classifiers)
    if mode == "spelling":
        sets = [speller.options.gesture_set if speller is not None else None]
    elif mode == "commands":
        sets = session.command_sets or every
    else:
        sets = every
    return _Output(mode, as_json, demo, save, _gates(rec), sets, speller, tuple(rec.motion_classifiers))


def _window(window: bool, as_json: bool) -> bool:
    """Whether the overlay window is shown (--window, not --json, a display)."""
    if not window or as_json:
        return False
    show, why = gui_available()
    if not show:
        err(f"(no window: {why}; running headless)")
    return show


# ---------------------------------------------------------------- the loop
def _steps(session, src, demo: bool, seed: Optional[int], fps: float, started: list):
    """The session's steps over the source, or over the demo clip (described first)."""
    from handsdk.sources import is_camera, is_stream_url

    if demo:
        from handsdk.tools.demo import (COMMANDS_READ, DEMO_COMMANDS, DEMO_SEED, DEMO_WORD, MOTION_READ, MOTION_SEED,
                                        demo_clip, demo_clip_length)

        note = ("" if seed is None or seed == DEMO_SEED else
                f"; seed {seed} renders another hand and scene than seeds {DEMO_SEED} and {MOTION_SEED}, the ones "
                f"the shipped bundle is checked on: it may misread them")
        err(f"demo: a synthetic hand spells {DEMO_WORD!r}, then makes the commands "
            f"{', '.join(DEMO_COMMANDS)} ({demo_clip_length(fps, seed)} frames at {fps:g} fps, rendered on "
            f"the fly{note}; the shipped bundle reports {', '.join(COMMANDS_READ)}: the word's O and K read "
            f"as commands too); then another draws a J, a Z and swipes left: the shipped bundle reads "
            f"{', '.join(MOTION_READ)} of them")
        return _demo_steps(session, demo_clip(seed=seed, fps=fps), fps, started)
    steps = session.run(src)
    if is_camera(src) or is_stream_url(src):
        err(f"{'camera' if is_camera(src) else 'stream'} {src} open; press q or Esc in the window, "
            f"or Ctrl+C, to stop")
    return steps


def _step_dict(st, mode: str) -> dict:
    """One step as --json prints it: the result, the frame's number (a
    folder's file number: skipped files keep theirs), and outside frames
    mode the events, actions and spelling."""
    d = st.result.to_dict()
    d["frame"] = st.index
    if "path" in st.info:
        d["path"] = st.info["path"]
        d["images"] = st.info.get("count")
    if mode != "frames":
        d["events"] = [e.to_dict() for e in st.events]
        if st.actions:
            d["actions"] = list(st.actions)
        if st.spelling is not None:
            d["spelling"] = st.spelling.to_dict()
    return d


def _frame_line(st, gates: dict, n: int) -> str:
    """``frame 12 320x240 1 hand(s): #1 Right commands=point 0.93 | detect ...``."""
    frame, result, info = st.frame, st.result, st.info
    hands = "; ".join(_hand_text(h, gates) for h in result.hands) or "no hand"
    t = result.timings_ms
    where = (f"image {info['index']}/{info['count']} path: {info['path']} " if "path" in info
             else f"frame {info.get('index', n):5d} ")
    return (f"{where}{frame.shape[1]}x{frame.shape[0]}  {len(result.hands)} hand(s): "
            f"{hands}  | detect {t['detect']:.1f} landmark {t['landmark']:.1f} "
            f"gesture {t['gesture']:.1f} total {t['total']:.1f} ms")


def _print_step(st, out: _Output, n: int):
    """A step on stdout: its JSON line (--json), or the lines of the mode."""
    if out.as_json:
        typer.echo(json.dumps(_step_dict(st, out.mode)))
        return
    if out.mode == "frames":
        typer.echo(_frame_line(st, out.gates, n))
    if out.events:
        for e in st.events:
            typer.echo(e.to_json())
        for a in st.actions:
            typer.echo(json.dumps(a))
    state = st.spelling
    if out.spelling and state is not None and state.committed is not None:
        typer.echo(json.dumps({"spelling": state.text, "committed": state.committed,
                               "timestamp_ms": state.timestamp_ms}) if out.mode == "all"
                   else f"text: {state.text!r}  (+{state.committed!r} at {state.timestamp_ms} ms)")


def _draw(session, st, out: _Output, show: bool) -> tuple[bool, bool]:
    """The overlay, written to the --save video and shown in the window.
    Returns (the window is still up, q or Esc was pressed)."""
    from handsdk.session import SessionError

    try:
        canvas = session.annotate(st, gesture_sets=out.sets, spelling=out.spelling)
    except SessionError as e:  # the video cannot be written
        fail(str(e))
    if not show:
        return False, False
    import cv2

    try:
        cv2.imshow("handsdk", canvas)
        key = cv2.waitKey(1) & 0xFF
    except cv2.error as e:
        err(f"(the window failed: {str(e).strip().splitlines()[-1]}; running headless)")
        return False, False
    return True, key in (27, ord("q"))


def _play(session, src, out: _Output, show: bool, seed: Optional[int], fps: float, started: list) -> int:
    """Print and draw every step until the source ends, q / Esc or Ctrl+C;
    releases the session. Returns the exit code: 1 when the source or a
    frame failed after frames were read (before any, it fails at once)."""
    from handsdk.session import FrameError
    from handsdk.sources import SourceError, is_camera

    code = 0
    with warnings_to_stderr():  # (camera reconnects ...)
        try:
            for st in _steps(session, src, out.demo, seed, fps, started):
                _print_step(st, out, session.frames)
                if show or out.save:
                    show, stop = _draw(session, st, out, show)
                    if stop:
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
            err("stopped")
        finally:
            session.release()
            if show:
                import cv2

                cv2.destroyAllWindows()
    return code


# ---------------------------------------------------------------- the summary
def _finish(session, out: _Output, started: list, code: int):
    """End the held gestures, print the spelled text, the demo's commands and
    the latency table; exit with ``code`` (no frames read: an error)."""
    for ev in session.flush():  # (the gestures still held end; their actions run)
        if out.events and not out.as_json:
            typer.echo(ev.to_json())
    n = session.frames
    if n == 0:
        if code:
            raise typer.Exit(code)
        fail("no frames were read from the source")
    if out.spelling and out.speller is not None and not out.as_json:
        (typer.echo if out.mode == "spelling" else err)(f"spelled: {out.speller.text!r}")
    if out.demo and out.events and not out.as_json:
        def labels(motion: bool, part: bool) -> str:
            return ", ".join(lab for gs, lab, p in started if (gs in out.motion_sets) == motion and p == part)

        err(f"commands: {labels(False, False) or 'none'}")
        err(f"motion: {labels(True, True) or 'none'}"
            + (f" (commands meanwhile: {labels(False, True)})" if labels(False, True) else ""))
    if not out.as_json:
        rows = {k: stats_ms(v) for k, v in session.times.items()}
        out.summary(f"\n{n} frames; per-stage latency in ms:")
        out.summary(percentile_table(rows))
        tot = rows["total"]["mean"]
        if tot > 0:
            out.summary(f"throughput: {1000.0 / tot:.1f} frames/s (pipeline only)")
    if out.save:
        err(f"wrote {out.save}")
    if code:
        raise typer.Exit(code)


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
            help="landmarker presence a new hand needs (default: the bundle's, 0.99 for the shipped one; "
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
        from handsdk.bundle import default_bundle_path
        from handsdk.sources import source_fps

        src = _source(camera, source, demo)
        mode = _mode(mode, demo, start_score, end_score)
        threads, camera_size = _device_settings(device, threads)
        if demo and bundle is None and default_bundle_path() is None:
            fail("--demo needs a model bundle: this install ships no default bundle; pass --bundle <file.handsdk>")
        rm = _running_mode(running_mode, src, demo)
        amap = _action_map(actions, allow_shell)
        session = _open_session(
            dict(bundle=bundle, running_mode=rm, max_hands=(1 if demo else 2) if max_hands is None else max_hands,
                 num_threads=threads, smoothing=smoothing, min_presence_score=min_presence,
                 min_tracking_presence=min_tracking_presence),
            dict(hold_ms=spell_hold_ms, min_score=spell_min_score, space_pause_ms=space_pause_ms,
                 space_gesture=space_gesture, delete_gesture=delete_gesture),
            mode=mode, demo=demo, camera_size=camera_size, reconnect=reconnect, max_frames=max_frames,
            start_score=start_score, end_score=end_score, min_hold_ms=min_hold_ms,
            hold_interval_ms=hold_interval_ms, actions=amap, save=save)
        out = _output(session, mode, as_json, demo, save)
        show = _window(window, as_json)
        started: list = []  # (--demo) the (gesture set, label) of the events that started
        code = _play(session, src, out, show, seed, 15.0 if demo else source_fps(src), started)
        _finish(session, out, started, code)
