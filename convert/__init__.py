"""handsdk.convert: quantise and convert trained Keras models, build bundles
(needs the ``train`` extra for TensorFlow)."""
