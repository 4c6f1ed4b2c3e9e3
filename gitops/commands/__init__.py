"""One module per CLI command (``add_parser`` + ``run``), as pre-commit's ``commands/``."""
