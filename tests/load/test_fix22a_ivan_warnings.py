"""Warned before the run: generator processes sharing an I-VAN share its feed, and an
--ivan-token no process acts as is never used."""

from __future__ import annotations

from harness.load.request import LoadRequest

URL = "http://127.0.0.1:18431"
ONE = {"IVAN01": "token-1"}
TWO = {"IVAN01": "token-1", "IVAN02": "token-2"}


def test_more_workers_than_tokens_is_warned_with_what_it_does_to_the_counts() -> None:
    (note,) = LoadRequest(gateway=URL, workers=3, ivan_tokens=ONE).warnings()
    assert "3 generator processes share 1 I-VAN(s) (IVAN01)" in note
    assert "messages not timed" in note and "one --ivan-token per worker process" in note


def test_remote_workers_count_as_processes_too() -> None:
    request = LoadRequest(
        gateway=URL, remote_workers=3, master_port=5557, master_bind="0.0.0.0", ivan_tokens=TWO
    )
    (note,) = request.warnings()
    assert "3 generator processes share 2 I-VAN(s)" in note


def test_a_url_run_without_tokens_shares_the_two_test_ivans() -> None:
    (note,) = LoadRequest(gateway=URL, workers=3).warnings()
    assert "share 2 I-VAN(s) (IVAN01, IVAN02)" in note


def test_an_unused_token_is_warned() -> None:
    (note,) = LoadRequest(gateway=URL, workers=0, ivan_tokens=TWO).warnings()
    assert note.startswith("--ivan-token IVAN02 unused")
    assert "act as IVAN01" in note and "--workers 2" in note


def test_processes_and_tokens_that_pair_up_are_not_warned() -> None:
    assert LoadRequest(gateway=URL, workers=2, ivan_tokens=TWO).warnings() == []
    assert LoadRequest(gateway=URL, workers=0, ivan_tokens=ONE).warnings() == []
    assert LoadRequest(gateway=URL, workers=2).warnings() == []
    assert LoadRequest(workers=5).warnings() == []  # the local gateway: a test I-VAN each


def test_the_feed_account_names_siblings_when_processes_share_an_ivan() -> None:
    from harness.load.result import feed_account

    shared = LoadRequest(gateway=URL, workers=3, ivan_tokens=ONE)
    assert shared.shares_ivans
    assert not LoadRequest(gateway=URL, workers=2, ivan_tokens=TWO).shares_ivans
    assert not LoadRequest(workers=5).shares_ivans
    counts = {"messages 02/TB-TS": 5, "messages not timed": 2}
    said = feed_account(counts, shared=shared.shares_ivans)
    assert "2 messages not timed (not about a dossier of the process reading it: a sibling " in said
    assert "sibling" not in feed_account(counts)
