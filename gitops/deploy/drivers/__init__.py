"""Deploy drivers: one small module each, one interface (``base.Driver``)."""
