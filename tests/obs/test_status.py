"""The status line's state machine (vbg_core/obs/status.py): one state, one sentence,
never two that contradict each other. Pure logic: no OBS needed."""

import pytest

from vbg_core.obs.status import CAUGHT_UP, KEEPS_UP, Facts, State, decide, status

RUNNING = {"state": "running", "provider": "cpu", "note": "", "infer_ms": 2.0, "mask_rate": 30.0,
           "still_rate": 0.0, "error": ""}


def facts(**changes) -> Facts:
    values = dict(gpu_failed="", wanted=True, alive=True, problem="", stats=RUNNING)
    values.update(changes)
    return Facts(**values)


@pytest.mark.parametrize("given, state", [
    (facts(), State.RUNNING),
    (facts(stats=dict(RUNNING, mask_rate=0.0, still_rate=30.0)), State.IDLE),
    (facts(stats={}), State.STARTING),
    (facts(stats={"state": "loading"}), State.STARTING),
    (facts(stats=dict(RUNNING, provider="", error="model file missing")), State.WORKER_ERROR),
    (facts(alive=False, problem="worker exit code 1; restarting in 0.5 s"), State.WORKER_DOWN),
    (facts(alive=False, wanted=False, problem="", stats={}), State.WAITING),
    (facts(gpu_failed="vbg.effect: no such parameter 'x' — video passes through"), State.GPU_FAILED)])
def test_each_state_is_decided(given, state):
    assert decide(given)[0] is state


def test_an_error_is_never_said_beside_an_active_provider():
    said = decide(facts(stats=dict(RUNNING, error="inference failed: out of memory")))[1]
    assert "inference failed" in said and "inference on" not in said and "masks/s" not in said


def test_a_restarting_worker_is_never_said_to_be_running():
    said = decide(facts(alive=False, problem="worker killed by SIGKILL; restarting in 0.1 s"))[1]
    assert "restarting" in said and "inference on" not in said


def test_the_settings_notice_follows_the_one_sentence():
    assert str(status(facts(), "background image not found: x.png — showing blur instead")) == \
        "inference on cpu, 2.0 ms per mask, 30 masks/s; background image not found: x.png — showing blur instead"


def test_a_model_that_cannot_keep_up_says_how_far_behind_and_what_to_do():
    slow = dict(RUNNING, model="RVM", infer_ms=110.0, mask_rate=9.0, frame_rate=30.0)
    assert decide(facts(stats=slow)) == (
        State.BEHIND, "RVM: 9 masks/s of 30 (inference on cpu, 110 ms per mask) — use a GPU (Inference on), "
                       "or the landscape model")


@pytest.mark.parametrize("mask_rate, still_rate", [(25.0, 0.0), (0.0, 30.0), (10.0, 20.0)])
def test_keeping_up_or_keeping_a_still_mask_is_not_behind(mask_rate, still_rate):
    stats = dict(RUNNING, model="RVM", mask_rate=mask_rate, still_rate=still_rate, frame_rate=30.0)
    assert "masks/s of" not in decide(facts(stats=stats))[1]


def test_a_missing_optional_model_is_said_with_how_to_install_it():
    note = "RVM is not installed, so the landscape model runs: run install/install.sh --with-rvm"
    said = decide(facts(stats=dict(RUNNING, model="landscape", note=note)))[1]
    assert said.startswith("inference on cpu") and said.endswith(note)


def test_a_worker_near_the_line_does_not_flip_between_sentences():
    """Behind below KEEPS_UP of the frame rate; caught up only at CAUGHT_UP (under load
    the line flipped about 40 times a minute without it)."""
    between = dict(RUNNING, model="landscape", mask_rate=(KEEPS_UP + CAUGHT_UP) / 2 * 30, frame_rate=30.0)
    assert decide(facts(stats=between))[0] is State.RUNNING
    assert decide(facts(stats=between, was_behind=True))[0] is State.BEHIND
    caught_up = dict(between, mask_rate=CAUGHT_UP * 30)
    assert decide(facts(stats=caught_up, was_behind=True))[0] is State.RUNNING


def test_a_line_is_news_when_its_state_or_words_change_not_its_figures():
    """What the plugin logs: a new state, a new error or notice; not each new figure."""
    running, faster = status(facts(), ""), status(facts(stats=dict(RUNNING, infer_ms=3.0, mask_rate=29.0)), "")
    assert str(running) != str(faster) and not faster.news_after(running)
    assert running.news_after(None)
    assert status(facts(), "background image not found: x.png").news_after(running)
    slow = status(facts(stats=dict(RUNNING, model="RVM", mask_rate=9.0, frame_rate=30.0)), "")
    assert slow.news_after(running) and running.news_after(slow)
    errors = [status(facts(stats=dict(RUNNING, provider="", error=e)), "") for e in ("model file missing", "out of memory")]
    assert errors[1].news_after(errors[0])
