"""ECG: WFDB, DICOM waveform and CSV recordings -> 12-lead windows in mV, quality, measurements, tokens.

Modules: ``formats/`` (one reader per file format, chosen by content), ``leads.py`` (lead names,
derived limb leads), ``signal.py`` (resampling, filtering, windows), ``quality.py`` (per-lead
flags), ``deid.py`` (header scrubbing, structured Dx labels), ``measurements.py`` (HR, HRV,
intervals, axis), ``read.py`` (the :class:`EcgReader`), ``features.py`` (encoders),
``resnet1d.py`` (trainable 1D ResNet), ``export.py`` (the interpretable table).
"""
