"""Setting OBS's Python Install Path (setup/python_setting.py) on real OBS config files:
OBS 29's (global.ini only) and OBS 32's (user.ini beside global.ini), with a UTF-8 mark,
CRLF line endings, a missing section, a read-only file and a running OBS."""

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vbg_core.setup import obsconfig as oc
from vbg_core.setup import python_setting as ps

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"


def real_pe(kind: str) -> Path:
    """A real Windows executable that pip ships (distlib's launcher), standing in for a DLL's bytes."""
    import pip._vendor.distlib as distlib
    return Path(distlib.__file__).parent / kind


@pytest.fixture
def python312(tmp_path) -> str:
    """A folder laid out as a 64-bit Windows Python 3.12 install (python312.dll)."""
    folder = tmp_path / "Python312"
    folder.mkdir()
    shutil.copy(real_pe("t64.exe"), folder / "python312.dll")
    return str(folder)


def config(tmp_path, layout: str) -> oc.ObsConfig:
    root = tmp_path / "home" / ".config" / "obs-studio"
    shutil.copytree(FIXTURES / layout, root, ignore=shutil.ignore_patterns("README.txt"))
    return oc.ObsConfig(root, "native")


def other_lines(raw: bytes) -> list:
    return [line for line in raw.splitlines(keepends=True) if not line.startswith(b"Path64bit=")]


@pytest.mark.parametrize("layout, written, untouched", [("obs29-linux", "global.ini", None),
                                                         ("obs32-linux", "user.ini", "global.ini")])
def test_the_file_obs_reads_gets_the_path_and_nothing_else_changes(tmp_path, python312, layout, written, untouched):
    cfg = config(tmp_path, layout)
    before = {name: (cfg.root / name).read_bytes() for name in ("global.ini", "user.ini") if (cfg.root / name).exists()}
    said = ps.set_python_path(cfg, python312, "Windows", "AMD64")
    assert str(cfg.root / written) in said
    after = (cfg.root / written).read_bytes()
    assert oc.ini_value(cfg, "Python", "Path64bit") == python312
    assert after.startswith(before[written].rstrip(b"\n"))      # the section is added at the end
    assert (cfg.root / (written + ".vbg-backup")).read_bytes() == before[written]
    if untouched:
        assert (cfg.root / untouched).read_bytes() == before[untouched]
    assert ps.set_python_path(cfg, python312, "Windows", "AMD64").startswith("OBS's Python Install Path is already")


def test_bom_crlf_and_an_existing_key_are_kept(tmp_path, python312):
    cfg = config(tmp_path, "obs29-linux")
    ini = cfg.root / "global.ini"
    text = ini.read_bytes().replace(b"\n", b"\r\n") + b"[Python]\r\nPath64bit=C:\\Old\\Python36\r\n[Last]\r\nx=1\r\n"
    ini.write_bytes(ps.BOM + text)
    ps.set_python_path(cfg, python312, "Windows", "AMD64")
    after = ini.read_bytes()
    assert after.startswith(ps.BOM) and b"\n" not in after.replace(b"\r\n", b"")
    assert f"Path64bit={python312}\r\n".encode() in after and b"Old" not in after
    assert other_lines(after) == other_lines(ps.BOM + text)


def test_a_section_header_without_a_newline_at_the_end(tmp_path, python312):
    cfg = config(tmp_path, "obs29-linux")
    (cfg.root / "global.ini").write_bytes(b"[General]\nFirstRun=true\n[Python]")
    ps.set_python_path(cfg, python312, "Windows", "AMD64")
    assert (cfg.root / "global.ini").read_bytes() == f"[General]\nFirstRun=true\n[Python]\nPath64bit={python312}\n".encode()


def test_a_python_obs_cannot_load_is_not_written(tmp_path):
    cfg = config(tmp_path, "obs29-linux")
    folder = tmp_path / "Python313"
    folder.mkdir()
    shutil.copy(real_pe("t64.exe"), folder / "python313.dll")
    before = (cfg.root / "global.ini").read_bytes()
    with pytest.raises(oc.ObsConfigError, match="OBS loads 3.6-3.12 only"):
        ps.set_python_path(cfg, str(folder), "Windows", "AMD64")
    assert (cfg.root / "global.ini").read_bytes() == before


def test_a_read_only_file_is_left_and_the_click_is_named(tmp_path, python312):
    cfg = config(tmp_path, "obs32-linux")
    ini = cfg.root / "user.ini"
    before = ini.read_bytes()
    ini.chmod(0o444)
    with pytest.raises(oc.ObsConfigError, match="is read-only: make it writable, or set Tools > Scripts"):
        ps.set_python_path(cfg, python312, "Windows", "AMD64")
    assert ini.read_bytes() == before and not (cfg.root / "user.ini.vbg-backup").exists()


@pytest.mark.skipif(sys.platform != "linux", reason="a running OBS is found through /proc here")
def test_a_running_obs_is_left_alone(tmp_path, python312):
    cfg = config(tmp_path, "obs32-linux")
    binary = tmp_path / "bin" / "obs"            # a real process named obs, using that config
    binary.parent.mkdir()
    shutil.copy(shutil.which("sleep"), binary)
    proc = subprocess.Popen([str(binary), "30"], env={"HOME": str(tmp_path / "home"), "PATH": os.environ["PATH"]})
    try:
        deadline = time.monotonic() + 10
        while not oc.running_obs(cfg) and time.monotonic() < deadline:
            time.sleep(0.05)
        before = (cfg.root / "user.ini").read_bytes()
        with pytest.raises(oc.ObsConfigError, match="OBS is running .* close it and run the installer again"):
            ps.set_python_path(cfg, python312, "Windows", "AMD64")
        assert (cfg.root / "user.ini").read_bytes() == before
    finally:
        proc.kill()
        proc.wait()


def test_the_installer_step_finds_an_installed_python(tmp_path, python312):
    cfg = config(tmp_path, "obs32-linux")
    local = tmp_path / "Local" / "Programs" / "Python"
    local.mkdir(parents=True)
    shutil.move(python312, local / "Python312")
    env = {"LOCALAPPDATA": str(tmp_path / "Local"), "ProgramFiles": str(tmp_path / "none")}
    assert ps.choose_python("Windows", "AMD64", env) == str(local / "Python312")
    [line] = ps.setup_lines([cfg], ps.choose_python("Windows", "AMD64", env), "Windows", "AMD64")
    assert line.startswith(f"set OBS's Python Install Path to {local / 'Python312'}")
    assert ps.setup_lines([cfg], "", "Linux", "x86_64")[0].startswith("OBS's Python: nothing to set on Linux")
