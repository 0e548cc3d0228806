"""OBS Studio's own configuration: where it lives, which scene collection is current,
adding/removing obs_vbg.py in that collection's scripts, and whether OBS is running.

Standard library only. The installers reach it through `python -m vbg_core.setup`, so
the logic is written once (here) and unit-tested; `vbg doctor` reads the same facts.
The Python setting OBS uses on Windows/macOS is judged in `obspython`.
"""

import configparser
import json
import os
import platform
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import List, Mapping, Optional

from ..shared.errors import VbgError
from ..shared.files import write_bytes_atomic

FLATPAK_ID = "com.obsproject.Studio"
SCRIPTS_KEY = "scripts-tool"
BACKUP_SUFFIX = ".vbg-backup"   # OBS itself writes NAME.json.bak; never touch that one


class ObsConfigError(VbgError):
    """OBS's configuration cannot be read or changed as asked."""


@dataclass(frozen=True)
class ObsConfig:
    root: Path          # the obs-studio folder holding global.ini and basic/
    flavour: str        # "native" or "flatpak"


def candidate_dirs(system: str = "", env: Optional[Mapping[str, str]] = None) -> List[ObsConfig]:
    """Every place OBS may keep its configuration on this OS, existing or not."""
    system = system or platform.system()
    env = os.environ if env is None else env
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if system == "Windows":
        appdata = env.get("APPDATA") or str(home / "AppData" / "Roaming")
        return [ObsConfig(Path(appdata) / "obs-studio", "native")]
    if system == "Darwin":
        return [ObsConfig(home / "Library" / "Application Support" / "obs-studio", "native")]
    xdg = env.get("XDG_CONFIG_HOME") or str(home / ".config")
    flatpak = home / ".var" / "app" / FLATPAK_ID / "config" / "obs-studio"
    return [ObsConfig(Path(xdg) / "obs-studio", "native"), ObsConfig(flatpak, "flatpak")]


def config_dirs(system: str = "", env: Optional[Mapping[str, str]] = None) -> List[ObsConfig]:
    """The OBS configurations that exist (OBS has been started at least once)."""
    return [c for c in candidate_dirs(system, env) if (c.root / "global.ini").is_file()]


def read_ini(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    parser.optionxform = str    # OBS keys are case-sensitive
    if path.is_file():
        try:
            parser.read_string(path.read_text(encoding="utf-8-sig", errors="replace"))
        except configparser.Error as exc:
            raise ObsConfigError(f"cannot read {path}: {exc}") from None
    return parser


def ini_value(cfg: ObsConfig, section: str, key: str) -> Optional[str]:
    """A value from user.ini (OBS 31+) or else global.ini."""
    for name in ("user.ini", "global.ini"):
        parser = read_ini(cfg.root / name)
        if parser.has_option(section, key) and parser.get(section, key).strip():
            return parser.get(section, key).strip()
    return None


def scene_collection_file(cfg: ObsConfig) -> Path:
    """The JSON file of the scene collection OBS opens next."""
    name = ini_value(cfg, "Basic", "SceneCollectionFile")
    path = cfg.root / "basic" / "scenes" / f"{name}.json" if name else None
    if path is None or not path.is_file():
        raise ObsConfigError(
            f"no current scene collection in {cfg.root}: start OBS once and close it, then run this again")
    return path


def load_collection(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, ValueError) as exc:
        raise ObsConfigError(f"cannot read scene collection {path}: {exc}") from None
    if not isinstance(doc, dict):
        raise ObsConfigError(f"scene collection {path} is not a JSON object")
    return doc


def script_entries(doc: dict) -> list:
    modules = doc.get("modules")
    entries = modules.get(SCRIPTS_KEY) if isinstance(modules, dict) else None
    return entries if isinstance(entries, list) else []


def same_script(a: str, b: str) -> bool:
    """Compare paths as OBS stores them (forward slashes; case-blind on Windows)."""
    def norm(p: str) -> str:
        p = os.path.normpath(p.replace("\\", "/")).replace("\\", "/")
        return p.lower() if sys.platform == "win32" else p
    return norm(a) == norm(b)


def names_script(entry, script: Path) -> bool:
    return isinstance(entry, dict) and same_script(str(entry.get("path", "")), str(script))


def is_registered(collection: Path, script: Path) -> bool:
    return any(names_script(e, script) for e in script_entries(load_collection(collection)))


def backup_path(collection: Path) -> Path:
    return collection.with_name(collection.name + BACKUP_SUFFIX)


def write_json_atomic(path: Path, doc: dict, pretty: bool) -> None:
    """Written beside the target, then renamed over it: OBS never sees half a file."""
    text = json.dumps(doc, ensure_ascii=False, indent=4 if pretty else None,
                      separators=(",", ": ") if pretty else (",", ":"))
    write_bytes_atomic(str(path), text.encode("utf-8"))


def _is_pretty(path: Path) -> bool:
    return "\n" in path.read_text(encoding="utf-8-sig")[:200]


def is_stale(entry, script: Path) -> bool:
    """An obs_vbg.py entry left by a checkout that was moved or deleted."""
    path = str(entry.get("path", "")) if isinstance(entry, dict) else ""
    return (path.replace("\\", "/").rsplit("/", 1)[-1] == script.name
            and not same_script(path, str(script)) and not os.path.exists(path))


def register(collection: Path, script: Path) -> bool:
    """Add the script (dropping stale copies of it); False when nothing had to change."""
    doc = load_collection(collection)
    entries = script_entries(doc)
    present = any(names_script(e, script) for e in entries)
    if present and not any(is_stale(e, script) for e in entries):
        return False
    modules = doc.setdefault("modules", {})
    modules[SCRIPTS_KEY] = [e for e in entries if not is_stale(e, script)]
    if not present:
        modules[SCRIPTS_KEY].append({"path": Path(script).as_posix(), "settings": {}})
    backup = backup_path(collection)
    if not backup.exists():     # keep the very first original, once
        shutil.copy2(collection, backup)
    write_json_atomic(collection, doc, _is_pretty(collection))
    return True


def unregister(collection: Path, script: Path, restore_backup: bool = False) -> str:
    """Remove the script's entry, or put the backed-up original back. Says what it did."""
    backup = backup_path(collection)
    if restore_backup and backup.exists():
        os.replace(backup, collection)
        return f"restored the original {collection.name} from {backup.name}"
    note = "" if not backup.exists() else f"; original kept at {backup}"
    if not is_registered(collection, script):
        return f"obs_vbg.py was not in {collection.name}{note}"
    doc = load_collection(collection)
    entries = script_entries(doc)
    entries[:] = [e for e in entries if not names_script(e, script)]
    write_json_atomic(collection, doc, _is_pretty(collection))
    return f"removed obs_vbg.py from {collection.name}{note}"


def _proc_config_root(pid: str) -> Optional[Path]:
    """The obs-studio config folder a Linux process uses, from its environment."""
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = dict(kv.split("=", 1) for kv in raw.decode(errors="replace").split("\0") if "=" in kv)
    base = env.get("XDG_CONFIG_HOME") or (env.get("HOME", "") + "/.config")
    return Path(base) / "obs-studio"


def _linux_obs_using(cfg: ObsConfig) -> List[int]:
    pids = []
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() != "obs":
                continue
            root = _proc_config_root(proc.name)
        except PermissionError:     # someone else's OBS: assume the worst
            root = cfg.root
        except OSError:
            continue
        if root is not None and os.path.realpath(root) == os.path.realpath(cfg.root):
            pids.append(int(proc.name))
    return pids


def running_obs(cfg: ObsConfig) -> List[int]:
    """PIDs of OBS processes that use this configuration (any OBS on Windows/macOS)."""
    system = platform.system()
    if system == "Linux":
        return _linux_obs_using(cfg)
    if system == "Windows":
        out = _run(["tasklist", "/FO", "CSV", "/NH", "/FI", "IMAGENAME eq obs64.exe"])
        return [int(line.split('","')[1]) for line in out.splitlines() if "obs64.exe" in line.lower()]
    out = _run(["pgrep", "-x", "OBS"]) + _run(["pgrep", "-x", "obs"])
    return [int(p) for p in out.split()]


def _run(cmd: List[str]) -> str:
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return ""


def manual_clicks(script: Path) -> str:
    return ("In OBS: Tools > Scripts > Scripts tab > '+' (Add Scripts) > choose "
            f"{script} > Open. Then right-click your camera source > Filters > '+' > Virtual Background.")


def flatpak_note() -> str:
    return ("Flatpak OBS: obs_vbg.py itself loads (it needs only the standard library), but the "
            "sandbox cannot start the worker from this project's environment on the host; "
            "use the native OBS package (e.g. 'sudo apt install obs-studio') for the filter to work.")


def register_all(script: Path, configs: List[ObsConfig]) -> List[str]:
    """Register in every found configuration; return the lines to show a person."""
    if not configs:
        return ["No OBS configuration found (OBS never started?). " + manual_clicks(script)]
    return [line for cfg in configs for line in _register_one(script, cfg)]


def _register_one(script: Path, cfg: ObsConfig) -> List[str]:
    lines = [flatpak_note()] if cfg.flavour == "flatpak" else []
    pids = running_obs(cfg)
    if pids:
        return lines + [f"OBS is running (pid {', '.join(map(str, pids))}) with {cfg.root}; "
                        "not editing its files (it would overwrite them on exit). " + manual_clicks(script)]
    try:
        collection = scene_collection_file(cfg)
        changed = register(collection, script)
    except ObsConfigError as exc:
        return lines + [f"{exc}. Or add it by hand: {manual_clicks(script)}"]
    state = "registered" if changed else "already registered"
    return lines + [f"{state}: {script} in {collection} (backup of the original: {backup_path(collection)})"]


def unregister_all(script: Path, configs: List[ObsConfig], restore_backup: bool) -> List[str]:
    lines = []
    for cfg in configs:
        pids = running_obs(cfg)
        if pids:
            lines.append(f"OBS is running (pid {pids[0]}) with {cfg.root}: close it first, or remove "
                         "obs_vbg.py in Tools > Scripts with '-'.")
            continue
        try:
            lines.append(unregister(scene_collection_file(cfg), script, restore_backup))
        except ObsConfigError as exc:
            lines.append(str(exc))
    return lines
