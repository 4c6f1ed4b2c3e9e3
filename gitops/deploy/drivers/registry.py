"""Driver names -> classes, imported only when used (a webhook run never imports git code)."""

from __future__ import annotations

import importlib
from typing import Any

from gitops.deploy.drivers.base import Driver, DriverSettings
from gitops.errors import UsageError

# the same names, in the same order, as ``settings.DRIVER_NAMES`` (the config's union)
DRIVERS = {
    "local": ("gitops.deploy.drivers.local", "LocalDriver"),
    "command": ("gitops.deploy.drivers.command", "CommandDriver"),
    "webhook": ("gitops.deploy.drivers.webhook", "WebhookDriver"),
    "manifest": ("gitops.deploy.drivers.manifest", "ManifestDriver"),
    "noop": ("gitops.deploy.drivers.noop", "NoopDriver"),
}


def driver_class(name: str) -> type[Driver]:
    if name not in DRIVERS:
        raise UsageError(f"unknown deploy driver {name!r}; use one of: {', '.join(DRIVERS)}")
    module, cls = DRIVERS[name]
    return getattr(importlib.import_module(module), cls)


def make_driver(settings: DriverSettings | dict[str, Any]) -> Driver:
    """The driver for an environment's ``deploy:``: its validated settings (``env.deploy``),
    or a plain mapping, validated here."""
    if isinstance(settings, DriverSettings):
        return driver_class(settings.driver)(settings)
    cls = driver_class(str(settings.get("driver", "")))
    return cls(cls.Settings.model_validate(settings))
