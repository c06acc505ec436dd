"""Frames in, crops out: input validation, colour conversion, letterboxing and
square hand crops. Shared by the runtime and by training (so that training
crops hands exactly the way the runtime does)."""
from __future__ import annotations

import numpy as np

from .checks import check_choice

COLOR_ORDERS = ("BGR", "RGB")


def _cv2():
    import cv2  # OpenCV only where frames are touched

    return cv2


def to_rgb(image, color_order: str = "BGR") -> np.ndarray:
    """Validate a frame and return it as contiguous HxWx3 uint8 RGB.

    Accepts HxW (grayscale), HxWx1, HxWx3 (``color_order``) and HxWx4 (BGRA or
    RGBA) arrays of uint8; float arrays in [0, 1] (or, when any value is above
    1, in [0, 255]) are converted; floats outside [0, 255] raise. Integer
    arrays (:func:`_integer_to_uint8`): uint16 holds 16-bit values (scaled to
    8 bits); any other integer type holds 8-bit values when they all lie in
    [0, 255] and 16-bit values (scaled like uint16) when they lie in
    [0, 65535]; negative or larger values raise. Raises ``ValueError`` for
    anything that is not an image.
    """
    if color_order not in COLOR_ORDERS:  # (per frame: the membership test, then the shared check's message)
        check_choice("color_order", color_order, COLOR_ORDERS)
    if image is None:
        raise ValueError("image is None (a camera or file read that failed returns None)")
    if not isinstance(image, np.ndarray):
        try:
            image = np.asarray(image)
        except Exception as e:  # pragma: no cover
            raise ValueError(f"not an image: {type(image).__name__}") from e
    if image.dtype == object or image.dtype.kind not in "uif b":
        raise ValueError(f"not an image: array of dtype {image.dtype}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise ValueError(
            f"not an image: expected HxW, HxWx1, HxWx3 or HxWx4, got shape {image.shape}")
    if image.shape[0] == 0 or image.shape[1] == 0:
        raise ValueError(f"empty image of shape {image.shape}")
    if image.shape[0] < 8 or image.shape[1] < 8:
        raise ValueError(f"image too small ({image.shape[1]}x{image.shape[0]}): at least 8x8 pixels")
    if image.dtype != np.uint8:
        if image.dtype.kind == "f":
            if not np.isfinite(image).all():
                raise ValueError("image contains NaN or infinite values")
            lo, hi = float(image.min()), float(image.max())
            if lo < -1e-3 or hi > 255.0 + 1e-3:
                raise ValueError(f"float image values must lie in [0, 1] or [0, 255], got {lo:g}..{hi:g} "
                                 f"(scale it, or pass uint8)")
            # [0, 1] (the usual float convention) or [0, 255] (uint8 frames cast to float)
            scale = 255.0 if hi <= 1.0 + 1e-3 else 1.0
            image = np.clip(image * scale + 0.5, 0, 255).astype(np.uint8)
        elif image.dtype == np.bool_:
            image = image.astype(np.uint8) * 255
        else:
            image = _integer_to_uint8(image)
    cv2 = _cv2()
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2RGB)
    if image.shape[2] == 4:
        code = cv2.COLOR_BGRA2RGB if color_order == "BGR" else cv2.COLOR_RGBA2RGB
        return cv2.cvtColor(np.ascontiguousarray(image), code)
    if color_order == "BGR":
        return cv2.cvtColor(np.ascontiguousarray(image), cv2.COLOR_BGR2RGB)
    return np.ascontiguousarray(image)


def _integer_to_uint8(image: np.ndarray) -> np.ndarray:
    """An integer frame as uint8, the same way whatever its dtype: values
    that fit 8 bits are kept (an int32 or int64 frame made from a uint8 one),
    16-bit values are scaled by 1/256 (a uint16 frame always is: its type
    says 16 bits, as an int32 frame of 16-bit values does by its range);
    negative values or values above 65535 are no image this knows how to
    read (a ValueError saying so, never silently clipped to black or white)."""
    if image.dtype == np.uint16:
        return (image >> 8).astype(np.uint8)
    lo, hi = int(image.min()), int(image.max())
    if lo < 0 or hi > 65535:
        raise ValueError(f"integer image values must lie in [0, 255] (8-bit) or [0, 65535] (16-bit), got "
                         f"{lo}..{hi} (scale it, or pass uint8)")
    if hi <= 255:
        return image.astype(np.uint8)
    return (image >> 8).astype(np.uint8)


def letterbox_matrix(src_hw, dst_hw) -> np.ndarray:
    """2x3 affine matrix mapping a frame of ``src_hw`` into ``dst_hw`` keeping
    the aspect ratio (centred, padded)."""
    sh, sw = src_hw
    dh, dw = dst_hw
    s = min(dw / sw, dh / sh)
    tx = (dw - sw * s) / 2.0
    ty = (dh - sh * s) / 2.0
    return np.array([[s, 0.0, tx], [0.0, s, ty]], np.float64)


def invert_affine(m) -> np.ndarray:
    m = np.asarray(m, np.float64)
    a = np.vstack([m, [0.0, 0.0, 1.0]])
    return np.linalg.inv(a)[:2]


def apply_affine(m, points) -> np.ndarray:
    """Apply a 2x3 affine to (..., 2+) points (extra columns are kept)."""
    p = np.asarray(points, np.float64)
    out = p.copy()
    xy = p[..., :2]
    out[..., 0] = xy[..., 0] * m[0, 0] + xy[..., 1] * m[0, 1] + m[0, 2]
    out[..., 1] = xy[..., 0] * m[1, 0] + xy[..., 1] * m[1, 1] + m[1, 2]
    return out


def pixel_center_matrix(m) -> np.ndarray:
    """The matrix OpenCV needs for ``m``: handsdk's continuous coordinates put
    pixel j over [j, j+1) (centre j + 0.5, as MediaPipe's keypoints), OpenCV
    puts pixel centres on integers, so M' (p) = M (p + 0.5) - 0.5."""
    m = np.asarray(m, np.float64)
    out = m.copy()
    out[:, 2] = m[:, 2] + m[:, :2].sum(axis=1) * 0.5 - 0.5
    return out


def warp(image, m, dst_hw, *, border_value=0, interpolation=None) -> np.ndarray:
    """Warp ``image`` by the 2x3 affine ``m`` (frame -> destination, in
    continuous pixel coordinates) into an image of ``dst_hw``."""
    cv2 = _cv2()
    interp = cv2.INTER_LINEAR if interpolation is None else interpolation
    return cv2.warpAffine(image, pixel_center_matrix(m), (int(dst_hw[1]), int(dst_hw[0])),
                          flags=interp, borderMode=cv2.BORDER_CONSTANT,
                          borderValue=border_value)


def square_box(box, scale: float = 1.0) -> np.ndarray:
    """Square box (x0, y0, x1, y1) with the same centre as ``box`` and side
    ``scale * max(w, h)``."""
    x0, y0, x1, y1 = [float(v) for v in box]
    cx, cy = (x0 + x1) / 2.0, (y0 + y1) / 2.0
    side = max(x1 - x0, y1 - y0, 1.0) * scale
    return np.array([cx - side / 2, cy - side / 2, cx + side / 2, cy + side / 2], np.float32)


def crop_matrix(box, size: int, *, scale: float = 1.0, rotation: float = 0.0) -> np.ndarray:
    """2x3 affine from frame pixels to a ``size`` x ``size`` crop of the square
    box around ``box`` enlarged by ``scale``, rotated by ``rotation`` radians
    (counter-clockwise in the image) about its centre. This is the one crop
    rule of the runtime and of training."""
    sq = square_box(box, scale)
    cx, cy = (sq[0] + sq[2]) / 2.0, (sq[1] + sq[3]) / 2.0
    side = float(sq[2] - sq[0])
    s = size / side
    c, si = np.cos(rotation), np.sin(rotation)
    # frame -> centred -> rotate -> scale -> crop centre
    m = np.array([[c * s, si * s, 0.0], [-si * s, c * s, 0.0]], np.float64)
    m[:, 2] = [size / 2.0, size / 2.0]
    m[0, 2] -= m[0, 0] * cx + m[0, 1] * cy
    m[1, 2] -= m[1, 0] * cx + m[1, 1] * cy
    return m


def crop_hand(image, box, size: int, *, scale: float = 1.0, rotation: float = 0.0,
              border_value=0):
    """Crop a square hand patch. Returns (crop, matrix frame->crop)."""
    m = crop_matrix(box, size, scale=scale, rotation=rotation)
    return warp(image, m, (size, size), border_value=border_value), m
