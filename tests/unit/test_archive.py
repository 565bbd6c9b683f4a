from datetime import datetime, timezone

from quire.archive import RunFolder, latest_runs, new_run_id, write_json


def test_run_ids_sort_by_time_and_are_unique():
    a = new_run_id(datetime(2026, 1, 2, 3, 4, 5, tzinfo=timezone.utc))
    b = new_run_id(datetime(2026, 1, 2, 3, 4, 6, tzinfo=timezone.utc))
    assert a.startswith("20260102T030405Z-") and a < b
    assert len({new_run_id() for _ in range(200)}) == 200


def test_publish_moves_the_whole_folder_atomically(tmp_path):
    folder = RunFolder(tmp_path, "executive", "20260102T030405Z-abc123", "2026-01-02")
    staging = folder.create()
    (staging / "report.html").write_text("<html></html>")
    write_json(staging / "run.json", {"status": "succeeded"})
    assert not latest_runs(tmp_path, "executive")  # nothing visible while staged
    published = folder.publish()
    assert published == tmp_path / "executive" / "2026-01-02" / "20260102T030405Z-abc123"
    assert sorted(p.name for p in published.iterdir()) == ["report.html", "run.json"]
    assert not staging.exists()
    assert latest_runs(tmp_path, "executive") == [published]


def test_failed_runs_are_parked_apart_with_the_reason(tmp_path):
    folder = RunFolder(tmp_path, "executive", "20260102T030405Z-abc123", "2026-01-02")
    (folder.create() / "report.ipynb").write_text("{}")
    parked = folder.park_failed("cell 3 raised ValueError")
    assert parked.parts[-4] == "_failed"
    assert (parked / "FAILED.txt").read_text().startswith("cell 3 raised ValueError")
    assert not (tmp_path / "executive").exists()
