"""Check requests against GitHub's OpenAPI description (the subset in shared/data/openapi).

Each recorded request must match an operation (method + templated path), send every required
body field, no unknown field, values of the documented type and enum, and only known query
parameters. The description lives outside the repo; tests skip when it is not on the machine.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SPEC_PATH = Path("/work/shared/data/openapi/github-api-subset.json")
TYPES = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "number": (int, float),
    "array": list,
    "object": dict,
}


@dataclass
class Operation:
    method: str
    template: str
    pattern: re.Pattern[str]
    spec: dict[str, Any]


class OpenApi:
    def __init__(self, path: Path = SPEC_PATH) -> None:
        self.doc = json.loads(path.read_text())
        self.operations: list[Operation] = []
        for template, item in self.doc["paths"].items():
            regex = "^" + re.sub(r"\\\{[^}]+\\\}", "[^/]+", re.escape(template)) + "$"
            for method, op in item.items():
                if method in ("get", "post", "put", "patch", "delete"):
                    self.operations.append(
                        Operation(method.upper(), template, re.compile(regex), op)
                    )

    def _resolve(self, node: Any) -> Any:
        while isinstance(node, dict) and "$ref" in node:
            target: Any = self.doc
            for part in node["$ref"].removeprefix("#/").split("/"):
                target = target[part]
            node = target
        return node

    def find(self, method: str, path: str) -> Operation | None:
        matches = [o for o in self.operations if o.method == method and o.pattern.match(path)]
        # the most literal template wins (`/git/ref/{ref}` over `/git/refs/{ref}`)
        matches.sort(key=lambda o: o.template.count("{"))
        return matches[0] if matches else None

    def problems(self, method: str, path: str, query: dict[str, Any], body: Any) -> list[str]:
        op = self.find(method, path)
        if op is None:
            return [f"{method} {path}: no such operation in GitHub's API"]
        out: list[str] = []
        params = [self._resolve(p) for p in op.spec.get("parameters", [])]
        known_query = {p["name"] for p in params if p.get("in") == "query"}
        for name in query:
            if name not in known_query:
                out.append(f"{method} {op.template}: unknown query parameter {name!r}")
        content = op.spec.get("requestBody", {}).get("content", {})
        schema = self._resolve(content.get("application/json", {}).get("schema"))
        if schema is None:
            if body not in (None, {}):
                out.append(f"{method} {op.template}: takes no body")
            return out
        if not isinstance(body, dict):
            return out + [f"{method} {op.template}: body must be a JSON object"]
        props = {k: self._resolve(v) for k, v in schema.get("properties", {}).items()}
        for name in schema.get("required", []):
            if name not in body:
                out.append(f"{method} {op.template}: missing required field {name!r}")
        for name, value in body.items():
            if name not in props:
                out.append(f"{method} {op.template}: unknown field {name!r}")
                continue
            out += self._check_value(f"{method} {op.template}: {name}", props[name], value)
        return out

    def _check_value(self, where: str, schema: dict[str, Any], value: Any) -> list[str]:
        options = [self._resolve(s) for s in schema.get("oneOf", schema.get("anyOf", []))]
        if options:
            results = [self._check_value(where, s, value) for s in options]
            return [] if any(not r for r in results) else results[0]
        kinds = schema.get("type")
        if kinds is not None:
            kinds = kinds if isinstance(kinds, list) else [kinds]
            ok = any(
                (k == "null" and value is None)
                or (
                    k in TYPES
                    and isinstance(value, TYPES[k])
                    and not (k in ("integer", "number") and isinstance(value, bool))
                )
                for k in kinds
            )
            if not ok:
                return [f"{where}: {value!r} is not of type {kinds}"]
        if "enum" in schema and value not in schema["enum"]:
            return [f"{where}: {value!r} is not one of {schema['enum']}"]
        if "maxLength" in schema and isinstance(value, str) and len(value) > schema["maxLength"]:
            return [f"{where}: longer than {schema['maxLength']}"]
        return []
