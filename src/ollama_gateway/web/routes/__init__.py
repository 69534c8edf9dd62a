"""Routes, one module per surface."""
