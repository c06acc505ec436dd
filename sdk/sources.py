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


#: the smallest frame the pipeline takes (handsdk.image.to_rgb says the same)
MIN_SIDE = 8

#: network streams OpenCV opens (through FFmpeg / GStreamer) like a camera
STREAM_SCHEMES = ("rtsp://", "rtsps://", "rtmp://", "http://", "https://", "udp://", "tcp://", "srt://")


def is_stream_url(source) -> bool:
    return isinstance(source, str) and source.strip().lower().startswith(STREAM_SCHEMES)


def read_image(path) -> np.ndarray:
    """Read an image file as BGR uint8, with a clear error when it fails
    (missing, corrupt, or smaller than 8x8 pixels)."""
    p = Path(path)
    if not p.exists():
        raise SourceError(f"image not found: {p}")
    try:
        data = np.fromfile(str(p), dtype=np.uint8)
    except OSError as e:
        raise SourceError(f"cannot read image {p} ({e.strerror or e})") from None
    img = _cv2().imdecode(data, _cv2().IMREAD_COLOR) if data.size else None
    if img is None:
        raise SourceError(f"cannot decode image {p} (corrupt or not an image)")
    if img.shape[0] < MIN_SIDE or img.shape[1] < MIN_SIDE:
        raise SourceError(f"image {p} is too small ({img.shape[1]}x{img.shape[0]}; at least "
                          f"{MIN_SIDE}x{MIN_SIDE} pixels)")
    return img


class FrameInfo(dict):
    """Where a frame came from: ``index`` (1-based, counting skipped files
    too), ``count`` (files in the folder, when known) and ``path``."""


def _folder_images(folder: Path) -> list[Path]:
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise SourceError(f"no images ({', '.join(IMAGE_SUFFIXES)}) in folder {folder}")
    return files


def iter_images(paths, fps: float = 30.0, skip_unreadable: bool = True, info: bool = False):
    """Frames of image files; an unreadable, corrupt or tiny file is skipped
    with a warning (``skip_unreadable``). Timestamps and the ``index`` of
    :class:`FrameInfo` (with ``info``) count skipped files too, so frame
    numbers stay those of the files."""
    paths = list(paths)
    for i, p in enumerate(paths):
        try:
            img = read_image(p)
        except SourceError as e:
            if not skip_unreadable:
                raise
            import warnings

            warnings.warn(f"skipping image {i + 1}/{len(paths)}: {e}")
            continue
        ts = int(round(i * 1000.0 / fps))
        yield (img, ts, FrameInfo(index=i + 1, count=len(paths), path=str(p))) if info else (img, ts)


def iter_capture(cap, name: str, live: bool, reconnect: int = 0, reopen=None,
                 reconnect_delay: float = 0.5) -> Iterator[tuple[np.ndarray, int]]:
    """Frames from an OpenCV-like capture (``read()``, ``get()``, ``release()``).

    A live camera that stops delivering frames is reopened with ``reopen()``
    up to ``reconnect`` times in a row (waiting ``reconnect_delay`` s between
    tries); then :class:`SourceError` says so. A video (a file, or a finite
    video over HTTP: :func:`is_finite_stream`) simply ends."""
    cv2 = _cv2()
    t0 = time.monotonic()
    n = 0
    last_ts = -1
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
                    _warn_if_cut_short(cap, name, n)
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
                # whole ms of the clock; two frames within 1 ms (a buffered stream on a fast
                # machine) would share one, so a live timestamp is at least the last one + 1
                ts = max(int((time.monotonic() - t0) * 1000), last_ts + 1)
            else:
                pos = cap.get(cv2.CAP_PROP_POS_MSEC)
                fps = cap.get(cv2.CAP_PROP_FPS) or 30.0
                ts = int(pos) if pos and pos > 0 else int(round(n * 1000.0 / fps))
            n += 1
            last_ts = ts
            yield frame, ts
    finally:
        try:
            cap.release()
        except Exception:
            pass


def _warn_if_cut_short(cap, name: str, n: int) -> None:
    """A video that ends well before the frame count its header declares is
    corrupt or truncated: say so (the frames read so far were used)."""
    try:
        declared = int(cap.get(_cv2().CAP_PROP_FRAME_COUNT) or 0)
    except Exception:
        return
    if declared > 0 and n < declared - max(2, int(0.02 * declared)):
        import warnings

        warnings.warn(f"{name}: the video ended after {n} of its {declared} frames (corrupt or truncated "
                      f"file?); the frames read so far were used")


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
            f"program, or this process may not use it (try another --camera index)")
    if width:
        cap.set(cv2.CAP_PROP_FRAME_WIDTH, int(width))
    if height:
        cap.set(cv2.CAP_PROP_FRAME_HEIGHT, int(height))
    cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the newest frame, not a queue of old ones
    return cap


def is_finite_stream(url: str, cap) -> bool:
    """Whether the stream at ``url`` (opened as ``cap``) is a finite video:
    an http(s) URL whose path names a video file (``.mp4``, ``.avi`` ...) or
    whose stream reports a frame count, as a served file does (a live MJPEG,
    HLS or RTSP stream reports none). It ends when its last frame is read,
    with the frame timestamps of its position, like a local file; a live
    stream that stops is reconnected instead. RTSP and the other schemes are
    always live (their URLs often end in ``.mp4`` too)."""
    from urllib.parse import urlsplit

    if not url.lower().startswith(("http://", "https://")):
        return False
    try:
        if urlsplit(url).path.lower().endswith(VIDEO_SUFFIXES):
            return True
    except ValueError:
        pass
    try:
        n = float(cap.get(_cv2().CAP_PROP_FRAME_COUNT) or 0)
    except Exception:
        return False
    return bool(np.isfinite(n)) and n >= 1


def open_stream(url: str):
    """A network stream (RTSP, HTTP MJPEG/HLS, ...) through OpenCV."""
    cap = _cv2().VideoCapture(url)
    if not cap.isOpened():
        cap.release()
        raise SourceError(f"cannot open the stream {url} (unreachable, wrong address or credentials, or this "
                          f"OpenCV build has no FFmpeg/GStreamer support for it)")
    return cap


def reads_bgr(source) -> bool:
    """Whether :func:`frames` reads ``source`` itself with OpenCV (a camera,
    a stream URL, a video, an image or a folder of images), so its frames are
    BGR; an iterable of frames is the caller's, in whatever order it has."""
    return is_camera(source) or is_stream_url(source) or isinstance(source, (str, os.PathLike))


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
           reconnect: int = 2, reconnect_delay: float = 0.5, info: bool = False) -> Iterator[tuple]:
    """Frames from ``source``: an int (camera index) or a string of digits, a
    stream URL (``rtsp://``, ``http://`` ...), a video file, an image file, a
    folder of images, or an iterable of frames (arrays, or (array,
    timestamp_ms) pairs). Yields ``(frame, timestamp_ms)``, or with ``info``
    ``(frame, timestamp_ms, FrameInfo)`` (the file of each folder image)."""
    if info:
        return _with_info(source, width=width, height=height, fps=fps, reconnect=reconnect,
                          reconnect_delay=reconnect_delay)
    if is_stream_url(source):
        url = source.strip()
        cap = open_stream(url)
        if is_finite_stream(url, cap):  # a video file served over HTTP ends; reopening it would replay it
            return iter_capture(cap, url, live=False)
        return iter_capture(cap, url, live=True, reconnect=reconnect, reopen=lambda: open_stream(url),
                            reconnect_delay=reconnect_delay)
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


def _with_info(source, **kw):
    if isinstance(source, (str, os.PathLike)) and not is_camera(source) and not is_stream_url(source):
        p = Path(source)
        if p.is_dir():
            return iter_images(_folder_images(p), fps=kw["fps"], info=True)
        if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES:
            return iter_images([p], fps=kw["fps"], skip_unreadable=False, info=True)
    it = frames(source, **kw)

    def gen():
        for i, (frame, ts) in enumerate(it, 1):
            yield frame, ts, FrameInfo(index=i)

    return gen()
