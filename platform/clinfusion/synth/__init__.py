"""Synthetic multimodal cohort in real file formats, with known ground truth.

``generate_cohort(out_dir, n_patients=40, seed=0)`` writes a cohort directory (clinical.csv,
DICOM CT, Aperio-style TIFF slides, WFDB ECGs, expression/mutation TSVs, text reports) that
follows the default cohort.yaml layout, plus ``truth/`` with the latents, the true linear
predictor, the true diagnosis probabilities, every planted PHI string and ``summary.json``
(oracle C-index and AUROC). See ``docs/synth.md``. pydicom, tifffile and wfdb are imported
only when a writer runs.
"""

from __future__ import annotations

from clinfusion.synth.cohort import SynthResult, generate_cohort
from clinfusion.synth.config import SCALES, SYNTH_MODALITIES, SynthConfig

__all__ = ["SCALES", "SYNTH_MODALITIES", "SynthConfig", "SynthResult", "generate_cohort"]
