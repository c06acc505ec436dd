"""Keras -> TFLite through a SavedModel with a fixed batch of 1.

Inputs and outputs keep the Keras layer names (``image``, ``skeleton``,
``heatmaps``, ``presence`` ...) as the TFLite signature's names, which the
runtime reads through the interpreter's signature runner (the flat output
order of a converted model is not stable).
"""
from __future__ import annotations

import os
import tempfile
from typing import Callable, Iterable

import numpy as np

#: post-training quantisation modes handled here (qat-int8 goes through
#: handsdk.convert.qat first, then "int8").
PTQ_MODES = ("fp32", "fp16", "dynamic", "int8")


def _names(model):
    ins = [t.name.split(":")[0] for t in model.inputs]
    ins = [n.split("/")[0] for n in ins]
    outs = list(model.output_names)
    return ins, outs


def export_saved_model(model, directory: str, names=None) -> str:
    """Write ``model`` as a SavedModel whose serving signature has batch 1 and
    named inputs/outputs (``names`` = (input names, output names) overrides the
    layer names, e.g. for a quantisation-aware copy whose layers are wrapped).
    Returns the directory."""
    from handsdk.train.tf import tf

    in_names, out_names = names or _names(model)
    specs = [tf.TensorSpec([1] + list(t.shape[1:]), t.dtype, name=n)
             for t, n in zip(model.inputs, in_names)]

    @tf.function(input_signature=specs)
    def serve(*args):
        outs = model(list(args) if len(args) > 1 else args[0], training=False)
        if isinstance(outs, dict):
            return {k: outs[k] for k in out_names}
        if not isinstance(outs, (list, tuple)):
            outs = [outs]
        return dict(zip(out_names, outs))

    module = tf.Module()
    module.model = model
    module.serve = serve
    tf.saved_model.save(module, directory, signatures={"serving_default": serve.get_concrete_function()})
    return directory


def keras_to_tflite(model, quantization: str = "fp32",
                    representative_data: Callable[[], Iterable[dict]] | None = None,
                    int8_io: bool = True, names=None) -> bytes:
    """Convert a tf_keras model to TFLite bytes.

    quantization: ``fp32``, ``fp16`` (fp16 weights), ``dynamic`` (int8 weights,
    float activations) or ``int8`` (full integer; needs ``representative_data``,
    a callable returning an iterable of {input name: float32 array with batch 1};
    with ``int8_io`` the model's inputs and outputs are int8 too, else float).
    """
    from handsdk.train.tf import tf

    if quantization not in PTQ_MODES:
        raise ValueError(f"quantization must be one of {PTQ_MODES}, got {quantization!r}")
    with tempfile.TemporaryDirectory(prefix="handsdk_sm_") as tmp:
        path = export_saved_model(model, os.path.join(tmp, "saved_model"), names)
        conv = tf.lite.TFLiteConverter.from_saved_model(path, signature_keys=["serving_default"])
        if quantization == "fp16":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.target_spec.supported_types = [tf.float16]
        elif quantization == "dynamic":
            conv.optimizations = [tf.lite.Optimize.DEFAULT]
        elif quantization == "int8":
            if representative_data is None:
                raise ValueError("int8 quantisation needs representative data (calibration samples)")
            in_names = (names or _names(model))[0]

            def gen():
                for sample in representative_data():
                    if not isinstance(sample, dict):
                        sample = {in_names[0]: sample}
                    yield {k: np.asarray(v, np.float32) for k, v in sample.items()}

            conv.optimizations = [tf.lite.Optimize.DEFAULT]
            conv.representative_dataset = gen
            conv.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
            if int8_io:
                conv.inference_input_type = tf.int8
                conv.inference_output_type = tf.int8
        return conv.convert()


def convert_trained(trained, fmt, calibration=None, *, qat_steps: int = 200, progress=print):
    """The converter of the TFLite rows of the formats table: post-training
    quantisation in ``fmt.mode``. Returns (bytes, info)."""
    from .api import _calibration_progress

    rep = (lambda: _calibration_progress(calibration, trained.role, progress)) if fmt.mode == "int8" else None
    return keras_to_tflite(trained.model, fmt.mode, rep, names=_names(trained.model)), {}
