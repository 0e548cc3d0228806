"""`vbg doctor`: what is really installed and working, one verdict per line.

OK = fine; WARN = optional or degraded (the rest works); FAIL = something required is
wrong. Every line that is not OK carries its fix in one line. Exit status 1 when any
line is FAIL. The OBS checks are here; the engine checks are in `doctor_engine`.
"""

import argparse
import json
import platform
import plistlib
import re
import shutil
import sys
from dataclasses import asdict
from pathlib import Path
from typing import Callable, Dict, List, Optional

from ..setup import obsconfig
from .doctor_engine import FAIL, OK, WARN, Check, ENGINE_GROUPS, SCRIPT
from ..setup.obspython import judge_python_path


def _obs_version_linux(binary: str) -> str:
    out = obsconfig._run([binary, "--version"])
    match = re.search(r"OBS Studio - (\S+)", out)
    return match.group(1) if match else "version unknown"


def _flatpak_version() -> Optional[str]:
    if not shutil.which("flatpak"):
        return None
    out = obsconfig._run(["flatpak", "info", obsconfig.FLATPAK_ID])
    match = re.search(r"Version:\s*(\S+)", out)
    return match.group(1) if match else None


def find_obs() -> List[Dict[str, str]]:
    """Installed OBS Studio builds: flavour, version and where."""
    system, found = platform.system(), []
    if system == "Linux":
        binary = shutil.which("obs")
        if binary:
            found.append({"flavour": "native", "version": _obs_version_linux(binary), "where": binary})
        version = _flatpak_version()
        if version:
            found.append({"flavour": "flatpak", "version": version, "where": obsconfig.FLATPAK_ID})
    elif system == "Darwin":
        plist = Path("/Applications/OBS.app/Contents/Info.plist")
        if plist.is_file():
            info = plistlib.loads(plist.read_bytes())
            found.append({"flavour": "native", "version": info.get("CFBundleShortVersionString", "?"),
                          "where": "/Applications/OBS.app"})
    elif system == "Windows":
        for base in (Path(p) for p in ("C:/Program Files/obs-studio", "C:/Program Files (x86)/obs-studio")):
            if (base / "bin" / "64bit" / "obs64.exe").is_file():
                found.append({"flavour": "native", "version": "version unknown", "where": str(base)})
    return found


def _python_scripting_present(binary: str) -> bool:
    """Debian/Ubuntu/Fedora builds put OBS's Python bridge in lib*/obs-scripting."""
    prefix = Path(binary).resolve().parent.parent
    return any(prefix.glob("lib*/**/obs-scripting/_obspython.*"))


def check_obs_found() -> List[Check]:
    builds = find_obs()
    if not builds:
        return [Check("OBS Studio", WARN, "not found (the vbg command works without it)",
                      "install OBS Studio 28 or newer (Linux: sudo apt install obs-studio; else obsproject.com)")]
    checks = [Check("OBS Studio", OK, f"{b['version']} ({b['flavour']}, {b['where']})") for b in builds]
    for b in builds:
        if b["flavour"] == "native" and platform.system() == "Linux" and not _python_scripting_present(b["where"]):
            checks.append(Check("OBS Python scripting", FAIL, f"{b['where']} was built without Python scripting",
                                "install an OBS build with Python scripting (Debian/Ubuntu's obs-studio has it)"))
        if b["flavour"] == "flatpak":
            checks.append(Check("OBS Flatpak", WARN, "the sandbox cannot start the worker on the host",
                                obsconfig.flatpak_note()))
    return checks


def _registration(cfg: obsconfig.ObsConfig) -> Check:
    name = f"script registered ({cfg.flavour})"
    try:
        collection = obsconfig.scene_collection_file(cfg)
    except obsconfig.ObsConfigError as exc:
        return Check(name, WARN, str(exc), obsconfig.manual_clicks(SCRIPT))
    if obsconfig.is_registered(collection, SCRIPT):
        return Check(name, OK, f"{SCRIPT.name} in {collection}")
    return Check(name, WARN, f"{SCRIPT.name} is not in {collection}",
                 f"run install/install.sh with OBS closed, or: {obsconfig.manual_clicks(SCRIPT)}")


def check_registration() -> List[Check]:
    configs = obsconfig.config_dirs()
    if not configs:
        return [Check("script registered", WARN, "no OBS configuration found (OBS never started)",
                      "start OBS once, close it, run install/install.sh again")]
    return [_registration(cfg) for cfg in configs]


def check_obs_python() -> List[Check]:
    system = platform.system()
    if system not in ("Windows", "Darwin"):
        return [Check("OBS's Python", OK, "nothing to set on Linux: OBS uses the libpython it was built with")]
    configs = obsconfig.config_dirs()
    if not configs:
        return [Check("OBS's Python", WARN, "no OBS configuration found", "start OBS once, then run vbg doctor again")]
    checks = []
    for cfg in configs:
        setting = obsconfig.ini_value(cfg, "Python", "Path64bit")
        checks.append(Check("OBS's Python", *judge_python_path(setting, system, platform.machine())))
    return checks


GROUPS: Dict[str, Callable[[], List[Check]]] = {
    "obs": lambda: check_obs_found() + check_registration() + check_obs_python(),
    **ENGINE_GROUPS,
}


def collect(only: Optional[List[str]] = None) -> List[Check]:
    checks = []
    for name, group in GROUPS.items():
        if not only or name in only:
            checks.extend(group())
    return checks


def format_check(check: Check) -> str:
    line = f"[{check.verdict:^4}] {check.name}: {check.detail}"
    return line + (f"\n       fix: {check.fix}" if check.fix and check.verdict != OK else "")


def exit_code(checks: List[Check]) -> int:
    return 1 if any(c.verdict == FAIL for c in checks) else 0


def run(args) -> int:
    only = [g.strip() for g in args.only.split(",")] if args.only else None
    unknown = set(only or []) - set(GROUPS)
    if unknown:
        print(f"vbg doctor: unknown group(s) {', '.join(sorted(unknown))}; choose from {', '.join(GROUPS)}",
              file=sys.stderr)
        return 2
    checks = collect(only)
    if args.json:
        print(json.dumps([asdict(c) for c in checks], indent=2))
    else:
        print("\n".join(format_check(c) for c in checks))
        fails = sum(c.verdict == FAIL for c in checks)
        print(f"{len(checks)} checks: {fails} FAIL, {sum(c.verdict == WARN for c in checks)} WARN")
    return exit_code(checks)


def register(subparsers) -> None:
    parser = subparsers.add_parser("doctor", help="check the installation: OBS, worker, onnxruntime, models, cameras")
    add_arguments(parser)
    parser.set_defaults(func=run)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--only", metavar="GROUPS", help=f"comma-separated subset of: {', '.join(GROUPS)}")
    parser.add_argument("--json", action="store_true", help="machine-readable output")


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="vbg doctor", description="Check the obs-vbg installation.",
                                     allow_abbrev=False)
    add_arguments(parser)
    return run(parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
