"""The admin's server-rendered pages, one module per page."""
