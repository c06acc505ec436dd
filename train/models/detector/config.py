"""The ``model`` section of a detector config (no TensorFlow here)."""
from __future__ import annotations

from dataclasses import dataclass, field

from handsdk.decode import DetectorDecoding, check_split_aspect, check_zoom_above


@dataclass
class DetectorModelConfig:
    input_height: int = 128
    input_width: int = 128
    filters: list[int] = field(default_factory=lambda: [8, 16, 32, 64])
    stem_stride: int = 2  # 2: the U-Net runs at half resolution, output upsampled back
    skeleton_thickness: float = 0.02  # render_skeleton thickness of the targets
    l1_weight: float = 0.4
    dice_weight: float = 0.6
    # decoding hints (written into the metadata / manifest); defaults: handsdk.decode.DetectorDecoding
    threshold: float = DetectorDecoding.threshold
    min_mass: float = DetectorDecoding.min_mass
    min_size_frac: float = DetectorDecoding.min_size_frac
    pad: float = DetectorDecoding.pad
    zoom_above: float = DetectorDecoding.zoom_above  # runtime: boxes above it get a zoomed second look
    split_aspect: float = DetectorDecoding.split_aspect  # runtime: boxes this wide get their halves tried
    #: a second output, ``anchors`` (H/stem_stride, W/stem_stride, 2): Gaussian peaks at
    #: each hand's wrist and palm top (:data:`handsdk.decode.ANCHOR_CHANNELS`), from
    #: which the runtime turns a new hand's first and only landmarker crop upright
    #: (:func:`handsdk.decode.anchor_rotation`), as MediaPipe's palm detector does
    anchors: bool = False
    anchor_sigma: float = 1.5  # the peaks' sigma, in pixels of the anchor map
    anchor_weight: float = 0.5  # its loss weight beside the skeleton's
    anchor_min_peak: float = 0.3  # decoding: a weaker peak gives no angle


def validate(m: DetectorModelConfig) -> None:
    from handsdk.train.config import ConfigError

    if m.input_height % 8 or m.input_width % 8:
        raise ConfigError("model.input_height and model.input_width must be multiples of 8")
    try:
        check_zoom_above(m.zoom_above, "model.zoom_above")
        check_split_aspect(m.split_aspect, "model.split_aspect")
    except ValueError as e:
        raise ConfigError(str(e)) from None
    if m.anchor_sigma <= 0 or m.anchor_weight < 0 or not 0.0 < m.anchor_min_peak < 1.0:
        raise ConfigError("model.anchor_sigma must be > 0, model.anchor_weight >= 0 and "
                          "model.anchor_min_peak in (0, 1)")
    if m.stem_stride not in (1, 2):
        raise ConfigError("model.stem_stride must be 1 or 2")
    if m.input_height % (m.stem_stride * 2 ** (len(m.filters) - 1)) or \
            m.input_width % (m.stem_stride * 2 ** (len(m.filters) - 1)):
        raise ConfigError("the input size must be divisible by stem_stride * 2**(len(filters)-1)")
