"""Starts and watches the one worker process that serves every filtered source.

One background thread (the `Supervisor`) polls the worker every 50 ms: it writes
OBS's heartbeat into the hub, notices a dead or hung worker, and restarts it with
back-off. The graphics thread only reads `WorkerProcess.alive_since` and never
waits.

The interpreter is found by vbg_core/shared/interpreter.py (the installer's record
next to obs_vbg.py, or VBG_PYTHON), as `vbg doctor` finds it.
"""

import os
import signal
import subprocess
import threading
import time
from typing import Callable, List, Optional

from ..shared.channel import Channel
from ..shared.interpreter import find_worker_python
from . import worker_log

POLL_S = 0.05
BACKOFF_S = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0)
HEALTHY_AFTER_S = 30.0          # a worker up this long resets the back-off
HANG_S = 5.0                    # no worker heartbeat for this long: kill it
START_GRACE_S = 20.0            # time a new worker has to write its first heartbeat
QUICK_DEATH_S = 3.0             # a worker failing sooner than this was likely never able to run


def describe_exit(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit code {code}"


class WorkerProcess:
    """The worker process, bound to the hub channel; every filter holds it.

    Threads: the supervisor's thread owns the process and its bookkeeping (`poll`,
    `start`, `died`; `process`, `failures`, `next_start`, the beats), always under
    `Supervisor.lock`, which OBS's UI thread also holds when the last filter goes
    (`rest`). What the other threads see is written under `self.lock`: `alive_since`
    (None while no worker runs), `died_at`, `problem` and `restarts` by the
    supervisor's thread; `wanted` by a filter's first render on the graphics thread
    (`want`). Single fields are read without the lock."""

    def __init__(self, channel: Channel, repo_dir: str, script_dir: str, label: str,
                 log: Callable[[str], None]):
        self.channel, self.repo_dir, self.script_dir, self.log = channel, repo_dir, script_dir, log
        self.lock = threading.Lock()
        self.label = label                          # shown in the worker's command line
        self.process: Optional[subprocess.Popen] = None
        self.alive_since: Optional[float] = None    # when the running worker started
        self.problem = ""                           # why there is no worker, in words
        self.failures = 0
        self.next_start = 0.0
        self.restarts = 0
        self.wanted = False                         # set by the first render
        self.died_at: Optional[float] = None        # when the last worker was lost
        self.last_beat, self.beat_changed = None, 0.0
        self.python, self.started_at = "", 0.0          # the running worker's interpreter, start
        self.log_file, self.log_start = None, 0         # its log, and where its lines begin

    def want(self) -> None:
        """Graphics thread, a filter's first render: a worker should run."""
        with self.lock:
            self.wanted = True


    def poll(self, now: float) -> None:
        self.channel.beat_obs()
        if self.process is None:
            if not self.wanted:
                return
            if now >= self.next_start:
                self.start(now)
            return
        code = self.process.poll()
        if code is not None:
            self.died(f"worker {describe_exit(code)}", now, code)
            return
        beat = self.channel.worker_beat()        # alive while it changes (this clock)
        if beat != self.last_beat:
            self.last_beat, self.beat_changed = beat, now
        if now - self.beat_changed > HANG_S and now - self.alive_since > START_GRACE_S:
            self.kill()
            self.died(f"worker stopped responding for {HANG_S:.0f} s", now)
        elif now - self.alive_since > HEALTHY_AFTER_S:
            self.failures = 0

    def start(self, now: float) -> None:
        found = find_worker_python(self.script_dir)
        python = found.path
        if found.problem:
            self.set_problem(found.problem)
            self.next_start = now + BACKOFF_S[-1]
            return
        self.channel.reset_worker()
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [self.repo_dir, env.get("PYTHONPATH")]))
        env.pop("PYTHONHOME", None)          # OBS's embedded Python may set it
        command = [python, "-m", "vbg_core.worker", "--hub", self.channel.name,
                   "--parent-pid", str(os.getpid()), "--label", self.label]
        log = self.open_log()
        try:
            self.process = subprocess.Popen(command, cwd=self.repo_dir, env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, **_detached())
        except OSError as exc:
            self.set_problem(f"cannot start the worker with {python}: {exc}")
            self.next_start = now + BACKOFF_S[-1]
            return
        finally:
            if log != subprocess.DEVNULL:
                os.close(log)           # the worker has its own copy
        self.python, self.started_at = python, now
        self.beat_changed, self.last_beat = now, None
        with self.lock:
            self.alive_since, self.problem = now, ""

    def open_log(self) -> int:
        """The worker's log (worker_log.py), remembering where this worker's lines start;
        without one (the folder is not ours, ...) the worker runs unlogged and OBS's log says why."""
        try:
            fd, self.log_file = worker_log.open_log(self.channel.name)
        except OSError as exc:
            self.log_file, self.log_start = None, 0
            self.log(f"worker log unavailable ({exc}); the worker runs without one")
            return subprocess.DEVNULL
        self.log_start = os.fstat(fd).st_size
        return fd

    def died(self, why: str, now: float, code: Optional[int] = None) -> None:
        """The worker is gone: say why (its last words in the log, for a quick death also
        what to check) and schedule the restart."""
        delay = BACKOFF_S[min(self.failures, len(BACKOFF_S) - 1)]
        self.process, self.failures, self.next_start = None, self.failures + 1, now + delay
        with self.lock:
            self.alive_since, self.died_at, self.restarts = None, now, self.restarts + 1
        words = worker_log.last_words(self.log_file, self.log_start) if self.log_file else ""
        if words:
            why = f"{why}: {words}"
        if code and code > 0 and now - self.started_at < QUICK_DEATH_S:
            why += f" — is {self.python} the project's Python? `vbg doctor` checks it (or run the installer again)"
        log = f"log: {self.log_file}" if self.log_file else "no log"
        self.set_problem(f"{why}; restarting in {delay:g} s, video passes through meanwhile ({log})")

    def set_problem(self, problem: str) -> None:
        with self.lock:
            changed, self.problem = problem != self.problem, problem
        if changed:
            self.log(problem)

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=5)

    def rest(self) -> None:
        """No source to serve: stop the worker; the next `want` starts a fresh one."""
        self.stop()
        self.failures, self.next_start = 0, 0.0
        with self.lock:
            self.wanted, self.problem = False, ""

    def stop(self, timeout: float = 2.0) -> None:
        """Terminate (then kill) the worker; waits at most about `timeout` seconds."""
        process, self.process, self.next_start = self.process, None, float("inf")
        with self.lock:
            self.alive_since = None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


def _detached() -> dict:
    """Keep the worker out of OBS's console signals (Ctrl+C) and windows."""
    if os.name == "posix":
        return {"start_new_session": True}
    return {"creationflags": subprocess.CREATE_NEW_PROCESS_GROUP | subprocess.CREATE_NO_WINDOW}


class Supervisor(threading.Thread):
    """The one thread watching this OBS's one worker process, which serves every
    filtered source: each filter's channel is listed in the hub (attach/detach, from
    OBS's UI thread or, after a script reload, the graphics thread, under `lock`).
    The worker starts when a filter first renders and is let go when the last filter
    is removed. After each round `after_poll(now)` (the plugin's status report) runs
    on this thread."""

    def __init__(self, log: Callable[[str], None], after_poll: Callable[[float], None],
                 repo_dir: str, script_dir: str):
        super().__init__(name="obs-vbg supervisor", daemon=True)
        self.log, self.after_poll = log, after_poll
        self.hub = Channel.create_new(os.getpid())
        self.worker = WorkerProcess(self.hub, repo_dir, script_dir, "obs-vbg", log)
        self.channels: List[str] = []
        self.listed = 0
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    def attach(self, channel: Channel) -> None:
        with self.lock:
            self.channels.append(channel.name)
            self._publish()

    def detach(self, channel: Channel) -> None:
        with self.lock:
            if channel.name in self.channels:
                self.channels.remove(channel.name)
            self._publish()
            if not self.channels:       # no filter left: no worker either, until one renders
                self.worker.rest()

    def _publish(self) -> None:
        self.listed += 1
        Channel.put_json(self.hub.settings, {"channels": self.channels}, self.listed)

    def run(self) -> None:
        while not self.stopping.wait(POLL_S):
            now = time.monotonic()
            with self.lock:
                try:
                    self.worker.poll(now)
                except Exception as exc:        # keep supervising
                    self.worker.set_problem(f"supervisor error: {exc}")
            try:
                self.after_poll(now)
            except Exception as exc:            # a filter went away mid-report
                self.log(f"supervisor's status report failed: {exc!r}")

    def stop(self) -> None:
        """Stop the thread and the worker, remove the hub (script unload)."""
        self.stopping.set()
        with self.lock:
            self.worker.stop()
        if self.is_alive() and threading.current_thread() is not self:
            self.join(timeout=2)
        self.hub.close()
