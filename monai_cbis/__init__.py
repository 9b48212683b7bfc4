"""CBIS-DDSM for MONAI."""
