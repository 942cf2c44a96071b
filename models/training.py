"""Training of the surrogates: data assembly, one honest comparison protocol, calibration, model cards.

Protocol (the same for every target and every candidate model):

- **Candidates**: random forest, extra trees, gradient boosting (scikit-learn) and the *nearest known
  phase* baseline a magnet scientist would use without ML (the value of the training composition
  closest in atomic fractions; see :func:`magnetscreen.models.surrogate_kernels.nearest_phase_kernel`).
- **Random K-fold**: 5 folds (fewer when there are fewer compositions) over compositions: rows of the
  same canonical formula share a fold, so duplicates never leak between training and test. Folds are
  drawn with the seed.
- **Leave-one-family-out**: every family is predicted by models trained on the other families.
- Metrics: MAE, RMSE and R^2 of the out-of-fold predictions, overall and per family.
- The candidate with the lowest K-fold MAE is shipped (the baseline too, if it wins); the card says on
  which families the shipped model does not beat the baseline.
- **Calibration**: split-conformal on the K-fold out-of-fold predictions (see
  :mod:`magnetscreen.models.surrogates`); coverage is measured on held-out folds: the scale is
  calibrated on the other folds' scores and tested on the held-out fold's.

Training data: the curated ``intrinsic`` table (``Js_T``, ``K1_MJm3`` with their temperature ``T_K``;
``K1_MJm3`` also from rows giving ``muHA_T`` and ``Js_T`` at the same temperature, K1 = muHA Js / (2 mu0)),
``Tc_K`` from the ``intrinsic`` and ``curie`` tables, plus any user dataset of the same columns.
Rows of Js/K1 without a temperature are not used. Training is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from magnetscreen.datasets.provenance import versions
from magnetscreen.datasets.tables import load_curie, load_intrinsic
from magnetscreen.descriptors.encoding import encode
from magnetscreen.descriptors.featurize import feature_names, featurize
from magnetscreen.models.physics import MU0
from magnetscreen.models.surrogates import (
    CONTEXT_FEATURES,
    REFERENCE_TEMPERATURE_K,
    TARGETS,
    UNITS,
    Domain,
    Surrogate,
    SurrogateSet,
    model_matrix,
)
from magnetscreen.models.trees import flatten

__all__ = ["TrainingSet", "training_set", "evaluate", "train_surrogates", "ONE_SIGMA"]

ONE_SIGMA = 0.6826894921370859
N_FOLDS = 5
MAX_COMPONENTS = 8
DOMAIN_QUANTILE = 0.95
ML_KINDS = ("random_forest", "extra_trees", "gradient_boosting")
#: Share of the features tried at each split of the forests.
MAX_FEATURES = 0.33
N_TREES = 64


@dataclass(frozen=True)
class TrainingSet:
    """Rows of one target: formulas, canonical names, families, context, values and features."""

    target: str
    frame: pd.DataFrame  # formula, canonical, family, T_K, is_dft, y, origin
    descriptors: np.ndarray

    @property
    def X(self) -> np.ndarray:
        return model_matrix(self.descriptors, self.frame["T_K"].to_numpy(float), self.frame["is_dft"].to_numpy(float))

    @property
    def y(self) -> np.ndarray:
        return self.frame["y"].to_numpy(float)

    def sha256(self) -> str:
        text = self.frame[["canonical", "family", "T_K", "is_dft", "y"]].to_csv(index=False, float_format="%.17g")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _rows(frame: pd.DataFrame, origin: str) -> pd.DataFrame:
    out = pd.DataFrame({"formula": frame["formula"].astype(str)})
    out["family"] = frame["family"].fillna("user").astype(str) if "family" in frame else "user"
    out["T_K"] = pd.to_numeric(frame["T_K"], errors="coerce") if "T_K" in frame else np.nan
    method = frame["method"].fillna("experiment").astype(str) if "method" in frame else "experiment"
    out["is_dft"] = (np.asarray(method) == "DFT").astype(float)
    for col in ("Js_T", "K1_MJm3", "muHA_T", "Tc_K"):
        out[col] = pd.to_numeric(frame[col], errors="coerce") if col in frame else np.nan
    out["origin"] = origin
    return out


def _target_rows(all_rows: pd.DataFrame, target: str) -> pd.DataFrame:
    rows = all_rows.copy()
    if target == "Tc_K":
        rows["y"] = rows["Tc_K"]
        rows["T_K"] = REFERENCE_TEMPERATURE_K
        rows = rows[rows["y"].notna()]
    elif target == "Js_T":
        rows["y"] = rows["Js_T"]
        rows = rows[rows["y"].notna() & rows["T_K"].notna()]
    else:
        derived = rows["K1_MJm3"].isna() & rows["muHA_T"].notna() & rows["Js_T"].notna()
        rows["y"] = rows["K1_MJm3"]
        rows.loc[derived, "y"] = rows.loc[derived, "muHA_T"] * rows.loc[derived, "Js_T"] / (2 * MU0) / 1e6
        rows.loc[derived, "origin"] = rows.loc[derived, "origin"] + " (K1 from muHA and Js)"
        rows = rows[rows["y"].notna() & rows["T_K"].notna()]
    return rows.reset_index(drop=True)


def training_set(target: str, extra: pd.DataFrame | None = None) -> TrainingSet:
    """Assemble the training rows of ``target`` from the shipped tables and an optional user dataset.

    Parameters
    ----------
    target : {"Js_T", "K1_MJm3", "Tc_K"}
    extra : DataFrame, optional
        A user dataset as returned by :func:`magnetscreen.datasets.load_user_dataset`.
    """
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {', '.join(TARGETS)})")
    intrinsic = load_intrinsic()
    parts = [_rows(intrinsic, "intrinsic")]
    curie = load_curie().copy()
    names = encode(list(intrinsic["formula"])).names()
    family_of = dict(zip(names, intrinsic["family"]))
    curie_names = encode(list(curie["formula"])).names()
    curie["family"] = [family_of.get(n, "other") for n in curie_names]
    # a Curie row that repeats an intrinsic row (same composition, value and source) is counted once
    seen = set(zip(names, pd.to_numeric(intrinsic["Tc_K"], errors="coerce"), intrinsic["source"]))
    repeat = np.array([(n, t, s) in seen for n, t, s in zip(curie_names, curie["Tc_K"], curie["source"])], dtype=bool)
    parts.append(_rows(curie[~repeat].reset_index(drop=True), "curie"))
    if extra is not None and len(extra):
        parts.append(_rows(extra, "user"))
    rows = _target_rows(pd.concat(parts, ignore_index=True), target)
    batch = encode(list(rows["formula"]))
    rows["canonical"] = batch.names()
    descriptors, _ = featurize(batch)
    bad = ~np.isfinite(descriptors).all(axis=1)
    if bad.any():
        from magnetscreen.datasets.errors import DataError

        raise DataError(f"{target}: composition {rows['formula'][np.argmax(bad)]!r} has undefined descriptors "
                        "(an element without tabulated properties)")
    return TrainingSet(target, rows, descriptors)


# ----------------------------------------------------------------------------------------------- models

def _estimator(kind: str, seed: int):
    from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor

    if kind == "random_forest":
        return RandomForestRegressor(n_estimators=N_TREES, max_features=MAX_FEATURES, random_state=seed, n_jobs=1)
    if kind == "extra_trees":
        return ExtraTreesRegressor(n_estimators=N_TREES, max_features=MAX_FEATURES, random_state=seed, n_jobs=1)
    if kind == "gradient_boosting":
        return GradientBoostingRegressor(n_estimators=150, learning_rate=0.05, max_depth=3, random_state=seed)
    raise ValueError(f"unknown model kind {kind!r}")


def _fit(kind: str, data: TrainingSet, rows: np.ndarray, seed: int) -> Surrogate:
    """Fit ``kind`` on ``rows`` of ``data`` (uncalibrated: sigma_scale 1, floor 0)."""
    if kind == "nearest_phase":
        batch = encode(list(data.frame["formula"].iloc[rows]))
        return Surrogate(data.target, kind, None, batch.elements, batch.fractions,
                         np.ascontiguousarray(data.y[rows]), 1.0, 0.0)
    est = _estimator(kind, seed).fit(data.X[rows].astype(np.float32), data.y[rows])
    return Surrogate(data.target, kind, flatten(est), None, None, None, 1.0, 0.0)


def _folds(groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    unique = np.array(sorted(set(groups)))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[j]: i % n_folds for i, j in enumerate(order)}
    return np.array([fold_of[g] for g in groups])


def _metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    err = pred - y
    ss = float(np.sum((y - y.mean()) ** 2))
    return {"MAE": float(np.mean(np.abs(err))), "RMSE": float(np.sqrt(np.mean(err**2))),
            "R2": float(1 - np.sum(err**2) / ss) if ss > 0 else None, "n": int(len(y))}


def _conformal(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n + 1) level)-th smallest score (the largest if that exceeds n)."""
    s = np.sort(scores)
    rank = min(len(s), int(np.ceil((len(s) + 1) * level)))
    return float(s[max(rank, 1) - 1])


def evaluate(data: TrainingSet, seed: int = 0) -> dict:
    """Run the protocol of the module docstring on one target.

    Returns
    -------
    dict with ``kfold`` {kind: metrics}, ``kfold_by_family`` {family: {kind: metrics}}, ``lofo`` {family:
    {kind: metrics}}, ``oof`` {kind: (prediction, spread)} and ``folds`` (fold of each row).
    """
    y = data.y
    batch = encode(list(data.frame["formula"]))
    groups = data.frame["canonical"].to_numpy()
    n_folds = min(N_FOLDS, len(set(groups)))
    folds = _folds(groups, n_folds, seed)
    families = data.frame["family"].to_numpy()
    X = data.X
    oof = {}
    for kind in ML_KINDS + ("nearest_phase",):
        pred = np.empty(len(y))
        spread = np.zeros(len(y))
        for f in range(n_folds):
            test = np.where(folds == f)[0]
            model = _fit(kind, data, np.where(folds != f)[0], seed)
            p, s = model.predict_raw(X[test], batch.take(test))
            pred[test], spread[test] = p, s
        oof[kind] = (pred, spread)
    kfold = {kind: _metrics(y, p) for kind, (p, _) in oof.items()}
    by_family = {fam: {kind: _metrics(y[families == fam], p[families == fam]) for kind, (p, _) in oof.items()}
                 for fam in sorted(set(families))}
    lofo: dict[str, dict[str, dict]] = {}
    for fam in sorted(set(families)):
        test = np.where(families == fam)[0]
        train = np.where(families != fam)[0]
        if len(train) < 2:
            continue
        lofo[fam] = {}
        for kind in ML_KINDS + ("nearest_phase",):
            p, _ = _fit(kind, data, train, seed).predict_raw(X[test], batch.take(test))
            lofo[fam][kind] = _metrics(y[test], p)
    return {"kfold": kfold, "kfold_by_family": by_family, "lofo": lofo, "oof": oof, "folds": folds,
            "n_folds": n_folds}


def _calibrate(y: np.ndarray, pred: np.ndarray, spread: np.ndarray, folds: np.ndarray, has_spread: bool) -> dict:
    floor = float(np.mean(spread)) if has_spread else 1.0
    if has_spread and floor <= 0:
        floor = 1.0
    scores = np.abs(y - pred) / (spread + floor)
    intervals: list[dict] = []
    out = {"sigma_floor": floor, "sigma_scale": _conformal(scores, ONE_SIGMA), "intervals": intervals}
    for level, label in ((ONE_SIGMA, "mean +/- sigma"), (0.9, "90 % interval")):
        covered = []
        for f in sorted(set(folds)):
            held = folds == f
            if held.all():
                continue
            q = _conformal(scores[~held], level)
            covered.extend(scores[held] <= q)
        intervals.append({"interval": label, "nominal": level,
                                 "empirical": float(np.mean(covered)) if covered else None,
                                 "factor": _conformal(scores, level), "n": len(covered)})
    return out


def _domain(sets: dict[str, TrainingSet]) -> Domain:
    frames = []
    for t, data in sets.items():
        canonical = data.frame["canonical"].to_numpy()
        _, first = np.unique(canonical, return_index=True)
        frames.append((t, canonical[np.sort(first)], data.descriptors[np.sort(first)]))
    names = sorted({n for _, c, _ in frames for n in c})
    index = {n: i for i, n in enumerate(names)}
    D = np.zeros((len(names), frames[0][2].shape[1]))
    mask = np.zeros((len(names), len(TARGETS)), dtype=bool)
    for t, canonical, desc in frames:
        for name, row in zip(canonical, desc):
            D[index[name]] = row
            mask[index[name], TARGETS.index(t)] = True
    mean = D.mean(axis=0)
    scale = D.std(axis=0)
    scale[scale <= 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
    Z = (D - mean) / scale
    _, sv, vt = np.linalg.svd(Z, full_matrices=False)
    explained = np.cumsum(sv**2) / np.sum(sv**2)
    k = min(MAX_COMPONENTS, int(np.searchsorted(explained, 0.95)) + 1, len(sv))
    components = vt[:k].copy()
    for c in range(k):  # deterministic sign: the largest-magnitude loading is positive
        if components[c, np.argmax(np.abs(components[c]))] < 0:
            components[c] *= -1
    proto = Domain(TARGETS, mean, scale, np.ascontiguousarray(components), np.zeros((0, k)), np.zeros(0),
                   np.zeros((0, len(TARGETS)), dtype=bool), np.zeros(len(TARGETS)))
    proj, resid = proto.project(D)
    thresholds = np.zeros(len(TARGETS))
    for ti in range(len(TARGETS)):
        rows = np.where(mask[:, ti])[0]
        if len(rows) < 2:
            continue
        P, R = proj[rows], resid[rows]
        d = np.sqrt(((P[:, None, :] - P[None, :, :]) ** 2).sum(-1) + (R[:, None] - R[None, :]) ** 2)
        np.fill_diagonal(d, np.inf)
        thresholds[ti] = float(np.quantile(d.min(axis=1), DOMAIN_QUANTILE))
    return Domain(TARGETS, mean, scale, np.ascontiguousarray(components), np.ascontiguousarray(proj),
                  np.ascontiguousarray(resid), mask, thresholds)


def _versions() -> dict:
    return versions(("magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen", "pandas"))


def _rounded(obj):
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _card(data: TrainingSet, result: dict, kind: str, calibration: dict, seed: int, domain: Domain) -> dict:
    t = TARGETS.index(data.target)
    notes = []
    base = "nearest_phase"
    for fam, scores in result["kfold_by_family"].items():
        if kind != base and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"K-fold: on family {fam!r} ({scores[kind]['n']} rows) the shipped {kind} "
                         f"(MAE {scores[kind]['MAE']:.3g}) does not beat the nearest-phase baseline "
                         f"(MAE {scores[base]['MAE']:.3g}).")
    for fam, scores in result["lofo"].items():
        if kind != base and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"Leave-one-family-out: on family {fam!r} the shipped {kind} does not beat the baseline.")
    if kind == base:
        notes.append("The nearest-phase baseline had the lowest K-fold MAE and is shipped.")
    counts = data.frame["family"].value_counts()
    thin = sorted(f for f, n in counts.items() if n < 5)
    if thin:
        notes.append(f"Thin families (fewer than 5 rows): {', '.join(thin)}; predictions there are weakly supported.")
    one = calibration["intervals"][0]
    return _rounded({
        "target": data.target,
        "unit": UNITS[data.target],
        "reference_temperature_K": None if data.target == "Tc_K" else REFERENCE_TEMPERATURE_K,
        "model": kind,
        "n_rows": int(len(data.frame)),
        "n_compositions": int(data.frame["canonical"].nunique()),
        "rows_per_family": {str(k): int(v) for k, v in sorted(counts.items())},
        "rows_per_origin": {str(k): int(v) for k, v in sorted(data.frame["origin"].value_counts().items())},
        "data_sha256": data.sha256(),
        "n_features": int(data.descriptors.shape[1] + len(CONTEXT_FEATURES)),
        "features": "the 150 composition descriptors of magnetscreen.descriptors.feature_names() plus "
                    + ", ".join(CONTEXT_FEATURES),
        "seed": seed,
        "protocol": {
            "candidates": list(ML_KINDS) + ["nearest_phase"],
            "kfold": f"{result['n_folds']}-fold over compositions (rows of one canonical formula share a fold), "
                     "folds drawn with the seed",
            "lofo": "each family predicted by models trained on the other families",
            "selection": "lowest K-fold MAE",
            "calibration": "split-conformal on out-of-fold scores |y - mean| / (spread + floor); coverage "
                           "measured with the scale calibrated on the other folds",
        },
        "metrics": {"kfold": result["kfold"], "kfold_by_family": result["kfold_by_family"], "lofo": result["lofo"]},
        "coverage": {"nominal": one["nominal"], "empirical": one["empirical"], "intervals": calibration["intervals"]},
        "calibration": {"sigma_scale": calibration["sigma_scale"], "sigma_floor": calibration["sigma_floor"]},
        "domain": {"threshold": float(domain.thresholds[t]), "n_components": int(domain.components.shape[0]),
                   "description": "in domain when the distance to the nearest training composition of this "
                   "target, in standardized descriptor space (leading principal subspace plus residual norm), "
                   f"is at most the {int(DOMAIN_QUANTILE * 100)}th percentile of the training compositions' "
                   "leave-one-out nearest-neighbour distances"},
        "versions": _versions(),
        "trained": dt.date.today().isoformat(),
        "notes": notes,
    })


def train_surrogates(extra: pd.DataFrame | None = None, seed: int = 0, log=None) -> SurrogateSet:
    """Run the protocol on every target and fit the shipped models on all rows.

    Parameters
    ----------
    extra : DataFrame, optional
        A user dataset (see :func:`magnetscreen.datasets.load_user_dataset`), added to the shipped tables.
    seed : int, default=0
    log : callable, optional
        Called with a progress line per target.
    """
    sets = {t: training_set(t, extra) for t in TARGETS}
    domain = _domain(sets)
    surrogates = {}
    for target, data in sets.items():
        result = evaluate(data, seed)
        kind = min(result["kfold"], key=lambda k: (result["kfold"][k]["MAE"], k))
        pred, spread = result["oof"][kind]
        calibration = _calibrate(data.y, pred, spread, result["folds"], has_spread=kind in ("random_forest",
                                                                                           "extra_trees"))
        model = _fit(kind, data, np.arange(len(data.y)), seed)
        card = _card(data, result, kind, calibration, seed, domain)
        surrogates[target] = Surrogate(target, kind, model.ensemble, model.phase_elements, model.phase_fractions,
                                       model.phase_values, calibration["sigma_scale"], calibration["sigma_floor"],
                                       card)
        if log is not None:
            m = result["kfold"][kind]
            log(f"{target}: {len(data.y)} rows, shipped {kind}: K-fold MAE {m['MAE']:.4g} {UNITS[target]}, "
                f"baseline MAE {result['kfold']['nearest_phase']['MAE']:.4g}, 1-sigma coverage "
                f"{card['coverage']['empirical']}")
    return SurrogateSet(surrogates, domain)


def feature_labels() -> list[str]:
    """Names of the model matrix columns."""
    return feature_names() + list(CONTEXT_FEATURES)
