"""Keras -> ONNX (tf2onnx), checked with onnxruntime. The first half of the
TensorRT path for Jetson; the ONNX models also run in the runtime through
onnxruntime (a bundle may hold .onnx instead of .tflite files)."""
from __future__ import annotations

import numpy as np

OPSET = 13


def keras_to_onnx(model, names=None, opset: int = OPSET) -> bytes:
    """Convert a tf_keras model (batch fixed to 1, inputs/outputs named as in
    the TFLite export) to ONNX bytes."""
    try:
        import tf2onnx
    except ImportError as e:
        raise ImportError("ONNX export needs the onnx extra: pip install 'handsdk[onnx]'") from e
    from handsdk.train.tf import tf

    from .tflite import _names

    in_names, out_names = names or _names(model)
    specs = [tf.TensorSpec([1] + list(t.shape[1:]), t.dtype, name=n) for t, n in zip(model.inputs, in_names)]
    used: list = []  # the output names as traced (a model may return a list, one tensor or a dict)

    @tf.function(input_signature=specs)
    def serve(*args):
        outs = model(list(args) if len(args) > 1 else args[0], training=False)
        if isinstance(outs, dict):  # e.g. the pose model: {"heatmaps": ..., "presence": ..., "handedness": ...}
            keys = out_names if all(n in outs for n in out_names) else sorted(outs)
            named = {k: outs[k] for k in keys}
        else:
            named = dict(zip(out_names, outs if isinstance(outs, (list, tuple)) else [outs]))
        used[:] = list(named)
        return {n: tf.identity(o, name=n) for n, o in named.items()}

    proto, _ = tf2onnx.convert.from_function(serve, input_signature=specs, opset=opset)
    out_names = list(used) or list(out_names)
    # name the graph outputs like the TFLite signature so one runtime reads both
    graph = proto.graph
    mapping = {}
    for out in graph.output:
        for n in out_names:
            if out.name == n or out.name.startswith(n + ":") or out.name.endswith("/" + n) or \
                    out.name.split(":")[0].endswith(n):
                mapping[out.name] = n
    for node in graph.node:
        node.output[:] = [mapping.get(o, o) for o in node.output]
        node.input[:] = [mapping.get(i, i) for i in node.input]
    for out in graph.output:
        out.name = mapping.get(out.name, out.name)
    for inp in graph.input:
        inp.name = inp.name.split(":")[0]
    return proto.SerializeToString()


def onnx_outputs(onnx_bytes: bytes, feeds: dict) -> dict:
    """Run an ONNX model with onnxruntime (CPU)."""
    import onnxruntime as ort

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    outs = sess.run(names, {k: np.asarray(v, np.float32) for k, v in feeds.items()})
    return dict(zip(names, outs))


def convert_trained(trained, fmt, calibration=None, *, qat_steps: int = 200, progress=print):
    """The converter of the table's ``onnx`` row. Returns (bytes, info)."""
    from .tflite import _names

    return keras_to_onnx(trained.model, _names(trained.model)), {}
