"""PACS integration over DICOMweb: a cohort's radiology from a DICOMweb server, results back as DICOM SR.

- :mod:`clinfusion.pacs.client`: a ``dicomweb-client`` session built from cohort.yaml (auth from
  environment variables) with bounded retries and readable errors carrying the HTTP status;
- :mod:`clinfusion.pacs.source`: QIDO-RS search per patient, one ingest item per study, WADO-RS
  retrieval of its instances into a temporary folder when the item must be (re-)read;
- :mod:`clinfusion.pacs.sr`: a prediction as a Comprehensive SR (highdicom), optional STOW-RS.

Heavy imports (``dicomweb_client``, ``highdicom``) happen inside functions.
"""
