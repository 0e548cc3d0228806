"""Does the worker rest when nothing moves? (issue 15, part 2)

    .venv/bin/python benchmarks/idle_bench.py [--seconds 20] [--rounds 2]

One headless OBS run at 1280x720@30 with three sources: the bundled real video of a
person at a table (`samples/sam2_coffee.mp4`), the same video played at a quarter of
its speed (slow movements), and a still photo of a person (`samples/tfjs_portrait.jpg`).
In turn, on one source at a time, the filter in colour mode with `pause_when_still` on
(the default) and, on the photo, off. For each: the worker's CPU (from /proc, % of one
core), the masks per second and frames kept per second the worker reports (its stats
line, logged every 2 s), and the mask age median the filter logs when removed.
Target: the worker on the still photo uses <= 1/5 of its CPU on the moving video, and
the mask age median on the moving video stays <= 2 frames.
"""

import argparse
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.procstat import cpu_seconds, machine  # noqa: E402
from tests.obs.harness import ObsInstance, image_source, media_source  # noqa: E402

VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
PHOTO = ROOT / "samples" / "tfjs_portrait.jpg"
COLOUR = {"mode": "color", "color": 0xFF00FF00}
CONFIGS = [("moving video", "Video", dict(COLOUR)),
           ("the video at 25 % speed", "Slow", dict(COLOUR)),
           ("still photo", "Photo", dict(COLOUR)),
           ("still photo, pause off", "Photo", dict(COLOUR, pause_when_still=False))]


def sources():
    slow = media_source("Slow", str(VIDEO))
    slow["settings"]["speed_percent"] = 25
    return [media_source("Video", str(VIDEO)), slow, image_source("Photo", str(PHOTO))]


def measure(obs: ObsInstance, name: str, source: str, settings: dict, seconds: float, warmup: float) -> dict:
    before = set(obs.worker_pids())
    obs.client.create_source_filter(source, "idle", "vbg_filter", settings)
    time.sleep(warmup)
    workers = [pid for pid in obs.worker_pids() if pid not in before]
    cpu0, wall0, log0 = sum(cpu_seconds(p) for p in workers), time.monotonic(), len(obs.log_text())
    time.sleep(seconds)
    cpu, wall = sum(cpu_seconds(p) for p in workers) - cpu0, time.monotonic() - wall0
    stats = re.findall(r"'idle': stats: (?:inference on \w+, [\d.]+ ms per mask, (\d+) masks/s|(idle) on)",
                       obs.log_text()[log0:])
    obs.client.remove_source_filter(source, "idle")
    time.sleep(1.0)
    ages = re.findall(r"'idle': removed; mask age median (\d+) frames", obs.log_text())
    return {"name": name, "worker_cpu": 100.0 * cpu / wall,
            "masks_per_s": statistics.mean(int(m or 0) for m, _ in stats) if stats else float("nan"),
            "idle_share": sum(bool(i) for _, i in stats) / max(1, len(stats)),
            "mask_age": int(ages[-1]) if ages else None}


def table(rounds) -> str:
    lines = ["| source | worker CPU % (per round) | masks/s | stats lines saying idle | mask age (median frames) |",
             "|---|---|---|---|---|"]
    for runs in zip(*rounds):
        cpu = statistics.mean(r["worker_cpu"] for r in runs)
        each = ", ".join(f"{r['worker_cpu']:.1f}" for r in runs)
        lines.append(f"| {runs[0]['name']} | {cpu:.1f} ({each}) | "
                     f"{statistics.mean(r['masks_per_s'] for r in runs):.1f} | "
                     f"{100 * statistics.mean(r['idle_share'] for r in runs):.0f} % | "
                     f"{statistics.median(r['mask_age'] for r in runs if r['mask_age'] is not None)} |")
    moving = statistics.mean(r["worker_cpu"] for r in (rs[0] for rs in rounds))
    still = statistics.mean(r["worker_cpu"] for r in (rs[2] for rs in rounds))
    lines.append(f"\nStill photo / moving video worker CPU: {still / moving:.2f} (target <= 0.20).")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=5.0)
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args(argv)
    env = {"VBG_PYTHON": os.environ.get("VBG_PYTHON", sys.executable), "VBG_STATS_INTERVAL": "2"}
    with tempfile.TemporaryDirectory(prefix="vbg-idle-bench-") as home:
        with ObsInstance(home, scripts=[str(ROOT / "obs_vbg.py")], sources=sources(), env=env) as obs:
            time.sleep(3)
            rounds = [[measure(obs, *config, args.seconds, args.warmup) for config in CONFIGS]
                      for _ in range(args.rounds)]
    print(f"Machine: {machine()}; {args.rounds} rounds of {args.seconds:g} s after {args.warmup:g} s warm-up\n")
    print(table(rounds))
    return 0


if __name__ == "__main__":
    sys.exit(main())
