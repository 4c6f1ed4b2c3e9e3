"""A promotion request: the file a promotion PR/MR adds, and merging it asks for the stage tag.

``.gitops/promotions/<stage>/<name>.yaml`` (a namespaced ``dir:name`` is written ``dir=name``,
as in its tags). The file stays on the default branch after the merge as the record.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from gitops.registry.tags import name_to_tag

FOLDER = ".gitops/promotions"
FIELDS = ("artifact", "version", "stage", "commit", "requested_by", "reason", "created_at")


@dataclass(frozen=True)
class PromotionRequest:
    artifact: str
    version: str
    stage: str
    commit: str  # the version's commit (40 hex)
    requested_by: str
    reason: str
    created_at: str  # ISO 8601, UTC ("2026-12-05T00:50:00Z")

    @property
    def path(self) -> str:
        return request_path(self.stage, self.artifact)

    def to_yaml(self) -> str:
        """The file's text: a comment for people, then one ``key: "value"`` line per field,
        every value a JSON string (valid YAML, and nothing in it can be read as YAML syntax)."""
        import json

        lines = ["# A promotion request made by gitops: merging its PR creates the stage tag.\n"]
        lines += [
            f"{key}: {json.dumps(getattr(self, key), ensure_ascii=False)}\n" for key in FIELDS
        ]
        return "".join(lines)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def request_path(stage: str, artifact: str) -> str:
    return f"{FOLDER}/{stage}/{name_to_tag(artifact)}.yaml"


def branch_name(stage: str, artifact: str) -> str:
    """The PR/MR branch: one per artifact and stage, so the same promotion updates it."""
    return f"gitops/promote/{stage}/{name_to_tag(artifact)}"


def parse_request(text: str | bytes, path: str) -> PromotionRequest:
    """A request file as read from the repository; a YamlFileError (file and line) when it is
    not one."""
    from gitops.yamlfile import YamlFileError, load_yaml

    doc = load_yaml(text, path)
    data = doc.data
    if not isinstance(data, dict):
        raise YamlFileError(path, 1, "a promotion request is a mapping of " + ", ".join(FIELDS))
    values: dict[str, str] = {}
    for key in FIELDS:
        value = data.get(key)
        if not isinstance(value, str) or (not value and key not in ("reason",)):
            raise YamlFileError(path, doc.line_of((key,)) or 1, f"`{key}` must be a string")
        values[key] = value
    extra = sorted(set(map(str, data)) - set(FIELDS))
    if extra:
        raise YamlFileError(path, doc.line_of((extra[0],)), f"unknown key {extra[0]!r}")
    request = PromotionRequest(**values)
    if request.path != path:
        raise YamlFileError(
            path,
            1,
            f"a request for {request.artifact} in {request.stage} belongs in {request.path}",
        )
    return request
