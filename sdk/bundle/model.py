"""The bundle's data model: the format's names and limits, the thresholds
a manifest holds, and the records of a loaded bundle (:class:`Bundle`, one
:class:`ModelEntry` per model, a :class:`TensorSpec` per tensor)."""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any, Mapping

FORMAT = "handsdk-bundle"
FORMAT_VERSION = 1
SUFFIX = ".handsdk"
MANIFEST = "manifest.json"

#: limits that reject absurd archives before anything is read
MAX_ENTRIES = 64
MAX_FILE_BYTES = 64 * 1024 * 1024
MAX_TOTAL_BYTES = 256 * 1024 * 1024
MAX_MANIFEST_BYTES = 1024 * 1024

ROLES = ("detector", "landmarker")
QUANTIZATIONS = ("fp32", "fp16", "dynamic", "int8", "qat-int8", "int8-trt", "fp16-trt")
#: model file kinds a bundle may hold (TFLite, ONNX for onnxruntime, TensorRT engines)
MODEL_SUFFIXES = (".tflite", ".onnx", ".engine")
DTYPES = ("float32", "float16", "int8", "uint8", "int16", "int32")

#: what :func:`build_bundle` writes for the thresholds it is not given
DEFAULT_THRESHOLDS = {
    "min_detection_score": 0.5,
    "min_presence_score": 0.5,
    "min_gesture_score": 0.5,
}

#: the values the runtime uses for optional thresholds a manifest leaves out
#: (``min_presence_score`` is required: :data:`REQUIRED_THRESHOLDS`);
#: ``min_tracking_presence`` left out is ``min_presence_score``, and
#: ``min_gesture_score:<set>`` left out is ``min_gesture_score``
THRESHOLD_DEFAULTS = {
    "min_detection_score": 0.5,
    "min_gesture_score": 0.5,
}


#: the thresholds a bundle must name: the landmarker presence a hand needs decides
#: how many hands are reported (a bundle calibrated at 0.97 run at 0.5 takes faces for
#: hands), so no default stands in for it
REQUIRED_THRESHOLDS = ("min_presence_score",)


class BundleError(ValueError):
    """The file is not a valid handsdk bundle; the message says what is wrong."""


def sha256_hex(b: bytes) -> str:
    return hashlib.sha256(b).hexdigest()


@dataclass(frozen=True)
class TensorSpec:
    name: str
    shape: tuple
    dtype: str
    layout: str | None = None
    color: str | None = None
    #: x = (pixel - mean) / std per channel, for image inputs
    mean: tuple | None = None
    std: tuple | None = None

    @classmethod
    def from_json(cls, name: str, d: Mapping, where: str) -> "TensorSpec":
        try:
            shape = tuple(int(v) for v in d["shape"])
            dtype = str(d["dtype"])
        except (KeyError, TypeError, ValueError) as e:
            raise BundleError(f"{where}: tensor {name!r} needs 'shape' (list of ints) and 'dtype'") from e
        if dtype not in DTYPES:
            raise BundleError(f"{where}: tensor {name!r} has unknown dtype {dtype!r}")
        if any(v <= 0 or v > 65536 for v in shape) or len(shape) > 5:
            raise BundleError(f"{where}: tensor {name!r} has an absurd shape {shape}")
        norm = d.get("normalization") or {}
        mean = tuple(float(v) for v in norm["mean"]) if "mean" in norm else None
        std = tuple(float(v) for v in norm["std"]) if "std" in norm else None
        if std is not None and any(v == 0 for v in std):
            raise BundleError(f"{where}: tensor {name!r} has a zero std")
        color = d.get("color")
        if color not in (None, "RGB", "BGR", "GRAY"):
            raise BundleError(f"{where}: tensor {name!r} has unknown colour order {color!r}")
        return cls(name=name, shape=shape, dtype=dtype, layout=d.get("layout"), color=color,
                   mean=mean, std=std)

    def to_json(self) -> dict:
        d: dict[str, Any] = {"shape": list(self.shape), "dtype": self.dtype}
        if self.layout:
            d["layout"] = self.layout
        if self.color:
            d["color"] = self.color
        if self.mean is not None or self.std is not None:
            d["normalization"] = {"mean": list(self.mean or ()), "std": list(self.std or ())}
        return d


@dataclass(frozen=True)
class ModelEntry:
    """One model of the bundle, as the manifest describes it."""

    role: str  # "detector", "landmarker" or "gesture:<set>"
    file: str
    sha256: str
    size: int
    inputs: dict
    outputs: dict
    quantization: str
    decoding: dict = field(default_factory=dict)
    labels: tuple = ()
    extra: dict = field(default_factory=dict)

    def to_json(self) -> dict:
        d = {"file": self.file, "sha256": self.sha256, "size": self.size,
             "inputs": {k: v.to_json() for k, v in self.inputs.items()},
             "outputs": {k: v.to_json() for k, v in self.outputs.items()},
             "quantization": self.quantization, "decoding": dict(self.decoding)}
        if self.labels:
            d["labels"] = list(self.labels)
        d.update(self.extra)
        return d

    @classmethod
    def from_json(cls, role: str, d: Any) -> "ModelEntry":
        """A model entry the schema has checked (:data:`~handsdk.bundle.schema.MANIFEST_SCHEMA`)."""
        where = f"manifest model {role!r}"
        file = d["file"]
        if file in (".", ".."):
            raise BundleError(f"{where}: unsafe or invalid file name {file!r} (plain names only, no folders)")
        inputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["inputs"].items()}
        outputs = {k: TensorSpec.from_json(k, v, where) for k, v in d["outputs"].items()}
        if not inputs or not outputs:
            raise BundleError(f"{where}: 'inputs' and 'outputs' must be non-empty objects")
        labels = tuple(d.get("labels") or ())
        known = {"file", "sha256", "size", "inputs", "outputs", "quantization", "decoding", "labels"}
        return cls(role=role, file=file, sha256=d["sha256"], size=int(d.get("size") or 0),
                   inputs=inputs, outputs=outputs, quantization=d["quantization"],
                   decoding=dict(d.get("decoding") or {}), labels=labels,
                   extra={k: v for k, v in d.items() if k not in known})


@dataclass(frozen=True)
class Bundle:
    """A loaded, validated bundle. ``models`` maps role -> ModelEntry;
    ``files`` holds each model's bytes."""

    manifest: dict
    models: dict
    files: dict
    source: str = "<bytes>"

    @property
    def detector(self) -> ModelEntry:
        return self.models["detector"]

    @property
    def landmarker(self) -> ModelEntry:
        return self.models["landmarker"]

    @property
    def gesture_sets(self) -> dict:
        return {r.split(":", 1)[1]: e for r, e in self.models.items() if r.startswith("gesture:")}

    @property
    def thresholds(self) -> dict:
        return dict(self.manifest.get("thresholds") or {})

    @property
    def provenance(self) -> dict:
        return dict(self.manifest.get("provenance") or {})

    def model_bytes(self, role: str) -> bytes:
        return self.files[self.models[role].file]

    @property
    def quantization(self) -> str:
        """The models' quantization (``int8``, ``fp16`` ...), read from each
        model's entry, or ``mixed`` when they differ (the provenance's
        ``format`` is what the conversion was asked for; a model that fell
        back to another format differs from it)."""
        q = {e.quantization for e in self.models.values()}
        return q.pop() if len(q) == 1 else "mixed"

    def summary(self) -> dict:
        """A JSON-able summary for `handsdk bundle inspect`."""
        return {
            "source": self.source,
            "format_version": self.manifest["format_version"],
            "name": self.manifest.get("name"),
            "size_bytes": sum(len(b) for b in self.files.values()),
            "quantization": {"bundle": self.quantization,
                             "by_model": {r: e.quantization for r, e in self.models.items()}},
            "models": {r: {"file": e.file, "size_bytes": len(self.files[e.file]),
                           "quantization": e.quantization,
                           "inputs": {k: [list(v.shape), v.dtype] for k, v in e.inputs.items()},
                           "outputs": {k: [list(v.shape), v.dtype] for k, v in e.outputs.items()},
                           **({"labels": list(e.labels)} if e.labels else {})}
                       for r, e in self.models.items()},
            "thresholds": self.thresholds,
            "provenance": self.provenance,
        }
