"""The training job: a recipe of named stages (job.py, stages.py) over model building, distribution and resume."""
