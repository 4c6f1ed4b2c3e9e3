"""gitops: GitOps automation for ML model registries kept in Git tags (GTO's format).

``__version__`` is the one place the version lives: pyproject.toml reads it from here for the
wheel and sdist (``tool.setuptools.dynamic``), ``gitops --version`` prints it without importing
package metadata, and tests/test_packaging.py holds image/action.yml's image tag to it. The
distribution on PyPI is ``gitops-ml``; the import package and the command are ``gitops``.
"""

__version__ = "0.1.0"
