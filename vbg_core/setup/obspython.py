"""The Python that OBS itself loads on Windows and macOS (Tools > Scripts > Python
Settings, stored as global.ini `[Python] Path64bit`), judged the way OBS loads it.

OBS looks for `python3X.dll` in that folder on Windows, and for
`Python.framework/Versions/Current/lib/libpython3.X.dylib` under it on macOS; it
accepts 3.6-3.12 (not 3.13+), of OBS's own architecture. On Linux OBS uses the system
libpython it was built against, so there is nothing to set. Standard library only.
"""

import platform
import re
import struct
from pathlib import Path
from typing import List, Optional, Set, Tuple

from .obsconfig import ObsConfig, ini_value

OK, WARN, FAIL = "OK", "WARN", "FAIL"
SUPPORTED = ((3, 6), (3, 12))
_MACHO_CPU = {0x01000007: "x86_64", 0x0100000C: "arm64", 7: "x86"}
_PE_MACHINE = {0x8664: "x86_64", 0x14C: "x86", 0xAA64: "arm64"}
_ARCH_ALIASES = {"amd64": "x86_64", "x86_64": "x86_64", "arm64": "arm64", "aarch64": "arm64",
                 "x86": "x86", "i386": "x86", "i686": "x86"}


def norm_arch(machine: str) -> str:
    return _ARCH_ALIASES.get(machine.lower(), machine.lower())


def find_libpythons(folder: Path, system: str) -> List[Tuple[Tuple[int, int], Path]]:
    """(version, library) for each Python library OBS would look for in `folder`."""
    if system == "Windows":
        pattern, regex = "python3*.dll", r"python3(\d+)\.dll"
    else:
        folder = folder / "Python.framework" / "Versions" / "Current" / "lib"
        pattern, regex = "libpython3.*.dylib", r"libpython3\.(\d+)\.dylib"
    found = []
    for lib in folder.glob(pattern) if folder.is_dir() else []:
        match = re.fullmatch(regex, lib.name, re.IGNORECASE)
        if match:
            found.append(((3, int(match.group(1))), lib))
    return sorted(found, reverse=True)


def binary_arches(path: Path) -> Set[str]:
    """Architectures of a Mach-O (thin or fat) or PE file; empty if unknown."""
    with open(path, "rb") as handle:
        head = handle.read(4096)
    if head[:2] == b"MZ" and len(head) >= 0x40:
        offset = struct.unpack_from("<I", head, 0x3C)[0]
        if head[offset:offset + 4] == b"PE\0\0":
            return {_PE_MACHINE.get(struct.unpack_from("<H", head, offset + 4)[0], "unknown")}
    magic = struct.unpack_from(">I", head, 0)[0]
    if magic in (0xCAFEBABE, 0xCAFEBABF):
        count, size = struct.unpack_from(">I", head, 4)[0], 20 if magic == 0xCAFEBABE else 32
        return {_MACHO_CPU.get(struct.unpack_from(">i", head, 8 + i * size)[0], "unknown")
                for i in range(min(count, 16))}
    if head[:4] in (b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe"):
        return {_MACHO_CPU.get(struct.unpack_from("<i", head, 4)[0], "unknown")}
    return set()


def _where_to_point(system: str) -> str:
    if system == "Windows":
        return ("the folder that holds python3XX.dll of a 64-bit Python 3.12 or older, "
                r"e.g. C:\Users\<you>\AppData\Local\Programs\Python\Python312")
    return ("the folder that holds Python.framework of a Python 3.12 or older framework build "
            "(python.org installer: /Library/Frameworks)")


def judge_python_path(setting: Optional[str], system: str, machine: str) -> Tuple[str, str, str]:
    """(verdict, what was found, fix or "") for OBS's Python Install Path on Windows/macOS."""
    fix = f"set Tools > Scripts > Python Settings > Python Install Path to {_where_to_point(system)}"
    if not setting:
        return FAIL, "OBS has no Python Install Path set", fix
    libs = find_libpythons(Path(setting), system)
    usable = [(v, lib) for v, lib in libs if SUPPORTED[0] <= v <= SUPPORTED[1]]
    if not usable:
        seen = ", ".join(f"{v[0]}.{v[1]}" for v, _ in libs) or "no Python library"
        return FAIL, f"OBS's Python Install Path {setting} has {seen}; OBS loads 3.6-3.12 only", fix
    version, lib = usable[0]
    arches, want = binary_arches(lib), norm_arch(machine)
    if arches and want not in arches:
        return FAIL, (f"Python {version[0]}.{version[1]} at {setting} is {'/'.join(sorted(arches))}, "
                      f"OBS here is {want}"), fix
    return OK, f"OBS loads Python {version[0]}.{version[1]} ({lib.name}) from {setting}", ""


def python_setting_lines(configs: List[ObsConfig], system: str = "", machine: str = "") -> List[str]:
    """One line per configuration on Windows/macOS; nothing to do on Linux."""
    system, machine = system or platform.system(), machine or platform.machine()
    if system not in ("Windows", "Darwin"):
        return []
    lines = []
    for cfg in configs:
        verdict, found, fix = judge_python_path(ini_value(cfg, "Python", "Path64bit"), system, machine)
        lines.append(f"[{verdict}] {found}" + (f": {fix}" if fix else ""))
    return lines
