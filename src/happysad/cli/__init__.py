"""Console entry points. Each imports TensorFlow only after its input is validated."""
