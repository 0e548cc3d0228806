"""Setting OBS's Python Install Path for the user (Windows, macOS), so that the script
shows up: the most common reason an OBS Python script "does not appear".

Which file: OBS's scripts tool reads `[Python] Path64bit` from its *user* config, which
OBS 31 and later keep in `user.ini` (obs_frontend_get_user_config) and older OBS in
`global.ini` (obs_frontend_get_global_config); see frontend-tools/scripts.cpp. We
write the file that OBS will read: `user.ini` where it exists, else `global.ini`.
Only while no OBS uses that configuration (OBS rewrites its files when it exits),
with a backup of the original (made once) and an atomic replace; everything else in
the file is kept byte for byte: the UTF-8 mark, the line endings, other sections.
Standard library only.
"""

import os
import platform
import shutil
import stat
import sys
from pathlib import Path
from typing import List, Mapping, Optional

from ..shared.errors import OutputError
from ..shared.files import write_bytes_atomic
from .obsconfig import BACKUP_SUFFIX, ObsConfig, ObsConfigError, running_obs
from .obspython import OK, judge_python_path

SECTION, KEY = "Python", "Path64bit"
BOM = b"\xef\xbb\xbf"


def setting_file(cfg: ObsConfig) -> Path:
    user = cfg.root / "user.ini"
    return user if user.is_file() else cfg.root / "global.ini"


def with_value(text: str, section: str, key: str, value: str) -> str:
    """`text` of an INI file with `key=value` in `[section]` (replaced, inserted, or the
    section appended); every other line unchanged, the file's line ending used."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.strip() == f"[{section}]"), None)
    if start is None:
        gap = "" if not text or text.endswith("\n") else newline
        return f"{text}{gap}{newline if text.strip() else ''}[{section}]{newline}{key}={value}{newline}"
    end = next((i for i in range(start + 1, len(lines)) if lines[i].lstrip().startswith("[")), len(lines))
    for i in range(start + 1, end):
        if lines[i].split("=", 1)[0].strip() == key:
            lines[i] = f"{key}={value}{lines[i][len(lines[i].rstrip(chr(13) + chr(10))):] or newline}"
            return "".join(lines)
    if not lines[start].endswith("\n"):
        lines[start] += newline
    lines.insert(start + 1, f"{key}={value}{newline}")
    return "".join(lines)


def set_python_path(cfg: ObsConfig, folder: str, system: str = "", machine: str = "") -> str:
    """Point OBS's Python Install Path at `folder` (judged first); -> what was done."""
    system, machine = system or platform.system(), machine or platform.machine()
    verdict, found, _ = judge_python_path(folder, system, machine)
    if verdict != OK:
        raise ObsConfigError(f"not setting OBS's Python to {folder}: {found}")
    pids = running_obs(cfg)
    if pids:
        raise ObsConfigError(f"OBS is running (pid {', '.join(map(str, pids))}) with {cfg.root}: close it and "
                             "run the installer again (OBS rewrites its settings when it exits)")
    path = setting_file(cfg)
    raw = path.read_bytes() if path.is_file() else b""
    if path.is_file() and not os.stat(path).st_mode & stat.S_IWUSR:
        raise ObsConfigError(f"{path} is read-only: make it writable, or set Tools > Scripts > Python Settings "
                             f"> Python Install Path to {folder} in OBS")
    bom = BOM if raw.startswith(BOM) else b""
    new = bom + with_value(raw[len(bom):].decode("utf-8"), SECTION, KEY, folder).encode("utf-8")
    if new == raw:
        return f"OBS's Python Install Path is already {folder} ({path})"
    backup = path.with_name(path.name + BACKUP_SUFFIX)
    try:
        if raw and not backup.exists():
            shutil.copy2(path, backup)
        write_bytes_atomic(str(path), new)
    except (OSError, OutputError) as exc:
        raise ObsConfigError(f"cannot write {path} ({exc}): close what holds it, or set the Python Install "
                             f"Path to {folder} in OBS (Tools > Scripts > Python Settings)") from None
    kept = f"; original kept as {backup.name}" if raw else ""
    return f"set OBS's Python Install Path to {folder} in {path}{kept}"


def candidate_folders(system: str, env: Mapping[str, str] = os.environ) -> List[Path]:
    """Where a Python that OBS can load usually is: this installer's own Python first."""
    home = Path(env.get("USERPROFILE") or env.get("HOME") or Path.home())
    if system == "Windows":
        local = Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "Programs" / "Python"
        found = [Path(sys.base_prefix)]
        for root in (local, Path(env.get("ProgramFiles") or r"C:\Program Files")):
            found += sorted(root.glob("Python3*"), reverse=True) if root.is_dir() else []
        return found
    if system == "Darwin":
        return [Path("/Library/Frameworks"), home / "Library" / "Frameworks"]
    return []


def choose_python(system: str, machine: str, env: Mapping[str, str] = os.environ) -> Optional[str]:
    """The first candidate folder OBS would load a Python from, or None."""
    for folder in candidate_folders(system, env):
        if judge_python_path(str(folder), system, machine)[0] == OK:
            return str(folder)
    return None


def setup_lines(configs: List[ObsConfig], folder: str = "", system: str = "", machine: str = "") -> List[str]:
    """The installer's step: set OBS's Python in every configuration (Windows, macOS)."""
    system, machine = system or platform.system(), machine or platform.machine()
    if system not in ("Windows", "Darwin"):
        return ["OBS's Python: nothing to set on Linux (OBS uses the libpython it was built with)"]
    folder = folder or choose_python(system, machine) or ""
    if not folder:
        return ["OBS's Python: no Python that OBS can load was found (OBS loads 3.6-3.12, 64-bit): install "
                "Python 3.12 from python.org, then run the installer again"]
    lines = []
    for cfg in configs:
        try:
            lines.append(set_python_path(cfg, folder, system, machine))
        except ObsConfigError as exc:
            lines.append(f"OBS's Python: {exc}")
    return lines or ["OBS's Python: no OBS configuration found (start OBS once, close it, run the installer again)"]
