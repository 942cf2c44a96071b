"""Write a held-out validation dataset: a seeded slice of the Curie corpus's tier-A metallic ferromagnets.

The slice is every tier-A intermetallic/alloy composition of the shipped Curie corpus whose series (its set of
elements) falls in a seeded random share of the series, written as a user dataset (``formula,Tc_K,source``).
``magnetscreen validate`` removes these compositions and their neighbours from the training data before it
refits, so the models are scored on element systems they never saw::

    python benchmarks/validation_slice.py --out held_out.csv          # share 0.1, seed 2026
    magnetscreen validate held_out.csv --format json

Deterministic for a given share and seed.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from magnetscreen.datasets.tables import load_curie_corpus
from magnetscreen.descriptors.encoding import encode


def held_out_slice(share: float = 0.1, seed: int = 2026):
    corpus = load_curie_corpus()
    rows = corpus[(corpus["tier"] == "A") & (corpus["material_class"] == "intermetallic/alloy")].copy()
    batch = encode(list(rows["formula"]))
    rows["series"] = [" ".join(map(str, sorted(int(z) for z in zs if z > 0))) for zs in batch.elements]
    series = np.array(sorted(set(rows["series"])))
    chosen = set(series[np.random.default_rng(seed).random(len(series)) < share].tolist())
    out = rows[rows["series"].isin(chosen)]
    return out.assign(source="curie_corpus tier A (held-out slice, seed " + str(seed) + ")")[
        ["formula", "Tc_K", "source"]].sort_values("formula").reset_index(drop=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="CSV file to write")
    parser.add_argument("--share", type=float, default=0.1, help="share of the series held out (default 0.1)")
    parser.add_argument("--seed", type=int, default=2026, help="seed of the draw (default 2026)")
    args = parser.parse_args(argv)
    frame = held_out_slice(args.share, args.seed)
    frame.to_csv(Path(args.out), index=False)
    print(f"wrote {len(frame)} compositions of {frame['formula'].nunique()} formulas to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
