"""The model catalog: a static site of the registry, what runs where and how each version
scored (``gitops catalog --out DIR``).

    gather (read the repository once) -> data (plain dicts, pure) -> site (Jinja2 pages)
"""
