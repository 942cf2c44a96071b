"""``magnetscreen families``: the built-in families, their sites and grid sizes at the default step."""

from __future__ import annotations

import argparse
import json
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from magnetscreen.datasets.families import Family


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``families`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser("families", help="list the built-in candidate families",
                              description="List the built-in candidate families: prototype, sites and grid size at "
                              "the default step.")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format (default: table)")
    p.add_argument("--family", metavar="FILE", action="append", default=[],
                   help="also describe a user family TOML file (repeatable)")
    p.set_defaults(func=run)
    return p


def describe(family: Family) -> dict:
    """Summary of one family: prototype, sites and the number of candidates at its defaults."""
    from magnetscreen.descriptors.enumeration import plan_enumeration

    plan = plan_enumeration(family)
    sites = []
    for site in family.sites:
        sites.append({
            "name": site.name,
            "multiplicity": str(site.multiplicity),
            "elements": list(site.elements),
            "sampling": family.site_sampling(site) if len(site.elements) > 1 else "fixed",
            "step": family.site_step(site) if len(site.elements) > 1 else None,
        })
    return {
        "name": family.name,
        "prototype": family.prototype,
        "description": family.description,
        "structure": family.structure,
        "citation": family.citation,
        "reference": family.reference,
        "variables": {v.name: list(v.values) for v in family.variables},
        "sites": sites,
        "candidates": plan.total,
    }


def _site_text(site: dict) -> str:
    elements = ",".join(site["elements"])
    text = f"{site['name']}[{site['multiplicity']}]({elements})"
    if site["sampling"] == "grid":
        text += f" step {site['step']:g}"
    elif site["sampling"] == "sobol":
        text += " sobol"
    return text


def run(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.families import builtin_families, load_family

    families = list(builtin_families()) + [load_family(path) for path in args.family]
    rows = [describe(f) for f in families]
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    width = max(len(r["name"]) for r in rows)
    proto = max(len(r["prototype"]) for r in rows)
    print(f"{'family':<{width}}  {'prototype':<{proto}}  {'candidates':>10}  sites")
    for r in rows:
        sites = "  ".join(_site_text(s) for s in r["sites"])
        variables = "".join(f"  {k} in {v}" for k, v in r["variables"].items())
        print(f"{r['name']:<{width}}  {r['prototype']:<{proto}}  {r['candidates']:>10}  {sites}{variables}")
    print(f"\n{len(rows)} families, {sum(r['candidates'] for r in rows)} candidates at the default steps")
    return 0
