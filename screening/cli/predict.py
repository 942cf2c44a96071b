"""``magnetscreen predict``: intrinsic properties with sigma and domain flag, and performance at a temperature."""

from __future__ import annotations

import argparse
import json
import math
import sys

__all__ = ["add_parser", "run", "records"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``predict`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "predict", help="predict Js, K1, Tc (with sigma) and magnet performance",
        description="Predict Js_T, K1_MJm3 (at 295 K) and Tc_K with their calibrated 1-sigma and the "
        "domain-of-applicability flag, and the derived metrics at --temperature (mu0HA, kappa, mu0Hc, Br, "
        "(BH)max with its branch), each with a propagated sigma, and the raw-material cost per kg and per "
        "kJ/m^3 of (BH)max at the element prices of --as-of (docs/prices.md).",
        epilog="examples: magnetscreen predict Nd2Fe14B SmCo5 | magnetscreen predict '(Nd0.8Dy0.2)2Fe14B' "
        "--temperature 423.15 --format json")
    p.add_argument("formulas", nargs="+", metavar="FORMULA", help="compositions such as Nd2Fe14B")
    p.add_argument("--temperature", type=float, default=423.15, metavar="K",
                   help="operating temperature in K for the derived metrics (default 423.15)")
    p.add_argument("--format", choices=("table", "json", "csv"), default="table", help="output format")
    p.add_argument("--models", default=None, metavar="DIR", help="model folder (default: the shipped models)")
    p.add_argument("--kuzmin-s", type=float, default=None, metavar="S",
                   help="Kuz'min shape parameter, 0 < s < 5/2 (default 0.5, a stated modelling choice; used "
                   "when --family is not given or the family has no fitted law)")
    p.add_argument("--family", default=None, metavar="NAME",
                   help="built-in family whose fitted temperature law scales Js and K1 (see magnetscreen "
                   "families; default: the uniform law of --kuzmin-s and Callen-Callen n = 3)")
    p.add_argument("--as-of", default=None, metavar="DATE",
                   help="date of the element prices of the cost columns (default today)")
    p.add_argument("--scenario", default=None, metavar="NAME|FILE",
                   help="supply scenario whose price shocks apply to the cost (default: baseline)")
    p.set_defaults(func=run)
    return p


def _clean(value):
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def records(formulas: list[str], temperature_K: float, models_dir: str | None = None,
            kuzmin_s: float | None = None, family: str | None = None, as_of=None, scenario=None) -> list[dict]:
    """One JSON-ready record per input formula, in input order (cost at the prices of ``as_of``, default today,
    under ``scenario``)."""
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.descriptors import encode
    from magnetscreen.models.predictions import DEFAULT_KUZMIN_S, DERIVED, Conditions, score
    from magnetscreen.models.surrogates import TARGETS, load_surrogates

    try:
        conditions = Conditions(temperature_K=temperature_K,
                                kuzmin_s=DEFAULT_KUZMIN_S if kuzmin_s is None else kuzmin_s)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
    from magnetscreen.models.temperature_laws import family_laws

    if family is not None and family not in family_laws():
        raise ConfigError(f"--family: unknown built-in family {family!r} (known: {', '.join(sorted(family_laws()))})")
    from magnetscreen.models.risk import composition_risk_arrays, element_price_arrays, element_risk_array

    batch = encode(formulas)
    out = score(batch, load_surrogates(models_dir), conditions, family=family)
    cost = composition_risk_arrays(batch, element_risk_array(as_of, scenario),
                                   prices=element_price_arrays(as_of, scenario))
    names = batch.names()
    rows = []
    for i, formula in enumerate(formulas):
        row = {"formula": formula, "canonical_formula": str(names[i]), "temperature_K": temperature_K}
        for t in TARGETS:
            row[t] = _clean(out[t][i])
            row[f"{t}_sigma"] = _clean(out[f"{t}_sigma"][i])
        row["in_domain"] = bool(out["in_domain"][i])
        row["prototype"] = str(out["prototype"][i])
        row["domain_note"] = str(out["domain_note"][i])
        for name in DERIVED:
            row[name] = _clean(out[name][i])
            row[f"{name}_sigma"] = _clean(out[f"{name}_sigma"][i])
        row["BHmax_branch"] = str(out["BHmax_branch"][i])
        row["grade"] = str(out["grade"][i])
        for name in ("cost_usd_per_kg", "cost_usd_per_kg_low", "cost_usd_per_kg_high"):
            row[name] = _clean(cost[name][i])
        row["cost_priced_fraction"] = _clean(cost["priced_mass_fraction"][i])
        bhmax = out["BHmax_kJm3"][i]
        row["cost_per_BHmax"] = _clean(cost["cost_usd_per_kg"][i] / bhmax) if bhmax > 0 else None
        rows.append(row)
    return rows


def run(args: argparse.Namespace) -> int:
    rows = records(args.formulas, args.temperature, args.models, args.kuzmin_s, args.family, args.as_of,
                   args.scenario)
    if args.format == "json":
        print(json.dumps(rows, indent=2))
        return 0
    import pandas as pd

    frame = pd.DataFrame(rows)
    if args.format == "csv":
        frame.to_csv(sys.stdout, index=False)
        return 0
    show = ["formula", "Js_T", "Js_T_sigma", "K1_MJm3", "K1_MJm3_sigma", "Tc_K", "Tc_K_sigma", "in_domain",
            "muHA_T", "kappa", "muHc_T", "BHmax_kJm3", "BHmax_branch", "grade", "cost_usd_per_kg", "cost_per_BHmax"]
    with pd.option_context("display.max_columns", None, "display.width", 250, "display.float_format", "{:.3g}".format):
        print(frame[show].to_string(index=False))
    print(f"\nJs_T, K1_MJm3 at 295 K; muHA_T, kappa, muHc_T, BHmax_kJm3 at {args.temperature:g} K; "
          "sigma = calibrated 1-sigma (model cards: magnetscreen train, docs/models.md); cost_usd_per_kg = "
          "raw-material cost, cost_per_BHmax in USD/kg per kJ/m^3 (docs/prices.md)")
    return 0
