"""The JSON admin API the pages use (documented in docs/admin-api.md), one module per area."""
