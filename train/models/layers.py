"""Building blocks of the three models (tf_keras, QAT-friendly: Conv+BN+ReLU,
Add/Concatenate, UpSampling2D; the only custom layer, :class:`SoftArgmax`,
sits at the very end of the landmarker, outside the quantised path)."""
from __future__ import annotations

from handsdk.train.tf import keras, tf

L = keras.layers


def conv_bn(x, filters, kernel=3, strides=1, *, act=True, name=None):
    x = L.Conv2D(filters, kernel, strides=strides, padding="same", use_bias=False,
                 name=None if name is None else name + "_conv")(x)
    x = L.BatchNormalization(name=None if name is None else name + "_bn")(x)
    if act:
        x = L.ReLU(name=None if name is None else name + "_relu")(x)
    return x


def res_block(x, filters, strides=1, *, name=None):
    """ResNet basic block (two 3x3 Conv+BN, projection shortcut when the shape
    changes)."""
    n = (lambda s: None) if name is None else (lambda s: f"{name}_{s}")
    y = conv_bn(x, filters, 3, strides, name=n("a"))
    y = conv_bn(y, filters, 3, 1, act=False, name=n("b"))
    if strides != 1 or x.shape[-1] != filters:
        x = conv_bn(x, filters, 1, strides, act=False, name=n("proj"))
    y = L.Add(name=n("add"))([x, y])
    return L.ReLU(name=n("out"))(y)


def inverted_residual(x, filters, strides=1, expansion=4, *, name=None):
    """MobileNetV2's inverted residual block: 1x1 expansion (Conv+BN+ReLU), 3x3
    depthwise (stride 1 or 2, BN+ReLU), linear 1x1 projection (Conv+BN), and
    the identity shortcut when the shape is kept. QAT-friendly (no Multiply)."""
    n = (lambda s: None) if name is None else (lambda s: f"{name}_{s}")
    cin = int(x.shape[-1])
    y = x
    if expansion != 1:
        y = conv_bn(y, cin * int(expansion), 1, 1, name=n("expand"))
    y = L.DepthwiseConv2D(3, strides=strides, padding="same", use_bias=False, name=n("dw"))(y)
    y = L.BatchNormalization(name=n("dw_bn"))(y)
    y = L.ReLU(name=n("dw_relu"))(y)
    y = conv_bn(y, filters, 1, 1, act=False, name=n("project"))
    if strides == 1 and cin == filters:
        y = L.Add(name=n("add"))([x, y])
    return y


def up_block(x, skip, filters, *, name=None, block=None):
    """x2 nearest upsampling, concatenation with the skip, then ``block(x,
    filters, name=...)`` (default: :func:`res_block`)."""
    n = (lambda s: None) if name is None else (lambda s: f"{name}_{s}")
    x = L.UpSampling2D(2, interpolation="nearest", name=n("up"))(x)
    if skip is not None:
        x = L.Concatenate(name=n("cat"))([x, skip])
    return (block or res_block)(x, filters, name=n("res"))


def attention_bottleneck(x, heads=2, *, name="attn"):
    """Multi-head self-attention over the bottleneck positions with a residual
    connection (Multihead self-attention hand pose estimation, Zhang et al.).
    Not quantisable with tfmot QAT (MultiHeadAttention,
    LayerNormalization): export this ablation as float or post-training
    quantised."""
    h, w, c = x.shape[1], x.shape[2], x.shape[3]
    t = L.Reshape((h * w, c), name=f"{name}_tokens")(x)
    t2 = L.LayerNormalization(name=f"{name}_ln")(t)
    a = L.MultiHeadAttention(num_heads=heads, key_dim=max(c // heads, 8), name=f"{name}_mha")(t2, t2)
    t = L.Add(name=f"{name}_add")([t, a])
    return L.Reshape((h, w, c), name=f"{name}_map")(t)


@keras.utils.register_keras_serializable(package="handsdk")
class SoftArgmax(keras.layers.Layer):
    """Integral regression (SenoritaHand, Wan 2019) on non-negative heatmaps: the expected
    pixel position under ``heatmap / sum(heatmap)`` (optionally sharpened by a
    power), in coordinates normalised to [0, 1] of the map (pixel j covers
    [j, j+1) / w). Input (B, h, w, K) -> (B, K, 2)."""

    def __init__(self, power: float = 1.0, **kw):
        super().__init__(**kw)
        self.power = float(power)

    def call(self, hm):
        hm = tf.nn.relu(tf.cast(hm, tf.float32))
        if self.power != 1.0:
            hm = tf.pow(hm + 1e-12, self.power)
        h = tf.shape(hm)[1]
        w = tf.shape(hm)[2]
        xs = (tf.cast(tf.range(w), tf.float32) + 0.5) / tf.cast(w, tf.float32)
        ys = (tf.cast(tf.range(h), tf.float32) + 0.5) / tf.cast(h, tf.float32)
        total = tf.reduce_sum(hm, axis=[1, 2]) + 1e-6  # (B, K)
        x = tf.reduce_sum(tf.reduce_sum(hm, axis=1) * xs[None, :, None], axis=1) / total
        y = tf.reduce_sum(tf.reduce_sum(hm, axis=2) * ys[None, :, None], axis=1) / total
        return tf.stack([x, y], axis=-1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], input_shape[-1], 2)

    def get_config(self):
        return {**super().get_config(), "power": self.power}


def fixed_weighted_average(maps, weights, *, name="heatmaps"):
    """Weighted average of same-shaped K-channel maps as one 1x1 convolution
    with fixed (non-trainable) weights over their concatenation: quantisable,
    no Multiply/Lambda layer."""
    import numpy as np

    k = maps[0].shape[-1]
    w = np.asarray(weights, np.float32)
    w = w / w.sum()
    if len(maps) == 1:
        x = maps[0]
    else:
        x = L.Concatenate(name=f"{name}_stack")(maps)
    kernel = np.zeros((1, 1, k * len(maps), k), np.float32)
    for i, wi in enumerate(w):
        kernel[0, 0, i * k:(i + 1) * k, :] = np.eye(k, dtype=np.float32) * wi
    conv = L.Conv2D(k, 1, use_bias=False, trainable=False, name=name, kernel_initializer="zeros")
    y = conv(x)
    conv.set_weights([kernel])  # fixed weights (saved with the model, not an initializer config)
    return y


def multiply_adds(model) -> int:
    """Multiply-adds of one sample through ``model``'s convolutions and dense
    layers (the cost that the encoder choice changes; pooling, additions and
    resampling are left out)."""
    total = 0
    for layer in model.layers:
        if isinstance(layer, (L.DepthwiseConv2D, L.Conv2D, L.Dense)):
            out = layer.output.shape
            spatial = 1
            for d in out[1:-1]:
                spatial *= int(d)
            k = layer.weights[0].shape  # (kernel) Conv2D (kh, kw, cin, cout); depthwise (kh, kw, cin, mult); Dense (cin, cout)
            per = 1
            for d in k:
                per *= int(d)
            total += spatial * per
    return int(total)
