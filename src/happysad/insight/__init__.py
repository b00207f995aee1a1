"""What a run shows: figures, Grad-CAM, the HTML report and the artifacts that tie them together."""
