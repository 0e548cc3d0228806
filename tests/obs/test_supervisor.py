"""The supervisor's side of a worker, without OBS (it is standard library only): real
worker processes started with a wrong interpreter say why they died, in the problem
the status line shows; the interpreter record is judged in words."""

import os
import subprocess
import sys
import tempfile
import time

import pytest

from vbg_core.obs.supervisor import WorkerProcess
from vbg_core.shared.channel import Channel
from vbg_core.shared.interpreter import find_worker_python

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


@pytest.fixture
def worker(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))            # its own log folder
    monkeypatch.delenv("XDG_STATE_HOME", raising=False)
    channel = Channel.create_new(os.getpid())
    said = []
    process = WorkerProcess(channel, ROOT, str(tmp_path), "test", said.append)
    process.want()
    yield process, said
    process.stop()
    channel.close()


def run_until_dead(process, timeout=30.0) -> str:
    deadline = time.monotonic() + timeout
    process.poll(time.monotonic())
    while process.alive_since is not None and time.monotonic() < deadline:
        time.sleep(0.05)
        process.poll(time.monotonic())
    assert process.alive_since is None, "the worker did not stop within the deadline"
    return process.problem


def test_a_python_without_the_packages_says_what_is_missing(worker, tmp_path, monkeypatch):
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "bare")], check=True)
    monkeypatch.setenv("VBG_PYTHON", str(tmp_path / "bare" / "bin" / "python"))
    process, said = worker
    problem = run_until_dead(process)
    assert "worker exit code 1: ModuleNotFoundError: No module named" in problem, problem
    assert "`vbg doctor` checks it" in problem and "restarting in 0.1 s" in problem
    assert said[-1] == problem, "OBS's log says it too"


def test_a_program_that_is_not_python_is_named(worker, monkeypatch, tmp_path):
    monkeypatch.setenv("VBG_PYTHON", "/bin/ls")
    process, _ = worker
    victim = tmp_path / "victim.txt"
    victim.write_text("precious")
    old = f"{tempfile.gettempdir()}/obs-vbg-worker-{process.channel.name}.log"    # where logs once went
    os.symlink(victim, old)
    try:
        problem = run_until_dead(process)
    finally:
        os.unlink(old)
    assert victim.read_text() == "precious", "a link planted at the old shared log path is not written through"
    assert str(process.log_file).startswith(str(tmp_path / ".local" / "state" / "obs-vbg" / "logs"))
    assert "worker exit code 2: Try '/bin/ls --help'" in problem, problem       # ls's own last words
    assert "is /bin/ls the project's Python? `vbg doctor` checks it" in problem


def test_a_killed_worker_is_not_given_an_older_workers_words(worker, monkeypatch):
    monkeypatch.setenv("VBG_PYTHON", "/bin/ls")
    process, _ = worker
    run_until_dead(process)
    monkeypatch.setenv("VBG_PYTHON", sys.executable)
    process.next_start = 0
    process.poll(time.monotonic())
    assert process.alive_since is not None
    process.kill()
    problem = run_until_dead(process)
    assert problem.startswith("worker killed by SIGKILL; restarting"), problem


@pytest.mark.parametrize("content, words", [
    (b"\x00\x01\xfe\xff", "holds binary data, not the path of a Python"),
    (b"", "names no interpreter (it is empty)"),
    (b"/nowhere/python3\n", "the worker Python /nowhere/python3 named by"),
    (b"%(tmp)s/plain.txt\n", "is not executable")])
def test_the_interpreter_record_is_judged_in_words(tmp_path, monkeypatch, content, words):
    monkeypatch.delenv("VBG_PYTHON", raising=False)
    (tmp_path / "plain.txt").write_text("not a program")
    (tmp_path / "plain.txt").chmod(0o644)
    content = content.replace(b"%(tmp)s", str(tmp_path).encode())
    (tmp_path / "obs_vbg_python.txt").write_bytes(content)
    found = find_worker_python(str(tmp_path))
    assert words in found.problem and "run the installer" in found.problem
