"""What the OBS benchmarks read about processes and the machine (from /proc; Linux)."""

import os
import platform
import subprocess
from pathlib import Path


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far; 0 when it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _rollup_mb(pid: int, fields) -> float:
    try:
        lines = Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines()
    except OSError:
        return float("nan")
    return sum(int(line.split()[1]) for line in lines if line.split(":")[0] in fields) / 1024


def pss_mb(pid: int) -> float:
    """A process's proportional set size in MB (its share of shared pages: it moves when
    OTHER processes map or unmap the same libraries); NaN when gone."""
    return _rollup_mb(pid, ("Pss",))


def private_mb(pid: int) -> float:
    """A process's private memory in MB (pages no other process maps: what it alone
    holds, unmoved by other processes); NaN when gone."""
    return _rollup_mb(pid, ("Private_Clean", "Private_Dirty"))


def dirty_mb(pid: int) -> float:
    """A process's private dirty memory in MB (its heap, stacks and written pages: what a
    leak grows; private clean pages come and go as other processes stop sharing a
    library); NaN when gone."""
    return _rollup_mb(pid, ("Private_Dirty",))


def machine() -> str:
    """One line naming the CPU, the OS, OBS's version and the (emulated) GPU."""
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    obs_version = subprocess.run(["obs", "--version"], capture_output=True, text=True).stdout.strip()
    return (f"{cpu}, {os.cpu_count()} cores, {platform.system()} {platform.release()}; {obs_version}; "
            "Mesa llvmpipe (no GPU); Xvfb")
