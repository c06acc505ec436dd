"""The old path of the training sources and pools, kept for existing
scripts and running jobs: the sources are :mod:`handsdk.train.data.sources`,
each model's pools its ``examples`` module
(``handsdk.train.models.{detector,pose,gesture}.examples``)."""
from handsdk.train.data.sources import *  # noqa: F401,F403
from handsdk.train.data.sources import (_DIR, _MCP, _SEG, KeypointRows, _draw_hand, _pipeline_cache,  # noqa: F401
                                        _Source, iter_source, mixed_samples,
                                        pipeline_keypoints, toy_hand, toy_sample, TOY_GESTURES)
from handsdk.train.models.detector.examples import detector_pool, zoom_matrix  # noqa: F401
from handsdk.train.models.gesture.examples import gesture_pool  # noqa: F401
from handsdk.train.models.pose.examples import (_hand_lr, _negative_crop, _overlap, _squeeze,  # noqa: F401
                                                pose_pool)
