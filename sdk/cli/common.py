"""Small helpers shared by the CLI modules (stdlib + typer only)."""
from __future__ import annotations

import contextlib
import os
import sys

import typer


def err(msg: str):
    """One line on stderr (notes and progress; stdout may carry JSON lines)."""
    typer.echo(msg, err=True)


@contextlib.contextmanager
def warnings_to_stderr():
    """Within: every warning (camera reconnects, skipped files ...), each time
    it is raised, as one ``warning: ...`` line on stderr."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.showwarning = lambda message, *a, **k: err(f"warning: {message}")
        yield


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


def fail(msg: str, code: int = 2):
    """Print a clear error and exit, no traceback."""
    typer.secho(f"error: {msg}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code)


def need_train_extra(what: str):
    """Import TensorFlow the project's way, or exit with a clear message."""
    try:
        from handsdk.train.tf import tf  # noqa: F401
    except ImportError:
        fail(f"`{what}` needs TensorFlow, which comes with the train extra: pip install 'handsdk[train]'")


def load_bundle_or_fail(path):
    from handsdk.bundle import BundleError, load_bundle

    try:
        return load_bundle(path)
    except (BundleError, FileNotFoundError) as e:
        fail(str(e))


def percentile_table(rows: dict, keys=("p50", "p90", "mean")) -> str:
    lines = [f"{'stage':<10}" + "".join(f"{k:>10}" for k in keys)]
    for name, vals in rows.items():
        lines.append(f"{name:<10}" + "".join(f"{vals[k]:>10.2f}" for k in keys))
    return "\n".join(lines)


def stats_ms(values) -> dict:
    from handsdk.tools.latency import latency_stats

    return latency_stats(values, empty=float("nan"))


def is_tty() -> bool:
    return sys.stdout.isatty()
