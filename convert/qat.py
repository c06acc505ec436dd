"""Quantisation-aware fine-tuning with tensorflow-model-optimization.

Layers tfmot can quantise are annotated; the rest (custom layers such as
SoftArgmax, attention, standalone normalisation, Resizing, Multiply) stay
float and are listed in the result. Fine-tuning is self-distillation: the
quantisation-aware copy learns to reproduce the float model's outputs on the
calibration inputs, so no labels are needed and any trained model can be
fine-tuned the same way.
"""
from __future__ import annotations

from typing import Callable

import numpy as np


def _tfmot():
    try:
        import tensorflow_model_optimization as tfmot
    except ImportError as e:
        raise ImportError("qat-int8 needs tensorflow-model-optimization (the train extra)") from e
    return tfmot


def annotate(model):
    """Clone ``model`` with every quantisable layer annotated. Returns
    (annotated model, names of layers left float)."""
    from handsdk.train.tf import keras

    tfmot = _tfmot()
    qk = tfmot.quantization.keras
    registry = qk.default_8bit.Default8BitQuantizeRegistry()
    left_float = []
    layers = model.layers

    def follows_conv(layer):
        # BatchNormalization right after a convolution is folded by tfmot's transforms
        try:
            inbound = layer._inbound_nodes[0].inbound_layers
        except Exception:
            return False
        inbound = inbound if isinstance(inbound, list) else [inbound]
        return len(inbound) == 1 and isinstance(inbound[0], (keras.layers.Conv2D, keras.layers.DepthwiseConv2D,
                                                             keras.layers.Dense))

    plan = {}
    for layer in layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.layers.BatchNormalization):
            plan[layer.name] = follows_conv(layer)
        else:
            plan[layer.name] = registry.supports(layer)
        if not plan[layer.name]:
            left_float.append(f"{layer.name} ({layer.__class__.__name__})")

    def clone(layer):
        cfg = layer.get_config()
        if isinstance(layer, keras.layers.BatchNormalization):
            # frozen statistics: a BatchNorm on a small fine-tuning batch would
            # otherwise drift from the float model it is distilled from
            cfg["trainable"] = False
        new = layer.__class__.from_config(cfg)
        return qk.quantize_annotate_layer(new) if plan.get(layer.name) else new

    annotated = keras.models.clone_model(model, clone_function=clone)
    annotated.set_weights(model.get_weights())
    return annotated, left_float


def _outputs(y, names) -> list:
    """A model's outputs as a list in ``names`` order (Keras returns a dict
    for models with named dict outputs, a list or a tensor otherwise)."""
    if isinstance(y, dict):
        return [y[n] for n in names]
    return list(y) if isinstance(y, (list, tuple)) else [y]


def quantization_aware_finetune(model, inputs: list[dict], *, steps: int = 200, learning_rate: float = 1e-4,
                                batch_size: int = 16, progress: Callable[[str], None] = print):
    """Fine-tune a quantisation-aware copy of ``model`` to match ``model`` on
    ``inputs`` (a list of {name: batch-1 array}). Returns (qat model, info)."""
    from handsdk.train.tf import keras, tf

    tfmot = _tfmot()
    annotated, left_float = annotate(model)
    with tfmot.quantization.keras.quantize_scope(_custom_objects()):
        qat = tfmot.quantization.keras.quantize_apply(annotated)
    names = list(inputs[0])
    x = {k: np.concatenate([d[k] for d in inputs]) for k in names}
    teacher = model.predict(x if len(names) > 1 else x[names[0]], verbose=0, batch_size=32)
    teacher = _outputs(teacher, model.output_names)
    n = len(inputs)
    opt = keras.optimizers.Adam(learning_rate)
    rng = np.random.default_rng(0)
    before = None
    for step in range(1, steps + 1):
        idx = rng.integers(0, n, min(batch_size, n))
        xb = {k: tf.constant(v[idx]) for k, v in x.items()}
        with tf.GradientTape() as tape:
            out = qat(xb if len(names) > 1 else xb[names[0]], training=True)
            out = _outputs(out, model.output_names)
            loss = tf.add_n([tf.reduce_mean(tf.square(o - t[idx])) for o, t in zip(out, teacher)])
        grads = tape.gradient(loss, qat.trainable_variables)
        opt.apply_gradients([(g, v) for g, v in zip(grads, qat.trainable_variables) if g is not None])
        if before is None:
            before = float(loss)
        if step % max(1, steps // 4) == 0 or step == steps:
            progress(f"    qat step {step}/{steps}: distillation loss {float(loss):.5f}")
    return qat, {"qat_left_float": left_float, "qat_steps": steps, "qat_loss_first": before,
                 "qat_loss_last": float(loss)}


def _custom_objects() -> dict:
    try:
        from handsdk.train.models import layers

        return {k: v for k, v in vars(layers).items() if isinstance(v, type)}
    except Exception:
        return {}


def convert_trained(trained, fmt, calibration=None, *, qat_steps: int = 200, progress: Callable[[str], None] = print):
    """The converter of the table's ``qat-int8`` row: quantisation-aware
    fine-tuning on the calibration inputs, then full-integer TFLite
    (``fmt.mode``) under the float model's input/output names. Returns
    (bytes, info listing the layers left float)."""
    from .api import _calibration_progress
    from .tflite import _names, keras_to_tflite

    model, info = quantization_aware_finetune(trained.model, calibration, steps=qat_steps, progress=progress)
    rep = (lambda: _calibration_progress(calibration, trained.role, progress)) if fmt.mode == "int8" else None
    return keras_to_tflite(model, fmt.mode, rep, names=_names(trained.model)), info
