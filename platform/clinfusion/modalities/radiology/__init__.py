"""Radiology: DICOM/NIfTI ingestion, PS3.15 de-identification, volumes, previews, radiomics and CNN encoders.

Modules: ``discover`` (classify files), ``series`` (group by UID, choose by rule, reader options),
``volume`` (geometry and assembly), ``nifti`` (NIfTI I/O), ``deid`` (PS3.15 Basic Profile),
``read`` (the reader), ``preview`` (PNG window presets), ``preprocess`` (MONAI transforms),
``regions`` (lesion-like regions), ``radiomics`` (handcrafted features), ``features``
(encoder registry), ``export`` (per-series table).
"""
