"""``magnetscreen featurize``: descriptors of a file of formulas, streamed in chunks."""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Iterator
from pathlib import Path

CHUNK = 65536



def add_parser(subparsers) -> argparse.ArgumentParser:
    """Register ``featurize`` on the ``magnetscreen`` subcommand parsers."""
    p = subparsers.add_parser("featurize", help="compute composition descriptors for a file of formulas",
                              description="Compute the magnetscreen composition descriptors (numba kernels) for a "
                              "file of formulas: text (one per line), CSV or Parquet. Output: Parquet (default) or "
                              "CSV with formula, canonical_formula and one column per feature.")
    p.add_argument("file", metavar="FILE", help="formulas: .txt (one per line), .csv or .parquet")
    p.add_argument("--out", required=True, metavar="FILE", help="output .parquet or .csv")
    p.add_argument("--format", choices=("parquet", "csv"), default=None, help="default: from the suffix of --out")
    p.add_argument("--formula-column", default="formula", help="formula column of a CSV/Parquet input")
    p.add_argument("--quiet", action="store_true", help="do not print the summary")
    p.set_defaults(func=run)
    return p


def _read_formulas(path: Path, column: str) -> Iterator[tuple[list[str], list[int]]]:
    """Chunks of (formulas, file line numbers) from a text file (one per line; blank lines and '#'
    comments skipped), a CSV or a Parquet file (column ``column``; line = row + 2)."""
    from magnetscreen.datasets.errors import DataError

    if not path.exists():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    if suffix in (".csv", ".parquet", ".pq"):
        import pandas as pd

        frame = pd.read_csv(path, dtype=str, keep_default_na=False) if suffix == ".csv" else pd.read_parquet(path)
        if column not in frame.columns:
            raise DataError(f"{path}: no column {column!r} (columns: {list(frame.columns)})")
        values = frame[column].astype(str).tolist()
        for start in range(0, len(values), CHUNK):
            stop = min(len(values), start + CHUNK)
            yield values[start:stop], list(range(start + 2, stop + 2))
        return
    chunk: list[str] = []
    lines: list[int] = []
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            text = line.strip()
            if text and not text.startswith("#"):
                chunk.append(text)
                lines.append(number)
                if len(chunk) == CHUNK:
                    yield chunk, lines
                    chunk, lines = [], []
    if chunk:
        yield chunk, lines


def run(args: argparse.Namespace) -> int:
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from magnetscreen.datasets.errors import CompositionError, DataError
    from magnetscreen.descriptors import encode, featurize
    from magnetscreen.screening.engine.outputs import atomic_path

    source, out = Path(args.file), Path(args.out)
    fmt = args.format or ("csv" if out.suffix.lower() == ".csv" else "parquet")
    started = time.perf_counter()
    total = 0
    writer = None
    with atomic_path(out) as tmp:
        handle = open(tmp, "w", encoding="utf-8") if fmt == "csv" else None
        try:
            for chunk, lines in _read_formulas(source, args.formula_column):
                try:
                    batch = encode(chunk)
                except CompositionError as exc:
                    line = lines[exc.index] if exc.index is not None else "?"
                    raise CompositionError(f"{source}: line {line}: {exc.detail}") from None
                matrix, names = featurize(batch)
                canonical = batch.names()
                if handle is not None:
                    if total == 0:
                        handle.write(",".join(["formula", "canonical_formula", *names]) + "\n")
                    for formula, name, row in zip(chunk, canonical, matrix):
                        handle.write(",".join([_csv(formula), name, *np.char.mod("%.17g", row)]) + "\n")
                else:
                    columns = {"formula": pa.array(chunk, pa.string()),
                               "canonical_formula": pa.array(canonical.tolist(), pa.string())}
                    columns.update({n: pa.array(matrix[:, i]) for i, n in enumerate(names)})
                    table = pa.table(columns)
                    if writer is None:
                        writer = pq.ParquetWriter(tmp, table.schema)
                    writer.write_table(table)
                total += len(chunk)
            if total == 0:
                raise DataError(f"{source}: no formulas found")
        finally:
            if writer is not None:
                writer.close()
            if handle is not None:
                handle.close()
    if not args.quiet:
        elapsed = time.perf_counter() - started
        print(f"featurized {total} compositions into {out} ({fmt}, {len(names)} features) in {elapsed:.1f} s",
              file=sys.stderr)
    return 0


def _csv(text: str) -> str:
    return f'"{text}"' if "," in text or '"' in text else text
