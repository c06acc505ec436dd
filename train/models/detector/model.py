"""Hand detector (Skeleton-aware multi-scale heatmap regression, Kourbane &
Genc; Hand segmentation and hand pose estimation, Boehringer & Hartmann
2019): a small U-Net that predicts the hand
skeleton map; boxes come from :func:`handsdk.decode.skeleton_to_boxes`.

Exported contract: input ``image`` (H, W, 3) float32 RGB in [0, 1]; output
``skeleton`` (H, W, 1) sigmoid.
"""
from __future__ import annotations

from handsdk.decode import ANCHOR_CHANNELS
from handsdk.train.tf import keras

from ..layers import L, conv_bn


def build_detector(cfg) -> "keras.Model":
    """``cfg``: :class:`handsdk.train.config.DetectorModelConfig`."""
    h, w = int(cfg.input_height), int(cfg.input_width)
    inp = keras.Input((h, w, 3), name="image", dtype="float32")
    x = conv_bn(inp, cfg.filters[0], 3, cfg.stem_stride, name="stem")
    skips = []
    for i, f in enumerate(cfg.filters):
        if i > 0:
            x = keras.layers.MaxPooling2D(2, name=f"down{i}_pool")(x)
        x = conv_bn(x, f, name=f"down{i}_a")
        x = conv_bn(x, f, name=f"down{i}_b")
        skips.append(x)
    for i in range(len(cfg.filters) - 2, -1, -1):
        f = cfg.filters[i]
        x = L.UpSampling2D(2, interpolation="nearest", name=f"up{i}_up")(x)
        x = L.Concatenate(name=f"up{i}_cat")([x, skips[i]])
        x = conv_bn(x, f, name=f"up{i}_a")
        x = conv_bn(x, f, name=f"up{i}_b")
    outputs = {}
    if getattr(cfg, "anchors", False):  # wrist and palm-top peaks, at the decoder's last resolution
        a = conv_bn(x, max(cfg.filters[0], 8), name="anchors_head")
        outputs["anchors"] = L.Conv2D(2, 1, activation="sigmoid", name="anchors",
                                      bias_initializer=keras.initializers.Constant(-4.0))(a)
    if cfg.stem_stride == 2:
        x = L.UpSampling2D(2, interpolation="bilinear", name="head_up")(x)
        x = conv_bn(x, max(cfg.filters[0] // 2, 4), name="head")
    out = L.Conv2D(1, 1, activation="sigmoid", name="skeleton",
                   bias_initializer=keras.initializers.Constant(-2.0))(x)
    if not outputs:
        return keras.Model(inp, out, name="hand_detector")
    return keras.Model(inp, {"skeleton": out, **outputs}, name="hand_detector")


def detector_metadata(model, cfg) -> dict:
    """What the bundle manifest needs for the detector."""
    m = cfg.model if hasattr(cfg, "model") else cfg
    return {
        "role": "detector",
        "inputs": {"image": {"shape": [1, m.input_height, m.input_width, 3], "dtype": "float32",
                             "range": [0.0, 1.0], "color": "RGB", "layout": "NHWC",
                             "normalization": {"mean": [0.0, 0.0, 0.0], "std": [255.0, 255.0, 255.0]}}},
        "outputs": {"skeleton": {"shape": [1, m.input_height, m.input_width, 1], "dtype": "float32"},
                    **({"anchors": {"shape": [1, m.input_height // m.stem_stride, m.input_width // m.stem_stride,
                                              2], "dtype": "float32"}} if getattr(m, "anchors", False) else {})},
        "input_size": [m.input_height, m.input_width],
        "decoding": {"type": "skeleton", "threshold": m.threshold, "min_mass": m.min_mass,
                     "min_size_frac": m.min_size_frac, "pad": m.pad, "zoom_above": m.zoom_above,
                     "split_aspect": m.split_aspect,
                     "skeleton_thickness": m.skeleton_thickness, "letterbox": True,
                     **({"anchors": list(ANCHOR_CHANNELS), "anchor_min_peak": m.anchor_min_peak} if getattr(m, "anchors", False) else {})},
        "params": int(model.count_params()),
    }


def compile_detector(model, cfg, optimizer):
    """The skeleton-map loss (L1 + Dice)."""
    from handsdk.train.models import losses as LS

    m = cfg.model
    loss = {"skeleton": LS.skeleton_loss(m.l1_weight, m.dice_weight)}
    weights = {"skeleton": 1.0}
    if getattr(m, "anchors", False):
        loss["anchors"] = LS.heatmap_loss(m.anchor_sigma)
        weights["anchors"] = m.anchor_weight
    model.compile(optimizer, loss=loss, loss_weights=weights)
    return model
