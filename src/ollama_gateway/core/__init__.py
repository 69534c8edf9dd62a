"""Neutral types shared by every protocol adapter; no I/O and no imports of other gateway packages."""
