"""Risk scoring: taxpayers placed in risk groups by YAML rule packs with thresholds and citations."""
