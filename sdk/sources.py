"""Frame sources for ``stream()`` and the CLI: a camera index, a video file,
an image file, a folder of images, or any iterable of frames.

Every source yields ``(frame_bgr, timestamp_ms)``. Problems (no camera, a busy
or unplugged camera, an unreadable file) raise :class:`SourceError` with a
message meant for a person, never a bare OpenCV failure.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")
VIDEO_SUFFIXES = (".mp4", ".avi", ".mov", ".mkv", ".m4v", ".webm", ".mpg", ".mpeg")


class SourceError(RuntimeError):
    """A frame source could not be opened or stopped delivering frames."""


def _cv2():
    import cv2

    return cv2


def read_image(path) -> np.ndarray:
    """Read an image file as BGR uint8, with a clear error when it fails."""
    p = Path(path)
    if not p.exists():
        raise SourceError(f"image not found: {p}")
    data = np.fromfile(str(p), dtype=np.uint8)
    img = _cv2().imdecode(data, _cv2().IMREAD_COLOR) if data.size else None
    if img is None:
        raise SourceError(f"cannot decode image {p} (corrupt or not an image)")
    return img


def _folder_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {folder}")
    return files


def iter_images(paths, fps: float = 30.0, skip_unreadable: bool = True) -> Iterator[tuple[np.ndarray, int]]:
    for i, p in enumerate(paths):
        try:
            img = read_image(p)
        except SourceError as e:
            if not skip_unreadable:
                raise
            import warnings

            warnings.warn(f"skipping {p}: {e}")
            continue
        yield img, int(round(i * 1000.0 / fps))


def iter_capture(cap, name: str, live: bool, reconnect: int = 0, reopen=None,
                 reconnect_delay: float = 0.5) -> Iterator[tuple[np.ndarray, int]]:
    """Frames from an OpenCV-like capture (``read()``, ``get()``, ``release()``).

    A live camera that stops delivering frames is reopened with ``reopen()``
    up to ``reconnect`` times in a row (waiting ``reconnect_delay`` s between
    tries); then :class:`SourceError` says so. A video simply ends."""
    cv2 = _cv2()
    t0 = time.monotonic()
    n = 0
    failures = 0
    try:
        while True:
            try:
                ok, frame = cap.read()
            except Exception as e:  # a driver error mid-read is a failed read
                ok, frame = False, None
                if not live:
                    raise SourceError(f"{name}: reading failed ({e})") from None
            if not ok or frame is None or getattr(frame, "size", 0) == 0:
                if not live:
                    if n == 0:
                        raise SourceError(f"{name}: no frame could be read (unsupported codec or empty file)")
                    return
                failures += 1
                if failures > reconnect or reopen is None:
                    raise SourceError(f"{name}: the camera stopped delivering frames (unplugged or taken by "
                                      f"another program?)" + (f"; {reconnect} reconnect attempt(s) failed"
                                                              if reconnect and reopen is not None else ""))
                import warnings

                warnings.warn(f"{name}: no frame; reconnecting (attempt {failures} of {reconnect})")
                try:
                    cap.release()
                except Exception:
                    pass
                time.sleep(reconnect_delay)
                try:
                    cap = reopen()
                except SourceError:
                    cap = _Dead()
                continue
            failures = 0
            if live:
                ts = int((time.monotonic() - t0) * 1000)
            else:
                pos = cap.get(cv2.CAP_PROP_POS_MSEC)
                fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
                ts = int(pos) if pos and pos > 0 else int(round(n * 1000.0 / fps))
            n += 1
            yield frame, ts
    finally:
        try:
            cap.release()
        except Exception:
            pass


class _Dead:
    """A capture that could not be reopened: every read fails."""

    def read(self):
        return False, None

    def release(self):
        pass

    def get(self, prop):
        return 0.0


def open_camera(index: int, width: int | None = None, height: int | None = None):
    cv2 = _cv2()
    cap = cv2.VideoCapture(int(index))
    if not cap.isOpened():
        cap.release()
        raise SourceError(
            f"camera {index} could not be opened: no camera with that index, or it is busy in another "
            f"program, or this process may not use it (try another --camera index, or --demo)")
    if width:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(width))
    if height:
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height))
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
    return cap


def is_camera(source) -> bool:
    return isinstance(source, (int, np.integer)) or (isinstance(source, str) and source.isdigit())


def source_fps(source, default: float = 30.0) -> float:
    """The frame rate of a video file (``default`` for anything else)."""
    if isinstance(source, (str, os.PathLike)) and not is_camera(source):
        p = Path(source)
        if p.is_file() and p.suffix.lower() not in IMAGE_SUFFIXES:
            cap = _cv2().VideoCapture(str(p))
            try:
                fps = cap.get(_cv2().CAP_PROP_FPS) if cap.isOpened() else 0
            finally:
                cap.release()
            if fps and 1 <= fps <= 240:
                return float(fps)
    return float(default)


def frames(source, *, width: int | None = None, height: int | None = None, fps: float = 30.0,
           reconnect: int = 2, reconnect_delay: float = 0.5) -> Iterator[tuple[np.ndarray, int]]:
    """Frames from ``source``: an int (camera index) or a string of digits, a
    video file, an image file, a folder of images, or an iterable of frames
    (arrays, or (array, timestamp_ms) pairs)."""
    if is_camera(source):
        idx = int(source)
        cap = open_camera(idx, width, height)
        # looked up at call time, so a replaced open_camera (tests, custom capture) is used to reopen too
        return iter_capture(cap, f"camera {idx}", live=True, reconnect=reconnect,
                            reopen=lambda: open_camera(idx, width, height), reconnect_delay=reconnect_delay)
    if isinstance(source, (str, os.PathLike)):
        p = Path(source)
        if not p.exists():
            raise SourceError(f"source not found: {p} (expected a camera index, a video, an image or a folder)")
        if p.is_dir():
            return iter_images(_folder_images(p), fps=fps)
        suf = p.suffix.lower()
        if suf in IMAGE_SUFFIXES:
            return iter_images([p], fps=fps, skip_unreadable=False)
        cap = _cv2().VideoCapture(str(p))
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open video {p} (unsupported format or corrupt file)")
        return iter_capture(cap, str(p), live=False)
    if isinstance(source, np.ndarray):
        raise SourceError("a single frame is not a stream: call recognize(frame), or pass [frame]")
    try:
        it = iter(source)
    except TypeError:
        raise SourceError(f"unsupported source {type(source).__name__}: expected a camera index, a path or "
                          f"an iterable of frames") from None

    def gen():
        for i, item in enumerate(it):
            if isinstance(item, tuple) and len(item) == 2:
                yield item[0], int(item[1])
            else:
                yield item, int(round(i * 1000.0 / fps))

    return gen()
