"""``magnetscreen train``: fit the surrogates on the shipped data (plus a user dataset) and write model files."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["add_parser", "run"]


def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``train`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser(
        "train", help="train the surrogates and write model files and cards",
        description="Train the Js_T, K1_MJm3 and Tc_K surrogates on the shipped tables (plus --data), compare "
        "random forest, extra trees, gradient boosting and the nearest-phase baseline by K-fold and "
        "leave-one-family-out, calibrate the uncertainty, and write flat .npz models with checksums and "
        "JSON model cards to --out.",
        epilog="examples: magnetscreen train --out my-models | magnetscreen train --data my_measurements.csv "
        "--out my-models; then: magnetscreen predict Nd2Fe14B --models my-models")
    p.add_argument("--data", default=None, metavar="FILE",
                   help="user dataset (CSV or Parquet) added to the shipped data")
    p.add_argument("--out", default="magnetscreen-models", metavar="DIR",
                   help="output folder (default: magnetscreen-models)")
    p.add_argument("--seed", type=int, default=0, help="seed of folds and models (default 0)")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)
    return p


def run(args: argparse.Namespace) -> int:
    from magnetscreen.datasets.errors import ConfigError
    from magnetscreen.datasets.user_data import load_user_dataset
    from magnetscreen.models.surrogates import save_surrogates
    from magnetscreen.models.training import train_surrogates

    if args.seed < 0:
        raise ConfigError(f"--seed: expected an integer >= 0, got {args.seed}")
    extra = load_user_dataset(args.data) if args.data else None
    log = None if args.quiet else (lambda line: print(line, file=sys.stderr))
    models = train_surrogates(extra, seed=args.seed, log=log)
    files = save_surrogates(models, Path(args.out))
    if not args.quiet:
        print(f"wrote {len(files)} files to {args.out}: " + ", ".join(files))
    return 0
