"""The worker's Python: where it is recorded and how it is found. One lookup, used by
the OBS filter's supervisor (to start workers) and by `vbg doctor` (to check them).

The installer writes the interpreter's path as the one line of `obs_vbg_python.txt`
next to obs_vbg.py; the environment variable VBG_PYTHON overrides it. Standard
library only: OBS's embedded Python imports this module.
"""

import os
from dataclasses import dataclass

PYTHON_FILE = "obs_vbg_python.txt"
OVERRIDE = "VBG_PYTHON"


@dataclass(frozen=True)
class WorkerPython:
    path: str           # the interpreter ("" when nothing names one)
    source: str         # where the choice came from: VBG_PYTHON, or the record's path
    problem: str        # why it cannot be started, in plain words ("" = it can)


def find_worker_python(script_dir: str) -> WorkerPython:
    """The interpreter for workers of the obs_vbg.py in `script_dir`."""
    override = os.environ.get(OVERRIDE, "").strip()
    if override:
        return _judge(override, OVERRIDE)
    record = os.path.join(script_dir, PYTHON_FILE)
    try:
        with open(record, "rb") as handle:
            raw = handle.read(4096)
    except OSError:
        return WorkerPython("", record, f"no worker Python: {record} is missing; run the installer "
                                        "(install/install.sh)")
    try:
        path = raw.decode("utf-8").splitlines()[0].strip() if raw.strip() else ""
    except UnicodeDecodeError:
        path = None
    if path is None or "\0" in path:
        return WorkerPython("", record, f"{record} holds binary data, not the path of a Python; "
                                        "run the installer again (`vbg doctor` shows what it should be)")
    return _judge(path, record)


def _judge(path: str, source: str) -> WorkerPython:
    if not path:
        problem = f"{source} names no interpreter (it is empty); run the installer again"
    elif not os.path.isfile(path):
        problem = f"the worker Python {path or '(empty)'} named by {source} does not exist; run the installer again"
    elif not os.access(path, os.X_OK):
        problem = f"the worker Python {path} named by {source} is not executable; run the installer again"
    else:
        problem = ""
    return WorkerPython(path, source, problem)
