"""The workers' log files: private to the user, bounded, and the source of a dead
worker's last words. Standard library only.

Logs live in a per-user folder only its owner can open (Linux: $XDG_STATE_HOME or
~/.local/state/obs-vbg/logs; macOS: ~/Library/Logs/obs-vbg; Windows:
%LOCALAPPDATA%\\obs-vbg\\logs), never in the shared temporary folder, and a log file
is opened without following a symbolic link. One file per filter instance; a file
over MAX_BYTES is moved to `.1` when a worker starts, and only the newest KEEP files
are kept.
"""

import os
import stat
import sys
from pathlib import Path
from typing import Optional, Tuple

MAX_BYTES = 1 << 20
KEEP = 12


def log_dir(env=os.environ, platform: str = sys.platform) -> Path:
    home = Path(env.get("HOME") or env.get("USERPROFILE") or Path.home())
    if platform == "win32":
        return Path(env.get("LOCALAPPDATA") or home / "AppData" / "Local") / "obs-vbg" / "logs"
    if platform == "darwin":
        return home / "Library" / "Logs" / "obs-vbg"
    return Path(env.get("XDG_STATE_HOME") or home / ".local" / "state") / "obs-vbg" / "logs"


def private_dir(path: Path) -> Path:
    """Make `path` (and its parents) if needed; refuse it unless it is a real folder of
    this user, and make it owner-only."""
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    info = os.lstat(path)
    if not stat.S_ISDIR(info.st_mode) or (hasattr(os, "getuid") and info.st_uid != os.getuid()):
        raise OSError(f"{path} is not a folder of this user: not writing worker logs there")
    if os.name == "posix":
        os.chmod(path, 0o700)
    return path


def open_log(name: str, folder: Optional[Path] = None) -> Tuple[int, Path]:
    """-> (a file descriptor appending to the log `name`, which the caller closes; its path)."""
    folder = private_dir(folder or log_dir())
    path = folder / f"worker-{name}.log"
    _rotate(path)
    _prune(folder)
    flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
    return os.open(path, flags, 0o600), path


def _rotate(path: Path) -> None:
    try:
        if os.lstat(path).st_size > MAX_BYTES:
            os.replace(path, path.with_name(path.name + ".1"))
    except FileNotFoundError:
        pass


def _prune(folder: Path) -> None:
    logs = sorted(folder.glob("worker-*.log*"), key=lambda p: p.lstat().st_mtime, reverse=True)
    for old in logs[KEEP:]:
        try:
            old.unlink()
        except OSError:
            pass


def last_words(path: Path, start: int = 0, limit: int = 300) -> str:
    """The last line written from byte `start` on that says why the worker stopped (for
    a Python error, the exception line after its traceback); "" if there is none."""
    try:
        with open(path, "rb") as handle:
            handle.seek(max(start, os.path.getsize(path) - 8192))
            lines = handle.read().decode("utf-8", "replace").splitlines()
    except OSError:
        return ""
    said = [line.strip() for line in lines if line.strip() and not line.startswith((" ", "\t"))]
    said = [line for line in said if not line.startswith("Traceback (most recent call last)")]
    return said[-1][:limit] if said else ""
