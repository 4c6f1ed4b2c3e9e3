"""Every driver's settings (an environment's ``deploy:`` block), apart from the drivers.

``gitops.yaml`` is validated, and ``gitops schema`` describes it, with these models as one union
on ``driver``: keeping them here lets the config know every driver's fields without importing
the drivers themselves (``requests``, git plumbing), which a run only needs for the drivers it
uses. Each driver module re-exports its own model as ``Driver.Settings``.
"""

from __future__ import annotations

import re
import string
from pathlib import PurePosixPath
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, field_validator

from gitops.deploy.drivers.base import DriverSettings

# manifest: the facts a template may name
PLACEHOLDERS = (
    "artifact",
    "version",
    "commit",
    "stage",
    "environment",
    "path",
    "previous_version",
    "url",  # the version's object in its DVC remote (gitops.artifacts.resolve.Source.url)
)
# webhook: headers gitops sets itself (and every x-gitops-* header)
RESERVED = {"content-type", "content-length", "host"}


def _driver_required(schema: dict[str, Any]) -> None:
    """The schema asks for `driver:` as the loader does (the models default it for code)."""
    schema["required"] = ["driver", *(k for k in schema.get("required", []) if k != "driver")]


class _Settings(DriverSettings):
    model_config = ConfigDict(extra="forbid", json_schema_extra=_driver_required)


class LocalSettings(_Settings):
    """`local`: the artifact's files at its version's commit, in <dir>/<environment>/<artifact>."""

    driver: Literal["local"] = Field("local", description="Materialise the files in a directory.")
    dir: str = Field(
        ".gitops/deployments",
        description="Where the environments' directories go: relative to the repository, or "
        "absolute.",
    )


class CommandSettings(_Settings):
    """`command`: run a program with the facts in GITOPS_* environment variables."""

    driver: Literal["command"] = Field("command", description="Run a deploy command.")
    run: list[str] = Field(
        description="The command as an argv list, never a shell string: [./deploy.sh, --fast]. "
        "It gets GITOPS_ENVIRONMENT, GITOPS_ARTIFACT, GITOPS_STAGE, GITOPS_VERSION, "
        "GITOPS_COMMIT, GITOPS_PATH, GITOPS_PREVIOUS_VERSION, GITOPS_ACTION, GITOPS_RUN_URL, "
        "GITOPS_SOURCE (git or dvc) and GITOPS_URL (the object in the DVC remote)."
    )
    fetch: bool = Field(
        True,
        description="Fetch the version's files (from Git, or DVC's cache or remote) before "
        "the command runs, and point GITOPS_PATH at them (absolute). false: GITOPS_PATH is "
        "the artifact's path in the repository, and nothing is fetched (the command gets the "
        "bytes itself, e.g. from GITOPS_URL).",
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="More environment variables for the command."
    )
    cwd: str = Field(".", description="Working directory, relative to the repository.")
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds the command may run before its process group is killed; "
        "default: the environment's timeout.",
    )

    @field_validator("run")
    @classmethod
    def _argv(cls, value: list[str]) -> list[str]:
        if not value or not value[0]:
            raise ValueError("must be a non-empty argv list, e.g. [./deploy.sh, --fast]")
        return value


class WebhookSettings(_Settings):
    """`webhook`: POST the facts as JSON, signed as GitHub signs its webhooks."""

    driver: Literal["webhook"] = Field("webhook", description="POST the deploy to a URL.")
    url: str = Field(description="The http:// or https:// URL to POST to.")
    secret_env: str | None = Field(
        None,
        description="NAME of the environment variable holding the HMAC secret (never the secret "
        "itself): the body is signed in X-Gitops-Signature-256.",
    )
    headers: dict[str, str] = Field(
        default_factory=dict,
        description="More request headers; values may use ${VAR} from the environment.",
    )
    timeout: float | None = Field(
        None,
        gt=0,
        description="Seconds the whole delivery (every retry) may take; default: the "
        "environment's timeout.",
    )
    retries: int = Field(
        3, ge=0, le=20, description="Attempts after the first, on connection errors, 5xx and 429."
    )
    backoff: float = Field(
        1.0, ge=0, description="Seconds before the first retry, doubled at each retry."
    )
    backoff_max: float = Field(30.0, ge=0, description="Longest wait between two attempts.")

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError("must be an http:// or https:// URL with a host")
        parts.port  # noqa: B018 - raises ValueError on a bad port
        return value

    @field_validator("secret_env")
    @classmethod
    def _env_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError("must be the NAME of an environment variable, not the secret")
        return value

    @field_validator("headers")
    @classmethod
    def _own_headers(cls, value: dict[str, str]) -> dict[str, str]:
        for name, text in value.items():
            if name.lower() in RESERVED or name.lower().startswith("x-gitops-"):
                raise ValueError(f"{name} is set by gitops and cannot be overridden")
            if not re.fullmatch(r"[!#$%&'*+.^_`|~0-9A-Za-z-]+", name) or re.search(r"[\r\n]", text):
                raise ValueError(f"{name!r} is not a valid header")
        return value


def check_template(template: str) -> str:
    """Only ``{name}`` placeholders from PLACEHOLDERS: no attributes, indexes or format specs."""
    try:
        fields = [(f, spec, conv) for _, f, spec, conv in string.Formatter().parse(template)]
    except ValueError as exc:
        raise ValueError(f"{template!r}: {exc} (write {{{{ and }}}} for literal braces)") from None
    for name, spec, conversion in fields:
        if name is None:
            continue
        if name not in PLACEHOLDERS:
            known = ", ".join(f"{{{p}}}" for p in PLACEHOLDERS)
            raise ValueError(f"{template!r}: unknown placeholder {{{name}}}; use {known}")
        if spec or conversion:
            raise ValueError(f"{template!r}: write {{{name}}} without ! or : parts")
    return template


_TEMPLATES = "Templates may use {artifact} {version} {commit} {stage} {environment} {path} " + (
    "{previous_version} {url} (the version's object in its DVC remote: a file output's object, "
    "a folder's .dir manifest)."
)


class ManifestSettings(_Settings):
    """`manifest`: set values in a YAML manifest and commit, push or propose the change."""

    driver: Literal["manifest"] = Field(
        "manifest", description="Edit a YAML manifest that Argo CD or Flux watches."
    )
    file: str = Field(
        description="The manifest: a path inside the repository (or inside `checkout`)."
    )
    set: dict[str, str] = Field(
        min_length=1,
        description="Dotted path -> template: spec.predictor.model.storageUri: "
        '"s3://models/{artifact}/{version}"; paths like a.b.0 and images[name=x].newTag. '
        + _TEMPLATES,
    )
    remove: dict[str, str] | None = Field(
        None,
        description="Dotted path -> template set when the stage is emptied; default: the "
        "manifest is left as it is.",
    )
    document: int | str = Field(
        0, description='In a multi-document file: its index (0 is the first) or "Kind/name".'
    )
    create: bool = Field(
        False, description="Add missing keys under block mappings (Helm values files)."
    )
    mode: Literal["commit", "pr", "write"] = Field(
        "commit",
        description="commit: one commit on `branch`, pushed without force; pr: push a "
        "gitops/deploy/<environment>/<artifact> branch and open a pull request; write: edit the "
        "work tree only.",
    )
    branch: str | None = Field(
        None,
        description="commit: the branch to commit to; pr: the pull request's base. Default: the "
        "default branch.",
    )
    push: bool = Field(True, description="commit mode: push the branch to `remote`.")
    remote: str = Field("origin", description="The git remote to fetch from and push to.")
    checkout: str | None = Field(
        None,
        description="Another git work tree to edit (e.g. a config repository), relative to the "
        "repository.",
    )
    message: str = Field(
        "gitops: deploy {artifact} {version} to {environment}",
        description="The commit message's subject. " + _TEMPLATES,
    )
    author: str | None = Field(
        None, description='Commit author, "Name <email>"; default: the gitops bot.'
    )

    @field_validator("file")
    @classmethod
    def _inside(cls, value: str) -> str:
        path = PurePosixPath(value)
        if not value or path.is_absolute() or ".." in path.parts or "\\" in value:
            raise ValueError("must be a relative path inside the repository, without `..`")
        return str(path)

    @field_validator("set", "remove")
    @classmethod
    def _paths_and_templates(cls, value: dict[str, str] | None) -> dict[str, str] | None:
        from gitops.deploy.yamledit import parse_path  # only when a manifest is configured

        for path, template in (value or {}).items():
            parse_path(path)
            check_template(template)
        return value

    @field_validator("message")
    @classmethod
    def _message(cls, value: str) -> str:
        return check_template(value)

    @field_validator("document")
    @classmethod
    def _document(cls, value: int | str) -> int | str:
        if isinstance(value, int) and value < 0:
            raise ValueError("must be a document index (0 is the first) or Kind/name")
        return value

    @field_validator("author")
    @classmethod
    def _author(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[^<>\n]+ <[^<>\s]+>", value):
            raise ValueError('must look like "Name <email@example.com>"')
        return value

    @field_validator("branch", "remote")
    @classmethod
    def _ref_name(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z0-9._/][A-Za-z0-9._/-]*", value):
            raise ValueError("must be a plain branch or remote name")
        return value


class NoopSettings(_Settings):
    """`noop`: deploy nothing and succeed (dry wiring, benchmarks)."""

    driver: Literal["noop"] = Field("noop", description="Deploy nothing.")
    delay: float = Field(
        0.0, ge=0, description="Seconds to pretend to work (benchmarks of parallel applies)."
    )


SETTINGS: tuple[type[DriverSettings], ...] = (
    LocalSettings,
    CommandSettings,
    WebhookSettings,
    ManifestSettings,
    NoopSettings,
)
DRIVER_NAMES: tuple[str, ...] = tuple(s.model_fields["driver"].default for s in SETTINGS)

DeploySettings = Annotated[
    LocalSettings | CommandSettings | WebhookSettings | ManifestSettings | NoopSettings,
    Field(discriminator="driver"),
]


def needs_driver(value: Any) -> Any:
    """A ``deploy:`` block without ``driver:`` gets a message that lists the drivers (pydantic's
    own says "Unable to extract tag")."""
    if isinstance(value, dict) and "driver" not in value:
        raise ValueError(f"needs `driver:` (one of {', '.join(DRIVER_NAMES)})")
    if not isinstance(value, dict | DriverSettings):
        raise ValueError(f"must be a mapping with `driver:` (one of {', '.join(DRIVER_NAMES)})")
    return value
