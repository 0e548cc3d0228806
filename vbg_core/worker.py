"""The OBS filters' worker: one process for every filtered source of an OBS.

    python -m vbg_core.worker --hub NAME --parent-pid PID          (what OBS starts)
    python -m vbg_core.worker --channel NAME --parent-pid PID      (one source, no hub)

The hub (a channel block of its own, see vbg_core/shared/channel.py) lists the
sources' channels; the worker attaches the ones listed and lets go of the others, and
runs one `SourceLoop` per source (vbg_core/source_loop.py: channel -> engine ->
channel, its own settings and states; sessions shared, states never). Errors are
reported through the source's channel in plain words, and the loop keeps running so
the filter can show them. Exits by itself within a few seconds when OBS goes away
(parent PID gone, or OBS's heartbeat on the hub stale).
"""

import argparse
import os
import sys
import time

from .shared.channel import Channel, unlink
from .source_loop import Segmenters, SourceLoop

OBS_BEAT_TIMEOUT_S = 10.0      # OBS's supervisor beats every 50 ms
BUSY_POLL_S = 0.002            # poll period while frames are flowing
IDLE_POLL_S = 0.02             # ... after IDLE_AFTER_S without a frame, or while the picture is still


def parent_alive(parent_pid: int) -> bool:
    if os.name == "posix":
        return os.getppid() == parent_pid
    return True                 # elsewhere the OBS heartbeat decides


class Worker:
    """The process: OBS's hub (or one channel without a hub), the sources' loops, and
    when to stop."""

    def __init__(self, hub: Channel, parent_pid: int, single: bool):
        self.hub, self.parent_pid, self.single = hub, parent_pid, single
        self.segmenters = Segmenters()
        self.loops = {hub.name: SourceLoop(hub, self.segmenters)} if single else {}
        self.listed = -1
        self.last_beat, self.last_beat_change = None, time.monotonic()

    def run(self) -> int:
        while self.obs_alive():
            self.hub.beat_worker(os.getpid())
            if not self.single:
                self.follow_hub()
            flowing = [loop.step() for loop in list(self.loops.values())]
            time.sleep(BUSY_POLL_S if any(flowing) else IDLE_POLL_S)
        return 0

    def follow_hub(self) -> None:
        """Attach the channels the hub lists, let go of the others."""
        message = Channel.get_json(self.hub.settings, self.listed)
        if message is None:
            return
        self.listed, names = message[0], set(message[1]["channels"])
        for name in set(self.loops) - names:
            self.loops.pop(name).close()
        for name in names - set(self.loops):
            try:
                self.loops[name] = SourceLoop(Channel.attach(name, self.parent_pid), self.segmenters)
            except (FileNotFoundError, ValueError) as exc:      # removed meanwhile, or not OBS's
                print(f"vbg worker: not serving {name}: {exc}", file=sys.stderr)

    def obs_alive(self) -> bool:
        if not parent_alive(self.parent_pid):
            print("vbg worker: OBS (the parent process) is gone; exiting", file=sys.stderr)
            return False
        # OBS is alive while its beat keeps changing (judged on this process's clock,
        # so neither a torn read nor clock differences can end the worker)
        beat, now = self.hub.obs_beat(), time.monotonic()
        if beat != self.last_beat:
            self.last_beat, self.last_beat_change = beat, now
        elif now - self.last_beat_change >= OBS_BEAT_TIMEOUT_S:
            print(f"vbg worker: no heartbeat from OBS for {now - self.last_beat_change:.1f} s; exiting",
                  file=sys.stderr)
            return False
        return True

    def close(self) -> None:
        """Let go of every block; an orphan (OBS died) removes them, as nobody else will:
        the hub and every block it lists, served yet or not."""
        orphaned = not parent_alive(self.parent_pid)
        listed = Channel.get_json(self.hub.settings) if not self.single else None
        names = {self.hub.name, *self.loops, *(listed[1]["channels"] if listed else ())}
        for loop in self.loops.values():
            loop.close()
        if not self.single:
            self.hub.close()
        for name in names if orphaned else ():
            unlink(name)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vbg_core.worker", allow_abbrev=False,
                                     description="obs-vbg worker (started by the OBS filter)")
    where = parser.add_mutually_exclusive_group(required=True)
    where.add_argument("--hub", help="the hub block listing the sources' channels")
    where.add_argument("--channel", help="one source's channel, without a hub")
    parser.add_argument("--parent-pid", type=int, required=True, help="OBS's process id")
    parser.add_argument("--label", default="", help="what it serves, for people reading ps")
    args = parser.parse_args(argv)
    try:
        hub = Channel.attach(args.hub or args.channel, args.parent_pid)
    except (FileNotFoundError, ValueError) as exc:
        print(f"vbg worker: {exc}", file=sys.stderr)
        return 2
    worker = Worker(hub, args.parent_pid, single=args.channel is not None)
    try:
        return worker.run()
    except KeyboardInterrupt:
        return 0
    finally:
        worker.close()


if __name__ == "__main__":
    sys.exit(main())
