"""GTO-compatible registry: tag grammar, fast git reads, state, annotations, tag writing."""
