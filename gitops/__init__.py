"""gitops: GitOps automation for ML model registries kept in Git tags (GTO's format)."""

__version__ = "0.1.0"
