"""The installers' command: `python -m vbg_core.setup register|unregister|status|set-python --script PATH`.

Registers obs_vbg.py with OBS Studio (or removes it) and, on Windows and macOS, says
whether OBS's own Python setting will load it; `set-python` points that setting at a
Python OBS can load (`--python-folder`, else the first one found). Standard library only.
"""

import argparse
import sys
from pathlib import Path
from typing import List, Optional

from .obsconfig import config_dirs, register_all, unregister_all
from .obspython import python_setting_lines
from .python_setting import setup_lines


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vbg_core.setup", allow_abbrev=False,
                                     description="Register obs_vbg.py with OBS Studio.")
    parser.add_argument("action", choices=("register", "unregister", "status", "set-python"))
    parser.add_argument("--script", type=Path, required=True, help="absolute path of obs_vbg.py")
    parser.add_argument("--restore-backup", action="store_true", help="unregister: put the original back")
    parser.add_argument("--python-folder", default="", help="set-python: the folder to point OBS at")
    args = parser.parse_args(argv)
    script, configs = args.script.resolve(), config_dirs()
    if args.action == "register":
        lines = register_all(script, configs)
    elif args.action == "unregister":
        lines = unregister_all(script, configs, args.restore_backup)
    elif args.action == "set-python":
        lines = setup_lines(configs, args.python_folder)
    else:
        lines = [f"{c.flavour}: {c.root}" for c in configs] or ["no OBS configuration found"]
    if args.action in ("register", "status"):
        lines += python_setting_lines(configs)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
