"""GitHub's event payload read by hand gives what the pydantic models give, and payloads with
unexpected types still go to the models (their error messages, their lax conversions).

Real payloads (shared/data/github-webhooks) and random edits of them: field values swapped for
values of other types, fields dropped, objects nulled.
"""

from __future__ import annotations

import copy
import json
import random
from pathlib import Path
from typing import Any

import pytest

from gitops.ci.github_payload import PayloadError, _models, _quick, parse_payload

WEBHOOKS = Path("/work/shared/data/github-webhooks")
SAMPLES = sorted(WEBHOOKS.glob("*.json")) if WEBHOOKS.is_dir() else []
ODD_VALUES: list[Any] = [None, "", "x", 0, 1, 7, True, False, 1.5, [], {}, {"id": 3}, "true"]
FIELDS = ["ref", "ref_type", "before", "after", "deleted", "head_commit", "number", "id",
          "pull_request", "title", "head", "base", "repo", "full_name", "sha"]  # fmt: skip


def _as_dict(value: Any) -> Any:
    """A payload's fields as plain data, read from either kind of object."""
    if hasattr(value, "model_dump"):
        return value.model_dump()
    if hasattr(value, "_asdict"):
        return {k: _as_dict(v) for k, v in value._asdict().items()}
    return value


def _pydantic(data: Any) -> Any:
    try:
        return _as_dict(_models().model_validate(data))
    except ValueError:
        return "refused"


def _edit(rng: random.Random, data: Any) -> None:
    """Change one field somewhere in ``data``."""
    if not isinstance(data, dict) or not data:
        return
    key = rng.choice([k for k in data if k in FIELDS] or list(data))
    roll = rng.random()
    if roll < 0.5 or not isinstance(data[key], dict):
        data[key] = rng.choice(ODD_VALUES) if roll < 0.8 else data.pop(key, None)
    else:
        _edit(rng, data[key])


@pytest.mark.skipif(not SAMPLES, reason="no sample payloads")
@pytest.mark.parametrize("sample", SAMPLES, ids=lambda p: p.stem)
def test_real_payloads_read_by_hand(sample: Path) -> None:
    data = json.loads(sample.read_text())
    quick = _quick(data)
    assert quick is not None  # GitHub's payloads take the quick path
    assert _as_dict(quick) == _pydantic(data)


def test_edited_payloads_agree_or_go_to_pydantic() -> None:
    rng = random.Random(11)
    bases = [json.loads(p.read_text()) for p in SAMPLES] or [{"ref": "refs/tags/x"}]
    quick_answers = 0
    for _ in range(2000):
        data = copy.deepcopy(rng.choice(bases))
        for _ in range(rng.randint(1, 3)):
            _edit(rng, data if rng.random() < 0.6 else data.get("pull_request", data))
        quick = _quick(data)
        if quick is None:
            continue
        quick_answers += 1
        assert _as_dict(quick) == _pydantic(data), data
    assert quick_answers > 300


def test_refused_payload_keeps_pydantics_message() -> None:
    with pytest.raises(PayloadError, match="Input should be a valid string"):
        parse_payload({"ref": "refs/tags/x", "before": None})
    lax = parse_payload({"ref": "refs/tags/x", "deleted": "true"})  # pydantic's lax bool
    assert lax.deleted is True
    with pytest.raises(PayloadError, match="Field required"):
        parse_payload({"pull_request": {"title": "t"}})
