"""happysad: config-driven training, tracking and serving of CNN image classifiers.

Importing the package is cheap (no TensorFlow); heavy modules import it lazily.
"""

import os

# Bound image decoding before OpenCV is first imported (it reads this once): a crafted
# header claiming e.g. 50000x50000 pixels is refused instead of allocating gigabytes.
# 2**27 pixels is ~11600x11600 (about 400 MB as RGB); raise it via the environment.
os.environ.setdefault("OPENCV_IO_MAX_IMAGE_PIXELS", str(2**27))

# The image file extensions happysad reads (case-insensitive; GIF: first frame): one list for
# the training schema (data.extensions), the scanner, predict and eval (eval used to accept
# fewer than training did). Here, in the package itself (no OpenCV, OmegaConf or Hydra), so
# every one of them can import it.
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".gif", ".tif", ".tiff")

__version__ = "0.1.0"
