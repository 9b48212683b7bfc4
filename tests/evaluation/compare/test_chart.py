"""render_figure: one panel per kind, the published bar drawn from the row's reference, n/a for undefined scores."""

from __future__ import annotations

import pytest

from monai_cbis.evaluation import collect_reports, comparison_figure
from monai_cbis.evaluation.compare import comparison_rows, render_figure


def bar_texts(fig) -> list[list[str]]:
    return [[t.get_text() for t in ax.texts] for ax in fig.axes]


def test_panels_and_published_bars(tmp_path, rep):
    rows = comparison_rows(collect_reports(list(rep.make_tree(tmp_path).values())))
    fig = render_figure(rows)
    assert [ax.get_title().split(":")[0] for ax in fig.axes] == ["Segmentation", "Classification"]
    seg, cls = bar_texts(fig)
    assert "A 0.9680" in seg and "B 0.8402" in seg  # paper A's Dice incl. background, paper B's lesion Dice
    assert "B 0.7739" in cls and "B 0.7156" not in cls  # paper B's pretrained accuracy, not the from-scratch one
    assert [t.get_text() for t in fig.axes[1].get_xticklabels()] == ["vgg16_classification", "my_cnn"]
    assert fig.get_size_inches()[1] == pytest.approx(8.6)


def test_one_kind_one_panel_and_undefined_scores(tmp_path, rep):
    m = rep.cls_metrics(n=5, n_malignant=0, model="resnet50_classification")
    fig = comparison_figure(collect_reports([rep.put(tmp_path / "m.json", m)]))
    assert len(fig.axes) == 1 and fig.get_size_inches()[1] == pytest.approx(4.3)
    rows = comparison_rows(collect_reports([tmp_path / "m.json"]))
    rows["classification"][0]["accuracy"] = None
    assert "n/a" in bar_texts(render_figure(rows))[0]  # an undefined score; the chart copes


def test_no_rows_is_an_error():
    with pytest.raises(ValueError, match="No reports to compare"):
        render_figure({"segmentation": [], "classification": []})
