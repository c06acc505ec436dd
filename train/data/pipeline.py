"""The old second training pipeline, folded into the one the trainer uses
(issue 12): its sources are in :mod:`handsdk.train.data.sources` (the
endless streams :func:`synthetic_source` and
:func:`synthetic_keypoint_source` are re-exported here for existing
scripts), and the examples it duplicated (letterboxed frames, hand crops,
keypoint features) are each model's pools in
``handsdk.train.models.{detector,pose,gesture}.examples``; ``handsdk data
preview --pipeline frames|crops`` shows those
(:func:`handsdk.train.data.preview.training_examples`)."""
from handsdk.train.data.sources import StreamSource, synthetic_keypoint_source, synthetic_source  # noqa: F401

__all__ = ["StreamSource", "synthetic_source", "synthetic_keypoint_source"]
