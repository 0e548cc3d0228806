"""The filter's status line: one state at a time, each said in one sentence.

`decide` is the one place the state is chosen, from what is known at that moment, in
this order (the first that holds wins, so two states can never be said at once):

    GPU_FAILED    the filter's GPU resources could not be made: video passes through
    WORKER_DOWN   no worker process: it cannot be started, or it died and restarts soon
    STARTING      a worker was started and has not reported yet (or loads its model)
    WORKER_ERROR  the worker runs but cannot segment (model, provider, settings)
    IDLE          the worker runs and keeps the last mask: nothing moves
    BEHIND        the worker segments frames but cannot keep up with OBS's frame rate
    RUNNING       the worker segments frames
    WAITING       nothing asked for a worker yet: the source has not been shown

A settings notice (a background image that cannot be read, ...) is about the
settings, not the worker: it follows the state's sentence. The sentences of IDLE,
BEHIND and RUNNING carry figures that change every report: `Status.news_after` says
when a line is news (for the log). Standard library only.
"""

from dataclasses import dataclass
from enum import Enum
from typing import Optional, Tuple


class State(Enum):
    GPU_FAILED = "gpu failed"
    WORKER_DOWN = "worker down"
    STARTING = "starting"
    WORKER_ERROR = "worker error"
    IDLE = "idle"
    BEHIND = "behind"
    RUNNING = "running"
    WAITING = "waiting"


@dataclass(frozen=True)
class Facts:
    gpu_failed: str         # why the GPU resources could not be made ("" = they could)
    wanted: bool            # the source has been shown: a worker should run
    alive: bool             # a worker process runs
    problem: str            # why no worker runs ("" = none known)
    stats: dict             # the running worker's newest report ({} = none yet)
    was_behind: bool = False    # the state decided last was BEHIND


def decide(facts: Facts) -> Tuple[State, str]:
    stats = facts.stats
    if facts.gpu_failed:
        return State.GPU_FAILED, facts.gpu_failed
    if not facts.alive and facts.problem:
        return State.WORKER_DOWN, facts.problem
    if facts.alive and (not stats or stats.get("state") == "loading"):
        return State.STARTING, "starting the worker and loading the model…"
    if facts.alive and stats.get("error"):
        return State.WORKER_ERROR, f"{stats['error']} — video passes through"
    if facts.alive and stats.get("provider"):
        note = f"; {stats['note']}" if stats.get("note") else ""
        if stats.get("still_rate") and not stats.get("mask_rate"):
            return State.IDLE, f"idle on {stats['provider']}: the picture is still, so the last mask is kept{note}"
        if behind(stats, facts.was_behind):
            return State.BEHIND, (f"{stats['model']}: {stats['mask_rate']:.0f} masks/s of "
                                   f"{stats['frame_rate']:.0f} (inference on {stats['provider']}, "
                                   f"{stats['infer_ms']:.0f} ms per mask) — {SLOW_ADVICE}{note}")
        return State.RUNNING, (f"inference on {stats['provider']}, {stats['infer_ms']:.1f} ms per mask, "
                               f"{stats['mask_rate']:.0f} masks/s{note}")
    if not facts.wanted:
        return State.WAITING, "waiting for the source to be shown"
    return State.STARTING, "starting the worker…"


# The worker cannot keep up when it makes (or rightly keeps) masks for fewer than this
# share of the frames OBS draws; the filter still draws the newest mask every frame.
# Once behind, it has caught up only at CAUGHT_UP: a worker near the line (masks/s are
# counted over 1 s) would otherwise flip between the two sentences every report.
KEEPS_UP = 0.8
CAUGHT_UP = 0.9
SLOW_ADVICE = "use a GPU (Inference on), or the landscape model"


def behind(stats: dict, was_behind: bool = False) -> bool:
    """Whether the worker's masks lag the frame rate (stats of a running worker)."""
    offered = stats.get("frame_rate", 0.0)
    share = CAUGHT_UP if was_behind else KEEPS_UP
    return offered > 0 and stats.get("mask_rate", 0.0) + stats.get("still_rate", 0.0) < share * offered


SAID_WITH_FIGURES = (State.IDLE, State.BEHIND, State.RUNNING)


@dataclass(frozen=True)
class Status:
    """The status line: the state's sentence, then the notices if any (the settings', a
    malformed mask's)."""
    state: State
    sentence: str
    notice: str

    def __str__(self) -> str:
        return f"{self.sentence}; {self.notice}" if self.notice else self.sentence

    def news_after(self, before: Optional["Status"]) -> bool:
        """Whether this line is news after `before` (the log's rule): another state or
        notice, or other words in a state whose sentence has no figures (an error)."""
        return before is None or (before.state, before.notice) != (self.state, self.notice) or (
            self.state not in SAID_WITH_FIGURES and before.sentence != self.sentence)


def status(facts: Facts, notice: str) -> Status:
    return Status(*decide(facts), notice)
