"""One HTTP session per run for forge APIs: timeouts, retries that respect rate limits, pagination.

Retries are urllib3's ``Retry`` (connection errors, 5xx, 429), taught two forge habits: a 403 that
is really a rate limit (GitHub's secondary limit, or ``x-ratelimit-remaining: 0``) is retried like
a 429, and without ``Retry-After`` the wait comes from ``x-ratelimit-reset`` / ``RateLimit-Reset``.
Every error is one ``ForgeError`` naming method, path and the forge's message; tokens are
redacted from every message and log line.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import MaxRetryError, ReadTimeoutError
from urllib3.util.retry import Retry

from gitops.errors import GitopsError
from gitops.safetext import well_formed
from gitops.text import shorten

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
USER_AGENT = "gitops-ml (+https://github.com/gitops-ml/gitops)"


class ForgeError(GitopsError):
    """A forge API call failed: method, path, status and the forge's own message."""

    def __init__(self, method: str, path: str, status: int | None, message: str) -> None:
        self.method, self.path, self.status, self.forge_message = method, path, status, message
        where = f"{method} {path}"
        text = f"{where} failed with HTTP {status}: {message}" if status else f"{where}: {message}"
        super().__init__(text)


def is_rate_limited(status: int, headers: Mapping[str, str]) -> bool:
    """A 429, or a 403 that GitHub uses for its primary and secondary rate limits."""
    if status == 429:
        return True
    if status != 403:
        return False
    remaining = headers.get("x-ratelimit-remaining") or headers.get("RateLimit-Remaining")
    return remaining == "0" or "retry-after" in {k.lower() for k in headers}


class ForgeRetry(Retry):
    """urllib3's retry, with rate-limited 403s retried and reset headers honoured."""

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if status_code == 403:
            return bool(self.total)  # `increment` looks at the headers and gives up if not a limit
        # 429/5xx mean the request was not done (or failed whole): safe for every method
        return bool(self.total) and status_code in RETRY_STATUSES

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, **kw):  # type: ignore[no-untyped-def]
        if response is not None and response.status == 403:
            if not is_rate_limited(403, response.headers):
                raise MaxRetryError(_pool, url or "", None)  # a real 403: hand it back
        return super().increment(method, url, response, error, _pool, **kw)

    def get_retry_after(self, response) -> float | None:  # type: ignore[no-untyped-def]
        after = super().get_retry_after(response)
        if after is not None:
            return after
        reset = response.headers.get("x-ratelimit-reset") or response.headers.get("RateLimit-Reset")
        if reset and reset.isdigit() and is_rate_limited(response.status, response.headers):
            return min(max(int(reset) - time.time(), 0.0) + 1.0, float(self.retry_after_max))
        return None


@dataclass(frozen=True)
class RetryPolicy:
    """How hard to try. Tests shrink the waits; CI keeps GitHub's advice (wait, back off)."""

    total: int = 5
    connect: int = 3
    read: int = 1  # only idempotent methods: a timed-out POST may have been done
    backoff_factor: float = 1.0
    backoff_max: float = 30.0
    jitter: float = 0.5
    max_wait: int = 120  # never sleep longer than this for one Retry-After / reset

    def retry(self) -> ForgeRetry:
        return ForgeRetry(
            total=self.total,
            connect=self.connect,
            read=self.read,
            status=self.total,
            allowed_methods=frozenset({"GET", "HEAD", "PUT", "DELETE", "OPTIONS"}),
            backoff_factor=self.backoff_factor,
            backoff_max=self.backoff_max,
            backoff_jitter=self.jitter,
            retry_after_max=self.max_wait,
            raise_on_status=False,
            respect_retry_after_header=True,
        )


class ForgeSession:
    """The one HTTP session of a run, bound to a base URL and a token header."""

    def __init__(
        self,
        base_url: str,
        auth_headers: Mapping[str, str],
        *,
        token: str = "",
        timeout: float = 30.0,
        retry: RetryPolicy | None = None,
        extra_headers: Mapping[str, str] | None = None,
        log: Callable[[str], None] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._token = token
        self._log = log
        self.request_count = 0
        self.session = requests.Session()
        self.session.trust_env = False  # no ~/.netrc or proxy env surprises with our token
        adapter = HTTPAdapter(max_retries=(retry or RetryPolicy()).retry())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)
        self.session.headers.update({"User-Agent": USER_AGENT, **(extra_headers or {})})
        self.session.headers.update(auth_headers)

    def redact(self, text: str) -> str:
        return text.replace(self._token, "***") if len(self._token) >= 4 else text

    def url(self, path: str) -> str:
        return path if path.startswith(("http://", "https://")) else self.base_url + path

    def request(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        ok: tuple[int, ...] = (),
    ) -> requests.Response:
        """One call; a status >= 400 not in ``ok`` raises ``ForgeError``."""
        shown = urlsplit(self.url(path)).path
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                self.url(path),
                params=params,
                json=_well_formed(json),
                timeout=self.timeout,
            )
        except requests.exceptions.RetryError as exc:
            reason = self.redact(f"gave up after retries: {exc}")
            raise ForgeError(method, shown, None, reason) from None
        except requests.exceptions.Timeout:
            raise ForgeError(
                method, shown, None, f"no answer within {self.timeout:g} s (timeout)"
            ) from None
        except requests.exceptions.ConnectionError as exc:
            cause = exc.args[0] if exc.args else exc
            if isinstance(getattr(cause, "reason", None), ReadTimeoutError):
                raise ForgeError(
                    method, shown, None, f"no answer within {self.timeout:g} s (timeout)"
                ) from None
            reason = self.redact(str(getattr(cause, "reason", None) or cause))
            raise ForgeError(method, shown, None, f"cannot connect: {reason}") from None
        self.request_count += 1
        if self._log:
            elapsed = (time.monotonic() - started) * 1000
            self._log(self.redact(f"{method} {shown} -> {response.status_code} ({elapsed:.0f} ms)"))
        if response.status_code >= 400 and response.status_code not in ok:
            raise ForgeError(
                method, shown, response.status_code, self.redact(forge_message(response))
            )
        return response

    def paginate(
        self, path: str, params: Mapping[str, Any] | None = None
    ) -> Iterator[dict[str, Any]]:
        """Every item of a list endpoint: GitHub's ``Link: rel="next"``, GitLab's
        ``X-Next-Page`` (GitLab sends both; the link is followed when present)."""
        url: str | None = path
        query: dict[str, Any] | None = {"per_page": 100, **(params or {})}
        while url:
            response = self.request("GET", url, params=query)
            items = response.json()
            if not isinstance(items, list):
                raise ForgeError("GET", urlsplit(self.url(url)).path, None, "expected a list")
            yield from items
            next_link = response.links.get("next", {}).get("url")
            next_page = response.headers.get("X-Next-Page", "")
            if next_link:
                url, query = next_link, None  # the link carries every parameter
            elif next_page.isdigit():
                query = {**(query or {}), "page": int(next_page)}
            else:
                url = None


def _well_formed(value: Any) -> Any:
    """Every string of a JSON body encodable as UTF-8 (surrogate pairs joined, lone ones as
    U+FFFD): the forge would refuse ``\\ud83d`` escapes, or store them as garbage."""
    if isinstance(value, str):
        return well_formed(value)
    if isinstance(value, Mapping):
        return {_well_formed(k): _well_formed(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_well_formed(v) for v in value]
    return value


def forge_message(response: requests.Response) -> str:
    """The forge's own words: GitHub ``message`` (+ ``errors``), GitLab ``message``/``error``."""
    try:
        data = response.json()
    except ValueError:
        text = response.text.strip()
        return shorten(text, 300) if text else response.reason or "no message"
    if not isinstance(data, dict):
        return shorten(str(data), 300)
    message = data.get("message") or data.get("error") or response.reason or "no message"
    if isinstance(message, (dict, list)):
        message = _flatten(message)
    details = [
        e.get("message") or f"{e.get('field', '')} {e.get('code', '')}".strip()
        for e in data.get("errors", [])
        if isinstance(e, dict)
    ]
    if details:
        message = f"{message} ({'; '.join(d for d in details if d)})"
    return shorten(str(message), 1000)


def _flatten(value: Any) -> str:
    if isinstance(value, dict):
        return "; ".join(f"{k} {_flatten(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_flatten(v) for v in value)
    return str(value)
