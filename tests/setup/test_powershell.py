"""The Windows installers, checked as far as this Linux machine allows.

No PowerShell can be had here: Debian 12 has no package, the npm `pwsh` package
downloads the binary from GitHub at install time (not reachable), and PyPI has none.
So the scripts are parsed with the PowerShell grammar for tree-sitter (PyPI), and
checked for what breaks at run time under Set-StrictMode: unknown functions and
variables used before any assignment. The OBS-config logic they call is the same
Python module the Linux installer uses (tests/test_obsconfig.py)."""

import re
from pathlib import Path

import pytest

ts = pytest.importorskip("tree_sitter")
tsp = pytest.importorskip("tree_sitter_powershell")

INSTALL = Path(__file__).resolve().parents[2] / "install"
SCRIPTS = ("install.ps1", "uninstall.ps1")
CMDLETS = {"set-strictmode", "join-path", "resolve-path", "write-host", "get-command", "test-path",
           "get-childitem", "select-object", "new-item", "get-filehash", "get-content", "where-object",
           "out-host", "out-null", "foreach-object", "remove-item", "set-location", "get-date"}
AUTOMATIC = {"$null", "$true", "$false", "$_", "$lastexitcode", "$psscriptroot", "$erroractionpreference"}


def parse(source: bytes):
    return ts.Parser(ts.Language(tsp.language())).parse(source)


def nodes(node, kind):
    if node.type == kind:
        yield node
    for child in node.children:
        yield from nodes(child, kind)


def text(node) -> str:
    return node.text.decode()


def defined_names(tree):
    functions = {text(n).lower() for n in nodes(tree.root_node, "function_name")}
    variables = {text(v).lower() for n in nodes(tree.root_node, "left_assignment_expression")
                 for v in nodes(n, "variable")}
    for kind in ("script_parameter", "foreach_statement"):
        variables |= {text(v).lower() for n in nodes(tree.root_node, kind) for v in n.children if v.type == "variable"}
    return functions, variables


@pytest.fixture(params=SCRIPTS)
def script(request):
    return INSTALL / request.param


def test_the_parser_catches_broken_powershell():
    assert parse(b"function Foo( { if ($x -eq 1 { Write-Host 'a' }").root_node.has_error
    assert not parse(b"function Foo([string]$x) { if ($x -eq 1) { Write-Host 'a' } }").root_node.has_error


def test_script_parses_without_errors(script):
    tree = parse(script.read_bytes())
    bad = [(n.start_point, text(n)[:60]) for n in nodes(tree.root_node, "ERROR")]
    assert not tree.root_node.has_error, f"{script.name}: {bad}"


def test_every_command_is_defined_or_a_known_cmdlet(script):
    tree = parse(script.read_bytes())
    functions, _ = defined_names(tree)
    used = {text(n).lower() for n in nodes(tree.root_node, "command_name")}
    verb_noun = {u for u in used if re.fullmatch(r"[a-z]+-[a-z]+", u)}
    assert verb_noun - functions - CMDLETS == set()


def test_every_variable_is_assigned_before_strict_mode_sees_it(script):
    tree = parse(script.read_bytes())
    _, assigned = defined_names(tree)
    used = {"$" + text(n).lower()[1:] for n in nodes(tree.root_node, "variable")}   # @splat -> $splat
    plain = {u for u in used if not u.startswith("$env:")}
    assert plain - assigned - AUTOMATIC == set()


def test_options_match_the_shell_installers():
    def script_params(name):
        [block] = [n for n in parse((INSTALL / name).read_bytes()).root_node.children if n.type == "param_block"]
        return {text(v) for v in nodes(block, "script_parameter")}
    params = {name: script_params(name) for name in SCRIPTS}
    assert params["install.ps1"] == {"[switch]$Dev", "[switch]$Gpu", "[switch]$WithRvm", "[switch]$NoRegister",
                                     "[switch]$NoSelftest"}
    assert params["uninstall.ps1"] == {"[switch]$RestoreBackup", "[switch]$KeepVenv"}
    for option in ("--dev", "--gpu", "--with-rvm", "--no-register", "--no-selftest"):
        assert option in (INSTALL / "install.sh").read_text()
