"""The action on a tag push, without a ``gitops.yaml``, imports neither pydantic nor requests nor
PyYAML: each costs more than the registry read it waits for (benchmarks/registry.py times it).
With an annotated registry, an ``artifacts.yaml`` and a ``dvc.yaml`` in the checkout."""

from __future__ import annotations

from pathlib import Path

import cienv
import pytest
from cienv import Origin
from test_action_github import tag_push

from gitops.ci import action, deploy_step

T0 = 1_760_000_000
WRAPPER = """
import atexit, sys
def report():
    heavy = sorted(m for m in ("pydantic", "requests", "yaml") if m in sys.modules)
    with open({out!r}, "w") as f:
        f.write(",".join(heavy) or "none")
atexit.register(report)
from gitops.cli import main
sys.exit(main(sys.argv[1:] or ["action"]))
"""


def test_tag_push_imports_nothing_heavy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    o = Origin(tmp_path)
    files = {
        "artifacts.yaml": "churn:\n  type: model\n  path: m.pkl\n  labels: [a, b]\n",
        "dvc.yaml": "artifacts:\n  churn:\n    path: models/churn.pkl\n    type: model\n",
    }
    sha = o.dev.commit(files=files, epoch=T0)
    o.dev.tag("churn@v1.0.0", sha, epoch=T0 + 10)
    o.dev.tag("churn#prod#1", sha, epoch=T0 + 20)
    o.publish()
    out = tmp_path / "modules.txt"
    wrapper = tmp_path / "wrapper.py"
    wrapper.write_text(WRAPPER.format(out=str(out)))
    monkeypatch.setattr(cienv, "ENTRYPOINT", wrapper)
    run = tag_push(tmp_path, o, "churn#prod#1")
    assert run.code == 0, run.stderr
    assert run.outputs["changed"] == "true" and run.outputs["path"] == "models/churn.pkl"
    assert out.read_text() == "none"


def test_outputs_without_a_deploy_are_deploy_steps() -> None:
    """The action fills the deploy outputs itself when nothing deploys (without importing the
    deploy code): they must stay what ``deploy_step`` gives for no step."""
    assert action._no_deploy_outputs(None) == deploy_step.outputs(None)
    assert action._no_deploy_markdown(None) == deploy_step.markdown(None)
