"""The GitLab component offers what the action accepts: every command, every comment mode."""

from __future__ import annotations

import re

from test_packaging import component

from gitops.ci import action


def test_component_offers_every_command_the_action_runs() -> None:
    header, _ = component()
    command = header["spec"]["inputs"]["command"]
    assert command["options"] == list(action.COMMANDS)
    assert set(re.findall(r"`([a-z]+)`", command["description"])) == set(action.COMMANDS)


def test_component_comment_modes_are_the_actions() -> None:
    header, _ = component()
    assert header["spec"]["inputs"]["comment"]["options"] == ["update", "new", "off"]
    for mode in ("update", "new", "off"):  # each one the action takes
        env = {"INPUT_COMMENT": mode}
        assert action.Inputs.from_env(env).comment == mode
