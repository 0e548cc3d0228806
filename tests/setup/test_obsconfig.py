"""OBS config editing on files as OBS 29 writes them (tests/fixtures/obs29-linux)."""

import json
import os
import shutil
import struct
import subprocess
import sys
import time
from pathlib import Path

import pytest

from vbg_core.setup import obsconfig as oc
from vbg_core.setup import obspython as op

FIXTURE = Path(__file__).parents[1] / "fixtures" / "obs29-linux"
REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "obs_vbg.py"


@pytest.fixture
def home(tmp_path):
    """A HOME with OBS's config exactly as OBS wrote it."""
    shutil.copytree(FIXTURE, tmp_path / ".config" / "obs-studio")
    return tmp_path


def cfg_of(home: Path) -> oc.ObsConfig:
    return oc.ObsConfig(home / ".config" / "obs-studio", "native")


def collection(home: Path) -> Path:
    return home / ".config" / "obs-studio" / "basic" / "scenes" / "Untitled.json"


def test_candidate_dirs_per_os():
    linux = oc.candidate_dirs("Linux", {"HOME": "/home/a"})
    assert [str(c.root) for c in linux] == [
        "/home/a/.config/obs-studio", "/home/a/.var/app/com.obsproject.Studio/config/obs-studio"]
    assert [c.flavour for c in linux] == ["native", "flatpak"]
    assert str(oc.candidate_dirs("Linux", {"HOME": "/h", "XDG_CONFIG_HOME": "/x"})[0].root) == "/x/obs-studio"
    win = oc.candidate_dirs("Windows", {"APPDATA": r"C:\Users\a\AppData\Roaming"})
    assert win[0].root == Path(r"C:\Users\a\AppData\Roaming") / "obs-studio"
    mac = oc.candidate_dirs("Darwin", {"HOME": "/Users/a"})
    assert str(mac[0].root) == "/Users/a/Library/Application Support/obs-studio"


def test_config_dirs_finds_native_and_flatpak(home):
    assert [c.flavour for c in oc.config_dirs("Linux", {"HOME": str(home)})] == ["native"]
    flatpak = home / ".var" / "app" / oc.FLATPAK_ID / "config" / "obs-studio"
    shutil.copytree(FIXTURE, flatpak)
    found = oc.config_dirs("Linux", {"HOME": str(home)})
    assert [(c.flavour, c.root) for c in found][1] == ("flatpak", flatpak)


def test_current_collection_from_global_ini(home):
    assert oc.scene_collection_file(cfg_of(home)) == collection(home)
    assert oc.ini_value(cfg_of(home), "Basic", "Profile") == "Untitled"
    assert oc.ini_value(cfg_of(home), "Python", "Path64bit") is None


def test_user_ini_of_obs31_wins(home):
    other = collection(home).with_name("Streaming.json")
    shutil.copy(collection(home), other)
    (cfg_of(home).root / "user.ini").write_text("\ufeff[Basic]\nSceneCollectionFile=Streaming\n")
    assert oc.scene_collection_file(cfg_of(home)) == other


def test_missing_collection_is_an_actionable_error(home):
    collection(home).unlink()
    with pytest.raises(oc.ObsConfigError, match="start OBS once"):
        oc.scene_collection_file(cfg_of(home))


def test_register_adds_one_entry_keeps_the_rest_and_backs_up(home):
    path, original = collection(home), collection(home).read_bytes()
    assert oc.register(path, SCRIPT) is True
    doc = json.loads(path.read_text())
    assert doc["modules"]["scripts-tool"] == [{"path": SCRIPT.as_posix(), "settings": {}}]
    before = json.loads(original)
    assert doc["sources"] == before["sources"] and doc["modules"]["output-timer"] == before["modules"]["output-timer"]
    assert list(doc) == list(before)                      # key order kept
    assert "\n" not in path.read_text()                   # OBS 29's compact style kept
    assert oc.backup_path(path).read_bytes() == original
    assert not list(path.parent.glob("*vbg-tmp*"))


def test_register_twice_changes_nothing(home):
    path = collection(home)
    oc.register(path, SCRIPT)
    stamp = (path.read_bytes(), path.stat().st_mtime_ns, oc.backup_path(path).stat().st_mtime_ns)
    time.sleep(0.01)
    assert oc.register(path, SCRIPT) is False
    assert oc.register(path, Path(str(SCRIPT).replace("/", "/./"))) is False
    assert (path.read_bytes(), path.stat().st_mtime_ns, oc.backup_path(path).stat().st_mtime_ns) == stamp


def test_backup_keeps_the_first_original(home):
    path, original = collection(home), collection(home).read_bytes()
    oc.register(path, SCRIPT)
    oc.unregister(path, SCRIPT)
    oc.register(path, SCRIPT)
    assert oc.backup_path(path).read_bytes() == original


def test_pretty_collection_stays_pretty(home):
    path = collection(home)
    path.write_text(json.dumps(json.loads(path.read_text()), indent=4))
    oc.register(path, SCRIPT)
    assert path.read_text().startswith('{\n    "current_program_scene"')


def test_collection_without_modules_gets_them(home):
    path = collection(home)
    doc = json.loads(path.read_text())
    del doc["modules"]
    path.write_text(json.dumps(doc))
    oc.register(path, SCRIPT)
    assert oc.script_entries(json.loads(path.read_text())) == [{"path": SCRIPT.as_posix(), "settings": {}}]


def test_register_drops_a_stale_copy_from_a_moved_checkout(home, tmp_path):
    path = collection(home)
    doc = json.loads(path.read_text())
    other = tmp_path / "elsewhere" / "obs_vbg.py"            # exists: another checkout, kept
    other.parent.mkdir()
    other.write_text("")
    doc["modules"]["scripts-tool"] = [{"path": "/gone/old-checkout/obs_vbg.py", "settings": {"mode": 1}},
                                      {"path": other.as_posix(), "settings": {}},
                                      {"path": "/opt/scripts/clock.lua", "settings": {}}]
    path.write_text(json.dumps(doc))
    assert oc.register(path, SCRIPT) is True
    paths = [e["path"] for e in oc.script_entries(json.loads(path.read_text()))]
    assert paths == [other.as_posix(), "/opt/scripts/clock.lua", SCRIPT.as_posix()]
    assert oc.register(path, SCRIPT) is False


def test_unregister_removes_only_ours(home):
    path = collection(home)
    doc = json.loads(path.read_text())
    doc["modules"]["scripts-tool"].append({"path": "/opt/other.lua", "settings": {"x": 1}})
    path.write_text(json.dumps(doc))
    oc.register(path, SCRIPT)
    message = oc.unregister(path, SCRIPT)
    assert message.startswith("removed obs_vbg.py") and "original kept at" in message
    assert oc.script_entries(json.loads(path.read_text())) == [{"path": "/opt/other.lua", "settings": {"x": 1}}]
    assert oc.unregister(path, SCRIPT).startswith("obs_vbg.py was not in")


def test_unregister_restores_backup_byte_for_byte(home):
    path, original = collection(home), collection(home).read_bytes()
    oc.register(path, SCRIPT)
    assert oc.unregister(path, SCRIPT, restore_backup=True).startswith("restored")
    assert path.read_bytes() == original and not oc.backup_path(path).exists()


def test_windows_paths_compare_equal():
    assert oc.same_script("C:/obs-vbg/obs_vbg.py", "C:\\obs-vbg\\obs_vbg.py")
    assert not oc.same_script("/a/obs_vbg.py", "/b/obs_vbg.py")


@pytest.fixture
def fake_obs(tmp_path, home):
    """A real process named `obs` whose environment points at `home`."""
    binary = tmp_path / "bin" / "obs"
    binary.parent.mkdir()
    shutil.copy(shutil.which("sleep"), binary)
    env = {"HOME": str(home), "PATH": os.environ["PATH"]}
    proc = subprocess.Popen([str(binary), "30"], env=env)
    time.sleep(0.2)
    yield proc
    proc.kill()
    proc.wait()


@pytest.mark.skipif(sys.platform != "linux", reason="/proc scan is the Linux path")
def test_running_obs_is_seen_only_for_its_own_config(home, tmp_path, fake_obs):
    assert oc.running_obs(cfg_of(home)) == [fake_obs.pid]
    assert fake_obs.pid not in oc.running_obs(oc.ObsConfig(tmp_path / "elsewhere", "native"))


@pytest.mark.skipif(sys.platform != "linux", reason="/proc scan is the Linux path")
def test_register_all_leaves_a_running_obs_alone(home, fake_obs):
    before = collection(home).read_bytes()
    lines = oc.register_all(SCRIPT, [cfg_of(home)])
    assert "OBS is running" in lines[0] and "Tools > Scripts" in lines[0] and str(SCRIPT) in lines[0]
    assert collection(home).read_bytes() == before


def test_register_all_without_obs_config_gives_clicks():
    lines = oc.register_all(SCRIPT, [])
    assert "No OBS configuration found" in lines[0] and "'+' (Add Scripts)" in lines[0]


def test_flatpak_registration_explains_the_sandbox(home):
    flatpak = oc.ObsConfig(cfg_of(home).root, "flatpak")
    lines = oc.register_all(SCRIPT, [flatpak])
    assert "sandbox" in lines[0] and lines[1].startswith("registered:")


def test_cli_register_then_unregister(home):
    env = {**os.environ, "HOME": str(home)}
    env.pop("XDG_CONFIG_HOME", None)
    run = lambda *a: subprocess.run([sys.executable, "-m", "vbg_core.setup", *a, "--script", str(SCRIPT)],
                                    env=env, cwd=REPO, capture_output=True, text=True, check=True).stdout
    original = collection(home).read_bytes()
    assert run("register").startswith("registered:")
    assert oc.is_registered(collection(home), SCRIPT)
    assert run("unregister", "--restore-backup").startswith("restored")
    assert collection(home).read_bytes() == original


# --- OBS's own Python on Windows / macOS (obspython) ---------------------------------

def real_pe(kind: str) -> Path:
    """Real Windows executables that pip ships (distlib's launchers)."""
    import pip._vendor.distlib as distlib
    return Path(distlib.__file__).parent / kind


def windows_python(tmp_path: Path, dll: str, exe: str = "t64.exe") -> Path:
    folder = tmp_path / "Python"
    folder.mkdir(exist_ok=True)
    shutil.copy(real_pe(exe), folder / dll)
    return folder


def test_pe_and_macho_architectures(tmp_path):
    assert op.binary_arches(real_pe("t64.exe")) == {"x86_64"}
    assert op.binary_arches(real_pe("t64-arm.exe")) == {"arm64"}
    assert op.binary_arches(real_pe("t32.exe")) == {"x86"}
    fat = tmp_path / "fat"
    fat.write_bytes(struct.pack(">II", 0xCAFEBABE, 2) + struct.pack(">iiIII", 0x01000007, 3, 0, 0, 0)
                    + struct.pack(">iiIII", 0x0100000C, 0, 0, 0, 0))
    assert op.binary_arches(fat) == {"x86_64", "arm64"}
    thin = tmp_path / "thin"
    thin.write_bytes(b"\xcf\xfa\xed\xfe" + struct.pack("<i", 0x0100000C) + bytes(24))
    assert op.binary_arches(thin) == {"arm64"}


def test_windows_python_312_is_accepted(tmp_path):
    folder = windows_python(tmp_path, "python312.dll")
    (folder / "python3.dll").write_bytes(b"stable abi")
    verdict, text, fix = op.judge_python_path(str(folder), "Windows", "AMD64")
    assert verdict == op.OK and "3.12" in text and fix == ""


def test_windows_python_313_is_refused_with_the_fix(tmp_path):
    folder = windows_python(tmp_path, "python313.dll")
    verdict, text, fix = op.judge_python_path(str(folder), "Windows", "AMD64")
    assert verdict == op.FAIL and "has 3.13" in text and "3.6-3.12" in text and "Python Install Path" in fix


def test_windows_wrong_architecture_is_refused(tmp_path):
    folder = windows_python(tmp_path, "python311.dll", exe="t32.exe")
    verdict, text, _ = op.judge_python_path(str(folder), "Windows", "AMD64")
    assert verdict == op.FAIL and "is x86" in text and "OBS here is x86_64" in text


def test_unset_python_path_says_where_to_click():
    verdict, _, fix = op.judge_python_path(None, "Windows", "AMD64")
    assert verdict == op.FAIL and "Tools > Scripts > Python Settings" in fix and "python3XX.dll" in fix


def test_macos_framework_arch_is_checked(tmp_path):
    lib = tmp_path / "Python.framework" / "Versions" / "Current" / "lib" / "libpython3.11.dylib"
    lib.parent.mkdir(parents=True)
    lib.write_bytes(b"\xcf\xfa\xed\xfe" + struct.pack("<i", 0x01000007) + bytes(24))
    assert op.judge_python_path(str(tmp_path), "Darwin", "x86_64")[0] == op.OK
    verdict, text, fix = op.judge_python_path(str(tmp_path), "Darwin", "arm64")
    assert verdict == op.FAIL and "x86_64" in text and "/Library/Frameworks" in fix


def test_python_setting_read_from_global_ini(home, tmp_path):
    folder = windows_python(tmp_path, "python310.dll")
    with open(cfg_of(home).root / "global.ini", "a") as ini:
        ini.write(f"\n[Python]\nPath64bit={folder.as_posix()}\n")
    lines = op.python_setting_lines([cfg_of(home)], "Windows", "AMD64")
    assert lines == [f"[OK] OBS loads Python 3.10 (python310.dll) from {folder.as_posix()}"]
    assert op.python_setting_lines([cfg_of(home)], "Linux", "x86_64") == []
