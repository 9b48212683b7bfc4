"""monai_cbis.distributed: under DDP only rank 0 writes, but handlers that gather from every rank stay."""

from __future__ import annotations


def test_rank_zero_writers_keeps_gathering_handlers_on_every_rank(monkeypatch):
    from monai.handlers import StatsHandler, ValidationHandler

    from monai_cbis import distributed
    from monai_cbis.evaluation import SegmentationReportHandler

    stats, report = StatsHandler(), SegmentationReportHandler("/tmp/unused", num_overlays=0)
    validation = ValidationHandler(interval=1)
    handlers = [validation, stats, report]
    assert distributed.rank_zero_writers(handlers) == handlers  # no process group: everything kept
    monkeypatch.setattr(distributed.dist, "is_initialized", lambda: True)
    monkeypatch.setattr(distributed.dist, "get_rank", lambda: 1)
    assert distributed.rank_zero_writers(handlers) == [validation, report]  # the report gathers from every rank
