"""Heart safety: where an available AED is within reach, hour by hour (DESIGN.md section 6)."""
