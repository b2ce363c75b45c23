"""Small helpers shared across subsystems (files, logging)."""
