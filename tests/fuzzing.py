"""Generated bad inputs for formulas, run configurations, family files, user datasets and model folders.

Each generator yields inputs that a user could write (valid ones mutated, truncated, retyped, nested,
oversized, with invisible or non-ASCII characters). :func:`run` feeds them to the public entry point and
classifies the outcome: ``ok`` (accepted), ``clean`` (refused with a MagnetscreenError, exit code 2), ``bug``
(any other exception, exit code 1). A crash of the interpreter shows up as the test process dying.

Run ``python tests/fuzzing.py --n 3000`` for the counts of the closing note; the test suite runs a few
hundred per kind (``tests/test_fuzz.py``), and thousands with ``pytest -m slow``.
"""

from __future__ import annotations

import argparse
import copy
import json
import random
import string
import tempfile
import traceback
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

ODD_CHARS = ["\0", "\n", "\t", "\r", "\u00a0", "\u200b", "\u0661", "\u00b2", "\u2082", "\ufeff", "\u202e", "\u00e9",
             "'", '"', "\\", "#", "=", "[", "]", "{", "}", ",", "-", "+", "e", "E", "_", "/", "*", "%"]
WEIRD_NUMBERS = ["0", "-0", "1e308", "-1e308", "1e-320", "nan", "inf", "-inf", "1e999", "9" * 40, "0x10", "1_000",
                 "True", "", " ", "1,5", "٣", "1.5.2", "+", "."]
SYMBOLS = ["Nd", "Fe", "B", "Co", "Sm", "Dy", "Tb", "Ce", "La", "Y", "Mn", "Bi", "Al", "Ni", "N", "O", "Sr", "Xx", "D",
           "Q", "fe", "FE", "Uuo", "Og", "Lr", "No"]


# ---------------------------------------------------------------------------------------------- formulas

def formulas(rng: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        kind = rng.random()
        if kind < 0.4:  # tokens glued together
            parts = []
            for _ in range(rng.randint(0, 8)):
                r = rng.random()
                if r < 0.5:
                    parts.append(rng.choice(SYMBOLS))
                elif r < 0.8:
                    parts.append(rng.choice(WEIRD_NUMBERS + ["2", "14", "0.5", ".25", "0.000000001", "1e-7"]))
                elif r < 0.9:
                    parts.append(rng.choice("()[]"))
                else:
                    parts.append(rng.choice(ODD_CHARS))
            yield "".join(parts)
        elif kind < 0.7:  # a valid formula with one mutation
            base = rng.choice(["Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "SmCo5", "Sm2Fe17N3", "Sr0.9La0.1Fe12O19",
                               "Sm[Co0.8Cu0.2]5", "Fe16N2"])
            pos = rng.randint(0, len(base))
            op = rng.random()
            if op < 0.4:
                yield base[:pos] + rng.choice(ODD_CHARS + WEIRD_NUMBERS) + base[pos:]
            elif op < 0.7:
                yield base[:pos] + base[pos + 1:]
            else:
                yield base * rng.randint(2, 60)
        elif kind < 0.85:  # random printable and unicode text
            alphabet = string.printable + "".join(ODD_CHARS) + "αβγ€"
            yield "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40)))
        else:  # nesting and size
            depth = rng.randint(1, 40)
            yield "(" * depth + rng.choice(SYMBOLS) + ")" * rng.randint(0, depth + 1) + rng.choice(WEIRD_NUMBERS)


def check_formula(text: str) -> None:
    from magnetscreen.datasets.composition import parse_composition
    from magnetscreen.descriptors import encode

    parse_composition(text)
    encode([text]).names()


# ----------------------------------------------------------------------------------------------- configs

_VALUES: list = [0, -1, 1, 2**63, -(2**63), 10**30, 0.0, 1e308, -1e-308, float("nan"), float("inf"), True, False, "",
                 "x", "all", "2-14-1", [], [1, 2], {}, {"a": 1}, "1970-01-01", "2026-13-40", 0.001, 1e-9, 0.3333]


def _value(rng: random.Random):
    """A fresh copy of one of :data:`_VALUES` (the mutable ones must not be shared between inputs)."""
    return copy.deepcopy(rng.choice(_VALUES))


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        if value != value:
            return "nan"
        if value in (float("inf"), float("-inf")):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(type(value))


def _base_config(rng: random.Random) -> dict:
    family = rng.choice(["2-14-1", "SmCo5", "MnBi", "1-12", "M-hexaferrite", "L10-FeNi"])
    return {
        "families": [{"name": family, "step": rng.choice([0.1, 0.25, 0.5])}],
        "run": {"name": "fuzz", "seed": 0, "chunk_size": 4096, "workers": 1},
        "conditions": {"operating_temperature_K": 423.15, "hree_set": "default"},
        "screen": {"metric": "BHmax_kJm3", "shortlist_size": 10, "keep": 20, "explore_size": 5},
        "requirements": {"Tc_K": {"min": 550}, "kappa": {"min": 1.0}},
        "route": {"alpha": 0.4, "n_eff": 1.0},
        "supply": {"scenario": "baseline", "as_of": "2026-01-01", "threshold": 0.005},
        "constraints": [{"kind": "max_hree_mass_fraction", "value": 0.05}],
    }


def _mutate(rng: random.Random, node, depth: int = 0):
    if isinstance(node, dict) and node and rng.random() < 0.8:
        key = rng.choice(list(node))
        op = rng.random()
        if op < 0.6:
            node[key] = _mutate(rng, node[key], depth + 1) if rng.random() < 0.5 else _value(rng)
        elif op < 0.75:
            del node[key]
        elif op < 0.9:
            node[rng.choice([key + "s", key.upper(), "extra", key[:-1] or "k"])] = _value(rng)
        else:
            node[key] = {"n": node[key]}
        return node
    if isinstance(node, list) and node and rng.random() < 0.8:
        i = rng.randrange(len(node))
        node[i] = _mutate(rng, node[i], depth + 1)
        return node
    return _value(rng)


def _dumps(config: dict) -> str:
    lines = []
    for key, value in config.items():
        if not isinstance(value, dict):
            lines.append(f"{json.dumps(key)} = {_toml_value(value)}")
    for key, value in config.items():
        if isinstance(value, dict):
            lines.append(f"[{json.dumps(key)}]")
            for k, v in value.items():
                lines.append(f"{json.dumps(str(k))} = {_toml_value(v)}")
    return "\n".join(lines) + "\n"


def configs(rng: random.Random, n: int) -> Iterator[str]:
    for _ in range(n):
        r = rng.random()
        if r < 0.75:
            config = _base_config(rng)
            for _ in range(rng.randint(0, 2)):
                config = _mutate(rng, config)
            if not isinstance(config, dict):
                config = {"families": config}
            try:
                yield _dumps(config)
            except TypeError:
                yield "families = 'all'\n[run]\nseed = -1\n"
        elif r < 0.85:  # deep nesting
            depth = rng.choice([10, 100, 1000, 3000])
            yield "families = " + "[" * depth + "]" * depth + "\n"
        elif r < 0.95:  # broken text
            text = _dumps(_base_config(rng))
            pos = rng.randrange(len(text))
            yield text[:pos] + rng.choice(ODD_CHARS + ["[[", "]]", '"', "\x00" * 10]) + text[pos:]
        else:  # plans too large or degenerate grids
            yield rng.choice([
                'families = [{ name = "2-14-1", step = 0.001 }]\n',
                'families = [{ name = "2-14-1", sampling = "sobol", n_samples = 1000000000000 }]\n',
                'families = [{ name = "2-14-1", step = 0.0000001 }]\n',
                'families = [{ name = "2-14-1", step = 0.3 }]\n',
                'families = [{ name = "SmCo5", bounds = { T = { Co = [0.9, 0.1] } } }]\n',
                'families = [{ name = "SmCo5", bounds = { T = { Co = [0, 0], Fe = [0, 0], Cu = [0, 0] } } }]\n',
            ])


def check_config(text: str, folder: Path) -> None:
    from magnetscreen.screening.engine.config import load_config
    from magnetscreen.screening.engine.enumerate import plans

    path = folder / "fuzz.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    config = load_config(path)
    plans(config, max_candidates=10**7)


# ----------------------------------------------------------------------------------------------- families

def families(rng: random.Random, n: int) -> Iterator[str]:
    base = {
        "name": "fuzz", "description": "d", "prototype": "SmCo5", "structure": "s", "citation": "c", "reference": "r",
        "sampling": "grid", "step": 0.1, "prototype_variables": {"x": 0.0},
    }
    for _ in range(n):
        family = copy.deepcopy(base)  # mutations must not accumulate in the shared base across inputs
        sites = [{"name": "R", "multiplicity": 1, "elements": ["Sm", "Nd"]},
                 {"name": "T", "multiplicity": "5 - x", "elements": ["Co", "Fe"], "bounds": {"Fe": [0, 0.3]}}]
        variables = [{"name": "x", "values": [0.0, 0.5]}]
        for _ in range(rng.randint(0, 2)):
            target = rng.choice(["family", "site", "variable"])
            if target == "family":
                family = _mutate(rng, family)
            elif target == "site":
                sites[rng.randrange(2)] = _mutate(rng, sites[rng.randrange(2)])
            else:
                variables[0] = _mutate(rng, variables[0])
        if not isinstance(family, dict):
            family = {"name": family}
        lines = [f"{json.dumps(str(k))} = {_toml_value(v)}" for k, v in family.items()]
        try:
            for v in variables:
                lines.append("[[variables]]")
                lines += [f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in (v.items() if isinstance(v, dict) else [])]
            for s in sites:
                lines.append("[[sites]]")
                lines += [f"{json.dumps(str(k))} = {_toml_value(x)}" for k, x in (s.items() if isinstance(s, dict) else [])]
        except TypeError:
            lines.append("broken = [")
        yield "\n".join(lines) + "\n"


def check_family(text: str, folder: Path) -> None:
    from magnetscreen.datasets.families import load_family
    from magnetscreen.descriptors.enumeration import plan_enumeration

    path = folder / "family.toml"
    path.write_text(text, encoding="utf-8", errors="surrogatepass")
    family = load_family(path)
    plan = plan_enumeration(family, chunk_size=4096)
    if plan.total <= 50_000:
        from magnetscreen.datasets.composition import parse_composition

        for chunk in plan.chunks():
            for name in chunk.batch.names().tolist()[:200]:
                try:
                    parse_composition(name)  # every enumerated name must read back
                except Exception as exc:
                    raise AssertionError(f"enumerated name {name!r} does not parse: {exc}") from exc


# ----------------------------------------------------------------------------------------------- datasets

def datasets(rng: random.Random, n: int) -> Iterator[tuple[str, bytes]]:
    rows = ["Nd2Fe14B,1.61,4.9,585,295", "SmCo5,1.07,17.2,1020,295", "Fe16N2,2.1,,,295", "MnBi,,,628,"]
    for _ in range(n):
        header = ["formula", "Js_T", "K1_MJm3", "Tc_K", "T_K"]
        lines = [list(r.split(",")) for r in rng.sample(rows, rng.randint(0, len(rows)))]
        for _ in range(rng.randint(1, 4)):
            r = rng.random()
            if r < 0.15:
                header[rng.randrange(len(header))] = rng.choice(["Tc_k", "Js_emu", "formula", "", "T_C", "HA_kOe",
                                                                 "note", "Tc_K"])
            elif lines and r < 0.75:
                line = rng.choice(lines)
                if not line:
                    continue
                i = rng.randrange(len(line))
                line[i] = rng.choice(WEIRD_NUMBERS + ODD_CHARS + ["NaN", "None", '"Nd2Fe14B\nSmCo5"', "Sm\0Co5",
                                                                   "Fe1Co0.000000001", "1e3", "-5"])
            elif r < 0.85:
                lines.append(["x"] * rng.randint(0, 8))
            else:
                lines = []
        text = ",".join(header) + "\n" + "\n".join(",".join(line) for line in lines) + ("\n" if lines else "")
        raw = text.encode("utf-8", errors="surrogatepass")
        r = rng.random()
        if r < 0.05:
            raw = b""
        elif r < 0.1:
            raw = raw[: rng.randrange(len(raw) + 1)]
        elif r < 0.15:
            raw = b"\xff\xfe" + raw
        yield rng.choice(["data.csv", "data.csv", "data.parquet", "data.txt"]), raw


def check_dataset(item: tuple[str, bytes], folder: Path) -> None:
    from magnetscreen.datasets.user_data import load_user_dataset

    name, raw = item
    path = folder / name
    path.write_bytes(raw)
    load_user_dataset(path)


# ------------------------------------------------------------------------------------------- model folders

def model_folders(rng: random.Random, n: int) -> Iterator[tuple[str, int, list[tuple[int, int]]]]:
    names = ["domain.safetensors", "Js_T.safetensors", "K1_MJm3.safetensors", "Tc_K.safetensors", "manifest.json",
             "Tc_K.card.json"]
    for _ in range(n):
        name = rng.choice(names)
        mode = rng.choice(["flip", "truncate", "flip-header"])
        yield name, rng.randrange(2**31), [(rng.randrange(2**31), rng.randrange(256)) for _ in range(rng.randint(1, 4))] \
            if mode != "truncate" else [(-1, rng.randrange(2**31))]


def check_model_folder(item, folder: Path) -> None:
    import shutil

    from magnetscreen.datasets.provenance import file_sha256
    from magnetscreen.models.surrogates import default_model_dir, load_surrogates

    name, _, edits = item
    target = folder / "models"
    if not target.exists():
        shutil.copytree(default_model_dir(), target)
    path = target / name
    raw = bytearray((default_model_dir() / name).read_bytes())
    for pos, value in edits:
        if pos < 0:
            raw = raw[: value % (len(raw) + 1)]
        elif name.endswith(".safetensors") and pos % 2:  # half the flips in the header, where parsing happens
            header = int.from_bytes(raw[:8], "little") + 8
            raw[pos % min(len(raw), header)] = value
        else:
            raw[pos % len(raw)] = value
    path.write_bytes(bytes(raw))
    if name != "manifest.json":  # reseal, so that the checks behind the checksum are reached
        manifest_path = target / "manifest.json"
        manifest = json.loads((default_model_dir() / "manifest.json").read_text())
        manifest["files"][name] = {"bytes": len(raw), "sha256": file_sha256(path)}
        manifest_path.write_text(json.dumps(manifest))
    try:
        models = load_surrogates(target)
        models.predict(["Nd2Fe14B", "SmCo5"])
    finally:
        for other in (name, "manifest.json"):
            shutil.copy(default_model_dir() / other, target / other)


KINDS: dict[str, tuple[Callable, Callable]] = {
    "formulas": (formulas, lambda item, folder: check_formula(item)),
    "configs": (configs, check_config),
    "families": (families, check_family),
    "datasets": (datasets, check_dataset),
    "model_folders": (model_folders, check_model_folder),
}


def run(kind: str, n: int, seed: int = 0) -> tuple[Counter, list[str]]:
    """Feed ``n`` generated inputs of ``kind``; counts of ``ok``/``clean``/``bug`` and the bugs' tracebacks."""
    from magnetscreen.datasets.errors import MagnetscreenError, input_error

    generate, check = KINDS[kind]
    counts: Counter = Counter()
    bugs: list[str] = []
    rng = random.Random(seed)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for item in generate(rng, n):
            try:
                check(item, folder)
            except MagnetscreenError:
                counts["clean"] += 1
            except Exception as exc:  # noqa: BLE001 - classifying every outcome is the point
                if input_error(exc) is not None:
                    counts["clean"] += 1
                else:
                    counts["bug"] += 1
                    bugs.append(f"{item!r:.200}\n{traceback.format_exc()}")
            else:
                counts["ok"] += 1
    return counts, bugs


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--kinds", nargs="*", default=list(KINDS))
    args = parser.parse_args()
    for kind in args.kinds:
        counts, bugs = run(kind, args.n if kind != "model_folders" else max(1, args.n // 10), args.seed)
        total = sum(counts.values())
        print(f"{kind}: {total} inputs, {counts['ok']} accepted, {counts['clean']} refused with a clear error "
              f"(exit 2), {counts['bug']} internal errors (exit 1), 0 crashes")
        for bug in bugs[:3]:
            print("  " + bug.replace("\n", "\n  "))


if __name__ == "__main__":
    main()
