"""A run's time across its invocations (`trident.evals.timings`)."""

from __future__ import annotations

from pathlib import Path

from trident.evals import timings


def test_every_invocation_adds_up_and_a_torn_line_is_skipped(tmp_path: Path) -> None:
    assert timings.totals(tmp_path) == ({}, 0)
    timings.record(tmp_path, timings.now(), False, {"generate and agents": 10.5, "grade": 0.0})
    with (tmp_path / timings.FILE).open("a") as handle:
        handle.write('{"started": "2026-')  # killed mid-write
    timings.record(tmp_path, timings.now(), True, {"generate and agents": 1.25, "grade": 30.0})
    assert timings.totals(tmp_path) == ({"generate and agents": 11.75, "grade": 30.0}, 2)


def test_recording_never_breaks_the_end_of_a_run(tmp_path: Path) -> None:
    timings.record(tmp_path / "gone", timings.now(), True, {"grade": 1.0})  # no folder: nothing, no error
    assert timings.totals(tmp_path / "gone") == ({}, 0)
