"""``magnetscreen disclose``: standardized heavy-rare-earth and supply-concentration disclosure."""

from __future__ import annotations

import argparse
import json

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``disclose`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "disclose", help="heavy-rare-earth and supply-concentration disclosure",
        description="Per composition: HREE content (g/kg) per element and in total for each named HREE set, the "
        "mass share whose mining and whose refining are concentrated in one country, the elements under export "
        "controls at the date, and the data vintage (JSON schema magnetscreen-disclosure, docs/supply-risk.md).",
        epilog="example: magnetscreen disclose '(Nd0.8Dy0.2)2Fe14B' SmCo5 --as-of 2025-05-01 --format json")
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="compositions such as Nd2Fe14B")
    p.add_argument("--as-of", default=None, metavar="DATE", help="date of the export-control status (default today)")
    p.add_argument("--scenario", default=None, metavar="NAME|FILE",
                   help="built-in scenario name or scenario TOML file (default: baseline)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.set_defaults(func=run)
    return p


def _text(record: dict) -> str:
    lines = [f"{record['formula']} ({record['canonical_formula']}), as of {record['as_of']}, "
             f"scenario {record['scenario']}, schema {record['schema']} {record['schema_version']}"]
    for name, block in record["hree"]["sets"].items():
        parts = ", ".join(f"{e} {v:.1f}" for e, v in block["elements"].items() if v > 0) or "none"
        lines.append(f"  HREE [{name}]: {block['total']:.1f} g/kg ({parts})")
    for stage, block in record["concentration"].items():
        countries = ", ".join(f"{c} {m:.1%}" for c, m in block["by_country"].items()) or "none"
        lines.append(f"  {stage}: {block['concentrated_mass_share']:.1%} of the mass concentrated in one country "
                     f"(share >= {block['threshold_share']:.0%}: {countries}); no data for "
                     f"{block['mass_share_without_data']:.1%} ({' '.join(block['elements_without_data']) or '-'})")
    controls = record["export_controls"]
    named = "; ".join(f"{c['element']} ({', '.join(e['announcement'] for e in c['events'])})"
                      for c in controls["elements"]) or "none"
    lines.append(f"  export controls: {controls['controlled_mass_share']:.1%} of the mass: {named}")
    risk = record["supply_risk"]

    def fmt(x):
        return "n/a" if x is None else f"{x:.3f}"

    lines.append(f"  supply risk: mass-weighted {fmt(risk['risk_mass_weighted'])} (driver "
                 f"{risk['driver_mass_weighted']}), weakest link {fmt(risk['risk_weakest_link'])} "
                 f"(driver {risk['driver_weakest_link']})")
    years = sorted({y for v in record["data_vintage"]["elements"].values() for y in v.values() if y})
    lines.append(f"  data vintage: years {years[0] if years else '-'}-{years[-1] if years else '-'}; export-control "
                 f"events through {record['data_vintage']['export_control_events_through']}")
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from magnetscreen.models.disclosure import disclose

    records = disclose(args.formulas, as_of=args.as_of, scenario=args.scenario)
    if args.format == "json":
        print(json.dumps(records, indent=2))
    else:
        print("\n\n".join(_text(r) for r in records))
    return 0
