"""Lifecycle times say which clock they are on: the I-VAN's own wall clock, scaled to
simulated seconds by the gateway's clock speed, not the gateway's timestamps."""

from __future__ import annotations

from harness.load.result import lifecycle_note


def test_the_lifecycle_note_names_the_clock_that_measured() -> None:
    note = lifecycle_note(900)
    assert note.startswith("simulated seconds as the I-VAN saw them: its own wall-clock time")
    assert "times the gateway's clock speed 900 (one real second counts 900 simulated" in note
    assert "polling delay and the request's own latency included" in note
    assert note.endswith("not read from the gateway's timestamps")
    assert "(one real second counts 1 simulated second)" in lifecycle_note(1)
