"""A driver that deploys nothing and always succeeds: for dry runs, benchmarks and wiring tests."""

from __future__ import annotations

from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.settings import NoopSettings


class NoopDriver(Driver):
    name = "noop"
    Settings = NoopSettings

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        assert isinstance(self.settings, NoopSettings)
        if self.settings.delay:
            import time

            time.sleep(self.settings.delay)
        return DeployOutcome(True, f"noop: {request.artifact} {request.version}")
