"""The webhook driver against a real HTTP receiver on 127.0.0.1 that checks the signature."""

from __future__ import annotations

import hashlib
import hmac
import json
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from pydantic import ValidationError

from gitops.deploy.drivers.base import DeployRequest
from gitops.deploy.drivers.registry import make_driver
from gitops.deploy.drivers.webhook import WebhookSettings

SECRET = "s3cr3t-hook-key"


@dataclass
class Reply:
    status: int = 200
    body: str = '{"ok": true}'
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes
    signature_ok: bool


class Receiver:
    """Answers with the scripted replies in order (the last one repeats) and records all."""

    def __init__(self, secret: str = SECRET) -> None:
        self.secret = secret.encode()
        self.replies: list[Reply] = [Reply()]
        self.deliveries: list[Delivery] = []
        self.closing = threading.Event()  # wakes a slow reply when the test ends
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the stdlib's name
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                sent = self.headers.get("X-Gitops-Signature-256", "")
                mac = hmac.new(receiver.secret, body, hashlib.sha256).hexdigest()
                ok = hmac.compare_digest(sent, "sha256=" + mac)
                receiver.deliveries.append(Delivery(dict(self.headers), body, ok))
                index = min(len(receiver.deliveries), len(receiver.replies)) - 1
                reply = receiver.replies[index] if ok else Reply(401, "bad signature")
                receiver.closing.wait(reply.delay)
                data = reply.body.encode()
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                except OSError:
                    pass  # the client gave up (timeout test)

            def log_message(self, *args: object) -> None:
                pass

        self.server = _Server(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/deploy?token=q"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()

    def close(self) -> None:
        self.closing.set()
        self.server.shutdown()
        self.server.server_close()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: object, client_address: object) -> None:
        pass  # a client that gave up (the timeout test) is expected here


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    r = Receiver()
    yield r
    r.close()


@pytest.fixture(autouse=True)
def secret_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOOK_SECRET", SECRET)
    for name in ("HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def request(tmp_path: Path, **changes: object) -> DeployRequest:
    facts: dict = dict(
        environment="prod",
        artifact="churn",
        stage="prod",
        version="v1.2.0",
        commit="a" * 40,
        previous_version="v1.1.0",
        path="models/churn",
        repo=tmp_path,
        timeout=10.0,
        run_url="https://ci.example.com/run/7",
    )
    return DeployRequest(**{**facts, **changes})


def driver(url: str, **settings: object):
    base = {"driver": "webhook", "url": url, "secret_env": "HOOK_SECRET", "backoff": 0.05}
    return make_driver({**base, **settings})


def test_success_signed_body_and_headers(receiver: Receiver, tmp_path: Path) -> None:
    req = request(tmp_path)
    outcome = driver(receiver.url, headers={"X-Team": "ml"}).deploy(req)
    assert outcome.ok, outcome.message
    [d] = receiver.deliveries
    assert d.signature_ok
    facts = req.to_json() | {"source": None}  # its path is in neither Git nor DVC here
    assert json.loads(d.body) == facts
    assert d.body == json.dumps(facts, sort_keys=True, separators=(",", ":")).encode()
    assert d.headers["Content-Type"] == "application/json"
    assert d.headers["X-Gitops-Event"] == "deploy"
    assert d.headers["User-Agent"].startswith("gitops-ml/")
    assert d.headers["X-Team"] == "ml"
    assert outcome.details["delivery"] == d.headers["X-Gitops-Delivery"]
    assert outcome.details["status"] == 200
    assert outcome.details["response"] == '{"ok": true}'
    assert "token=q" not in outcome.message  # the query may carry a token: not shown
    assert SECRET not in repr(outcome)


def test_500_then_200_is_retried_with_the_same_delivery_id(
    receiver: Receiver, tmp_path: Path
) -> None:
    receiver.replies = [Reply(500, "boom"), Reply(200)]
    outcome = driver(receiver.url).deploy(request(tmp_path))
    assert outcome.ok, outcome.message
    assert outcome.details["attempts"] == 2
    first, second = receiver.deliveries
    assert first.headers["X-Gitops-Delivery"] == second.headers["X-Gitops-Delivery"]
    assert first.body == second.body and first.signature_ok and second.signature_ok


def test_429_retry_after_is_honoured(receiver: Receiver, tmp_path: Path) -> None:
    receiver.replies = [Reply(429, "slow down", {"Retry-After": "1"}), Reply(200)]
    started = time.monotonic()
    outcome = driver(receiver.url).deploy(request(tmp_path))
    assert outcome.ok, outcome.message
    assert len(receiver.deliveries) == 2
    assert time.monotonic() - started >= 1.0  # waited as asked, not the 0.05 s backoff


def test_400_fails_without_retry(receiver: Receiver, tmp_path: Path) -> None:
    receiver.replies = [Reply(400, "unknown environment prod")]
    outcome = driver(receiver.url).deploy(request(tmp_path))
    assert not outcome.ok
    assert len(receiver.deliveries) == 1
    assert "400" in outcome.message and "unknown environment prod" in outcome.message
    assert "not retried" in outcome.message


def test_5xx_until_retries_run_out(receiver: Receiver, tmp_path: Path) -> None:
    receiver.replies = [Reply(503, "maintenance")]
    outcome = driver(receiver.url, retries=2).deploy(request(tmp_path))
    assert not outcome.ok
    assert len(receiver.deliveries) == 3
    assert "after 3 attempt(s)" in outcome.message and "503 maintenance" in outcome.message


def test_slow_receiver_times_out_within_the_limit(receiver: Receiver, tmp_path: Path) -> None:
    receiver.replies = [Reply(200, delay=3.0)]
    started = time.monotonic()
    outcome = driver(receiver.url, timeout=0.5).deploy(request(tmp_path))
    elapsed = time.monotonic() - started
    assert not outcome.ok
    assert "timed out" in outcome.message
    assert elapsed < 1.5


def test_connection_refused(tmp_path: Path) -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    outcome = driver(f"http://127.0.0.1:{port}/hook", retries=1).deploy(request(tmp_path))
    assert not outcome.ok
    assert "cannot connect" in outcome.message and "2 attempt(s)" in outcome.message


def test_wrong_secret_is_rejected_by_the_receiver(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_SECRET", "not-the-right-secret")
    outcome = driver(receiver.url).deploy(request(tmp_path))
    assert not outcome.ok
    assert "401" in outcome.message and "bad signature" in outcome.message
    assert len(receiver.deliveries) == 1 and not receiver.deliveries[0].signature_ok
    assert "not-the-right-secret" not in repr(outcome)


def test_missing_secret_variable_fails_before_sending(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("HOOK_SECRET")
    outcome = driver(receiver.url).deploy(request(tmp_path))
    assert not outcome.ok and "HOOK_SECRET" in outcome.message
    assert receiver.deliveries == []


def test_secret_echoed_by_the_receiver_is_redacted(
    receiver: Receiver, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HOOK_TOKEN", "tok-123456")
    receiver.replies = [Reply(403, f"token tok-123456 and {SECRET} refused")]
    hooked = driver(receiver.url, headers={"Authorization": "Bearer ${HOOK_TOKEN}"})
    outcome = hooked.deploy(request(tmp_path))
    assert not outcome.ok
    assert receiver.deliveries[0].headers["Authorization"] == "Bearer tok-123456"
    assert "tok-123456" not in repr(outcome) and SECRET not in repr(outcome)
    assert "***" in outcome.message


def test_unsigned_when_no_secret_is_configured(receiver: Receiver, tmp_path: Path) -> None:
    hook = make_driver({"driver": "webhook", "url": receiver.url})
    outcome = hook.deploy(request(tmp_path))
    assert not outcome.ok  # our receiver insists on a signature
    assert "X-Gitops-Signature-256" not in receiver.deliveries[0].headers


def test_removal_is_posted_as_action_remove(receiver: Receiver, tmp_path: Path) -> None:
    outcome = driver(receiver.url).deploy(request(tmp_path, version=None, commit=None))
    assert outcome.ok
    body = json.loads(receiver.deliveries[0].body)
    assert body["action"] == "remove" and body["version"] is None


def test_dry_run_sends_nothing(receiver: Receiver, tmp_path: Path) -> None:
    outcome = driver(receiver.url).deploy(request(tmp_path, dry_run=True))
    assert outcome.ok and outcome.message.startswith("would POST")
    assert receiver.deliveries == []


@pytest.mark.parametrize(
    "settings",
    [
        {"url": "ftp://example.com/hook"},
        {"url": "https:///nohost"},
        {"url": "http://x.example:port/hook"},
        {"url": "https://x.example", "secret_env": "the-secret-itself!"},
        {"url": "https://x.example", "headers": {"X-Gitops-Event": "other"}},
        {"url": "https://x.example", "headers": {"X-A": "a\r\nInjected: yes"}},
        {"url": "https://x.example", "retries": -1},
        {"url": "https://x.example", "unknown": 1},
    ],
)
def test_bad_settings_are_rejected(settings: dict) -> None:
    with pytest.raises(ValidationError):
        WebhookSettings.model_validate({"driver": "webhook", **settings})
