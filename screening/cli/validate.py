"""``magnetscreen validate``: the shipped protocol's error on a dataset the models never saw."""

from __future__ import annotations

import argparse
import json
import math
import sys
import time

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``validate`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "validate", help="measure the models on your own data, with its neighbourhood removed from training",
        description="Remove from the training data every row within an L1 atomic-fraction distance "
        "--exclude-radius of any composition of FILE, refit the shipped configuration (learner, tier rule and "
        "routes per prototype of the shipped cards) with its calibration and domain threshold, predict the rows "
        "of FILE and print per target: rows, MAE, RMSE, R^2, share inside 1 and 2 sigma, share in domain, MAE "
        "in and out of domain, and training rows removed. FILE is a user dataset as `magnetscreen data check` "
        "accepts it: formula plus any of Js_T, K1_MJm3, Tc_K, muHA_T (Js, K1 and muHA with T_K).",
        epilog="examples: magnetscreen validate my_measurements.csv | magnetscreen validate held_out.csv "
        "--exclude-radius 0.05 --format json")
    p.add_argument("file", metavar="FILE", help="CSV or Parquet user dataset")
    p.add_argument("--exclude-radius", type=float, default=0.02, metavar="D",
                   help="remove training rows within this L1 atomic-fraction distance of any test composition "
                   "(default 0.02; 0 removes exact matches only)")
    p.add_argument("--seed", type=int, default=0, help="seed of folds and models (default 0, as shipped)")
    p.add_argument("--format", choices=("table", "json"), default="table", help="output format")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    p.set_defaults(func=run)
    return p


def _clean(value):
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def run(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.errors import ConfigError, DataError
    from magnetscreen.datasets.user_data import load_user_dataset
    from magnetscreen.models.validation import FIELDS, validate

    if not (math.isfinite(args.exclude_radius) and 0 <= args.exclude_radius <= 2):
        raise ConfigError(f"--exclude-radius: expected a distance in [0, 2], got {args.exclude_radius}")
    if args.seed < 0:
        raise ConfigError(f"--seed: expected an integer >= 0, got {args.seed}")
    dataset = load_user_dataset(args.file)
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    start = time.perf_counter()
    try:
        result = validate(dataset, args.exclude_radius, args.seed, log=log)
    except DataError as exc:
        raise DataError(f"{args.file}: {exc}") from None
    if args.format == "json":
        print(json.dumps({t: {f: _clean(r[f]) for f in FIELDS} for t, r in result.items()}, indent=2))
        return 0
    import pandas as pd

    frame = pd.DataFrame({t: {f: r[f] for f in FIELDS} for t, r in result.items()}).T
    with pd.option_context("display.width", 200, "display.max_columns", 20):
        print(frame.to_string(float_format=lambda v: f"{v:.4g}"))
    print(f"\n{time.perf_counter() - start:.0f} s; exclude radius {args.exclude_radius:g}")
    return 0
