"""Heart safety: the AED registry, nearby search, import/export, checks on rounds."""
