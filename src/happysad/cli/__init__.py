"""Console entry points. Each imports TensorFlow only after its input is validated."""

import os
import sys

# TensorFlow's C++ start-up chatter (CUDA probing on CPU machines, oneDNN notes) buries the
# lines users need; errors still print. Set TF_CPP_MIN_LOG_LEVEL=0 to see everything.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# MLflow's artifact progress bars flood logs and CI output.
os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")

# The `model` argument of happysad-predict, -eval and -export: every source loading accepts.
MODEL_HELP = (
    "model folder, run dir, runs:/<id>/model, models:/<name>/<version> or models:/<name>@<alias>"
)


def model_command_start(threshold: float | None, batch_size: int, verbose: bool) -> int | None:
    """What happysad-predict and happysad-eval do before any work: check --threshold and
    --batch-size (one line, the exit status returned), cap MLflow's HTTP retries for a one-shot
    command, and show TensorFlow's start-up lines only with --verbose."""
    from happysad.errors import ConfigError, check_batch_size, check_threshold
    from happysad.tracking import short_http_timeouts

    try:
        check_threshold(threshold, "--threshold")
        check_batch_size(batch_size, "--batch-size")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return err.exit_code
    short_http_timeouts()
    if verbose:
        from happysad.serving.quiet import set_verbose

        set_verbose()
    return None
