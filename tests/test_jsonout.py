"""``gitops.jsonout`` must write exactly what ``json.dumps(indent=4)`` writes (GTO's output)."""

from __future__ import annotations

import json
import random
from typing import Any

import pytest

from gitops.jsonout import dumps, write_json

STRINGS = ["", "a", "ü", "日本", "😀", '"q"', "back\\slash", "\x00\x1f\x7f", "tab\tnl\n", "\ud800"]
SCALARS: list[Any] = [
    None, True, False, 0, -1, 2**70, 1.5, -0.0, 1e300, float("nan"), float("inf"),
    float("-inf"), *STRINGS,
]  # fmt: skip
KEYS: list[Any] = [*STRINGS, 1, -7, 2.5, float("nan"), True, False, None]


def random_value(rng: random.Random, depth: int = 0) -> Any:
    roll = rng.random()
    if depth > 3 or roll < 0.4:
        return rng.choice(SCALARS)
    if roll < 0.6:
        return [random_value(rng, depth + 1) for _ in range(rng.randrange(4))]
    if roll < 0.7:
        return tuple(random_value(rng, depth + 1) for _ in range(rng.randrange(3)))
    return {rng.choice(KEYS): random_value(rng, depth + 1) for _ in range(rng.randrange(4))}


@pytest.mark.parametrize("seed", range(300))
def test_random_values_match_the_standard_library(seed: int) -> None:
    value = random_value(random.Random(seed))
    assert dumps(value) == json.dumps(value, indent=4)


@pytest.mark.parametrize("value", [*SCALARS, [], {}, (), [[]], {"a": {}}, [{"k": []}]])
def test_scalars_and_empty_containers(value: Any) -> None:
    assert dumps(value) == json.dumps(value, indent=4)


def test_default_is_used_for_other_objects_and_its_result_encoded() -> None:
    class Marker:
        pass

    value = {"a": [Marker(), {"b": Marker()}]}
    expected = json.dumps(value, indent=4, default=lambda o: {"marker": [1, None]})
    assert dumps(value, default=lambda o: {"marker": [1, None]}) == expected


def test_unencodable_values_fail_as_in_the_standard_library() -> None:
    with pytest.raises(TypeError, match="not JSON serializable"):
        dumps([object()])
    with pytest.raises(TypeError, match="keys must be"):
        dumps({(1, 2): "tuple key"})


def test_a_large_output_is_written_in_pieces_equal_to_the_whole() -> None:
    events = [{"artifact": f"m{i}", "message": "x" * 100, "n": i} for i in range(20_000)]
    pieces: list[str] = []
    write_json(events, pieces.append)
    assert len(pieces) > 1  # about a megabyte each, not one 3 MB string
    assert "".join(pieces) == json.dumps(events, indent=4) + "\n"


def test_a_small_output_that_fails_writes_nothing() -> None:
    def refuse(obj: Any) -> Any:
        raise ValueError("cannot print")

    pieces: list[str] = []
    with pytest.raises(ValueError, match="cannot print"):
        write_json([{"ok": 1}, {"bad": object()}], pieces.append, default=refuse)
    assert pieces == []
