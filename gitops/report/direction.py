"""Which way each metric should move: higher is better, lower is better, or neither.

Why a module: a change only reads as better or worse once its direction is known, and gates
need it too (``max_drop`` counts the move the wrong way). Order of precedence, for metrics:

1. ``reports.higher_is_better`` in gitops.yaml (name or glob -> true/false);
2. a gate's ``higher_is_better`` (``reports.gates``);
3. the metric's name (below). Params are never better or worse: their direction is NONE.

Patterns (both 1 and 2, and the gates themselves) are matched by :class:`Patterns`: a pattern
equal to the key matches it; a pattern with ``:`` is matched against ``path:key`` (``eval/*.json:
f1``); any other pattern against the key alone, in any file. Globs are ``fnmatch``'s, case
sensitive: ``*`` (any run of characters, ``.`` and ``/`` included), ``?``, ``[abc]``, ``[!abc]``.
When several patterns match, the first written wins (exact names first).

Names: the key is cut into words at ``.``, ``_``, ``-``, ``/``, spaces and camel-case humps
(``val_loss`` -> val, loss; ``p95LatencyMs`` -> p95, latency, ms), case folded. Words after a
``per`` are a denominator and ignored (``tokens_per_second`` is a throughput, ``ms_per_token`` a
latency). Then, on the LAST dotted segment of the key first:

- a word in LOWER_WORDS -> lower is better;
- else a word in HIGHER_WORDS -> higher is better (this stops step 4: ``cost_sensitive.acc``);
- else a word in NEUTRAL_WORDS -> neither (counts such as ``epochs``, ``n_samples``, ``seed``);
- else a LOWER_WORDS word anywhere in the whole key -> lower (``loss.train``, ``latency.mean``);
- else higher is better.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from fnmatch import translate
from typing import TYPE_CHECKING, Generic, TypeVar

from gitops.report.model import Direction, Kind

if TYPE_CHECKING:
    from gitops.report.settings import GateSettings, ReportSettings

LOWER_WORDS: frozenset[str] = frozenset(
    # losses and errors
    "loss losses logloss nll error errors err mistakes failures failure miss misses "
    "rmse mse mae mape smape rmsle msle medae mad wer cer ter fpr fnr far frr eer fp fn "
    "perplexity ppl bpc bpb brier ece hamming divergence kl distance fid regret drift "
    # time, size, money
    "latency p50 p75 p90 p95 p99 p999 ttft time duration elapsed seconds second secs sec "
    "ms us ns minutes minute hours hour size bytes kb mb gb memory mem ram vram cost price "
    "violations".split()
)
"""Words that make a metric lower-is-better (see the module docstring for how they are found)."""

HIGHER_WORDS: frozenset[str] = frozenset(
    "accuracy acc precision prec recall f1 f2 fbeta auc roc auroc auprc map ap ndcg mrr "
    "bleu rouge meteor chrf iou miou dice r2 score throughput qps rps tps fps hit hits "
    "hitrate coverage specificity sensitivity tpr tnr kappa mcc top1 top5 reward return "
    "gain lift uplift success".split()
)
"""Words that make a metric higher-is-better outright, before the whole key is looked at."""

NEUTRAL_WORDS: frozenset[str] = frozenset(
    "count counts num number n epoch epochs step steps iteration iterations iter iters "
    "samples rows support seed batch version".split()
)
"""Words of counts and bookkeeping: such a metric changed, but not for better or worse."""

_GLOB_CHARS = frozenset("*?[")
_WORDS = re.compile(r"[A-Z]+\d*(?![a-z])|[A-Z]?[a-z]+\d*|\d+")  # anything else separates

T = TypeVar("T")


def words(text: str) -> list[str]:
    """The words of a metric name, lower case, with everything after a ``per`` dropped."""
    found = _WORDS.findall(text)
    if not text.islower():
        found = [w.lower() for w in found]
    if "per" in found:
        del found[found.index("per") :]
    return found


def by_name(key: str) -> Direction:
    """The default direction of a metric from its name alone (module docstring)."""
    last = words(key.rpartition(".")[2])
    if not LOWER_WORDS.isdisjoint(last):
        return Direction.LOWER
    if not HIGHER_WORDS.isdisjoint(last):
        return Direction.HIGHER
    if not NEUTRAL_WORDS.isdisjoint(last):
        return Direction.NONE
    if "." in key and not LOWER_WORDS.isdisjoint(words(key)):
        return Direction.LOWER
    return Direction.HIGHER


class Patterns(Generic[T]):
    """Metric names and globs, in written order, each with a value: which ones match a metric.

    Fast for many metrics: exact names are a dict lookup, and all globs run as one regex (one
    call per metric, see ``_Globs``); answers for key-only patterns are cached per key (the same
    key recurs across files).
    """

    def __init__(self, items: Iterable[tuple[str, T]]) -> None:
        self.items: list[tuple[str, T]] = list(items)
        self._exact: dict[str, list[int]] = {}
        key_globs: list[tuple[int, str]] = []
        path_globs: list[tuple[int, str]] = []
        for i, (pattern, _) in enumerate(self.items):
            self._exact.setdefault(pattern, []).append(i)
            if not _GLOB_CHARS.isdisjoint(pattern):
                (path_globs if ":" in pattern else key_globs).append((i, pattern))
        self._key_globs = _Globs(key_globs)
        self._path_globs = _Globs(path_globs)
        self.by_path = any(":" in p for p, _ in self.items)  # some pattern names a file
        self._key_cache: dict[str, tuple[int, ...]] = {}

    def __bool__(self) -> bool:
        return bool(self.items)

    def _by_key(self, key: str) -> tuple[int, ...]:
        hit = self._key_cache.get(key)
        if hit is None:
            found = self._exact.get(key, []) + self._key_globs.find(key)
            hit = self._key_cache[key] = tuple(found)
        return hit

    def indexes(self, path: str, key: str) -> list[int]:
        """The indexes of the patterns that match ``key`` in ``path``, in written order (each
        once; an exact name before globs)."""
        found = self.matching(path, key)
        if len(found) < 2:
            return list(found)
        return sorted(set(found), key=lambda i: (not self._is_exact(i, path, key), i))

    def matching(self, path: str, key: str) -> tuple[int, ...]:
        """The indexes of the patterns that match, in no promised order, each at most twice (a
        pattern both exact and a glob): for callers that only bucket metrics by pattern."""
        found = self._by_key(key)
        if self.by_path:
            full = f"{path}:{key}"
            extra = self._exact.get(full, []) + self._path_globs.find(full)
            if extra:
                found = found + tuple(extra)
        return found

    def _is_exact(self, i: int, path: str, key: str) -> bool:
        pattern = self.items[i][0]
        return pattern == key or pattern == f"{path}:{key}"

    def first(self, path: str, key: str) -> T | None:
        """The value of the first matching pattern (an exact name before globs), else None."""
        found = self.indexes(path, key)
        return self.items[found[0]][1] if found else None


class _Globs:
    """Several globs, tried fast on many texts: each glob's longest literal run (``loss`` in
    ``*loss*``) is looked for first with ``in`` (a C substring search, ~3x cheaper than a regex
    call, and it rules out most globs for most metrics); the glob's regex runs only then."""

    def __init__(self, globs: list[tuple[int, str]]) -> None:
        self.globs: list[tuple[str, int, re.Pattern[str]]] = [
            (_needle(pattern), i, re.compile(translate(pattern))) for i, pattern in globs
        ]

    def find(self, text: str) -> list[int]:
        """The indexes of the globs that match all of ``text``, in order."""
        return [i for needle, i, regex in self.globs if needle in text and regex.match(text)]


def _needle(pattern: str) -> str:
    """The longest run of literal characters in a glob before any ``[`` (every match contains
    it; character classes such as ``[!]]`` are not worth parsing for this)."""
    return max(re.split(r"[*?]", pattern.partition("[")[0]), key=len)


class Directions:
    """The direction of every metric for one run's settings; callable, cached per metric."""

    def __init__(
        self, settings: ReportSettings | None, gates: dict[str, GateSettings] | None = None
    ) -> None:
        """``gates`` default to ``settings.gates``; pass them to use gates from elsewhere (a
        promotion policy) with this run's ``higher_is_better``."""
        explicit = settings.higher_is_better if settings else {}
        if gates is None:
            gates = settings.gates if settings else {}
        self._explicit = Patterns(
            (p, Direction.HIGHER if up else Direction.LOWER) for p, up in explicit.items()
        )
        self._gates = Patterns(
            (p, Direction.HIGHER if g.higher_is_better else Direction.LOWER)
            for p, g in gates.items()
            if g.higher_is_better is not None
        )
        # Patterns with ":" make the answer depend on the file: cache per (path, key) then,
        # else per key alone (cheaper, and shared by every file with that key).
        self._by_path = self._explicit.by_path or self._gates.by_path
        self._cache: dict[tuple[str, str], Direction] = {}
        self._keys: dict[str, Direction] = {}

    def __call__(self, path: str, key: str, kind: Kind) -> Direction:
        if kind == Kind.PARAMS:
            return Direction.NONE
        if not self._by_path:
            hit = self._keys.get(key)
            if hit is None:
                hit = self._keys[key] = self._find(path, key)
            return hit
        hit = self._cache.get((path, key))
        if hit is None:
            hit = self._cache[(path, key)] = self._find(path, key)
        return hit

    def _find(self, path: str, key: str) -> Direction:
        hit = self._explicit.first(path, key) if self._explicit else None
        if hit is None and self._gates:
            hit = self._gates.first(path, key)
        return by_name(key) if hit is None else hit
