from datetime import datetime, timezone

import pytest

from quire.archive import RunFolder, latest_runs, new_run_id, write_json
from quire.errors import OutputError


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


def test_two_executions_of_one_run_stage_apart_and_publish_once(tmp_path):
    run = ("executive", "20260102T030405Z-abc123", "2026-01-02")
    first, second = RunFolder(tmp_path, *run), RunFolder(tmp_path, *run)
    assert first.staging != second.staging  # e.g. a run re-run after its worker died, the first copy still going
    for folder, text in ((first, "first"), (second, "second")):
        staging = folder.create()
        (staging / "report.html").write_text(text)
        write_json(staging / "run.json", {"status": "succeeded"})
    published = first.publish()
    assert second.publish() == published  # the second finds the run published and keeps the first copy
    assert (published / "report.html").read_text() == "first"
    assert not first.staging.exists() and not second.staging.exists()
    assert latest_runs(tmp_path, "executive") == [published]


def test_a_second_failed_execution_is_parked_beside_the_first(tmp_path):
    run = ("executive", "20260102T030405Z-abc123", "2026-01-02")
    parked = []
    for reason in ("killed with its worker", "cell 3 raised ValueError"):
        folder = RunFolder(tmp_path, *run)
        (folder.create() / "report.ipynb").write_text("{}")
        parked.append(folder.park_failed(reason))
    assert parked[0] != parked[1] and parked[1].name.startswith(run[1])
    assert [(p / "FAILED.txt").read_text().strip() for p in parked] == ["killed with its worker", "cell 3 raised ValueError"]


def test_what_a_killed_run_left_in_staging_is_found_and_parked(tmp_path):
    from quire.archive import staged_folders

    folder = RunFolder(tmp_path, "executive", "20260102T030405Z-abc123", "2026-01-02")
    (folder.create() / "report.ipynb").write_text("{}")
    [found] = staged_folders(tmp_path, "executive", folder.run_id, folder.day)
    assert found.staging == folder.staging
    assert (found.park_failed("interrupted") / "report.ipynb").is_file()
    assert staged_folders(tmp_path, "executive", folder.run_id, folder.day) == []


@pytest.mark.parametrize("link", ["cohort", "cohort/2026-11-30", ".quire/staging", "_failed"])
def test_a_folder_that_is_a_symbolic_link_below_outputs_is_refused(tmp_path, link):
    """A link in the outputs folder would write the run elsewhere, where the archive (which follows none) never serves it."""
    outputs, elsewhere = tmp_path / "outputs", tmp_path / "elsewhere"
    elsewhere.mkdir()
    (outputs / link).parent.mkdir(parents=True, exist_ok=True)
    (outputs / link).symlink_to(elsewhere)
    folder = RunFolder(outputs, "cohort", new_run_id(), "2026-11-30")
    # Refused before the run: a failed run parked through the link lost its reason and its notebook.
    with pytest.raises(OutputError, match=rf"{link} is a symbolic link \(to .*elsewhere\); runs are written only"):
        folder.create()
    assert list(elsewhere.iterdir()) == []
    # The outputs folder itself may be a link (a bigger disk mounted elsewhere).
    linked = tmp_path / "linked-outputs"
    linked.symlink_to(elsewhere)
    published = RunFolder(linked, "cohort", new_run_id(), "2026-11-30")
    published.create()
    assert published.publish().is_dir()
