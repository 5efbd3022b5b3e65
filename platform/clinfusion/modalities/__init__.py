"""One subpackage per modality (read.py, deid.py, features.py), plus the registry and contracts."""
