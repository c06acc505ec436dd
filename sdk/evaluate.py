"""The old path of :mod:`handsdk.evaluation` (end-to-end evaluation of a
bundle on labelled samples), kept for existing scripts; renamed so that it
no longer shares a name with the training side's ``handsdk.train.evaluate``."""
from .evaluation import *  # noqa: F401,F403
from .evaluation import _gt_boxes, _kp_summary, evaluate  # noqa: F401
