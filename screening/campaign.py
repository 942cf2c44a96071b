"""Discovery campaigns: rounds of proposals that learn from every measurement recorded so far.

A campaign folder::

    DIR/
      campaign.json             the campaign: settings, the config's hash, as_of, created (written once)
      config.toml               the screening configuration as given (with its [campaign] table), verbatim
      rounds/001/               one folder per round, written whole (temporary name, then a rename)
        proposal.csv            the batch: per candidate the acquisition value, objective mean and sigma, why
        round.json              inputs (config hash, measurement files used, model hashes, seed) and outputs
        run/                    the screening of the round (ranked.parquet, explore.csv, manifest.json, ...)
      measurements/001.csv      each `record` call: the file as given, never overwritten
      measurements/001.json     its hash, its origin and the round it follows

The ``[campaign]`` table of the configuration (every key optional)::

    [campaign]
    batch_size = 5               # candidates per round
    rule = "ucb"                 # random, greedy, ucb, ei or chebyshev (magnetscreen.models.acquisition)
    objective = "performance"    # the run's ranking metric, or Tc_K, Js_T, K1_MJm3 (maximized)
    kappa = 2.0                  # weight of sigma in ucb and chebyshev
    xi = 0.0                     # margin of ei
    min_distance = 0.05          # batch diversity: L1 atomic-fraction distance between picks
    seed = 0                     # default: [run] seed

A round: the shipped models are refitted on the shipped data plus every measurement recorded so far
(:func:`magnetscreen.models.training.refit_with`: only the targets measured), the configuration is screened
with them, the candidates are the ranked survivors and the explore list of that screening, less every
composition measured or proposed before, and the rule picks a diverse batch. The best value of ``ei`` is the
best measurement of the objective so far (for ``performance``, which is not measured directly, the best
predicted candidate). Everything is seeded (round r uses seed ``1000 * seed + r``), ``as_of`` is fixed when
the campaign starts, and :func:`replay` recomputes every round from its recorded inputs and compares the
proposal bytes.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from magnetscreen.datasets.errors import ConfigError, DataError
from magnetscreen.datasets.provenance import file_sha256, package_version
from magnetscreen.models.acquisition import acquisition_values, select_batch
from magnetscreen.screening.engine.settings import CAMPAIGN_OBJECTIVES as OBJECTIVES
from magnetscreen.screening.engine.settings import CampaignSettings

__all__ = ["CampaignSettings", "OBJECTIVES", "init", "propose", "record", "status", "replay", "SCHEMA"]

SCHEMA = "magnetscreen-campaign"
_PROPOSAL_COLUMNS = ("round", "pick", "formula", "family", "candidate_index", "rule", "acquisition", "objective",
                     "mean", "sigma", "why", "Js_T", "Js_T_sigma", "K1_MJm3", "K1_MJm3_sigma", "Tc_K", "Tc_K_sigma",
                     "performance", "performance_sigma", "hree_g_per_kg", "risk_value", "cost_usd_per_kg",
                     "in_domain", "domain_note", "phase_stability", "source")


def _load(path: Path, as_of: dt.date | None = None, base_dir: Path | None = None):
    """The run configuration of a campaign file (with ``as_of`` filled in where the file has none)."""
    from magnetscreen.datasets.schema import load_toml
    from magnetscreen.screening.engine.config import parse_config

    data = load_toml(path, ConfigError)
    if as_of is not None:
        supply = dict(data.get("supply", {})) if isinstance(data.get("supply", {}), dict) else data["supply"]
        supply.setdefault("as_of", as_of)
        data["supply"] = supply
    return parse_config(data, str(path), base_dir if base_dir is not None else path.resolve().parent)


def _run_config(folder: Path, meta: dict):
    return _load(folder / "config.toml", dt.date.fromisoformat(meta["as_of"]), Path(meta["config_dir"]))


def _meta(folder: Path) -> dict:
    path = folder / "campaign.json"
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{folder}: not a campaign folder (no campaign.json; start one with magnetscreen "
                          "campaign init CONFIG.toml DIR)") from None
    except json.JSONDecodeError as exc:
        raise DataError(f"{path}: not valid JSON ({exc})") from None
    if meta.get("schema") != SCHEMA:
        raise DataError(f"{path}: schema: expected {SCHEMA!r}, got {meta.get('schema')!r}")
    digest = file_sha256(folder / "config.toml")
    if digest != meta["config_sha256"]:
        raise DataError(f"{folder / 'config.toml'}: changed since the campaign started (sha256 {digest[:12]}, "
                        f"recorded {meta['config_sha256'][:12]}); start a new campaign for a new configuration")
    return meta


def init(config_path: str | Path, folder: str | Path, today: dt.date | None = None) -> Path:
    """Start a campaign in ``folder`` (new or empty) from a screening configuration with a [campaign] table.

    The configuration is checked (screening part and [campaign] table), copied verbatim, and the as-of date
    of its supply data is fixed (its [supply] as_of, or today) so that every round sees the same risk data.
    """
    config_path, folder = Path(config_path), Path(folder)
    config = _load(config_path)
    settings = config.campaign if config.campaign is not None else CampaignSettings(seed=min(config.seed, 2**31 - 1))
    if folder.exists() and any(folder.iterdir()):
        raise ConfigError(f"{folder}: exists and is not empty; a campaign starts in a new or empty folder")
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config_path, folder / "config.toml")
    as_of = config.screen.as_of or today or dt.date.today()
    meta = {"schema": SCHEMA, "version": 1, "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
            "magnetscreen_version": package_version(), "config": "config.toml",
            "config_origin": str(config_path.resolve()), "config_dir": str(config_path.resolve().parent),
            "config_sha256": file_sha256(folder / "config.toml"), "as_of": as_of.isoformat(),
            "campaign": asdict(settings)}
    (folder / "rounds").mkdir()
    (folder / "measurements").mkdir()
    (folder / "campaign.json").write_text(json.dumps(meta, indent=2) + "\n", encoding="utf-8")
    return folder


def _measurements(folder: Path) -> list[dict]:
    out = []
    for path in sorted((folder / "measurements").glob("[0-9][0-9][0-9].json")):
        info = json.loads(path.read_text(encoding="utf-8"))
        data = folder / "measurements" / info["file"]
        if file_sha256(data) != info["sha256"]:
            raise DataError(f"{data}: changed after it was recorded (sha256 differs from {path.name})")
        out.append(info)
    return out


def _rounds(folder: Path) -> list[dict]:
    out = []
    for path in sorted((folder / "rounds").glob("[0-9][0-9][0-9]/round.json")):
        out.append(json.loads(path.read_text(encoding="utf-8")))
    return out


def record(folder: str | Path, measurements: str | Path) -> dict:
    """Append a file of measurements (validated as ``magnetscreen data check`` does) to the campaign.

    The file is copied as given under the next free number and never overwritten; the same file twice is
    refused. Returns the record written to ``measurements/NNN.json``.
    """
    from magnetscreen.datasets.user_data import load_user_dataset

    folder, source = Path(folder), Path(measurements)
    _meta(folder)
    frame = load_user_dataset(source)  # raises DataError naming the file, line and value
    digest = file_sha256(source)
    previous = _measurements(folder)
    for info in previous:
        if info["sha256"] == digest:
            raise DataError(f"{source}: already recorded as measurements/{info['file']} (same sha256)")
    number = len(previous) + 1
    suffix = source.suffix.lower() if source.suffix.lower() in (".csv", ".parquet") else ".csv"
    target = folder / "measurements" / f"{number:03d}{suffix}"
    with open(target, "xb") as handle:  # "x": never overwrite
        handle.write(source.read_bytes())
    info = {"number": number, "file": target.name, "sha256": digest, "origin": str(source.resolve()),
            "rows": int(len(frame)), "after_round": len(_rounds(folder)),
            "recorded": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
    with open(folder / "measurements" / f"{number:03d}.json", "x", encoding="utf-8") as handle:
        handle.write(json.dumps(info, indent=2) + "\n")
    return info


def _dataset(folder: Path, infos: list[dict]) -> pd.DataFrame | None:
    from magnetscreen.datasets.user_data import load_user_dataset

    frames = [load_user_dataset(folder / "measurements" / info["file"]) for info in infos]
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else None


def _best_measured(extra: pd.DataFrame | None, objective: str) -> float | None:
    if extra is None or objective == "performance" or objective not in extra:
        return None
    values = pd.to_numeric(extra[objective], errors="coerce").to_numpy(dtype=float)
    values = values[np.isfinite(values)]
    return float(values.max()) if values.size else None


def _why(rule: str, value: float, mean: float, sigma: float, rank: int, n: int, s: CampaignSettings, row) -> str:
    what = {"random": "random draw", "greedy": "predicted mean", "ucb": f"mean + {s.kappa:g} sigma",
            "ei": "expected improvement over the best so far",
            "chebyshev": "Chebyshev scalarization of (mean + kappa sigma, HREE, supply risk)"}[rule]
    text = f"{rank} of {n} candidates by {what} ({value:.4g}; mean {mean:.4g}, sigma {sigma:.4g})"
    if not row["in_domain"]:
        note = row["domain_note"] or "outside the models' domain"
        text += f"; extrapolating ({note}): a measurement teaches the models"
    if row["phase_stability"] != "reported":
        text += f"; phase {row['phase_stability']}"
    return text


def _propose_round(folder: Path, meta: dict, number: int, infos: list[dict], proposed_before: set[str],
                   out: Path) -> dict:
    """Compute round ``number`` into ``out`` (a new folder) from the measurement records ``infos``."""
    from magnetscreen.descriptors.encoding import encode
    from magnetscreen.models.surrogates import load_surrogates, save_surrogates
    from magnetscreen.models.training import refit_with
    from magnetscreen.screening.engine.loop import screen

    s = CampaignSettings(**meta["campaign"])
    seed = 1000 * s.seed + number
    config = _run_config(folder, meta)
    extra = _dataset(folder, infos)
    models_dir = None
    model_hashes: dict[str, str] = {}
    if extra is not None:
        models = refit_with(extra, load_surrogates(), seed=s.seed)
        models_dir = out / "models"
        model_hashes = save_surrogates(models, models_dir)
    result = screen(config, out=out / "run", models_dir=models_dir, quiet=True)
    if models_dir is not None:
        shutil.rmtree(models_dir)  # reproducible from the inputs; round.json keeps their hashes
    frames = [result.ranked.assign(source="ranked"), result.explore.assign(source="explore")]
    pool = pd.concat([f for f in frames if len(f)], ignore_index=True)
    measured = set(encode(list(extra["formula"])).names().tolist()) if extra is not None else set()
    if len(pool):
        pool = pool.drop_duplicates("formula", keep="first")
        pool = pool[~pool["formula"].isin(measured | proposed_before)]
    pool = pool.sort_values(["formula", "family", "candidate_index"], kind="stable").reset_index(drop=True)
    column = "performance" if s.objective == "performance" else s.objective
    mean = pool[column].to_numpy(dtype=float) if len(pool) else np.zeros(0)
    sigma = pool[f"{column}_sigma"].to_numpy(dtype=float) if len(pool) else np.zeros(0)
    risk_column = {"value_weighted": "risk_value", "mass_weighted": "risk_weighted",
                   "weakest_link": "risk_weakest"}[config.screen.risk]
    known = pool[["hree_g_per_kg", risk_column]].to_numpy(dtype=float) if len(pool) else np.zeros((0, 2))
    values = acquisition_values(s.rule, mean, sigma, seed=seed, kappa=s.kappa,
                                best=_best_measured(extra, s.objective), xi=s.xi, minimize=known)
    picked = select_batch(values, encode(list(pool["formula"])), pool["formula"].to_numpy(dtype=str),
                          s.batch_size, 0.0 if s.rule == "random" else s.min_distance) if len(pool) else \
        np.zeros(0, dtype=np.int64)
    ranks = {int(i): r + 1 for r, i in enumerate(np.argsort(-np.nan_to_num(values, nan=-np.inf), kind="stable"))}
    rows = []
    for k, i in enumerate(picked.tolist()):
        row = pool.iloc[i]
        rows.append({"round": number, "pick": k + 1, "formula": row["formula"], "family": row["family"],
                     "candidate_index": int(row["candidate_index"]), "rule": s.rule,
                     "acquisition": float(values[i]), "objective": s.objective, "mean": float(mean[i]),
                     "sigma": float(sigma[i]),
                     "why": _why(s.rule, float(values[i]), float(mean[i]), float(sigma[i]), ranks[i], len(pool), s,
                                 row),
                     **{c: row[c] for c in _PROPOSAL_COLUMNS[11:]}})
    proposal = pd.DataFrame(rows, columns=list(_PROPOSAL_COLUMNS))
    proposal.to_csv(out / "proposal.csv", index=False, float_format="%.10g", lineterminator="\n")
    return {"round": number, "seed": seed, "rule": s.rule, "objective": s.objective, "candidates": int(len(pool)),
            "proposed": int(len(proposal)), "measurements": [{"file": i["file"], "sha256": i["sha256"]} for i in infos],
            "models": model_hashes, "run_resume_key": result.manifest.resume_key,
            "config_sha256": meta["config_sha256"], "as_of": meta["as_of"],
            "proposal_sha256": file_sha256(out / "proposal.csv")}


def _proposed(folder: Path, before: int) -> set[str]:
    names: set[str] = set()
    for number in range(1, before):
        frame = pd.read_csv(folder / "rounds" / f"{number:03d}" / "proposal.csv", keep_default_na=False)
        names.update(frame["formula"].astype(str))
    return names


def propose(folder: str | Path) -> tuple[Path, pd.DataFrame]:
    """Propose the next round: refit on every measurement so far, screen, pick a batch. Returns the round's
    folder and its proposal."""
    folder = Path(folder)
    meta = _meta(folder)
    number = len(_rounds(folder)) + 1
    final = folder / "rounds" / f"{number:03d}"
    work = folder / "rounds" / f".{number:03d}.partial"
    if work.exists():
        shutil.rmtree(work)  # left by an interrupted propose
    work.mkdir()
    info = _propose_round(folder, meta, number, _measurements(folder), _proposed(folder, number), work)
    info["created"] = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
    (work / "round.json").write_text(json.dumps(info, indent=2) + "\n", encoding="utf-8")
    os.replace(work, final)
    return final, pd.read_csv(final / "proposal.csv", keep_default_na=False)


def replay(folder: str | Path) -> list[dict]:
    """Recompute every round from its recorded inputs and compare the proposals byte for byte.

    Returns one entry per round: ``round``, ``identical`` (bool) and the two SHA-256 digests.
    """
    import tempfile

    folder = Path(folder)
    meta = _meta(folder)
    infos = {i["file"]: i for i in _measurements(folder)}
    out = []
    for info in _rounds(folder):
        number = info["round"]
        used = []
        for m in info["measurements"]:
            if m["file"] not in infos or infos[m["file"]]["sha256"] != m["sha256"]:
                raise DataError(f"round {number}: measurements/{m['file']} is missing or changed")
            used.append(infos[m["file"]])
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            again = _propose_round(folder, meta, number, used, _proposed(folder, number), Path(tmp))
        out.append({"round": number, "identical": again["proposal_sha256"] == info["proposal_sha256"],
                    "recorded_sha256": info["proposal_sha256"], "replayed_sha256": again["proposal_sha256"]})
    return out


def status(folder: str | Path) -> dict:
    """Rounds, the best measured value of each target so far, and the models' error on each round's
    measurements before they were learned (the measured compositions that round had proposed)."""
    from magnetscreen.datasets.user_data import load_user_dataset
    from magnetscreen.descriptors.encoding import encode

    folder = Path(folder)
    meta = _meta(folder)
    rounds = _rounds(folder)
    infos = _measurements(folder)
    best: dict[str, dict] = {}
    errors = []
    for info in infos:
        frame = load_user_dataset(folder / "measurements" / info["file"])
        names = encode(list(frame["formula"])).names()
        for target in ("Tc_K", "Js_T", "K1_MJm3"):
            if target not in frame:
                continue
            values = pd.to_numeric(frame[target], errors="coerce").to_numpy(dtype=float)
            for name, value in zip(names, values):
                if np.isfinite(value) and (target not in best or value > best[target]["value"]):
                    best[target] = {"value": float(value), "formula": str(name), "measurements": info["file"]}
        after = info["after_round"]
        if after < 1:
            continue
        proposal = pd.read_csv(folder / "rounds" / f"{after:03d}" / "proposal.csv", keep_default_na=False)
        predicted = proposal.set_index("formula")
        for target in ("Tc_K", "Js_T", "K1_MJm3"):
            if target not in frame:
                continue
            pairs = [(float(v), float(predicted.loc[n, target]), float(predicted.loc[n, f"{target}_sigma"]))
                     for n, v in zip(names, pd.to_numeric(frame[target], errors="coerce"))
                     if n in predicted.index and np.isfinite(v)]
            if pairs:
                err = np.array([abs(v - m) for v, m, _ in pairs])
                errors.append({"round": after, "measurements": info["file"], "target": target, "n": len(pairs),
                               "mae": float(err.mean()),
                               "within_1sigma": float(np.mean([abs(v - m) <= s for v, m, s in pairs]))})
    return {"folder": str(folder), "campaign": meta["campaign"], "as_of": meta["as_of"],
            "rounds": [{"round": r["round"], "created": r["created"], "candidates": r["candidates"],
                        "proposed": r["proposed"], "measurement_files_used": len(r["measurements"])} for r in rounds],
            "measurement_files": len(infos), "best_measured": best, "errors_before_learning": errors}
