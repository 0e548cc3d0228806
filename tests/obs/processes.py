"""Processes by parent and by command line (Linux /proc), for the OBS tests."""

from pathlib import Path
from typing import List


def child_pids(pid: int) -> List[int]:
    """Processes whose parent is `pid` (Linux /proc)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                children.append(int(entry.name))
    return children


def cmdline(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def processes_matching(text: str) -> List[int]:
    return [int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit() and text in cmdline(int(p.name))]
