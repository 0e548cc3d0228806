"""Writing outputs so that a failure never costs the user a file (standard library only).

Every output (images, masks, videos, OBS's scene collection) is written to a temporary
file beside its target, with the target's extension kept (PyAV and OpenCV pick the
format from it), and renamed over the target only once it is complete, closed and on
disk: `os.replace` is atomic on Linux, macOS and Windows. On any failure, Ctrl-C
included, the temporary file is removed and the target is left as it was.
"""

import os
import secrets
import stat
from pathlib import Path
from typing import Iterable

from .errors import OutputError

TEMP_MARK = ".vbg-tmp-"


def same_file(a: str, b: str) -> bool:
    """True when two paths name one file: the same path, a symlink or a hard link to it."""
    try:
        return os.path.samefile(a, b)
    except OSError:     # one does not exist (yet): compare where the paths lead
        return os.path.normcase(os.path.realpath(a)) == os.path.normcase(os.path.realpath(b))


def refuse_inputs(target: str, inputs: Iterable[str]) -> None:
    """OutputError when writing `target` would replace one of `inputs`."""
    for source in inputs:
        if same_file(target, source):
            raise OutputError(f"refusing to write {target}: it is the input {source} "
                              "(same file); choose another output name")


def temp_path(target: str, what: str = "") -> Path:
    """A new, empty file beside `target` (folder created if missing), keeping its extension:
    out.mp4 -> .out.vbg-tmp-1a2b3c4d.mp4. OutputError naming `what` (default: the target)
    and the folder if it cannot be made."""
    path = Path(target)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.stem}{TEMP_MARK}{secrets.token_hex(4)}{path.suffix}")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise OutputError(f"cannot write {what or target}: cannot create a file in the folder "
                          f"{path.parent} ({exc.strerror or exc})") from None
    return tmp


def check_writable(target: str, what: str = "") -> None:
    """Fail now, before any work, if `target` is a folder or its folder cannot take a new file."""
    if os.path.isdir(target):
        raise OutputError(f"cannot write {target}: it is a folder; give a file name")
    os.remove(temp_path(target, what))


class AtomicOutput:
    """`with AtomicOutput(target) as out:` write and close `out.path`; on leaving the block
    it is flushed to disk and renamed over `target`, or removed if the block raised."""

    def __init__(self, target: str):
        self.target = target
        self.path = temp_path(target)

    def __enter__(self) -> "AtomicOutput":
        return self

    def __exit__(self, kind, error, trace) -> None:
        if kind is None:
            self.commit()
        else:
            self.discard()

    def commit(self) -> None:
        try:
            _keep_mode(self.target, self.path)
            with open(self.path, "rb+") as handle:
                os.fsync(handle.fileno())
            os.replace(self.path, self.target)
        except BaseException as exc:
            self.discard()
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {self.target}: {exc.strerror or exc}") from None
            raise
        _sync_folder(self.target)

    def discard(self) -> None:
        try:
            os.remove(self.path)
        except FileNotFoundError:
            pass


def write_bytes_atomic(target: str, data: bytes) -> None:
    with AtomicOutput(target) as out:
        out.path.write_bytes(data)


def _keep_mode(target: str, tmp: Path) -> None:
    """A replaced file keeps its permissions; a new one gets the umask's (as open() gives)."""
    try:
        os.chmod(tmp, stat.S_IMODE(os.stat(target).st_mode))
    except FileNotFoundError:
        pass


def _sync_folder(target: str) -> None:
    """Make the rename itself durable (POSIX; Windows cannot open a folder this way)."""
    if os.name == "nt":
        return
    fd = os.open(os.path.dirname(os.path.abspath(target)), os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
