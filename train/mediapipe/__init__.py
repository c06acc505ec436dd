"""Google MediaPipe as a reference system, for the teacher's pseudo-labels,
the presence negatives (faces) and ``handsdk bench``: :mod:`.env` (its
``.task`` models, its own virtual environment and the worker processes) and
the standalone worker scripts it runs in that environment
(``hand_worker.py``: the hand landmarker; ``face_worker.py``: OpenCV's Haar
cascades), which import no handsdk."""
