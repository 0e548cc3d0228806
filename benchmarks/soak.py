"""One hour of OBS with the filter (issue 14's soak; not in CI).

    .venv/bin/python benchmarks/soak.py [--minutes 60] [--out benchmarks/soak.csv]

Headless OBS at 1280x720@30 with the bundled real video looping as a media source and
the filter on it. Every minute the mode changes (colour, image, blur, transparent, in
turn) and a row is recorded: OBS's and the worker's memory from /proc/PID/smaps_rollup
(proportional set size at the minute's end, the minute's lowest and highest of samples
every 5 s — OBS's swings by tens of MB within a minute — the lowest private memory, as
PSS moves when OTHER processes load or drop the same libraries, and the lowest private
dirty memory, what a leak grows), render frames and skipped frames over the minute, and
worker restarts; every 10 minutes the worker is killed (SIGKILL). At the end: memory
growth per hour after the first 10 minutes (a least-squares slope), for OBS and for the
worker. Target: < 5 MB per hour each.

`--control`: the same OBS and video with OBS's own Color Correction (at its defaults)
instead of the filter, no script, nothing switched or killed: how much OBS grows by
itself. Run it beside a soak (same minutes, same machine) to tell whose growth it is.
"""

import argparse
import csv
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.procstat import dirty_mb, private_mb, pss_mb  # noqa: E402
from tests.obs.harness import ObsInstance, media_source, vbg_filter  # noqa: E402

VIDEO = ROOT / "samples" / "sam2_coffee.mp4"
NAN = float("nan")
RESTART = "[obs-vbg] worker killed by SIGKILL"    # the supervisor's line (status and stats lines repeat its words)
MODES = [{"mode": "color", "color": 0xFF00FF00},
         {"mode": "image", "image_path": str(ROOT / "samples" / "rocket.jpg")},
         {"mode": "blur"}, {"mode": "transparent"}]


def sample_minute(obs, until: float, every: float = 5.0):
    """OBS's and the workers' memory every `every` s until `until` -> {column: [MB]}:
    PSS, private and private dirty memory of each (the worker's only while one runs).
    A minute's lowest is the memory that stayed; its spread is what came and went."""
    samples = {f"{who}{key}": [] for who in ("obs", "worker") for key in ("", "_private", "_dirty")}
    while True:
        workers = obs.worker_pids()
        for key, measure in (("", pss_mb), ("_private", private_mb), ("_dirty", dirty_mb)):
            samples["obs" + key].append(round(measure(obs.pid), 1))
            if workers:         # not the moments a killed worker is being restarted
                samples["worker" + key].append(round(sum(measure(p) for p in workers), 1))
        if time.monotonic() >= until:
            return samples
        time.sleep(max(0.0, min(every, until - time.monotonic())))


def slope_per_hour(rows, key: str, after_min: float) -> float:
    points = [(r["minute"], r[key]) for r in rows if r["minute"] >= after_min and r[key] == r[key]]
    if len(points) < 2:
        return float("nan")
    n = len(points)
    mx, my = sum(x for x, _ in points) / n, sum(y for _, y in points) / n
    sxx = sum((x - mx) ** 2 for x, _ in points)
    return 60 * sum((x - mx) * (y - my) for x, y in points) / sxx


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=int, default=60)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "soak.csv"))
    parser.add_argument("--control", action="store_true",
                        help="OBS's Color Correction instead of the filter, no script")
    args = parser.parse_args(argv)
    env = {"VBG_PYTHON": os.environ.get("VBG_PYTHON", sys.executable)}
    rows = []
    with tempfile.TemporaryDirectory(prefix="vbg-soak-") as home:
        if args.control:
            filters, scripts = [{"name": "CC", "id": "color_filter_v2", "versioned_id": "color_filter_v2", "settings": {}}], []
        else:
            filters, scripts = [vbg_filter("VBG", **MODES[0])], [str(ROOT / "obs_vbg.py")]
        sources = [media_source("Video", str(VIDEO), filters)]
        with ObsInstance(home, scripts=scripts, sources=sources, env=env) as obs:
            start, last = time.monotonic(), obs.client.get_stats()
            for minute in range(1, args.minutes + 1):
                mb = sample_minute(obs, start + 60 * minute)
                stats, workers = obs.client.get_stats(), obs.worker_pids()
                rows.append({"minute": minute, "obs_mb": mb["obs"][-1], "obs_max": max(mb["obs"]),
                             "worker_mb": (mb["worker"] or [NAN])[-1],
                             **{f"{column}_min": min(values, default=NAN) for column, values in mb.items()},
                             "frames": stats.render_total_frames - last.render_total_frames,
                             "skipped": stats.render_skipped_frames - last.render_skipped_frames,
                             "restarts": obs.log_text().count(RESTART)})
                print(rows[-1], flush=True)
                last = stats
                if args.control:
                    continue
                obs.client.set_source_filter_settings("Video", "VBG", MODES[minute % len(MODES)], True)
                if minute % 10 == 0 and workers:
                    os.kill(workers[0], signal.SIGKILL)
    with open(args.out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    after = min(10, args.minutes // 2)
    print(f"growth after minute {after}: OBS {slope_per_hour(rows, 'obs_mb', after):+.1f} MB/h "
          f"(of each minute's lowest: {slope_per_hour(rows, 'obs_min', after):+.1f}), "
          f"worker {slope_per_hour(rows, 'worker_mb', after):+.1f} MB/h "
          f"(lowest: {slope_per_hour(rows, 'worker_min', after):+.1f}); private memory, each minute's lowest: "
          f"OBS {slope_per_hour(rows, 'obs_private_min', after):+.1f} MB/h, "
          f"worker {slope_per_hour(rows, 'worker_private_min', after):+.1f} MB/h; private dirty: "
          f"OBS {slope_per_hour(rows, 'obs_dirty_min', after):+.1f} MB/h, "
          f"worker {slope_per_hour(rows, 'worker_dirty_min', after):+.1f} MB/h "
          f"({sum(r['skipped'] for r in rows)} of {sum(r['frames'] for r in rows)} frames skipped, "
          f"{rows[-1]['restarts']} restarts)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
