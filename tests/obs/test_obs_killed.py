"""When OBS itself dies (SIGKILL: no script unload, no filter destroy), its worker
(one for both filtered sources) leaves by itself within seconds and removes the
shared memory: the hub and both sources' blocks."""

import os
import signal
import sys
import time
from pathlib import Path

from tests.obs.harness import ObsInstance, image_source, processes_matching, vbg_filter

ROOT = Path(__file__).resolve().parents[2]


def test_workers_exit_when_obs_is_killed(tmp_path):
    sources = [image_source(f"Person {n}", ROOT / "samples" / "tfjs_portrait.jpg",
                            [vbg_filter("VBG", mode="color", color=0xFF00FF00)]) for n in (1, 2)]
    with ObsInstance(tmp_path / "home", scripts=[str(ROOT / "obs_vbg.py")], sources=sources,
                     env={"VBG_PYTHON": sys.executable}) as obs:
        deadline = time.monotonic() + 20
        while not obs.worker_pids() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert len(obs.worker_pids()) == 1, "one worker serves both filtered sources"
        blocks = [name for name in os.listdir("/dev/shm") if name.startswith(f"vbg_{obs.pid}_")]
        assert len(blocks) == 3, f"the hub and one block per source: {blocks}"
        pid = obs.pid
        obs.process.send_signal(signal.SIGKILL)
        obs.process.wait()
        killed = time.monotonic()
        while processes_matching(f"vbg_{pid}_") and time.monotonic() - killed < 10:
            time.sleep(0.1)
        gone_after = time.monotonic() - killed
        obs.returncode = "killed by the test"
    print(f"\nworkers gone {gone_after:.2f} s after OBS was killed")
    assert not processes_matching(f"vbg_{pid}_"), "the worker outlived OBS by 10 s"
    assert not [name for name in os.listdir("/dev/shm") if name.startswith(f"vbg_{pid}_")]
