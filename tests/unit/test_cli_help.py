"""Every command's --help explains each option, and its examples can be copied as shown."""

from __future__ import annotations

import re

import click
import pytest
from click.testing import CliRunner

from mediasync.cli import main

COMMANDS = sorted(main.commands)


@pytest.mark.parametrize("name", COMMANDS)
def test_every_option_says_what_it_does(name):
    command = main.commands[name]
    silent = [param.opts[0] for param in command.params
              if isinstance(param, click.Option) and not param.hidden and not (param.help or "").strip()]
    assert not silent, f"mediasync {name}: options without help: {silent}"


@pytest.mark.parametrize("name", COMMANDS)
def test_a_multi_line_example_keeps_its_line_continuations(name):
    """A docstring's backslash at the end of a line is Python's line continuation unless
    doubled: the help then shows a command cut in two, which fails as copied."""
    text = CliRunner().invoke(main, [name, "--help"], terminal_width=200).output
    lines = text.splitlines()
    for line, following in zip(lines, lines[1:]):
        if re.match(r"\s+mediasync ", line):
            assert not re.search(r"\S {3,}\S", line), f"mediasync {name} --help joins two lines: {line!r}"
            indent = len(line) - len(line.lstrip())
            continued = len(following) - len(following.lstrip()) > indent and following.strip()
            assert not continued or line.endswith("\\"), f"mediasync {name} --help: {line!r} then {following!r}"
