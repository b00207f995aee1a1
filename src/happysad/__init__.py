"""happysad: config-driven training, tracking and serving of CNN image classifiers.

Importing the package is cheap (no TensorFlow); heavy modules import it lazily.
"""

__version__ = "0.1.0"
