"""Training: config, dataset assembly from a workspace, fold-fitted preprocessing, the deterministic
trainer, cross-validation with baselines, and the tracking-free parts of an experiment
(``experiment_parts``; :func:`clinfusion.experiment.train_workspace` runs and logs one)."""

from __future__ import annotations

from clinfusion.training.config import TrainConfig, flatten, load_train_config
from clinfusion.training.dataset import CohortData, cohort_from_frames, load_cohort

__all__ = ["CohortData", "TrainConfig", "cohort_from_frames", "flatten", "load_cohort", "load_train_config"]
