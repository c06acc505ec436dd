"""handsdk.train: data, models and training (needs the ``train`` extra:
``pip install 'handsdk[train]'``).

Import TensorFlow through :mod:`handsdk.train.tf` so that ``TF_USE_LEGACY_KERAS``
is set before TensorFlow loads (tfmot refuses Keras 3 models).
"""
