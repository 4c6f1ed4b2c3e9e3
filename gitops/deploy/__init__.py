"""Deployments: desired vs live state, plans, the drivers that apply them, live state stores."""
