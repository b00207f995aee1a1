"""Data: demo generation, folder scanning, splitting, decoding and tf.data pipelines."""
