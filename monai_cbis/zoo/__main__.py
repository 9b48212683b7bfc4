"""``python -m monai_cbis.zoo {check,write} [--bundles_dir DIR] [--refresh_versions] [NAME ...]``."""

from __future__ import annotations

import argparse
import os
import sys

from .generate import check_bundles, write_bundles


def main(argv=None) -> int:
    default_dir = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "bundles")
    p = argparse.ArgumentParser(prog="python -m monai_cbis.zoo", description=__doc__)
    p.add_argument("action", choices=["check", "write"])
    p.add_argument("names", nargs="*", help="bundle folder names (default: all)")
    p.add_argument("--bundles_dir", default=default_dir, help=f"default: {default_dir}")
    p.add_argument(
        "--refresh_versions",
        action="store_true",
        help="write: record the installed package versions in metadata.json (default: keep the recorded ones)",
    )
    args = p.parse_intermixed_args(argv)  # names may follow the options
    try:
        if args.action == "write":
            for path in write_bundles(args.bundles_dir, args.names, args.refresh_versions):
                print(f"wrote {path}")
            return 0
        problems = check_bundles(args.bundles_dir, args.names)
    except ValueError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    for line in problems:
        print(line)
    if problems:
        print("Out of date: run `python -m monai_cbis.zoo write` and commit the result.", file=sys.stderr)
        return 1
    print("All bundles match monai_cbis.zoo.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
