"""PACS integration over DICOMweb: a cohort's radiology, DICOM-WSI pathology and DICOM ECG from a
DICOMweb server, results back as DICOM SR.

- :mod:`clinfusion.pacs.client`: a ``dicomweb-client`` session built from cohort.yaml (auth from
  environment variables) with bounded retries and readable errors carrying the HTTP status;
- :mod:`clinfusion.pacs.kinds`: which SOP classes each modality takes, and its item unit (radiology
  a study, pathology a slide series, ECG one waveform instance);
- :mod:`clinfusion.pacs.source`: QIDO-RS search per patient, the modality's items, WADO-RS
  retrieval of their instances into a temporary folder when an item must be (re-)read;
- :mod:`clinfusion.pacs.sr`: a prediction as a Comprehensive SR (highdicom), optional STOW-RS.

Heavy imports (``dicomweb_client``, ``highdicom``) happen inside functions.
"""
