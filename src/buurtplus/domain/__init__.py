"""Domain packages: tables, services and errors per feature. No HTTP here."""
