"""VAT invoice cross-matching: normalised invoice numbers, discrepancy classes, the counterparty graph."""
