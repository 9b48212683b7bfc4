"""``python -m monai_cbis``: write a synthetic CBIS-DDSM, index a download into a datalist, verify a download, and
compare the evaluation reports of several models in one table, and lay out a MONAI Label app serving the bundles.

Thin: parse arguments, call the library, print a summary. Expected failures (missing folder, no CSVs, bad
arguments, damaged files) print one ``error:`` line naming the path and exit with status 2, never a stack trace
(set ``MONAI_CBIS_DEBUG=1`` to see it).

Example:
    python -m monai_cbis synth /tmp/cbis --layout nbia --cases 40
    python -m monai_cbis index /tmp/cbis --out /tmp/cbis_image.json --level image --task both
    python -m monai_cbis verify /tmp/cbis   # report beside it: /tmp/cbis_verify_report.json
    python -m monai_cbis report bundles/unet_effb3 bundles/vgg16_classification --output comparison
    python -m monai_cbis label-app /tmp/cbis_app --bundles unet_effb3 vgg16_classification --studies /tmp/films
"""

from __future__ import annotations

import argparse
import os
import sys

__all__ = ["main", "build_parser"]


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m monai_cbis", description=__doc__.split("\n\n")[0])
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("synth", help="write a synthetic CBIS-DDSM collection in the real formats")
    s.add_argument("out", help="output folder (created; must be empty or a previous synthetic collection)")
    s.add_argument("--layout", default="classic", choices=["classic", "nbia", "kaggle"])
    s.add_argument("--cases", type=int, default=40, help="number of women (default 40)")
    s.add_argument("--seed", type=int, default=0)
    s.add_argument("--full-size", action="store_true", help="realistic ~5000 x 3000 images (for benchmarks)")
    s.add_argument(
        "--realistic-lesions",
        action="store_true",
        help="lesions sized in mm as in CBIS-DDSM (masses 4-40 mm, clusters of 0.1-0.5 mm specks), contrast falling "
        "with breast density; 50 um pixels at --full-size (see docs/data.md)",
    )

    i = sub.add_parser("index", help="index a download into a MONAI datalist JSON")
    i.add_argument("root", help="CBIS-DDSM download folder (classic TCIA, NBIA or Kaggle layout)")
    i.add_argument("--out", required=True, help="datalist JSON to write")
    i.add_argument("--level", default="image", choices=["image", "abnormality"])
    i.add_argument("--task", default="both", choices=["mass", "calcification", "both"])
    i.add_argument("--split", default="patient", choices=["patient", "official"])
    i.add_argument("--seed", type=int, default=0)
    i.add_argument("--val-frac", type=float, default=0.2)
    i.add_argument("--relative", action="store_true", help="write paths relative to ROOT (default: absolute)")
    i.add_argument("--include-wrong-size-masks", action="store_true", help="keep wrong-size masks, flagged")
    i.add_argument("--workers", type=int, default=8, help="threads reading headers")

    v = sub.add_parser("verify", help="decode every referenced file and report problems (non-zero exit if any)")
    v.add_argument("root")
    v.add_argument(
        "--out",
        default=None,
        help="report JSON (default: beside ROOT, named <ROOT's name>_verify_report.json)",
    )
    v.add_argument("--task", default="both", choices=["mass", "calcification", "both"])
    v.add_argument("--workers", type=int, default=4)

    r = sub.add_parser("report", help="compare the evaluation reports (metrics.json) of several models in one table")
    r.add_argument(
        "paths",
        nargs="+",
        metavar="PATH",
        help="evaluation folder holding metrics.json, bundle folder (reads its eval/**/metrics.json) or metrics.json",
    )
    r.add_argument(
        "--output", "--out", default="comparison", help="folder for comparison.md/.json/.png (default ./comparison)"
    )

    la = sub.add_parser(
        "label-app", help="lay out a MONAI Label monaibundle app serving bundles; print its start command"
    )
    la.add_argument("out", help="app folder to create (absent or empty)")
    la.add_argument("--bundles", nargs="+", required=True, metavar="NAME", help="bundle names under --bundles-dir")
    la.add_argument("--bundles-dir", default=None, help="folder holding the bundles (default: the checkout's bundles/)")
    la.add_argument("--studies", default="STUDIES", help="image folder written into the start command's --studies")
    return p


#: How many problem files ``verify`` prints (the report lists them all).
_SHOWN_PROBLEMS = 20


def _print_counts(title: str, counts: dict) -> None:
    print(f"{title}: " + (", ".join(f"{k}={v}" for k, v in counts.items()) if counts else "none"))


def _synth(a: argparse.Namespace) -> int:
    from .data.synthetic import make_synthetic_cbis

    col = make_synthetic_cbis(
        a.out, layout=a.layout, cases=a.cases, seed=a.seed, full_size=a.full_size,
        realistic_lesions=a.realistic_lesions, progress=True,
    )  # fmt: skip
    print(
        f"wrote a synthetic CBIS-DDSM ({col.layout} layout) to {col.root}: {len(col.rows)} CSV rows, "
        f"{col.images} full images"
    )
    return 0


def _index(a: argparse.Namespace) -> int:
    import warnings

    from .data.datalist import build_datalist, write_datalist
    from .data.indexer import index_collection

    index = index_collection(
        a.root, task=a.task, include_wrong_size_masks=a.include_wrong_size_masks, num_workers=a.workers, progress=True
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        dl = build_datalist(index, level=a.level, split=a.split, seed=a.seed, val_frac=a.val_frac, relative=a.relative)
    for w in caught:
        print(f"warning: {w.message}", file=sys.stderr)
    path = write_datalist(dl, a.out)
    s = dl["summary"]
    print(f"indexed {s['root']} ({s['layout']} layout, task {s['task']}, {s['level']} level, {s['split']} split)")
    _print_counts("items per section", s["sections"])
    _print_counts("women per section", s["women"])
    _print_counts("skipped by reason", s["skipped_by_reason"])
    if s.get("rows_dropped_from_training_for_leakage"):
        print(
            f"leak-free split: {s['women_removed_from_training']} women with official test rows removed from "
            f"training ({s['rows_dropped_from_training_for_leakage']} rows)"
        )
    print(f"wrote {path}")
    return 0


def _verify(a: argparse.Namespace) -> int:
    from .atomic import atomic_write_json
    from .data.skips import describe_skip
    from .data.verify import default_report_path, verify_collection

    report = verify_collection(a.root, task=a.task, num_workers=a.workers, progress=True)
    out = a.out or default_report_path(report["root"])
    try:
        path = atomic_write_json(report, out)
    except PermissionError as e:
        raise ValueError(
            f"cannot write the report to {out} (permission denied); pass --out FILE to put it elsewhere."
        ) from e
    print(f"checked {report['files_checked']} files under {report['root']} ({report['summary']['layout']} layout)")
    _print_counts("problems by reason", report["problems_by_reason"])
    problems = report["problems"]
    for p in problems[:_SHOWN_PROBLEMS]:
        print(f"  {describe_skip(p)}")
    if len(problems) > _SHOWN_PROBLEMS:
        print(f"  ... {len(problems) - _SHOWN_PROBLEMS} more in {path}")
    print(f"wrote {path}")
    if not report["ok"]:
        print(f"verify: {len(problems)} problem(s); see {path}", file=sys.stderr)
        return 1
    return 0


def _report(a: argparse.Namespace) -> int:
    from .evaluation.compare import collect_reports, write_comparison

    files = write_comparison(collect_reports(a.paths), a.output)
    with open(files["markdown"], encoding="utf-8") as f:
        print(f.read(), end="")
    for path in files.values():  # stderr: stdout stays the Markdown alone
        print(f"wrote {path}", file=sys.stderr)
    return 0


def _label_app(a: argparse.Namespace) -> int:
    from .label_app import lay_out_app

    app = lay_out_app(a.out, a.bundles, bundles_dir=a.bundles_dir, studies=a.studies)
    print(f"wrote a MONAI Label monaibundle app to {app.path} serving {', '.join(app.bundles)}")
    for name in app.untrained:
        print(
            f"warning: {name} has no models/model.pt: MONAI Label can train it but will not serve its inference "
            "until it has weights",
            file=sys.stderr,
        )
    print("start it (in the MONAI Label environment, README 'MONAI Label') with:")
    print(app.command)
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status."""
    args = build_parser().parse_args(argv)
    from .data.files import UnreadableImageError
    from .data.records import CaseCSVError

    try:
        return {"synth": _synth, "index": _index, "verify": _verify, "report": _report, "label-app": _label_app}[
            args.command
        ](args)
    except (
        FileNotFoundError,
        FileExistsError,
        NotADirectoryError,
        CaseCSVError,
        UnreadableImageError,
        ValueError,
    ) as e:
        if os.environ.get("MONAI_CBIS_DEBUG"):
            raise
        print(f"error: {e}", file=sys.stderr)
        return 2
    except PermissionError as e:
        print(f"error: permission denied: {e.filename or e}", file=sys.stderr)
        return 2
