"""Worker logs (vbg_core/obs/worker_log.py): in a private per-user folder, never
through a link someone planted, bounded in size and number."""

import os
import stat

import pytest

from vbg_core.obs import worker_log


def test_each_system_has_its_per_user_folder(tmp_path):
    env = {"HOME": str(tmp_path), "LOCALAPPDATA": str(tmp_path / "Local")}
    assert worker_log.log_dir(env, "linux") == tmp_path / ".local" / "state" / "obs-vbg" / "logs"
    assert worker_log.log_dir(dict(env, XDG_STATE_HOME="/x"), "linux") == worker_log.Path("/x/obs-vbg/logs")
    assert worker_log.log_dir(env, "darwin") == tmp_path / "Library" / "Logs" / "obs-vbg"
    assert worker_log.log_dir(env, "win32") == tmp_path / "Local" / "obs-vbg" / "logs"


def test_the_folder_and_files_are_owner_only(tmp_path):
    fd, path = worker_log.open_log("vbg_1_ab", tmp_path / "logs")
    os.write(fd, b"hello\n")
    os.close(fd)
    assert stat.S_IMODE(os.stat(tmp_path / "logs").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600 and path.read_bytes() == b"hello\n"


def test_a_planted_symlink_is_never_written_through(tmp_path):
    folder, victim = tmp_path / "logs", tmp_path / "victim.txt"
    victim.write_text("precious")
    folder.mkdir(mode=0o700)
    (folder / "worker-vbg_1_ab.log").symlink_to(victim)
    with pytest.raises(OSError):
        worker_log.open_log("vbg_1_ab", folder)
    assert victim.read_text() == "precious"


def test_a_folder_that_is_a_link_is_refused(tmp_path):
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "logs").symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match="not a folder of this user"):
        worker_log.open_log("vbg_1_ab", tmp_path / "logs")


def test_size_and_number_are_bounded(tmp_path, monkeypatch):
    folder = tmp_path / "logs"
    monkeypatch.setattr(worker_log, "MAX_BYTES", 100)
    fd, path = worker_log.open_log("big", folder)
    os.write(fd, b"x" * 200)
    os.close(fd)
    os.close(worker_log.open_log("big", folder)[0])         # a restart: the big file moves aside
    assert (folder / "worker-big.log.1").stat().st_size == 200 and path.stat().st_size == 0
    for n in range(worker_log.KEEP + 5):
        os.close(worker_log.open_log(f"many{n}", folder)[0])
    assert len(list(folder.glob("worker-*"))) <= worker_log.KEEP + 1      # the newest KEEP, plus the one opened


def test_last_words_are_this_workers_exception_line(tmp_path):
    log = tmp_path / "w.log"
    log.write_text("Traceback (most recent call last):\n  File \"x\", line 1\nOldError: from before\n")
    start = log.stat().st_size
    with open(log, "a") as handle:
        handle.write("vbg worker: starting\nTraceback (most recent call last):\n"
                     "  File \"worker.py\", line 3, in <module>\n    import numpy\n"
                     "ModuleNotFoundError: No module named 'numpy'\n")
    assert worker_log.last_words(log, start) == "ModuleNotFoundError: No module named 'numpy'"
    assert worker_log.last_words(log, log.stat().st_size) == ""
