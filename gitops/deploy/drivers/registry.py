"""Driver names -> classes, imported only when used (a webhook run never imports git code)."""

from __future__ import annotations

import importlib
from typing import Any

from gitops.deploy.drivers.base import Driver
from gitops.errors import UsageError
from gitops.yamlfile import YamlDocument, YamlFileError

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


def validate_settings(settings: dict[str, Any], doc: YamlDocument, where: tuple) -> None:
    """Check an environment's ``deploy:`` block against its driver's model (file + line)."""
    name = settings.get("driver", "")
    if name not in DRIVERS:
        raise YamlFileError(
            doc.file,
            doc.line_of((*where, "driver")),
            f"{'.'.join(map(str, where))}.driver: unknown driver {name!r}",
            hint=f"use one of: {', '.join(DRIVERS)}",
        )
    doc.validate(driver_class(name).Settings, settings, where)


def make_driver(settings: dict[str, Any]) -> Driver:
    cls = driver_class(settings["driver"])
    return cls(cls.Settings.model_validate(settings))
