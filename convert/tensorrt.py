"""TensorRT engines for Jetson: Keras -> ONNX (here, tested) -> engine (on
the device).

Run on the Jetson (JetPack provides ``tensorrt``)::

    handsdk convert ... --format onnx -o model_onnx.handsdk     # on a desktop
    python -m handsdk.convert.tensorrt model_onnx.handsdk --precision fp16 -o model_trt.handsdk   # on the Jetson

or by hand with ``trtexec --onnx=detector.onnx --fp16 --saveEngine=detector.engine``
(:func:`trtexec_command` prints the exact commands). INT8 engines take a
calibration cache made from the same representative crops as the TFLite int8
path.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


#: engine precisions (the table's tensorrt row builds fp16)
PRECISIONS = ("fp32", "fp16", "int8")


@dataclass(frozen=True)
class EngineOptions:
    precision: str = "fp16"           # fp32 | fp16 | int8
    workspace_mb: int = 512
    calibration_cache: str | None = None

    def __post_init__(self):
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {', '.join(PRECISIONS)}, got {self.precision!r}")


def trtexec_command(onnx_path: str, engine_path: str, options: EngineOptions = EngineOptions()) -> str:
    cmd = f"trtexec --onnx={onnx_path} --saveEngine={engine_path} --memPoolSize=workspace:{options.workspace_mb}"
    if options.precision == "fp16":
        cmd += " --fp16"
    elif options.precision == "int8":
        cmd += " --int8 --fp16"
        if options.calibration_cache:
            cmd += f" --calib={options.calibration_cache}"
    return cmd


def build_engine(onnx_bytes: bytes, options: EngineOptions = EngineOptions(),
                 calibration_inputs: list[dict] | None = None) -> bytes:
    """Build a serialized engine with the TensorRT Python API (on the device)."""
    try:
        import tensorrt as trt
    except ImportError as e:
        raise ImportError("building TensorRT engines needs TensorRT, which comes with JetPack on the Jetson; "
                          "run this step there (see handsdk.convert.tensorrt)") from e
    logger = trt.Logger(trt.Logger.WARNING)
    builder = trt.Builder(logger)
    network = builder.create_network(0)
    parser = trt.OnnxParser(network, logger)
    if not parser.parse(onnx_bytes):
        errs = "; ".join(str(parser.get_error(i)) for i in range(parser.num_errors))
        raise RuntimeError(f"TensorRT could not parse the ONNX model: {errs}")
    config = builder.create_builder_config()
    config.set_memory_pool_limit(trt.MemoryPoolType.WORKSPACE, options.workspace_mb << 20)
    if options.precision in ("fp16", "int8"):
        config.set_flag(trt.BuilderFlag.FP16)
    if options.precision == "int8":
        config.set_flag(trt.BuilderFlag.INT8)
        config.int8_calibrator = _calibrator(trt, calibration_inputs or [], options.calibration_cache)
    engine = builder.build_serialized_network(network, config)
    if engine is None:
        raise RuntimeError("TensorRT failed to build the engine (see the log above)")
    return bytes(engine)


def _calibrator(trt, inputs: list[dict], cache_path: str | None):
    import torch

    class Calibrator(trt.IInt8EntropyCalibrator2):
        def __init__(self):
            super().__init__()
            self.i = 0
            self.buffers = {}

        def get_batch_size(self):
            return 1

        def get_batch(self, names):
            if self.i >= len(inputs):
                return None
            ptrs = []
            for n in names:
                t = torch.from_numpy(np.ascontiguousarray(inputs[self.i][n], np.float32)).cuda()
                self.buffers[n] = t
                ptrs.append(t.data_ptr())
            self.i += 1
            return ptrs

        def read_calibration_cache(self):
            if cache_path:
                try:
                    with open(cache_path, "rb") as f:
                        return f.read()
                except OSError:
                    return None
            return None

        def write_calibration_cache(self, cache):
            if cache_path:
                with open(cache_path, "wb") as f:
                    f.write(cache)

    return Calibrator()


def onnx_bundle_to_tensorrt(bundle_path, output, options: EngineOptions = EngineOptions()) -> bytes:
    """On the Jetson: turn a bundle exported with ``--format onnx`` into one of
    TensorRT engines (same manifest, labels and provenance)."""
    from handsdk.backends.tensorrt import pack_engine
    from handsdk.bundle import GestureSet, build_bundle, load_bundle

    b = load_bundle(bundle_path)
    engines = {}
    for role, e in b.models.items():
        if not e.file.endswith(".onnx"):
            raise ValueError(f"{bundle_path}: {role} is not an ONNX model; export with --format onnx first")
        eng = build_engine(b.files[e.file], options)
        engines[role] = pack_engine(eng, {k: v.shape for k, v in e.inputs.items()},
                                    {k: v.shape for k, v in e.outputs.items()})
    q = f"{options.precision}-trt" if options.precision != "fp32" else "fp32"
    gestures = {name: GestureSet.from_decoding(engines[f"gesture:{name}"], e.labels, e.decoding, quantization=q)
                for name, e in b.gesture_sets.items()}
    return build_bundle(output, detector=engines["detector"], landmarker=engines["landmarker"], gestures=gestures,
                        detector_decoding=b.detector.decoding, landmarker_decoding=b.landmarker.decoding,
                        quantization=q, thresholds=b.thresholds,
                        provenance=dict(b.provenance, tensorrt=options.precision), name=b.manifest.get("name", ""))


def _onnx_shapes(onnx_bytes: bytes) -> tuple[dict, dict]:
    """{name: shape} of an ONNX model's inputs and outputs (batch fixed to 1)."""
    import onnx

    g = onnx.load_from_string(onnx_bytes).graph

    def shape(v):
        return tuple(int(d.dim_value) if d.dim_value > 0 else 1 for d in v.type.tensor_type.shape.dim)

    inits = {i.name for i in g.initializer}
    return ({v.name: shape(v) for v in g.input if v.name not in inits}, {v.name: shape(v) for v in g.output})


def convert_trained(trained, fmt, calibration=None, *, qat_steps: int = 200, progress=print):
    """The converter of the table's ``tensorrt`` row, for a machine with
    TensorRT (the Jetson): Keras -> ONNX -> engine in ``fmt.mode`` precision,
    packed for :mod:`handsdk.backends.tensorrt`. Returns (bytes, info)."""
    from handsdk.backends.tensorrt import pack_engine

    from .onnx import keras_to_onnx
    from .tflite import _names

    onnx_bytes = keras_to_onnx(trained.model, _names(trained.model))
    engine = build_engine(onnx_bytes, EngineOptions(fmt.mode), calibration)
    ins, outs = _onnx_shapes(onnx_bytes)
    return pack_engine(engine, ins, outs), {"tensorrt": fmt.mode}


def main(argv=None) -> int:
    """``python -m handsdk.convert.tensorrt BUNDLE -o OUT [--precision fp16]``
    (on the Jetson): an ONNX bundle to one of TensorRT engines."""
    import argparse

    ap = argparse.ArgumentParser(prog="python -m handsdk.convert.tensorrt", description=main.__doc__)
    ap.add_argument("bundle", help="a bundle exported with handsdk convert --format onnx")
    ap.add_argument("-o", "--output", required=True, help="the engine bundle to write (.handsdk)")
    ap.add_argument("--precision", default="fp16", choices=PRECISIONS)
    ap.add_argument("--workspace-mb", type=int, default=512)
    ap.add_argument("--calibration-cache", default=None, help="INT8 calibration cache")
    a = ap.parse_args(argv)
    onnx_bundle_to_tensorrt(a.bundle, a.output, EngineOptions(a.precision, a.workspace_mb, a.calibration_cache))
    print(f"wrote {a.output}")
    return 0


if __name__ == "__main__":  # pragma: no cover - needs TensorRT
    raise SystemExit(main())
