"""CBIS-DDSM data layer: case CSVs -> records -> files on disk -> datalists and splits -> Dataset."""
