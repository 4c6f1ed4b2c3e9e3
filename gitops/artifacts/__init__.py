"""An artifact's bytes at a version: where they are (``resolve``) and getting them (``fetch``)."""
