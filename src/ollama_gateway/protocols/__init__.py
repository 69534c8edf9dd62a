"""Wire formats: pure translators between each protocol and the neutral core. No I/O, no storage."""
