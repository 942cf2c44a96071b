"""``magnetscreen risk``: supply-risk breakdown of compositions, as of a date, under a scenario."""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["add_parser", "run"]

_ELEMENT_FIELDS = ("risk", "base", "coverage", "concentration", "concentration_stage", "governance",
                   "import_reliance", "feoc_share", "export_control", "export_control_events", "mitigation",
                   "missing", "hhi_mining", "hhi_refining")
_PRICE_FIELDS = ("usd_per_kg", "usd_per_kg_low", "usd_per_kg_high", "scale", "date", "conversion", "source")


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``risk`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "risk", help="supply risk and raw-material cost of compositions",
        description="Supply risk of each composition three ways (value-weighted, the default reported as risk and "
        "driver; mass-exposure-weighted; weakest link; each with the element that drives it), the raw-material "
        "cost per kg with its price band, and the components of the formula (docs/supply-risk.md, "
        "docs/prices.md).",
        epilog="examples: magnetscreen risk Nd2Fe14B SmCo5 --as-of 2025-05-01 | "
        "magnetscreen risk '(Nd0.8Dy0.2)2Fe14B' --scenario china-halts-dy-tb --format json")
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="compositions such as Nd2Fe14B")
    p.add_argument("--as-of", default=None, metavar="DATE", help="date of the export-control status (default today)")
    p.add_argument("--scenario", default=None, metavar="NAME|FILE",
                   help="built-in scenario name or scenario TOML file (default: baseline)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--threshold", type=float, default=None, metavar="X",
                   help="minimum mass fraction of an element for the weakest link (default 0.005)")
    p.add_argument("--method", default=None, metavar="NAME",
                   help="combination reported as risk and driver: value_weighted (default), mass_weighted or "
                   "weakest_link")
    p.set_defaults(func=run)
    return p


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def run(args: argparse.Namespace) -> int:
    from magnetscreen.descriptors import encode
    from magnetscreen.models.risk import (
        DEFAULT_METHOD,
        DEFAULT_THRESHOLD,
        composition_risk,
        parse_as_of,
        vintage_warning,
    )

    threshold = DEFAULT_THRESHOLD if args.threshold is None else args.threshold
    as_of = parse_as_of(args.as_of)
    frame = composition_risk(args.formulas, as_of=as_of, scenario=args.scenario, threshold=threshold,
                             method=args.method or DEFAULT_METHOD)
    stale = vintage_warning(as_of)
    if stale:
        print(f"warning: {stale}", file=sys.stderr)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
        return 0
    if args.format == "json":
        elements = frame.attrs["elements"].set_index("element")
        prices = frame.attrs["prices"].set_index("element")
        batch = encode(args.formulas)
        from magnetscreen.datasets.elements import element_symbols

        symbols = element_symbols()
        records = []
        for i, row in enumerate(frame.to_dict(orient="records")):
            record = {k: _clean(v) for k, v in row.items()}
            breakdown = []
            for z, mass in zip(batch.elements[i], batch.mass_fractions[i]):
                if z == 0:
                    continue
                symbol = symbols[z]
                entry = {"element": symbol, "mass_fraction": float(mass)}
                if symbol in elements.index:
                    entry.update({k: _clean(elements.loc[symbol, k]) for k in _ELEMENT_FIELDS})
                else:
                    entry.update({"risk": None, "missing": "no supply data"})
                if symbol in prices.index:
                    entry.update({f"price_{k}": _clean(prices.loc[symbol, k]) for k in _PRICE_FIELDS})
                else:
                    entry["price_usd_per_kg"] = None
                breakdown.append(entry)
            record["method"] = frame.attrs["method"]
            record["vintage_warning"] = stale
            record["elements"] = breakdown
            records.append(record)
        print(json.dumps(records, indent=2))
        return 0
    import pandas as pd

    columns = ["formula", "risk", "driver", "risk_mass_weighted", "driver_mass_weighted", "risk_weakest_link",
               "driver_weakest_link", "cost_usd_per_kg", "cost_usd_per_kg_low", "cost_usd_per_kg_high",
               "priced_mass_fraction", "covered_mass_fraction", "controlled_elements", "elements_without_data",
               "elements_without_price"]
    with pd.option_context("display.max_rows", None, "display.max_columns", None, "display.width", 250,
                           "display.float_format", "{:.3f}".format):
        print(frame[columns].to_string(index=False))
    print(f"\nrisk = {frame.attrs['method']} risk; as of {frame.attrs['as_of']}, scenario {frame.attrs['scenario']}, "
          f"weakest-link threshold {threshold:g} (mass fraction); cost in USD per kg of composition (a lower bound "
          "where priced_mass_fraction < 1); formula and data: docs/supply-risk.md, docs/prices.md")
    return 0
