"""The resume store: records keyed by (scenario, question_id, sample_index), kill-tolerant."""

from __future__ import annotations

from pathlib import Path

import pytest

from trident.evals.store import KeyedRecord, Store, StoreError


class Item(KeyedRecord):
    value: str


def test_records_survive_reopening(tmp_path: Path) -> None:
    store = Store(tmp_path / "s.jsonl", Item)
    store.add(Item(scenario="a", question_id="q1", sample_index=0, value="x"))
    store.add(Item(scenario="a", question_id="q1", sample_index=1, value="y"))
    store.close()
    again = Store(tmp_path / "s.jsonl", Item)
    assert ("a", "q1", 1) in again and ("b", "q1", 1) not in again
    assert again.records[("a", "q1", 0)].value == "x"


def test_a_line_cut_short_by_a_kill_is_dropped_and_appending_continues(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    store = Store(path, Item)
    store.add(Item(scenario="a", question_id="q1", sample_index=0, value="x"))
    store.close()
    with path.open("a") as handle:
        handle.write('{"scenario": "a", "question_id": "q2", "sam')  # the kill
    again = Store(path, Item)
    assert list(again.records) == [("a", "q1", 0)]
    again.add(Item(scenario="a", question_id="q2", sample_index=0, value="z"))
    again.close()
    assert list(Store(path, Item).records) == [("a", "q1", 0), ("a", "q2", 0)]


def test_a_bad_line_in_the_middle_is_an_error_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "s.jsonl"
    path.write_text('{"oops": 1}\n{"scenario": "a", "question_id": "q", "sample_index": 0, "value": "v"}\n')
    with pytest.raises(StoreError, match=r"s.jsonl:1: "):
        Store(path, Item)
