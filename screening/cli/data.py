"""``magnetscreen data``: the shipped datasets, their rows, and checks of a user's dataset."""

from __future__ import annotations

import argparse
import json
import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import pandas as pd



def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``data`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser("data", help="list, show and check datasets",
                              description="List the shipped datasets (rows, columns, methods, sources), print the "
                              "rows of one, or validate a user dataset (CSV or Parquet).",
                              epilog="examples: magnetscreen data | magnetscreen data show intrinsic | "
                              "magnetscreen data check my_measurements.csv")
    p.add_argument("action", nargs="?", choices=("list", "show", "check"), help="default: list")
    p.add_argument("name", nargs="?", metavar="NAME|FILE", help="dataset name (show) or file (check)")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table", help="output format")
    p.add_argument("--limit", type=int, default=None, metavar="N", help="print at most N rows")
    p.add_argument("--formula-column", default="formula", help="formula column of a user file (check)")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.errors import DataError
    from magnetscreen.datasets.tables import load_table, table_names, table_summary
    from magnetscreen.datasets.user_data import load_user_dataset

    action = args.action or "list"
    if action in ("show", "check") and not args.name:
        raise DataError(f"data {action}: missing {'dataset name' if action == 'show' else 'file'} "
                        f"(shipped datasets: {', '.join(table_names())})")
    if action == "list":
        rows = [table_summary(n) for n in table_names()]
        if args.format == "json":
            print(json.dumps(rows, indent=2))
            return 0
        for r in rows:
            methods = ", ".join(f"{k} {v}" for k, v in r["methods"].items()) or "derived"
            print(f"{r['name']}: {r['rows']} rows, {len(r['sources'])} source(s), {methods}")
            if r.get("description"):
                print(f"  {r['description']}")
            for cls, tiers in r.get("tiers_by_class", {}).items():
                print(f"  {cls}: " + ", ".join(f"tier {k} {v}" for k, v in tiers.items()))
            for family, props in r.get("by_family", {}).items():
                print(f"  {family}: " + ", ".join(f"{k} {v}" for k, v in props.items() if v))
            print(f"  columns: {', '.join(r['columns'])}")
        print("\nmagnetscreen data show NAME prints the rows; docs/data.md explains what is thin and why.")
        return 0
    if action == "show":
        frame = load_table(args.name)
        if args.limit is not None:
            frame = frame.head(args.limit)
        _print(frame, args.format)
        return 0
    # check
    from magnetscreen.descriptors import canonical_formulas, encode

    frame = load_user_dataset(args.name, formula_column=args.formula_column)
    prov = frame.attrs["provenance"]
    frame.insert(1, "canonical_formula", canonical_formulas(encode(frame["formula"].tolist())))
    print(f"{args.name}: {prov['rows']} valid rows; columns {prov['columns']}", file=sys.stderr)
    for rule in prov["conversions"].values():
        print(f"  converted {rule}", file=sys.stderr)
    if args.limit is not None:
        frame = frame.head(args.limit)
    _print(frame, args.format)
    return 0


def _print(frame: pd.DataFrame, fmt: str) -> None:
    import pandas as pd

    if fmt == "json":
        print(frame.to_json(orient="records", indent=2))
    elif fmt == "csv":
        frame.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 200,
                               "display.max_colwidth", 60):
            print(frame.to_string(index=False))
