"""POST the deploy facts as JSON to a URL, signed the way GitHub signs its webhooks.

``X-Gitops-Signature-256: sha256=<hex HMAC-SHA256 of the exact body>`` lets the receiver prove
the request came from us; ``X-Gitops-Delivery`` stays the same on every retry so it can drop
repeats. Connection errors, 5xx and 429 are retried with capped exponential backoff (a 429's
``Retry-After`` is honoured) until ``timeout`` runs out: the whole delivery, not each attempt,
is bounded. Any failure is a failed outcome with a clear message, never an exception, and the
secret (and any header value taken from the environment) never appears in one.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import re
import time
import uuid
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests

from gitops import __version__
from gitops.deploy.drivers.base import DeployOutcome, DeployRequest, Driver
from gitops.deploy.drivers.settings import WebhookSettings
from gitops.errors import GitopsError

USER_AGENT = f"gitops-ml/{__version__} (webhook)"
SNIPPET = 500  # characters of the receiver's answer kept in the record
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


def sign(secret: bytes, body: bytes) -> str:
    """GitHub's scheme: ``sha256=`` + hex HMAC-SHA256 of the exact body bytes."""
    return "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()


def shown_url(url: str) -> str:
    """The URL for messages: no user:password, no query (either may carry a token)."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


def retry_after(value: str | None) -> float | None:
    """Seconds from a ``Retry-After`` header: a number or an HTTP date."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value.strip())
    try:
        return max(parsedate_to_datetime(value).timestamp() - time.time(), 0.0)
    except (TypeError, ValueError):
        return None


def _source(request: DeployRequest) -> dict[str, Any] | None:
    """Where the version's bytes are (``url``: its object in the DVC remote), so the receiver
    can fetch them itself; None for a removal or a path neither Git nor DVC has."""
    if request.version is None or request.commit is None:
        return None
    try:
        return request.source().to_json()
    except GitopsError:
        return None


class _Failed(Exception):
    """The delivery cannot start (a variable is missing): report it."""


class WebhookDriver(Driver):
    name = "webhook"
    Settings = WebhookSettings

    def deploy(self, request: DeployRequest) -> DeployOutcome:
        assert isinstance(self.settings, WebhookSettings)
        url = shown_url(self.settings.url)
        if request.dry_run:
            return DeployOutcome(True, f"would POST {request.artifact} {request.version} to {url}")
        parts = urlsplit(self.settings.url)
        secrets = [v for v in (parts.password, parts.query) if v]  # kept out of messages too
        try:
            headers = self._headers(secrets)
            facts = request.to_json() | {"source": _source(request)}
            body = json.dumps(
                facts, sort_keys=True, separators=(",", ":"), ensure_ascii=False
            ).encode("utf-8")
            if self.settings.secret_env:
                secret = self._env(self.settings.secret_env, "the webhook secret", secrets)
                headers["X-Gitops-Signature-256"] = sign(secret.encode("utf-8"), body)
            outcome = self._deliver(body, headers, self.settings.timeout or request.timeout)
        except _Failed as exc:
            outcome = DeployOutcome(False, f"POST {url}: {exc}")
        except Exception as exc:  # a driver reports, it does not raise
            outcome = DeployOutcome(False, f"POST {url}: {type(exc).__name__}: {exc}")
        return _redacted(outcome, secrets)

    def _env(self, name: str, what: str, secrets: list[str]) -> str:
        value = os.environ.get(name, "")
        if not value:
            raise _Failed(f"environment variable {name} ({what}) is not set")
        secrets.append(value)
        return value

    def _headers(self, secrets: list[str]) -> dict[str, str]:
        assert isinstance(self.settings, WebhookSettings)
        headers = {}
        for name, text in self.settings.headers.items():
            what = f"header {name}"
            headers[name] = _ENV_REF.sub(lambda m, w=what: self._env(m[1], w, secrets), text)
        return {
            **headers,
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            "X-Gitops-Event": "deploy",
            "X-Gitops-Delivery": str(uuid.uuid4()),
        }

    def _deliver(self, body: bytes, headers: dict[str, str], timeout: float) -> DeployOutcome:
        """POST until a 2xx, a final answer, or the retries or the time run out."""
        assert isinstance(self.settings, WebhookSettings)
        s = self.settings
        url, delivery = shown_url(s.url), headers["X-Gitops-Delivery"]
        deadline = time.monotonic() + timeout
        session = requests.Session()
        session.trust_env = False  # no ~/.netrc credentials sent to the hook...
        session.proxies = requests.utils.get_environ_proxies(s.url)  # ...but CI proxies apply
        problem, attempts = "", 0
        with session:
            while True:
                attempts += 1
                answer = _post(session, s.url, body, headers, deadline - time.monotonic())
                details = {"status": answer.status, "delivery": delivery, "attempts": attempts}
                if answer.status is not None and 200 <= answer.status < 300:
                    details["response"] = answer.text
                    return DeployOutcome(True, f"POST {url} answered {answer.status}", details)
                if answer.status is not None and answer.status != 429 and answer.status < 500:
                    why = "a redirect: use the final URL" if answer.status < 400 else "not retried"
                    message = f"POST {url} answered {answer.describe()} ({why})"
                    return DeployOutcome(False, message, details | {"response": answer.text})
                problem = answer.describe()
                if attempts > s.retries:
                    break
                pause = max(min(s.backoff * 2 ** (attempts - 1), s.backoff_max), answer.wait)
                if pause >= deadline - time.monotonic():
                    problem += f"; no time left to retry in {pause:g} s within {timeout:g} s"
                    break
                time.sleep(pause)
        return DeployOutcome(
            False,
            f"POST {url} failed after {attempts} attempt(s): {problem}",
            {"delivery": delivery, "attempts": attempts},
        )


@dataclass(frozen=True)
class _Answer:
    status: int | None  # None: no HTTP answer (connection error, timeout)
    text: str  # the start of the body, or what went wrong
    wait: float = 0.0  # seconds the receiver asked us to wait (Retry-After)

    def describe(self) -> str:
        return f"{self.status} {self.text}".strip() if self.status else self.text


def _post(
    session: requests.Session, url: str, body: bytes, headers: dict[str, str], left: float
) -> _Answer:
    """One attempt within ``left`` seconds; only the first bytes of the answer are read."""
    if left <= 0:
        return _Answer(None, "timed out")
    try:
        with session.post(
            url,
            data=body,
            headers=headers,
            timeout=(min(left, 10.0), left),
            stream=True,
            allow_redirects=False,
        ) as response:
            raw = response.raw.read(SNIPPET * 4, decode_content=True) or b""
            text = raw.decode(response.encoding or "utf-8", "replace")[:SNIPPET].strip()
            wait = retry_after(response.headers.get("Retry-After"))
            return _Answer(response.status_code, text, wait or 0.0)
    except requests.exceptions.Timeout:
        return _Answer(None, f"no answer within {left:.3g} s (timed out)")
    except requests.exceptions.ConnectionError as exc:
        reason = exc.args[0] if exc.args else exc
        reason = getattr(reason, "reason", reason)  # urllib3 wraps the OS error
        return _Answer(None, f"cannot connect: {reason}")
    except requests.exceptions.RequestException as exc:
        return _Answer(None, f"{type(exc).__name__}: {exc}")


def _redacted(outcome: DeployOutcome, secrets: list[str]) -> DeployOutcome:
    """The outcome with every secret value replaced by ``***`` (message and details)."""
    secrets = [v for v in secrets if len(v) >= 4]
    if not secrets:
        return outcome

    def clean(value: object) -> object:
        if isinstance(value, str):
            for secret in secrets:
                value = value.replace(secret, "***")
        return value

    details = {k: clean(v) for k, v in outcome.details.items()}
    return DeployOutcome(outcome.ok, str(clean(outcome.message)), details)
