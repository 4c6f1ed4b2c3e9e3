"""``reports:`` in gitops.yaml: which files a report reads, which way each metric should move,
the gates a change must pass, and the template it is drawn with.

Every key is optional: with no ``reports:`` at all, the files come from ``dvc.yaml`` (else
``metrics.json`` / ``params.yaml``), directions from the metric names, and there are no gates.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from gitops.report.model import DEFAULT_HISTORY, DEFAULT_PLOT_POINTS

_PERCENT = re.compile(r"\s*([0-9]+(?:\.[0-9]*)?|\.[0-9]+)\s*%\s*")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class PlotSettings(_Strict):
    """A plots file: a CSV/TSV/JSON/YAML series drawn old vs new."""

    path: str = Field(description="The file, relative to the repository root.")
    x: str | None = Field(None, description="The column for the x axis (default: row number).")
    y: list[str] | str | None = Field(
        None, description="The column(s) drawn (default: every numeric column but x)."
    )
    title: str | None = Field(None, description="The chart's title (default: the path).")


class GateSettings(_Strict):
    """Rules for one metric, or every metric a glob matches (``eval/*.f1``, ``*loss*``): a
    pattern with ``:`` matches ``path:key``, one without matches the key in any file."""

    min: float | None = Field(None, description="The new value must be at least this.")
    max: float | None = Field(None, description="The new value must be at most this.")
    max_drop: float | str | None = Field(
        None,
        description="How far the metric may move the wrong way from the base: a number "
        '(absolute) or a percentage of the base value ("5%").',
    )
    required: bool = Field(
        False, description="The metric must be present in the new revision (missing fails)."
    )
    higher_is_better: bool | None = Field(
        None, description="Which way is better (default: from the name: loss, error... lower)."
    )

    @field_validator("max_drop")
    @classmethod
    def _drop(cls, value: float | str | None) -> float | str | None:
        if isinstance(value, str):
            if not _PERCENT.fullmatch(value):
                raise ValueError(f"{value!r}: use a number (absolute) or a percentage like '5%'")
            return value.strip().replace(" ", "")
        if value is not None and value < 0:
            raise ValueError("must not be negative")
        return value

    @model_validator(mode="after")
    def _some_rule(self) -> GateSettings:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min} is above max {self.max}")
        return self

    @property
    def drop_is_relative(self) -> bool:
        return isinstance(self.max_drop, str)

    @property
    def drop_value(self) -> float | None:
        """The allowed drop: absolute, or a fraction of the base value when relative."""
        if self.max_drop is None:
            return None
        if isinstance(self.max_drop, str):
            return float(self.max_drop.rstrip("%")) / 100
        return float(self.max_drop)


class ReportSettings(_Strict):
    """Metric-diff reports: PR/MR comments, stage-move summaries and ``gitops report``."""

    metrics: list[str] | None = Field(
        None, description="Metrics files (JSON, YAML, TOML); default: what dvc.yaml declares."
    )
    params: list[str] | None = Field(
        None, description="Params files (JSON, YAML, TOML); default: what dvc.yaml declares."
    )
    plots: list[PlotSettings | str | dict[str, Any]] | None = Field(
        None,
        description="Plots files (CSV, TSV, JSON, YAML): a path, {path, x, y, title}, or "
        "dvc.yaml's form {path: {x, y, title}}.",
    )
    higher_is_better: dict[str, bool] = Field(
        default_factory=dict,
        description="Metric name or glob -> true (higher is better) or false (lower is better); "
        "overrides the defaults by name.",
    )
    gates: dict[str, GateSettings] = Field(
        default_factory=dict, description="Metric name or glob -> the rules it must pass."
    )
    fail_on_regression: bool = Field(
        False, description="Fail the job (and the commit status) when a gate fails."
    )
    template: str | None = Field(
        None, description="A Jinja2 Markdown template in the repository that replaces ours."
    )
    history: int = Field(
        DEFAULT_HISTORY,
        ge=0,
        le=200,
        description="Versions drawn in a stage move's history chart (0: none).",
    )
    plot_points: int = Field(
        DEFAULT_PLOT_POINTS,
        ge=2,
        le=1000,
        description="Points per plotted series at most (downsampled).",
    )

    @field_validator("plots")
    @classmethod
    def _plots(cls, value: list[Any] | None) -> list[PlotSettings] | None:
        """Every form as PlotSettings, so nobody downstream handles three shapes."""
        if value is None:
            return None
        out: list[PlotSettings] = []
        for item in value:
            if isinstance(item, PlotSettings):
                out.append(item)
            elif isinstance(item, str):
                out.append(PlotSettings(path=item))
            elif isinstance(item, dict) and "path" in item:
                out.append(PlotSettings.model_validate(item))
            elif isinstance(item, dict) and len(item) == 1:
                path, props = next(iter(item.items()))
                out.append(PlotSettings.model_validate({"path": path, **(props or {})}))
            else:
                raise ValueError("a plot is a path, {path: ..., x: ..., y: ...} or {path: {x, y}}")
        return out
