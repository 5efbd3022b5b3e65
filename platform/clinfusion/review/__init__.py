"""Clinician review: users and roles, audit log, review store, and the data behind the review app.

Everything the Streamlit app (``apps/review/``) shows or writes goes through this package; the
app only lays it out. Stores live in the workspace (``WS/review/review.sqlite``).

| module | what |
|---|---|
| ``store.py`` | the SQLite file in the workspace, ``ReviewError`` |
| ``users.py`` | users with bcrypt-hashed passwords, roles and permissions, expiring sessions |
| ``audit.py`` | the audit log: who did what to which patient, when |
| ``reviews.py`` | accept / override / comment decisions on predictions; export for retraining |
| ``views.py`` | per-patient and cohort data loaders over the workspace (never the raw cohort) |
| ``plots.py`` | figures: Kaplan-Meier, 12-lead ECG, CT slices with window presets, report highlights |
| ``predictions.py`` | the fusion model's predictions for the workspace, when ``clinfusion train`` made some |
| ``experiments.py`` | read-only listing of MLflow runs and registry versions of the workspace |
| ``attention.py`` | slide attention heatmaps from a run's per-token attention weights |
| ``similarity.py`` | mean-pooled token features for similar patients when a run has no fused embeddings |
"""

from __future__ import annotations
