"""`gitops schema` is the schema the loader enforces: every driver's settings under a `driver`
discriminator, a description on every field, and unknown content refused with its key's line."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from gitops.config import json_schema, load_config
from gitops.deploy.drivers import registry as drivers
from gitops.deploy.drivers.base import DriverSettings
from gitops.deploy.drivers.command import CommandDriver
from gitops.deploy.drivers.settings import DRIVER_NAMES, SETTINGS, CommandSettings
from gitops.yamlfile import YamlFileError

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def validator() -> jsonschema.protocols.Validator:
    schema = json_schema()
    cls = jsonschema.validators.validator_for(schema)
    cls.check_schema(schema)
    return cls(schema)


def readme_config() -> dict[str, Any]:
    """The example under the README's `gitops.yaml` heading."""
    text = (ROOT / "README.md").read_text()
    section = text[text.index("## Deploying: `gitops.yaml`") :]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    return yaml.safe_load(block.group(1))


def load_text(tmp_path: Path, text: str):  # type: ignore[no-untyped-def]
    (tmp_path / "gitops.yaml").write_text(text)
    return load_config(tmp_path)


def test_the_readme_example_is_valid_for_the_schema_and_the_loader(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    config = readme_config()
    assert config["environments"]["staging"]["deploy"]["driver"] == "command"
    validator.validate(config)
    loaded = load_text(tmp_path, yaml.safe_dump(config))
    assert isinstance(loaded.environments["staging"].deploy, CommandSettings)


def test_the_demo_config_is_valid_for_the_schema(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    from gitops.demo import _gitops_yaml

    text = _gitops_yaml(tmp_path / "deployments")
    validator.validate(yaml.safe_load(text))
    assert load_text(tmp_path, text).environments["prod"].health is not None


def test_every_driver_is_in_the_schema_under_a_driver_discriminator() -> None:
    schema = json_schema()
    deploy = schema["$defs"]["Environment"]["properties"]["deploy"]
    assert deploy["discriminator"]["propertyName"] == "driver"
    assert set(deploy["discriminator"]["mapping"]) == set(drivers.DRIVERS)
    defs = schema["$defs"]
    by_driver = {}
    for ref in deploy["oneOf"]:
        model = defs[ref["$ref"].rsplit("/", 1)[1]]
        by_driver[model["properties"]["driver"]["const"]] = model
        assert "driver" in model["required"]  # the loader wants it too
        assert model["additionalProperties"] is False
    assert set(by_driver) == set(drivers.DRIVERS) == set(DRIVER_NAMES)
    assert {"run", "env", "cwd", "timeout"} <= set(by_driver["command"]["properties"])
    assert {"url", "secret_env", "headers", "retries"} <= set(by_driver["webhook"]["properties"])
    assert {"file", "set", "mode", "branch"} <= set(by_driver["manifest"]["properties"])
    assert "dir" in by_driver["local"]["properties"]
    assert "delay" in by_driver["noop"]["properties"]


def test_each_driver_class_uses_the_settings_model_of_its_name() -> None:
    for name, settings in zip(DRIVER_NAMES, SETTINGS, strict=True):
        assert drivers.driver_class(name).Settings is settings


def _properties(node: Any, where: str = "#") -> list[tuple[str, dict]]:
    """Every (path, schema) under a `properties` keyword, anywhere in the schema."""
    found: list[tuple[str, dict]] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "properties":
                found += [(f"{where}/{name}", prop) for name, prop in value.items()]
            found += _properties(value, f"{where}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += _properties(value, f"{where}/{i}")
    return found


def test_every_property_has_a_description() -> None:
    props = _properties(json_schema())
    assert len(props) > 50  # config, environment, health, state and five drivers
    missing = [where for where, prop in props if not prop.get("description", "").strip()]
    assert missing == []


@pytest.mark.parametrize(
    "config",
    [
        {
            "environments": {
                "prod": {"stage": "prod", "deploy": {"driver": "command", "runn": ["x"]}}
            }
        },
        {"environments": {"prod": {"stage": "prod", "deploy": {"run": ["./x.sh"]}}}},
        {"environments": {"prod": {"stage": "prod", "deploy": {"driver": "ftp"}}}},
        {"environments": {"prod": {"stage": "prod", "helth": {}}}},
        {"environments": {"pr od": {"stage": "prod"}}},
        {"environments": {}, "reports": {"pr": {"metric": "auc"}}},
        {"environments": {}, "policies": {"prod": {"approvals": -1}}},
    ],
)
def test_the_schema_refuses_what_the_loader_refuses(
    validator: jsonschema.protocols.Validator, tmp_path: Path, config: dict
) -> None:
    assert not validator.is_valid(config)
    with pytest.raises(YamlFileError):
        load_text(tmp_path, yaml.safe_dump(config))


def test_empty_reports_and_policies_are_fine(
    validator: jsonschema.protocols.Validator, tmp_path: Path
) -> None:
    text = "environments: {}\nreports: {}\npolicies:\n"
    validator.validate(yaml.safe_load(text))
    assert load_text(tmp_path, text) is not None


@pytest.mark.parametrize(
    ("text", "line", "message", "hint"),
    [
        (
            "environments:\n  prod:\n    stage: prod\n"
            "    deploy:\n      driver: command\n      runn: [./x.sh]\n",
            6,
            "environments.prod.deploy.runn: unknown key 'runn'",
            "did you mean 'run'?",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n"
            "    deploy:\n      driver: webhook\n      url: http://x\n      zzz: 1\n",
            7,
            "environments.prod.deploy.zzz: unknown key 'zzz'",
            "",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    health:\n      htp: http://x\n",
            5,
            "environments.prod.health.htp: unknown key 'htp'",
            "did you mean 'http'?",
        ),
        (
            "state:\n  stor: file\n",
            2,
            "state.stor: unknown key 'stor'",
            "did you mean 'store'?",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    deploy:\n      dir: /srv\n"
            "      driver: ftp\n",
            6,
            "environments.prod.deploy.driver: unknown driver 'ftp'",
            "use one of: local, command, webhook, manifest, noop",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    deploy:\n      run: [./x.sh]\n",
            4,
            "environments.prod.deploy: needs `driver:` (one of local, command, webhook,",
            "",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    after:\n      - prod2\n      - qa\n"
            "  prod2:\n    stage: prod\n",
            6,
            "environments.prod.after.1: no environment named 'qa'",
            "",
        ),
        (
            "environments:\n  a:\n    stage: a\n    after: [b]\n  b:\n    stage: b\n"
            "    after: [a]\n",
            4,
            "environments.a.after: `after:` makes a cycle: a -> b -> a",
            "",
        ),
        (
            "environments: {}\nreports:\n  pr:\n    metric: auc\n",
            3,
            "reports.pr: unknown key 'pr'",
            "",
        ),
        (
            "environments: {}\npolicies:\n  prod: {soak: 1 day}\n",
            3,
            "policies.prod.soak: '1 day': use a number and a unit",
            "",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    artifacts:\n      - churn\n"
            "      - 'bad name'\n",
            6,
            "environments.prod.artifacts.1: 'bad name' is not a valid GTO artifact name",
            "",
        ),
        (
            "environments:\n  prod:\n    stage: prod\n    deploy:\n      driver: manifest\n"
            "      file: k.yaml\n      set: {a: b}\n      document: 1.5\n",
            8,
            "environments.prod.deploy.document: ",
            "",
        ),
    ],
)
def test_errors_name_the_key_and_its_line(
    tmp_path: Path, text: str, line: int, message: str, hint: str
) -> None:
    with pytest.raises(YamlFileError) as info:
        load_text(tmp_path, text)
    assert (info.value.file, info.value.line) == ("gitops.yaml", line)
    assert info.value.detail.startswith(message), info.value.detail
    assert info.value.hint.startswith(hint), info.value.hint
    assert "Value error" not in info.value.detail and "Extra inputs" not in info.value.detail


def test_the_cli_says_the_unknown_key_with_file_and_line(tmp_path: Path) -> None:
    from deploy_fixtures import gitops
    from gitutil import Repo

    repo = Repo(tmp_path / "r")
    repo.commit(
        files={
            "gitops.yaml": "environments:\n  prod:\n    stage: prod\n"
            "    deploy: {driver: command, runn: [./x.sh]}\n"
        }
    )
    proc = gitops(repo.path, "plan")
    assert proc.returncode == 2
    assert "gitops.yaml:4: environments.prod.deploy.runn: unknown key 'runn'" in proc.stderr
    assert "did you mean 'run'?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_make_driver_takes_the_settings_model_or_a_mapping() -> None:
    settings = CommandSettings(run=["./x.sh"])
    assert isinstance(drivers.make_driver(settings), CommandDriver)
    made = drivers.make_driver({"driver": "command", "run": ["./y.sh"]})
    assert isinstance(made, CommandDriver)
    assert isinstance(made.settings, CommandSettings) and made.settings.run == ["./y.sh"]


def test_the_default_deploy_is_the_local_driver(tmp_path: Path) -> None:
    config = load_text(tmp_path, "environments:\n  prod: {stage: prod}\n")
    deploy = config.environments["prod"].deploy
    assert isinstance(deploy, DriverSettings) and deploy.driver == "local"
    assert deploy.dir == ".gitops/deployments"


def test_schema_command_prints_the_same_schema(capsys: pytest.CaptureFixture[str]) -> None:
    from gitops.cli import main

    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == json_schema()
