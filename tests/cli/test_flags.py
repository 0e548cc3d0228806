"""The `vbg` command's setting flags are the settings table's: each flag that fills a
`Settings` field is that key's flag with its choices and default, and no other flag
names a setting the table does not have."""

import argparse
from dataclasses import fields

import pytest

from vbg_core.cli.main import build_parser, parse
from vbg_core.shared.settings import TABLE, Settings, allowed

BY_FIELD = {key.field: key for key in TABLE}
COMMAND_ARGS = {"help", "command", "input", "output", "inputs", "out", "background", "device", "virtual_camera",
                "preview", "frames", "no_naive", "video", "no_bodies", "only", "json"}   # what a command acts on, not settings


def subcommands():
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return sorted(action.choices.items())


@pytest.mark.parametrize("name, parser", subcommands(), ids=lambda v: v if isinstance(v, str) else "")
def test_setting_flags_are_the_tables(name, parser):
    for action in parser._actions:
        if action.dest in COMMAND_ARGS:
            continue
        assert action.dest in BY_FIELD, f"vbg {name} {action.option_strings}: not a key of the settings table"
        key = BY_FIELD[action.dest]
        assert action.option_strings == [key.flag]
        if key.choices:
            assert tuple(action.choices) == allowed(key.key)
        assert action.default == key.default


def test_every_engine_setting_has_a_flag():
    flagged = {key.field for key in TABLE if key.flag}
    assert flagged >= {key.field for key in TABLE if key.worker and not key.obs_only}
    assert flagged <= {f.name for f in fields(Settings)}


@pytest.mark.parametrize("typed, told", [
    (["--mode", "color"], "--mode is the OBS filter's name for it; here use --background"),
    (["--image-fit", "contain"], "--image-fit is the OBS filter's name for it; here use --fit"),
    (["--video-fit", "contain"], "--video-fit is the OBS filter's name for it; here use --fit"),
    (["--video-loop"], "here use --no-loop"), (["--video-path", "a.mp4"], "here use --background"),
    (["--edge-refine"], "here use --no-edges"),
    (["--pause-when-still"], "a setting of the OBS filter only"),
    (["--mod", "general"], "unrecognized arguments: --mod general")])
def test_an_obs_setting_name_is_answered_with_the_flag_to_use(typed, told, capsys):
    with pytest.raises(SystemExit) as exit_:
        parse(build_parser(), ["render", "in.mp4", "-o", "out.mp4", *typed])
    assert exit_.value.code == 2 and told in capsys.readouterr().err
