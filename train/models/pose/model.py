"""Hand landmarker (Skeleton-aware multi-scale heatmap regression, Kourbane
& Genc; SenoritaHand, Wan 2019; Multihead self-attention hand pose
estimation, Zhang et al.): skeleton-aware multi-scale heatmap
regression with presence and handedness heads.

Training model: inputs ``image`` (S, S, 3) [+ ``skeleton`` (S, S, 1)];
outputs ``hm_s{stride}`` (S/stride, S/stride, 21) sigmoid per supervised
scale, ``presence`` (1,), ``handedness`` (1,) [+ ``coords`` (21, 2) when the
integral loss is on] [+ ``rotation`` (2,) with ``model.rotation_head``].

Exported (inference) model, from :func:`build_inference_model`: the same
inputs; outputs ``heatmaps`` (S/output_stride, S/output_stride, 21) = the
fixed weighted average of the scales resampled to one resolution,
``presence`` (1,), ``handedness`` (1,) = P(Right hand, image as given), and
optionally ``keypoints`` (21, 2) soft-argmax in [0, 1] of the crop and (with
``model.rotation_output``) ``rotation`` (2,) = (cos, sin) of the hand's angle
in the crop (:func:`handsdk.keypoints.hand_rotation` of its keypoints; not
normalised).
"""
from __future__ import annotations

from handsdk.train.tf import keras

from ..layers import (L, SoftArgmax, attention_bottleneck, conv_bn, fixed_weighted_average, inverted_residual,
                      res_block, up_block)

NUM_KEYPOINTS = 21


def build_pose(cfg) -> "keras.Model":
    """``cfg``: :class:`handsdk.train.config.PoseModelConfig`. Returns the
    multi-output training model."""
    s = int(cfg.input_size)
    f = list(cfg.filters)
    image = keras.Input((s, s, 3), name="image", dtype="float32")
    inputs = [image]
    x = image
    if cfg.use_skeleton:
        skel = keras.Input((s, s, 1), name="skeleton", dtype="float32")
        inputs.append(skel)
        x = L.Concatenate(name="image_skeleton")([image, skel])
    if getattr(cfg, "encoder", "resnet") == "mobilenet":
        feats, up = _mobilenet_encoder(x, cfg)
        x = feats[2 ** (len(f) - 1)]
    else:
        x = conv_bn(x, f[0], 3, 1, name="stem")
        feats = {1: x}
        for i in range(1, len(f)):
            x = res_block(x, f[i], strides=2, name=f"down{i}")
            feats[2 ** i] = x
        up = None
    bottom = 2 ** (len(f) - 1)
    if cfg.attention:
        x = attention_bottleneck(x, cfg.attention_heads, name="attn")
    heads = {bottom: x}
    for i in range(len(f) - 2, 0, -1):
        x = up_block(x, feats[2 ** i], f[i], name=f"up{i}", block=up)
        heads[2 ** i] = x
    outputs = {}
    for stride in sorted(cfg.scales, reverse=True):
        outputs[f"hm_s{stride}"] = L.Conv2D(
            NUM_KEYPOINTS, 1, activation="sigmoid", name=f"hm_s{stride}",
            bias_initializer=keras.initializers.Constant(-3.0))(heads[stride])
    g = L.GlobalAveragePooling2D(name="pool")(heads[bottom])
    pg = g
    if getattr(cfg, "presence_from", "bottom") == "scales":
        pg = L.Concatenate(name="presence_pool")(
            [g] + [L.GlobalAveragePooling2D(name=f"presence_pool_s{st}")(heads[st])
                   for st in sorted(heads, reverse=True) if st != bottom])
    for name in ("presence", "handedness"):
        h = L.Dense(32, activation="relu", name=f"{name}_fc")(pg if name == "presence" else g)
        outputs[name] = L.Dense(1, activation="sigmoid", name=name)(h)
    if cfg.rotation_head:  # where the hand points needs the layout, not a pooled vector
        r = L.Conv2D(16, 1, activation="relu", name="rotation_conv")(heads[bottom])
        r = L.Dense(32, activation="relu", name="rotation_fc")(L.Flatten(name="rotation_flat")(r))
        outputs["rotation"] = L.Dense(2, name="rotation")(r)
    if cfg.coord_weight > 0:
        avg = _average_heatmaps(outputs, cfg, name="avg_heatmaps")
        outputs["coords"] = SoftArgmax(power=2.0, name="coords")(avg)
    return keras.Model(inputs, outputs, name="hand_landmarker_train")


def _mobilenet_encoder(x, cfg):
    """An encoder built for cost (MobileNetV2): a stride-2 stem, then per
    level ``i`` (stride 2**i, ``filters[i]`` channels) ``blocks[i]`` inverted
    residual blocks, the first of each level >= 2 with stride 2. Returns the
    features by stride and the decoder's block (a 1x1 reduction of the
    concatenated skip, then an inverted residual block)."""
    f = list(cfg.filters)
    t = int(cfg.expansion)
    blocks = list(cfg.blocks) if cfg.blocks else [1] * len(f)
    x = conv_bn(x, f[0], 3, 2, name="stem")
    feats = {}
    for i in range(1, len(f)):
        for b in range(max(1, blocks[i])):
            stride = 2 if (b == 0 and i >= 2) else 1
            x = inverted_residual(x, f[i], stride, 1 if i == 1 and b == 0 else t,
                                  name=f"down{i}" if b == 0 else f"down{i}_{b}")
        feats[2 ** i] = x

    def up(y, filters, name=None):
        y = conv_bn(y, filters, 1, 1, name=f"{name}_reduce")
        return inverted_residual(y, filters, 1, t, name=name)

    return feats, up


def _average_heatmaps(outputs, cfg, name="heatmaps"):
    out_stride = int(cfg.output_stride)
    maps = []
    for stride in sorted(cfg.scales, reverse=True):
        t = outputs[f"hm_s{stride}"]
        if stride > out_stride:
            t = L.UpSampling2D(stride // out_stride, interpolation="bilinear", name=f"{name}_up{stride}")(t)
        elif stride < out_stride:
            t = L.AveragePooling2D(out_stride // stride, name=f"{name}_pool{stride}")(t)
        maps.append(t)
    weights = [dict(zip(cfg.scales, cfg.scale_weights))[st] for st in sorted(cfg.scales, reverse=True)]
    return fixed_weighted_average(maps, weights, name=name)


def build_inference_model(training_model, cfg) -> "keras.Model":
    """The exported interface (see the module doc) on the training model's
    layers (shared weights)."""
    outs = {n: training_model.get_layer(n).output for n in
            [f"hm_s{st}" for st in cfg.scales] + ["presence", "handedness"]}
    hm = _average_heatmaps(outs, cfg, name="heatmaps")
    outputs = {"heatmaps": hm, "presence": outs["presence"], "handedness": outs["handedness"]}
    if getattr(cfg, "rotation_head", False) and getattr(cfg, "rotation_output", True):
        outputs["rotation"] = training_model.get_layer("rotation").output
    if cfg.keypoints_output:
        outputs["keypoints"] = SoftArgmax(power=2.0, name="keypoints")(hm)
    return keras.Model(training_model.inputs, outputs, name="hand_landmarker")


def pose_metadata(model, cfg) -> dict:
    m = cfg.model if hasattr(cfg, "model") else cfg
    s = int(m.input_size)
    hs = s // int(m.output_stride)
    inputs = {"image": {"shape": [1, s, s, 3], "dtype": "float32", "range": [0.0, 1.0], "color": "RGB",
                        "layout": "NHWC", "normalization": {"mean": [0.0, 0.0, 0.0], "std": [255.0, 255.0, 255.0]}}}
    if m.use_skeleton:
        inputs["skeleton"] = {"shape": [1, s, s, 1], "dtype": "float32", "range": [0.0, 1.0]}
    outputs = {"heatmaps": {"shape": [1, hs, hs, 21], "dtype": "float32"},
               "presence": {"shape": [1, 1], "dtype": "float32"},
               "handedness": {"shape": [1, 1], "dtype": "float32"}}
    if m.keypoints_output:
        outputs["keypoints"] = {"shape": [1, 21, 2], "dtype": "float32"}
    exports_rotation = m.rotation_head and m.rotation_output
    if exports_rotation:
        outputs["rotation"] = {"shape": [1, 2], "dtype": "float32"}
    decoding = {"type": "heatmaps", "crop_scale": m.crop_scale, "align": bool(m.align),
                "skeleton_thickness": m.skeleton_thickness,
                "heatmap_stride": int(m.output_stride), "scales": list(m.scales),
                "scale_weights": list(m.scale_weights), "handedness": "P(Right), image as given"}
    if exports_rotation:
        decoding["rotation"] = "cos, sin of the hand's angle in the crop (hand_rotation)"
    return {
        "role": "landmarker",
        "inputs": inputs,
        "outputs": outputs,
        "input_size": [s, s],
        "heatmap_size": [hs, hs],
        "decoding": decoding,
        "quantizable": not m.attention,
        "params": int(model.count_params()),
    }


def compile_pose(model, cfg, optimizer):
    """Per-scale heatmap losses, presence and handedness BCE (masked), the
    optional integral-coordinate L1; handedness accuracy on known hands."""
    from handsdk.train.models import losses as LS

    m = cfg.model
    finest = min(m.scales)
    loss, weights = {}, {}
    for st, wt in zip(m.scales, m.scale_weights):
        sigma = max(m.sigma * finest / st, 1.0)
        loss[f"hm_s{st}"] = LS.heatmap_loss(sigma, m.heatmap_weight)
        weights[f"hm_s{st}"] = float(wt)
    loss["presence"] = LS.masked_bce()
    weights["presence"] = m.presence_weight
    loss["handedness"] = LS.masked_bce()
    weights["handedness"] = m.handedness_weight
    if m.rotation_head:
        loss["rotation"] = LS.rotation_loss()
        weights["rotation"] = m.rotation_weight
    if m.coord_weight > 0:
        loss["coords"] = LS.coord_l1_loss()
        weights["coords"] = m.coord_weight
    model.compile(optimizer, loss=loss, loss_weights=weights,
                  metrics={"handedness": [LS.binary_accuracy_known]})
    return model


def export_pose(model, cfg):
    """The exported (inference) model of a training model."""
    return build_inference_model(model, cfg.model)
