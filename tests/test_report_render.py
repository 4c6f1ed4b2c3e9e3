"""The rendered report: golden files for typical and nasty reports, every table checked with a
real Markdown parser (markdown-it-py, GFM tables), no HTML, link, image or mention from
untrusted text, Mermaid charts that no label can break, a template language that escapes what a
repository's own template prints, JSON with stable keys, and the terminal text.

Golden files: ``tests/golden/report/<name>.md.golden`` (not ``.md``: the documentation checks
would read them). Regenerate them with ``GITOPS_UPDATE_GOLDEN=1`` and read the diff.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
import report_samples as samples
from markdown_it import MarkdownIt
from markdown_it.rules_block.table import escapedSplit
from markdown_it.token import Token

from gitops.errors import GitopsError
from gitops.report import charts
from gitops.report.model import History, HistoryPoint, PlotDiff, PlotSpec, Report
from gitops.report.render import markdown, to_json
from gitops.report.text import render as text_render
from gitops.report.text import sparkline

GOLDEN = Path(__file__).parent / "golden" / "report"
UPDATE = os.environ.get("GITOPS_UPDATE_GOLDEN") == "1"
OUR_HTML = re.compile(r"<details><summary>[\w ,]+</summary>\n?|</details>\n?")
OUR_LINKS = ("https://github.com/acme/models/",)
MERMAID_LINE = re.compile(
    r'---|config:|  themeVariables:|    xyChart:|      plotColorPalette: "[#0-9a-f, ]+"|'
    r'xychart-beta|  title "[^"%`\n]*"|  x-axis "[^"%`\n]*" \[("[^"%`\n]*"(, )?)*\]|'
    r'  y-axis "[^"%`\n]*"|  line \[[-0-9., ]*\]'
)


def parser() -> MarkdownIt:
    """CommonMark + GFM tables; text_join off so an escaped character stays its own token."""
    return MarkdownIt("commonmark").enable("table").disable("text_join")


def walk(tokens: list[Token]) -> list[Token]:
    out: list[Token] = []
    for t in tokens:
        out.append(t)
        if t.children:
            out += walk(t.children)
    return out


def check_markdown(text: str) -> list[Token]:
    """Everything a report must be, whatever went into it; the tokens for further checks."""
    tokens = parser().parse(text)
    lines = text.splitlines()
    # Tables: every row has the header's cell count, and no line that looks like a row is
    # outside a table (a newline in a cell would start a paragraph).
    in_tables: set[int] = set()
    header_cells = 0
    in_head = False
    for t in tokens:
        if t.type == "table_open":
            assert t.map is not None
            in_tables.update(range(*t.map))
        if t.type in ("thead_open", "thead_close"):
            in_head = t.type == "thead_open"
        if t.type == "tr_open":
            assert t.map is not None
            row = lines[t.map[0]].strip()
            cells = escapedSplit(row)
            if cells and cells[0] == "":
                cells.pop(0)
            if cells and cells[-1] == "":
                cells.pop()
            if in_head:
                header_cells = len(cells)
            assert len(cells) == header_cells, f"row {row!r}: {len(cells)} cells, {header_cells}"
    in_fences = set()
    for t in tokens:
        if t.type == "fence":
            assert t.map is not None
            in_fences.update(range(*t.map))
    for n, line in enumerate(lines):
        if line.startswith("|") and n not in in_fences:
            assert n in in_tables, f"line {n + 1} is a broken table row: {line!r}"
    everything = walk(tokens)
    for t in everything:
        # Raw HTML: only our <details>/<summary> around folded tables.
        if t.type in ("html_block", "html_inline"):
            assert OUR_HTML.fullmatch(t.content), f"raw HTML: {t.content!r}"
        # Links: only ours; images: none; autolinks (<http://...>) are links too.
        if t.type == "link_open":
            href = str(t.attrs.get("href", ""))
            assert href.startswith(OUR_LINKS), f"link to {href!r}"
        assert t.type != "image"
        # Mentions: an @ in plain text would mention someone; escaped it is a text_special.
        if t.type == "text":
            assert "@" not in t.content, f"unescaped @ in {t.content!r}"
        if t.type == "fence":
            assert t.info == "mermaid", f"a {t.info!r} fence"
            for line in t.content.splitlines():
                assert MERMAID_LINE.fullmatch(line), f"mermaid line {line!r}"
    assert "-->" not in text  # nothing can close the sticky comment's marker early
    return everything


@pytest.mark.parametrize(
    "bad",
    [
        "| a | b |\n|---|---|\n| x | y | z |\n",  # a row with a cell too many
        "| a | b |\n|---|---|\n| x\ny | z |\n",  # a newline broke a row
        "| a | b |\n|---|---|\n| `x|y` | z |\n",  # GFM splits cells before code spans
        "hello @team\n",  # a mention
        "<b>x</b>\n",  # raw HTML
        "[x](https://evil.example)\n",  # a link that is not ours
        "![x](https://github.com/acme/models/i.png)\n",  # an image
        '```mermaid\nxychart-beta\n  title "x" %%{init}%%\n```\n',  # a label broke out
        "`-->`\n",  # would close the sticky marker
    ],
)
def test_the_checks_catch_what_they_look_for(bad: str) -> None:
    with pytest.raises(AssertionError):
        check_markdown(bad)


@pytest.mark.parametrize("name", sorted(samples.SAMPLES))
def test_golden_markdown(name: str) -> None:
    text = markdown(samples.SAMPLES[name]())
    check_markdown(text)
    golden = GOLDEN / f"{name}.md.golden"
    if UPDATE:
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_text(text, encoding="utf-8")
    assert golden.exists(), f"no golden file {golden.name}: run with GITOPS_UPDATE_GOLDEN=1"
    assert text == golden.read_text(encoding="utf-8")


def cells_of(tokens: list[Token]) -> list[list[str]]:
    """Each table row's cells as text (code spans' content, escapes resolved)."""
    rows: list[list[str]] = []
    row: list[str] | None = None
    for t in tokens:
        if t.type == "tr_open":
            row = []
            rows.append(row)
        elif t.type == "inline" and row is not None and t.children is not None:
            row.append("".join(c.content for c in t.children))
        elif t.type == "tr_close":
            row = None
    return rows


def test_hostile_names_are_shown_as_the_text_they_are() -> None:
    tokens = check_markdown(markdown(samples.hostile()))
    codes = {t.content for t in tokens if t.type == "code_inline"}
    for name in samples.HOSTILE:
        shown = " ".join(name.split("\n")).replace("`", "\u02cb").replace("-->", "--\u203a")
        assert shown in codes or shown.strip() in codes, name
    texts = "".join(t.content for t in tokens if t.type in ("text", "text_special"))
    assert "<script>alert(1)</script> | @team [x](y) <!-- --\u203a" not in texts  # title
    assert "<script>alert(1)</script> | @team [x](y) <!-- -->" in texts  # escaped, literal


def test_a_link_we_did_not_build_is_not_a_link() -> None:
    text = markdown(samples.hostile())
    assert "javascript:" not in text  # the head's URL is not http(s): its sha is plain text
    assert "(b1c2d3e)" in text


def test_2000_metrics_every_row_once() -> None:
    report = samples.many(2000)
    tokens = check_markdown(markdown(report))
    rows = [r for r in cells_of(tokens) if r and r[0].startswith("eval/part")]
    assert len(rows) == 2000
    changed = [r for r in rows if len(r) == 7]
    assert len(changed) == 400  # a tenth better, a tenth worse; the rest folded as unchanged
    assert {r[6] for r in changed} == {"🟢 ↑ better", "🔴 ↓ worse", "🔴 ↑ worse", "🟢 ↓ better"}


def test_missing_and_malformed_files_are_called_out() -> None:
    text = markdown(samples.missing_and_malformed())
    check_markdown(text)
    assert "⚠️ `metrics.json` missing in `feature/better-model`" in text
    assert "⚠️ `eval.yaml` malformed in `main`: eval\\.yaml line 3\\: mapping values" in text
    assert "⚠️ `model.toml` unreadable in `feature/better-model`: binary file" in text
    assert "not shown (lists or nulls): `per_class`, `notes`" in text
    assert "| removed (file missing) |" in text
    assert "| added (file malformed before) |" in text
    assert "⚠️ missing in `feature/better-model`" in text.split("#### plots/roc\\.json")[1]
    assert '"plots/roc.json: tpr (old)"' in text  # the side that is there is still drawn


def test_only_added_and_only_removed() -> None:
    added = markdown(samples.only_added())
    assert "0 better, 0 worse, 2 added, 0 unchanged" in added
    assert "unchanged metric" not in added  # no empty <details>
    removed = markdown(samples.only_removed())
    assert "| `metrics.json` | `acc` | 0.9 | — |  |  | removed |" in removed


def test_special_values() -> None:
    text = markdown(samples.special_values())
    check_markdown(text)
    assert "| `noise` | 0.1 | 0.3 | +0.2 | +200% | 🟢 ↑ better |" in text
    assert "| `to_nan` | 0.5 | NaN |" in text
    assert "| `from_inf` | ∞ | 1 |" in text
    assert "| `neg_inf` | 1 | -∞ |" in text
    assert "| `passed` | true | false |  |  | changed |" in text  # not subtracted
    assert "| `model` | `resnet` | `vit` |" in text  # strings as code
    assert "| `close` | 0.8512345 | 0.8512346 |" in text  # distinct values stay distinct
    assert "| `tiny` | 1.2e-07 | 1.3e-07 | +1e-08 | +8.3% | 🔴 ↑ worse |" in text
    assert "30000000000000004" not in text


def test_first_version_in_a_stage() -> None:
    text = markdown(samples.first_version())
    check_markdown(text)
    assert "first version here, nothing to compare with" in text
    assert "| Path | Metric | Value |\n|---|---|---|\n| `metrics.json` | `acc` | 0.9 |" in text


def test_history_of_50_versions_is_a_chart_per_metric_and_a_table() -> None:
    tokens = check_markdown(markdown(samples.stage_move_history(50)))
    fences = [t for t in tokens if t.type == "fence"]
    assert len(fences) == 2
    x_axis = next(line for line in fences[0].content.splitlines() if "x-axis" in line)
    assert x_axis.count('"v1.') == 50
    rows = [r for r in cells_of(tokens) if r and r[0].startswith("v1.")]
    assert len(rows) == 50
    assert rows[0] == ["v1.0.0", "churn#prod#1", "0.7", "0.5"]


def test_gates_failing_head_the_report() -> None:
    text = markdown(samples.gates_failing())
    check_markdown(text)
    first = text.split("### Gates")[0]
    assert "**Gates: ❌ 3 of 4 failed**: acc 0\\.81 \\< min 0\\.85; loss rose" in first
    table = text.split("### Gates")[1].split("###")[0]
    assert table.index("❌") < table.index("➖ skipped")  # the broken ones first


def test_typical_report_has_every_section_and_the_plan_verbatim() -> None:
    report = samples.typical()
    text = markdown(report)
    for heading in ("### Gates", "### Metrics", "### Params", "### Plots", "### Stages"):
        assert heading in text
    assert report.plan_markdown in text
    assert text.index("### Stages") < text.index("## Deployment plan")
    assert text.endswith("[Run](https://github.com/acme/models/actions/runs/42)\n")
    assert "2 params unchanged." in text


# -- a repository's own template -------------------------------------------------------------

EVIL = samples.report(title="<b>x</b> | @team [l](https://evil.example) `")


@pytest.mark.parametrize(
    "template",
    [
        "{{ report.title }}",
        "{{ 'T: ' ~ report.title }}",
        "{{ code('safe') ~ report.title }}",
        "{{ report.title | e }}",
        "{{ report.title | safe }}",
        "{{ report.title | replace('zz', 'y') }}",
        "{{ report.title | upper }}",
        "{{ [report.title, report.title] | join(code(', ')) }}",
        "{{ '%s' | format(report.title) }}",
        "{% set t %}{{ report.title }}{% endset %}{{ t }}",
        "{% macro m(x) %}{{ x }}{% endmacro %}{{ m(report.title) }}",
    ],
)
def test_own_template_output_is_escaped_however_it_is_built(template: str) -> None:
    tokens = check_markdown(markdown(EVIL, template))  # no HTML, link or mention got through
    shown = "".join(t.content for t in tokens if t.type in ("text", "text_special"))
    assert "<b>x</b> | @team [l](https://evil.example) `" in shown.replace("X", "x").lower()


def test_own_template_can_include_ours_and_compare_raw_strings() -> None:
    template = (
        '{% if report.head.label == "feature/better-model" %}ours{% endif %}\n\n'
        '{% include "metrics.md.j2" %}'
    )
    text = markdown(samples.typical(), template)
    assert text.startswith("ours\n### Metrics\n")


@pytest.mark.parametrize(
    ("template", "message"),
    [
        ("{{ report.nope }}", "reports.template: 'gitops.report.model.Report object' has no"),
        ("line one\n{% if %}", "reports.template: line 2: "),
        ("{{ report.__class__.__mro__ }}", "reports.template: "),
        ('{% include "../../etc/passwd.md.j2" %}', "only our own templates can be included"),
        ('{% include "nope.md.j2" %}', "report template 'nope.md.j2': no such template"),
        ("{{ changes_table(report.metrics, 'most') }}", "which is one of changed, unchanged"),
        ("{{ changes_table('x') }}", "reports.template: AttributeError: "),
        ("{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}", "reports.template: RecursionError"),
    ],
)
def test_broken_or_unsafe_templates_are_one_clear_error(template: str, message: str) -> None:
    with pytest.raises(GitopsError) as exc:
        markdown(samples.typical(), template)
    assert message in str(exc.value)


# -- charts -----------------------------------------------------------------------------------


def test_chart_labels_cannot_break_out_of_mermaid() -> None:
    for name in samples.HOSTILE + ('x"\n```\n%%{init}%%#quot;', "\u202e\x1b[2J"):
        label = charts.label(name)
        assert not set(label) & set('"`%#<>\n\\;{}[]&')
        assert label.strip() and len(label) <= charts.LABEL_LIMIT


def test_plot_with_different_x_values_is_one_chart_per_side() -> None:
    plot = PlotDiff(
        PlotSpec("loss.csv"),
        None,
        ("loss",),
        ((0.0, {"loss": 1.0}), (1.0, {"loss": 0.5})),
        ((0.0, {"loss": 1.0}), (2.0, {"loss": 0.4}), (4.0, {"loss": 0.2})),
    )
    blocks = charts.plot_charts(plot)
    assert [b.count("  line [") for b in blocks] == [1, 1]
    assert '"loss.csv (old)"' in blocks[0] and '"loss.csv (new)"' in blocks[1]


def test_a_history_point_that_is_not_a_number_is_left_out_of_the_chart() -> None:
    points = tuple(
        HistoryPoint(f"v{i}", "c" * 40, f"m#prod#{i}", {"m:acc": v})
        for i, v in enumerate([0.5, float("nan"), "n/a", 0.7])
    )
    block = charts.history_chart(History("m", "prod", ("m:acc",), points))
    assert '["v0", "v3"]' in block and "line [0.5, 0.7]" in block


# -- JSON and text ------------------------------------------------------------------------------

KEYS = {
    "schema", "kind", "title", "base", "head", "summary", "metrics", "params", "gates", "plots",
    "history", "stages", "declared", "run_url", "notes",
}  # fmt: skip


@pytest.mark.parametrize("make", list(samples.SAMPLES.values()))
def test_json_is_valid_json_with_stable_keys(make: Callable[[], Report]) -> None:
    data = to_json(make())
    assert set(data) == KEYS and data["schema"] == 1
    assert json.loads(json.dumps(data, allow_nan=False)) == data


def test_json_keeps_raw_values_and_says_nan_as_a_string() -> None:
    data = to_json(samples.special_values())
    changes = {c["key"]: c for c in data["metrics"][0]["changes"]}
    assert changes["close"]["old"] == 0.8512345
    assert changes["to_nan"]["new"] == "NaN" and changes["neg_inf"]["new"] == "-Infinity"
    assert changes["passed"] == {
        "key": "passed", "old": True, "new": False, "delta": None, "relative": None,
        "direction": "none", "verdict": "changed",
    }  # fmt: skip
    assert data["summary"]["metrics"]["better"] == 4


def test_text_has_no_terminal_controls_and_colours_only_on_request() -> None:
    report = samples.report(
        title="\x1b[2Jcleared",
        metrics=samples.typical().metrics,
    )
    plain = text_render(report, color=False)
    assert "\x1b" not in plain.replace("\\x1b", "")
    assert "metrics.json  accuracy        0.851235  0.873457" in plain
    coloured = text_render(report, color=True)
    assert "\x1b[32mbetter\x1b[0m" in coloured and "\x1b[31mworse\x1b[0m" in coloured
    assert "\x1b[2J" not in coloured


def test_text_for_every_sample_is_one_line_per_row() -> None:
    for make in samples.SAMPLES.values():
        out = text_render(make(), color=False)
        assert out.endswith("\n") and "\r" not in out
    hostile = text_render(samples.hostile(), color=False)
    assert "line break" in hostile  # the newline in the name became a space


def test_sparkline() -> None:
    assert sparkline([0.0, 0.5, 1.0]) == "▁▅█"
    assert sparkline([1.0, 1.0]) == "▅▅"
    assert sparkline([float("nan"), 1.0, 2.0]) == " ▁█"
    assert sparkline([]) == ""


def test_link_labels_and_urls() -> None:
    from gitops.report.render import code, link

    assert link("v1|x", "https://h/t") == "[v1\\|x](https://h/t)"
    assert link(code("v1"), "https://h/t") == "[`v1`](https://h/t)"
    assert link("x", "https://h/a b") == "x"  # not a URL we built: no link
    assert link("x", "javascript:alert(1)") == "x"
