"""Several filtered cameras (issue 15, part 3): 1, 2 and 4 sources, one worker for all.

    .venv/bin/python benchmarks/cameras_bench.py [--seconds 12]

For N in 1, 2, 4: one headless OBS at 1280x720@30 with N copies of the bundled real
video (`samples/sam2_coffee.mp4`) looping as media sources, side by side in the
scene. In turn on every source: OBS's Color Correction (at its defaults, the yardstick),
then our filter (colour mode). For each: average render time (GetStats, sampled every
0.5 s), skipped render frames, OBS's and the workers' CPU (% of one core) and the
workers' memory (proportional set size, /proc/PID/smaps_rollup, all workers together).
Target: 4 filtered sources <= 100 MB for all workers together.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.procstat import cpu_seconds, machine, pss_mb  # noqa: E402
from tests.obs.harness import ObsInstance, media_source  # noqa: E402

VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
FILTERS = [("Color Correction", "color_filter_v2", {}), ("vbg colour", "vbg_filter", {"mode": "color", "color": 0xFF00FF00})]


def measure(obs, names, kind, settings, seconds, warmup) -> dict:
    for name in names:
        obs.client.create_source_filter(name, "bench", kind, settings)
    time.sleep(warmup)
    workers = obs.worker_pids()
    start, cpu0, wall0 = obs.client.get_stats(), (cpu_seconds(obs.pid), sum(map(cpu_seconds, workers))), time.monotonic()
    samples = []
    while time.monotonic() - wall0 < seconds:
        time.sleep(0.5)
        samples.append(obs.client.get_stats().average_frame_render_time)
    end, wall = obs.client.get_stats(), time.monotonic() - wall0
    cpu1 = (cpu_seconds(obs.pid), sum(map(cpu_seconds, workers)))
    memory = sum(pss_mb(pid) for pid in workers)
    for name in names:
        obs.client.remove_source_filter(name, "bench")
    time.sleep(1.5)
    frames = end.render_total_frames - start.render_total_frames
    skipped = end.render_skipped_frames - start.render_skipped_frames
    return {"render_ms": statistics.mean(samples), "skipped_pct": 100.0 * skipped / max(1, frames + skipped),
            "obs_cpu": 100 * (cpu1[0] - cpu0[0]) / wall, "worker_cpu": 100 * (cpu1[1] - cpu0[1]) / wall,
            "workers": len(workers), "worker_mb": memory}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=12.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    args = parser.parse_args(argv)
    env = {"VBG_PYTHON": os.environ.get("VBG_PYTHON", sys.executable)}
    print(f"Machine: {machine()}\n")
    print("| sources | filter | avg render ms | skipped | OBS CPU % | worker processes | worker CPU % | "
          "worker memory (PSS, MB) |\n|---|---|---|---|---|---|---|---|")
    for count in (1, 2, 4):
        names = [f"Cam {n}" for n in range(count)]
        with tempfile.TemporaryDirectory(prefix="vbg-cams-") as home:
            with ObsInstance(home, scripts=[str(ROOT / "obs_vbg.py")],
                             sources=[media_source(name, str(VIDEO)) for name in names], env=env) as obs:
                time.sleep(3)
                for label, kind, settings in FILTERS:
                    r = measure(obs, names, kind, settings, args.seconds, args.warmup)
                    worker = "—" if kind != "vbg_filter" else f"{r['workers']}"
                    print(f"| {count} | {label} | {r['render_ms']:.1f} | {r['skipped_pct']:.1f}% | {r['obs_cpu']:.0f} | "
                          f"{worker} | {r['worker_cpu']:.0f} | {r['worker_mb']:.0f} |", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
