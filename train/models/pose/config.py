"""The ``model`` section of a pose (landmarker) config (no TensorFlow here)."""
from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class PoseModelConfig:
    input_size: int = 64
    filters: list[int] = field(default_factory=lambda: [16, 32, 48, 64])
    use_skeleton: bool = True
    #: ``resnet`` (a full-resolution stem, then a residual block per level) or
    #: ``mobilenet`` (built for cost: a stride-2 stem, then ``blocks[i]`` inverted
    #: residual blocks of expansion ``expansion`` per level; the decoder's blocks are
    #: inverted residual too); either way level ``i`` has stride 2**i and ``filters[i]``
    encoder: str = "resnet"
    expansion: int = 4
    blocks: list[int] = field(default_factory=list)
    #: heatmap output strides supervised (e.g. [8, 4, 2] -> S/8, S/4, S/2) with their weights
    scales: list[int] = field(default_factory=lambda: [8, 4, 2])
    scale_weights: list[float] = field(default_factory=lambda: [0.25, 0.5, 1.0])
    output_stride: int = 2  # resolution of the exported averaged heatmaps (S / output_stride)
    attention: bool = False  # self-attention bottleneck (Zhang et al., MSAHP); not QAT-quantisable
    attention_heads: int = 2
    keypoints_output: bool = False  # add soft-argmax ``keypoints`` to the inference model
    sigma: float = 1.75  # Gaussian target sigma in pixels at the finest supervised scale
    heatmap_weight: float = 1.0
    coord_weight: float = 0.0  # integral (soft-argmax) L1 loss weight, normalised coordinates
    presence_weight: float = 0.5
    #: what the presence head reads: ``bottom`` (the deepest features, averaged) or
    #: ``scales`` (the features of every decoder scale, each averaged, side by side:
    #: texture and keypoint-structure evidence besides the coarse shape)
    presence_from: str = "bottom"
    handedness_weight: float = 0.3
    crop_scale: float = 1.4
    skeleton_thickness: float = 0.02
    # skeleton input noise at training (Kourbane & Genc, skeleton-aware heatmaps: the GT skeleton, noisy)
    skeleton_jitter: float = 0.03  # keypoint jitter, fraction of the crop size
    skeleton_dropout: float = 0.15  # probability of dropping each bone
    skeleton_blank: float = 0.1  # probability of an all-zero skeleton input
    box_jitter: float = 0.1  # crop centre jitter, fraction of the box side
    scale_jitter: float = 0.15  # crop size jitter (log-uniform +-)
    rotation: float = 20.0  # crop rotation range (degrees, +-)
    #: upright crops (MediaPipe-style): the crop is rotated so the wrist -> knuckles
    #: direction points up (from the previous frame's keypoints at runtime, or a first
    #: axis-aligned pass on detection frames); ``align_prob`` of the training crops are
    #: aligned (+- ``align_jitter`` degrees), the rest use ``rotation`` (so the first pass works)
    align: bool = False
    align_prob: float = 0.7
    align_jitter: float = 15.0
    #: fraction of the hand-free crops taken right beside a hand (forearm, sleeve,
    #: background next to it): hard negatives that teach the presence score to
    #: reject a detector's false box on an arm
    near_negatives: float = 0.0
    #: share of training crops squeezed along x or y by a factor in [1 - aspect_jitter, 1]
    #: (frames stretched to another aspect ratio, e.g. 16:9 video stored square)
    aspect_jitter: float = 0.0
    aspect_prob: float = 0.3
    #: with ``data.skeleton_bundle``: the share of training crops whose skeleton input is
    #: that detector's map (what the first pass on a detection sees) instead of the noisy
    #: rendered keypoints (what a tracked frame sees)
    detector_skeleton_prob: float = 0.5
    #: a head that reads the hand's angle in the crop (cos, sin of
    #: :func:`handsdk.keypoints.hand_rotation` of the crop's keypoints) from the
    #: deepest features: on a detection the runtime turns its second, upright crop by
    #: it instead of by the first pass's keypoints, which on an axis-aligned crop of
    #: a turned hand still tend to come out upright (the heatmaps' prior). The validation
    #: pool then also holds each hand's axis-aligned crop at its own angle in the frame
    #: (the runtime's first pass): ``val_rotation_ok30`` (share of hands whose angle, from
    #: the exported head or else from the keypoints, is within 30 degrees) is read there
    rotation_head: bool = False
    rotation_weight: float = 1.0
    #: mined non-hand boxes (``data.hard_negatives``: faces, mostly) are also scaled by
    #: exp(U(-x, x)) when jittered: a detector boxes a face anywhere from the eyes to
    #: the head and shoulders (0 draws nothing: pools as before)
    hard_scale_jitter: float = 0.0
    #: export the head's ``rotation`` output (the runtime then turns by it); false keeps
    #: the head as an auxiliary training task only (its loss still shapes the features)
    rotation_output: bool = True


def validate(m: PoseModelConfig) -> None:
    from handsdk.train.config import ConfigError

    if m.encoder not in ("resnet", "mobilenet"):
        raise ConfigError(f"model.encoder must be 'resnet' or 'mobilenet', got {m.encoder!r}")
    if m.blocks and (len(m.blocks) != len(m.filters) or min(m.blocks) < 0):
        raise ConfigError("model.blocks: one count >= 0 per level of model.filters")
    if m.expansion < 1:
        raise ConfigError("model.expansion must be >= 1")
    if m.presence_from not in ("bottom", "scales"):
        raise ConfigError(f"model.presence_from must be 'bottom' or 'scales', got {m.presence_from!r}")
    if len(m.scales) != len(m.scale_weights) or not m.scales:
        raise ConfigError("model.scales and model.scale_weights must have the same (non-zero) length")
    for s in m.scales:
        if s < 1 or s & (s - 1) or s > 2 ** (len(m.filters) - 1):
            raise ConfigError(f"model.scales: {s} must be a power of two <= 2**(len(filters)-1)")
    if not 0.0 <= m.hard_scale_jitter <= 1.5:
        raise ConfigError("model.hard_scale_jitter must be in [0, 1.5] (log scale)")
    if m.output_stride not in m.scales:
        raise ConfigError("model.output_stride must be one of model.scales")
    if not 0.0 <= m.detector_skeleton_prob <= 1.0:
        raise ConfigError("model.detector_skeleton_prob must be in [0, 1]")
    if m.rotation_weight < 0:
        raise ConfigError("model.rotation_weight must be >= 0")
    if m.input_size % (2 ** (len(m.filters) - 1)):
        raise ConfigError("model.input_size must be divisible by 2**(len(filters)-1)")
