"""Clinician review: users and roles, audit log, review store, and the data behind the review app.

Everything the Streamlit app (``apps/review/``) shows or writes goes through this package; the
app only lays it out. The review store lives in the workspace (``WS/review/review.sqlite``) or, for
several app replicas, in PostgreSQL (``CLINFUSION_REVIEW_DB`` / ``--review-db``).

| module | what |
|---|---|
| ``store.py`` | the review store's tables (SQLAlchemy Core; SQLite default, PostgreSQL), ``ReviewError`` |
| ``users.py`` | users with bcrypt-hashed passwords, roles and permissions, sessions re-checked per page |
| ``logins.py`` | failed-login back-off and lockout per user name and per client |
| ``audit.py`` | the audit log: who did what to which patient, when; keyed hashes of typed names |
| ``reviews.py`` | the review schema (accept / override / comment on diagnosis or risk_group); export for retraining |
| ``workspace_data.py`` | per-patient and cohort data loaders for the app pages, over the workspace (never the raw cohort) |
| ``plots.py`` | figures: Kaplan-Meier, 12-lead ECG, CT slices with window presets, report highlights |
| ``predictions.py`` | the predictions of the registered version holding an alias (default ``champion``) |
| ``serving.py`` | which prediction a patient is shown: out-of-fold (training patients) or final model (new ones) |
| ``unseen.py`` | pyfunc inputs and final-model predictions for patients ingested after training |
| ``experiments.py`` | read-only listing of MLflow runs and registry versions of the workspace |
| ``attention.py`` | slide attention heatmaps from a run's per-token attention weights |
| ``similarity.py`` | mean-pooled token features for similar patients when a run has no fused embeddings |
| ``ct_volume.py`` | the CT viewer's volume: display orientation, HU-preserving block-mean downsampling, windows, region overlay |
| ``dzi.py`` | Deep Zoom pyramid of a slide from the workspace's stored pixels (OpenSlide DeepZoomGenerator geometry), heat layers |
| ``ecg_paper.py`` | the 12-lead ECG at true paper scale (mm/s, mm/mV, calibration pulse, flagged leads) |
"""

from __future__ import annotations
