"""SkippedFilesHandler: on Events.STARTED, log the counts by reason and the files the run left out; write the list."""

from __future__ import annotations

import json
import logging

from ignite.engine import Engine

from monai_cbis.data.skips import SkippedItems
from monai_cbis.evaluation import SkippedFilesHandler


def test_logs_counts_and_the_runs_own_skips_and_writes_the_list_at_start(tmp_path, caplog):
    ledger = SkippedItems()
    ledger.add({"reason": "image_unreadable", "path": "/d/a.dcm", "detail": "truncated DICOM"}, stage="index")
    for name in ("b", "c", "d"):
        ledger.add({"reason": "pixels_unreadable", "path": f"/d/{name}.dcm", "detail": "bad pixels"}, stage="load")
    out = tmp_path / "eval" / "skipped.json"
    seen = []
    engine = Engine(lambda e, b: seen.append(out.is_file()))
    SkippedFilesHandler(ledger, out, max_logged=2, name="skips").attach(engine)
    with caplog.at_level(logging.INFO, logger="skips"):
        engine.run([0], max_epochs=1)
    assert seen == [True]  # written before the first iteration
    report = json.loads(out.read_text())
    assert report["count"] == 4 and report["by_reason"] == {"image_unreadable": 1, "pixels_unreadable": 3}
    lines = [(r.levelname, r.getMessage()) for r in caplog.records if r.name == "skips"]
    assert lines == [
        ("WARNING", f"skipped 4 rows or files: image_unreadable=1, pixels_unreadable=3; the full list "
                    f"(path, row, reason): {out}"),
        ("WARNING", "skipped /d/b.dcm: pixels_unreadable (bad pixels)"),
        ("WARNING", "skipped /d/c.dcm: pixels_unreadable (bad pixels)"),
        ("WARNING", f"... 1 more in {out}"),
    ]  # fmt: skip


def test_a_clean_run_says_so_at_info_level(tmp_path, caplog):
    engine = Engine(lambda e, b: None)
    SkippedFilesHandler(SkippedItems(), tmp_path / "skipped.json", name="skips").attach(engine)
    with caplog.at_level(logging.INFO, logger="skips"):
        engine.run([0], max_epochs=1)
    assert [(r.levelname, r.getMessage().split(";")[0]) for r in caplog.records if r.name == "skips"] == [
        ("INFO", "skipped no row or file")
    ]
    assert json.loads((tmp_path / "skipped.json").read_text())["skipped"] == []
