"""Training of the surrogates: data assembly, one validation protocol, calibration, model cards.

Training data (:func:`training_rows`), per target:

- ``Js_T``: the curated ``intrinsic`` table, the ``intrinsic_series`` compilation rows and the
  ``end_members`` table (rows with a temperature);
- ``K1_MJm3``: the same tables, with K1 also derived from a row that gives ``muHA_T`` and ``Js_T`` at one
  temperature, K1 = muHA Js / (2 mu0);
- ``Tc_K``: the same tables and the curated ``curie`` table, plus the ``curie_corpus`` compositions that no
  curated table holds (intermetallics and alloys, and the oxides of the hexaferrite prototype), each row
  weighted by its quality tier (the rule is chosen by cross-validation: :func:`select_tier_rule`);
- any user dataset of the same columns (tier ``user``, weight 1).

A composition with several rows keeps them all; rows repeating another row's value from the same source
(the end-member table re-uses curated rows) are counted once. Every row carries its prototype
(:func:`magnetscreen.descriptors.prototypes.prototype_of`) and its series: the set of its elements, so that
compositions of one substitution series (Nd2Fe14B, (Nd,Dy)2Fe14B, ... share Nd, Dy, Fe, B only when they
hold the same elements) are held out together.

Protocol (the same for every target and candidate model), reported in this order:

1. **Grouped by series**: 5 folds over series (all compositions with the same element set share a fold),
   drawn with the seed. This measures error on compositions whose element system was never seen.
2. **Leave one prototype out**: each prototype of a built-in family predicted by models trained on the rest.
3. **Random K-fold**: 5 folds over compositions (rows of one composition share a fold), last.

Errors are measured on the evaluation rows: every row except the text-mined corpus tiers (``C``), whose
values are the least sure. The model with the lowest grouped MAE is shipped (the nearest-known-phase
baseline too, if it wins). The tier rule of ``Tc_K`` is chosen by nested grouped cross-validation: inside
each outer fold, by inner grouped folds of that fold's training rows; the rule shipped is the one chosen on
all rows. Calibration is split-conformal on the grouped out-of-fold predictions (see
:mod:`magnetscreen.models.surrogates`); coverage is measured on held-out folds and per prototype.
Training is deterministic for a given seed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from magnetscreen.datasets.provenance import versions
from magnetscreen.datasets.tables import (
    load_curie,
    load_curie_corpus,
    load_end_members,
    load_intrinsic,
    load_intrinsic_series,
)
from magnetscreen.descriptors.encoding import encode
from magnetscreen.descriptors.featurize import feature_names, featurize
from magnetscreen.descriptors.prototypes import FAMILY_PROTOTYPE, prototype_of
from magnetscreen.models import surrogate_kernels as _k
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

__all__ = ["TrainingSet", "training_rows", "training_set", "evaluate", "select_tier_rule", "train_surrogates",
           "train_target", "candidate_kinds",
           "series_folds", "ONE_SIGMA", "TIER_RULES", "EVALUATED_TIERS"]

ONE_SIGMA = 0.6826894921370859
N_FOLDS = 5
INNER_FOLDS = 3
MAX_COMPONENTS = 8
DOMAIN_QUANTILE = 0.95
ML_KINDS = ("random_forest", "extra_trees", "gradient_boosting")
#: Candidates on tables of LARGE_TABLE rows or more: gradient boosting is left out there (on the 10^4 Curie rows
#: it took ten times the forests' fit time and was 25 K worse in grouped cross-validation).
LARGE_KINDS = ("random_forest", "extra_trees")
#: Share of the features tried at each split of the forests.
MAX_FEATURES = 0.33
N_TREES = 64
#: Smallest leaf of the forests: 1 on small tables, 3 from LARGE_TABLE rows on (it keeps a model of 10^4
#: rows to a few MB; a size rule, not a tuned hyperparameter).
LARGE_TABLE = 1000
#: Candidate weightings of the corpus tiers for Tc_K (curated and user rows always weigh 1).
TIER_RULES: dict[str, dict[str, float]] = {
    "A+B": {"A": 1.0, "B": 1.0, "C": 0.0},
    "A+B+0.1C": {"A": 1.0, "B": 1.0, "C": 0.1},
    "A+B+0.3C": {"A": 1.0, "B": 1.0, "C": 0.3},
    "A+B+C": {"A": 1.0, "B": 1.0, "C": 1.0},
}
#: Tiers whose rows errors are measured on.
EVALUATED_TIERS = ("curated", "user", "A", "B")
#: Prototypes held out one at a time: those of the built-in families.
LOFO_PROTOTYPES = tuple(sorted(set(FAMILY_PROTOTYPE.values())))


@dataclass(frozen=True)
class TrainingSet:
    """Rows of one target: formulas, canonical names, prototypes, series, context, values, tiers, weights
    and descriptors."""

    target: str
    frame: pd.DataFrame  # formula, canonical, prototype, series, T_K, is_dft, y, origin, source, tier, weight
    descriptors: np.ndarray
    tier_rule: str = ""
    tier_selection: dict = field(default_factory=dict, compare=False)

    @property
    def X(self) -> np.ndarray:
        return model_matrix(self.descriptors, self.frame["T_K"].to_numpy(float), self.frame["is_dft"].to_numpy(float))

    @property
    def y(self) -> np.ndarray:
        return self.frame["y"].to_numpy(float)

    @property
    def weight(self) -> np.ndarray:
        return self.frame["weight"].to_numpy(float)

    @property
    def evaluated(self) -> np.ndarray:
        """Rows errors are measured on (not text-mined)."""
        return self.frame["tier"].isin(EVALUATED_TIERS).to_numpy()

    def take(self, rows: np.ndarray) -> TrainingSet:
        return replace(self, frame=self.frame.iloc[rows].reset_index(drop=True), descriptors=self.descriptors[rows])

    def sha256(self) -> str:
        text = self.frame[["canonical", "prototype", "T_K", "is_dft", "y", "weight"]].to_csv(index=False,
                                                                                           float_format="%.17g")
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


# -------------------------------------------------------------------------------------------- assembly

def _rows(frame: pd.DataFrame, origin: str, tier: str) -> pd.DataFrame:
    out = pd.DataFrame({"formula": frame["formula"].astype(str).to_numpy()})
    out["T_K"] = pd.to_numeric(frame["T_K"], errors="coerce").to_numpy() if "T_K" in frame else np.nan
    method = frame["method"].fillna("experiment").astype(str).to_numpy() if "method" in frame else "experiment"
    out["is_dft"] = (np.asarray(method) == "DFT").astype(float)
    for col in ("Js_T", "K1_MJm3", "muHA_T", "Tc_K"):
        out[col] = pd.to_numeric(frame[col], errors="coerce").to_numpy() if col in frame else np.nan
    out["source"] = frame["source"].astype(str).to_numpy() if "source" in frame else origin
    out["origin"] = origin
    out["tier"] = frame["tier"].astype(str).to_numpy() if "tier" in frame else tier
    return out


def _target_rows(rows: pd.DataFrame, target: str) -> pd.DataFrame:
    rows = rows.copy()
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


def training_rows(target: str, extra: pd.DataFrame | None = None) -> pd.DataFrame:
    """The rows of ``target`` before weighting: formula, canonical, prototype, series, T_K, is_dft, y, origin,
    source, tier (``curated``, ``user`` or the corpus tier A/B/C)."""
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r} (known: {', '.join(TARGETS)})")
    parts = [_rows(load_intrinsic(), "intrinsic", "curated"), _rows(load_intrinsic_series(), "intrinsic_series",
                                                                    "curated"),
             _rows(load_end_members(), "end_members", "curated")]
    if target == "Tc_K":
        parts.append(_rows(load_curie(), "curie", "curated"))
    if extra is not None and len(extra):
        parts.append(_rows(extra, "user", "user"))
    rows = _target_rows(pd.concat(parts, ignore_index=True), target)
    batch = encode(list(rows["formula"]))
    rows["canonical"] = batch.names()
    # the same value from the same source (end members re-use curated rows; curie repeats intrinsic) counts once
    key = rows[["canonical", "T_K", "y", "source"]].astype(str).agg("|".join, axis=1)
    rows = rows[~key.duplicated()].reset_index(drop=True)
    if target == "Tc_K":
        corpus = load_curie_corpus()
        prototypes = prototype_of(corpus["formula"].tolist())
        usable = (corpus["material_class"] == "intermetallic/alloy").to_numpy() | (prototypes == "hexaferrite")
        corpus = corpus[usable].reset_index(drop=True)
        extra_rows = _target_rows(_rows(corpus.assign(source="curie_corpus:" + corpus["sources"]), "curie_corpus",
                                        "C"), target)
        extra_rows["canonical"] = encode(list(extra_rows["formula"])).names()
        known = set(rows["canonical"])
        rows = pd.concat([rows, extra_rows[~extra_rows["canonical"].isin(known)]], ignore_index=True)
    batch = encode(list(rows["formula"]))
    rows["prototype"] = prototype_of(batch)
    rows["series"] = [" ".join(map(str, sorted(int(z) for z in zs if z > 0))) for zs in batch.elements]
    return rows


def training_set(target: str, extra: pd.DataFrame | None = None, tier_rule: str | None = None) -> TrainingSet:
    """The rows of ``target`` with their descriptors and weights.

    Parameters
    ----------
    target : {"Js_T", "K1_MJm3", "Tc_K"}
    extra : DataFrame, optional
        A user dataset as returned by :func:`magnetscreen.datasets.load_user_dataset`.
    tier_rule : str, optional
        A key of :data:`TIER_RULES` (default: every corpus tier at weight 1; rows of weight 0 are dropped).
    """
    rows = training_rows(target, extra)
    weights = TIER_RULES[tier_rule] if tier_rule else {"A": 1.0, "B": 1.0, "C": 1.0}
    rows["weight"] = [weights.get(t, 1.0) for t in rows["tier"]]
    rows = rows[rows["weight"] > 0].reset_index(drop=True)
    descriptors, _ = featurize(encode(list(rows["formula"])))
    bad = ~np.isfinite(descriptors).all(axis=1)
    corpus = rows["origin"].to_numpy() == "curie_corpus"
    if (bad & ~corpus).any():
        from magnetscreen.datasets.errors import DataError

        raise DataError(f"{target}: composition {rows['formula'][int(np.argmax(bad & ~corpus))]!r} has undefined "
                        "descriptors (an element without tabulated properties)")
    if bad.any():  # corpus compositions with an element the descriptors do not cover (Bk, Cf, ...) are left out
        keep = ~bad
        rows, descriptors = rows[keep].reset_index(drop=True), descriptors[keep]
    return TrainingSet(target, rows, descriptors, tier_rule or "")


# ------------------------------------------------------------------------------------------------ splits

def series_folds(groups: np.ndarray, n_folds: int, seed: int) -> np.ndarray:
    """Fold of every row, whole groups to one fold, groups dealt to folds in a seeded random order."""
    unique = np.array(sorted(set(groups.tolist())))
    order = np.random.default_rng(seed).permutation(len(unique))
    fold_of = {unique[j]: i % n_folds for i, j in enumerate(order)}
    return np.array([fold_of[g] for g in groups.tolist()], dtype=np.int64)


# ------------------------------------------------------------------------------------------------ models

def _estimator(kind: str, seed: int, n_rows: int):
    from sklearn.ensemble import ExtraTreesRegressor, GradientBoostingRegressor, RandomForestRegressor

    leaf = 3 if n_rows >= LARGE_TABLE else 1
    jobs = os.cpu_count() or 1  # forests are identical for any n_jobs: each tree has its own seed
    if kind == "random_forest":
        return RandomForestRegressor(n_estimators=N_TREES, max_features=MAX_FEATURES, min_samples_leaf=leaf,
                                     random_state=seed, n_jobs=jobs)
    if kind == "extra_trees":
        return ExtraTreesRegressor(n_estimators=N_TREES, max_features=MAX_FEATURES, min_samples_leaf=leaf,
                                   random_state=seed, n_jobs=jobs)
    if kind == "gradient_boosting":
        return GradientBoostingRegressor(n_estimators=150, learning_rate=0.05, max_depth=3, random_state=seed)
    raise ValueError(f"unknown model kind {kind!r}")


def _fit(kind: str, data: TrainingSet, rows: np.ndarray, seed: int) -> Surrogate:
    """Fit ``kind`` on ``rows`` of ``data`` (uncalibrated: sigma_scale 1, floor 0)."""
    if kind == "nearest_phase":
        batch = encode(list(data.frame["formula"].iloc[rows]))
        return Surrogate(data.target, kind, None, batch.elements, batch.fractions,
                         np.ascontiguousarray(data.y[rows]), 1.0, 0.0)
    est = _estimator(kind, seed, len(rows)).fit(data.X[rows].astype(np.float32), data.y[rows],
                                                sample_weight=data.weight[rows])
    return Surrogate(data.target, kind, flatten(est), None, None, None, 1.0, 0.0)


def _metrics(y: np.ndarray, pred: np.ndarray) -> dict:
    if len(y) == 0:
        return {"MAE": None, "RMSE": None, "R2": None, "n": 0}
    err = pred - y
    ss = float(np.sum((y - y.mean()) ** 2))
    return {"MAE": float(np.mean(np.abs(err))), "RMSE": float(np.sqrt(np.mean(err**2))),
            "R2": float(1 - np.sum(err**2) / ss) if ss > 0 else None, "n": int(len(y))}


def _conformal(scores: np.ndarray, level: float) -> float:
    """Split-conformal quantile: the ceil((n + 1) level)-th smallest score (the largest if that exceeds n)."""
    s = np.sort(scores)
    rank = min(len(s), int(np.ceil((len(s) + 1) * level)))
    return float(s[max(rank, 1) - 1])


def _out_of_fold(kind: str, data: TrainingSet, folds: np.ndarray, seed: int) -> tuple[np.ndarray, np.ndarray]:
    batch = encode(list(data.frame["formula"]))
    X = data.X
    pred = np.empty(len(data.y))
    spread = np.zeros(len(data.y))
    for f in sorted(set(folds.tolist())):
        test = np.where(folds == f)[0]
        model = _fit(kind, data, np.where(folds != f)[0], seed)
        pred[test], spread[test] = model.predict_raw(X[test], batch.take(test))
    return pred, spread


def candidate_kinds(n_rows: int) -> tuple[str, ...]:
    """The models compared on a table of ``n_rows`` rows (the baseline always among them)."""
    return (LARGE_KINDS if n_rows >= LARGE_TABLE else ML_KINDS) + ("nearest_phase",)


def evaluate(data: TrainingSet, seed: int = 0, kinds: tuple[str, ...] | None = None, lofo: bool = True) -> dict:
    """Run the protocol of the module docstring on one target.

    Returns
    -------
    dict with ``grouped``, ``lofo`` and ``kfold`` ({kind: metrics} / {prototype: {kind: metrics}}),
    ``grouped_by_prototype``, ``oof`` {kind: (prediction, spread)} of the grouped folds, ``folds`` (grouped
    fold of each row) and ``n_folds``.
    """
    kinds = kinds if kinds is not None else candidate_kinds(len(data.y))
    y = data.y
    evaluated = data.evaluated
    groups = data.frame["series"].to_numpy()
    n_folds = min(N_FOLDS, len(set(groups.tolist())))
    folds = series_folds(groups, n_folds, seed)
    prototypes = data.frame["prototype"].to_numpy()
    oof = {kind: _out_of_fold(kind, data, folds, seed) for kind in kinds}
    grouped = {kind: _metrics(y[evaluated], p[evaluated]) for kind, (p, _) in oof.items()}
    by_prototype = {}
    for proto in sorted(set(prototypes.tolist())):
        rows = (prototypes == proto) & evaluated
        if rows.any():
            by_prototype[proto] = {kind: _metrics(y[rows], p[rows]) for kind, (p, _) in oof.items()}
    canonical = data.frame["canonical"].to_numpy()
    composition_folds = series_folds(canonical, min(N_FOLDS, len(set(canonical.tolist()))), seed)
    kfold = {}
    for kind in kinds:
        p, _ = _out_of_fold(kind, data, composition_folds, seed)
        kfold[kind] = _metrics(y[evaluated], p[evaluated])
    held_out: dict[str, dict[str, dict]] = {}
    if lofo:
        batch = encode(list(data.frame["formula"]))
        X = data.X
        for proto in LOFO_PROTOTYPES:
            test = np.where((prototypes == proto) & evaluated)[0]
            train = np.where(prototypes != proto)[0]
            if len(test) == 0 or len(train) < 2:
                continue
            held_out[proto] = {}
            for kind in kinds:
                p, _ = _fit(kind, data, train, seed).predict_raw(X[test], batch.take(test))
                held_out[proto][kind] = _metrics(y[test], p)
    return {"grouped": grouped, "grouped_by_prototype": by_prototype, "lofo": held_out, "kfold": kfold, "oof": oof,
            "folds": folds, "n_folds": n_folds}


def select_tier_rule(target: str = "Tc_K", extra: pd.DataFrame | None = None, seed: int = 0, log=None) -> dict:
    """Choose the weighting of the corpus tiers by grouped cross-validation of extra trees.

    Every rule of :data:`TIER_RULES` is scored by its grouped out-of-fold MAE on the evaluation rows. The
    estimate of the chosen rule's error is nested: in each outer grouped fold the rule is chosen by inner
    grouped folds of that fold's training rows, then scored on the outer fold.

    Returns
    -------
    dict
        ``chosen`` (the rule picked on all rows), ``grouped_mae`` {rule: MAE}, ``nested_mae`` (MAE of the
        rule chosen inside each outer fold), ``chosen_per_fold``.
    """
    full = training_set(target, extra, tier_rule=None)  # every tier, the weights set per rule below
    groups = full.frame["series"].to_numpy()
    folds = series_folds(groups, N_FOLDS, seed)
    evaluated = full.evaluated
    tiers = full.frame["tier"].to_numpy()

    def weights(rule: str) -> np.ndarray:
        return np.array([TIER_RULES[rule].get(t, 1.0) for t in tiers])

    def cv_mae(train_rows: np.ndarray, fold_ids: np.ndarray, rule: str) -> float:
        w = weights(rule)
        errors = []
        for f in sorted(set(fold_ids[train_rows].tolist())):
            fit = train_rows & (fold_ids != f) & (w > 0)
            test = train_rows & (fold_ids == f) & evaluated
            if not test.any():
                continue
            est = _estimator("extra_trees", seed, int(fit.sum())).fit(full.X[fit].astype(np.float32), full.y[fit],
                                                                      sample_weight=w[fit])
            errors.append(np.abs(est.predict(full.X[test].astype(np.float32)) - full.y[test]))
        return float(np.mean(np.concatenate(errors)))

    everything = np.ones(len(tiers), dtype=bool)
    grouped = {rule: cv_mae(everything, folds, rule) for rule in TIER_RULES}
    chosen = min(grouped, key=lambda r: (grouped[r], r))
    nested_errors, per_fold = [], []
    for f in range(N_FOLDS):
        train = folds != f
        inner = series_folds(groups, INNER_FOLDS, seed + 1 + f)
        scores = {rule: cv_mae(train, inner, rule) for rule in TIER_RULES}
        rule = min(scores, key=lambda r: (scores[r], r))
        per_fold.append(rule)
        w = weights(rule)
        fit = train & (w > 0)
        test = (folds == f) & evaluated
        est = _estimator("extra_trees", seed, int(fit.sum())).fit(full.X[fit].astype(np.float32), full.y[fit],
                                                                  sample_weight=w[fit])
        nested_errors.append(np.abs(est.predict(full.X[test].astype(np.float32)) - full.y[test]))
        if log is not None:
            log(f"{target}: tier rule, outer fold {f + 1}/{N_FOLDS}: chose {rule}")
    return {"chosen": chosen, "grouped_mae": grouped, "nested_mae": float(np.mean(np.concatenate(nested_errors))),
            "chosen_per_fold": per_fold, "model": "extra_trees", "evaluated_tiers": list(EVALUATED_TIERS)}


def _calibrate(data: TrainingSet, pred: np.ndarray, spread: np.ndarray, folds: np.ndarray, has_spread: bool) -> dict:
    y, evaluated = data.y, data.evaluated
    floor = float(np.mean(spread[evaluated])) if has_spread else 1.0
    if has_spread and floor <= 0:
        floor = 1.0
    scores = np.abs(y - pred) / (spread + floor)
    out: dict[str, Any] = {"sigma_floor": floor, "sigma_scale": _conformal(scores[evaluated], ONE_SIGMA)}
    intervals: list[dict] = []
    prototypes = data.frame["prototype"].to_numpy()
    by_prototype: dict[str, dict] = {}
    for level, label in ((ONE_SIGMA, "mean +/- sigma"), (0.9, "90 % interval")):
        covered = np.zeros(len(y), dtype=bool)
        tested = np.zeros(len(y), dtype=bool)
        for f in sorted(set(folds.tolist())):
            held = (folds == f) & evaluated
            calibration = (folds != f) & evaluated
            if not held.any() or not calibration.any():
                continue
            q = _conformal(scores[calibration], level)
            covered[held] = scores[held] <= q
            tested[held] = True
        intervals.append({"interval": label, "nominal": level,
                          "empirical": float(covered[tested].mean()) if tested.any() else None,
                          "factor": _conformal(scores[evaluated], level), "n": int(tested.sum())})
        for proto in sorted(set(prototypes.tolist())):
            rows = tested & (prototypes == proto)
            if rows.any():
                by_prototype.setdefault(proto, {})[label] = {"empirical": float(covered[rows].mean()),
                                                             "n": int(rows.sum())}
    out["intervals"] = intervals
    out["by_prototype"] = by_prototype
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
    proj, resid = np.ascontiguousarray(proj), np.ascontiguousarray(resid)
    loo = _k.loo_nearest_kernel(proj, resid, np.ascontiguousarray(mask))
    thresholds = np.zeros(len(TARGETS))
    for ti in range(len(TARGETS)):
        rows = mask[:, ti] & np.isfinite(loo[:, ti])
        if rows.sum() >= 2:
            thresholds[ti] = float(np.quantile(loo[rows, ti], DOMAIN_QUANTILE))
    return Domain(TARGETS, mean, scale, np.ascontiguousarray(components), proj, resid, mask, thresholds)


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
    for proto, scores in result["grouped_by_prototype"].items():
        if kind != base and base in scores and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"Grouped: on prototype {proto!r} ({scores[kind]['n']} rows) the shipped {kind} "
                         f"(MAE {scores[kind]['MAE']:.3g}) does not beat the nearest-phase baseline "
                         f"(MAE {scores[base]['MAE']:.3g}).")
    for proto, scores in result["lofo"].items():
        if kind != base and base in scores and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"Leave-one-prototype-out: on {proto!r} the shipped {kind} does not beat the baseline.")
    if kind == base:
        notes.append("The nearest-phase baseline had the lowest grouped MAE and is shipped.")
    counts = data.frame["prototype"].value_counts()
    thin = sorted(f for f in LOFO_PROTOTYPES if counts.get(f, 0) < 5)
    if thin:
        notes.append(f"Prototypes of built-in families with fewer than 5 rows: {', '.join(thin)}; predictions "
                     "there are weakly supported.")
    one = calibration["intervals"][0]
    tiers = {str(k): int(v) for k, v in sorted(data.frame["tier"].value_counts().items())}
    return _rounded({
        "target": data.target,
        "unit": UNITS[data.target],
        "reference_temperature_K": None if data.target == "Tc_K" else REFERENCE_TEMPERATURE_K,
        "model": kind,
        "n_rows": int(len(data.frame)),
        "n_compositions": int(data.frame["canonical"].nunique()),
        "n_series": int(data.frame["series"].nunique()),
        "rows_per_prototype": {str(k): int(v) for k, v in sorted(counts.items())},
        "rows_per_origin": {str(k): int(v) for k, v in sorted(data.frame["origin"].value_counts().items())},
        "rows_per_tier": tiers,
        "tier_rule": data.tier_rule or None,
        "tier_selection": data.tier_selection or None,
        "data_sha256": data.sha256(),
        "n_features": int(data.descriptors.shape[1] + len(CONTEXT_FEATURES)),
        "features": "the composition descriptors of magnetscreen.descriptors.feature_names() plus "
                    + ", ".join(CONTEXT_FEATURES),
        "seed": seed,
        "protocol": {
            "candidates": list(result["grouped"]),
            "grouped": f"{result['n_folds']}-fold over series (compositions with the same element set share a "
                       "fold), folds drawn with the seed; reported first",
            "lofo": "each prototype of a built-in family predicted by models trained on the other rows",
            "kfold": "5-fold over compositions (rows of one composition share a fold); reported last",
            "evaluated_rows": f"tiers {', '.join(EVALUATED_TIERS)} (text-mined corpus rows are trained on, "
                              "never scored)",
            "selection": "lowest grouped MAE",
            "calibration": "split-conformal on grouped out-of-fold scores |y - mean| / (spread + floor); "
                           "coverage measured with the scale calibrated on the other folds",
        },
        "metrics": {"grouped": result["grouped"], "grouped_by_prototype": result["grouped_by_prototype"],
                    "lofo": result["lofo"], "kfold": result["kfold"]},
        "coverage": {"nominal": one["nominal"], "empirical": one["empirical"], "intervals": calibration["intervals"],
                     "by_prototype": calibration["by_prototype"]},
        "calibration": {"sigma_scale": calibration["sigma_scale"], "sigma_floor": calibration["sigma_floor"]},
        "domain": {"threshold": float(domain.thresholds[t]), "n_components": int(domain.components.shape[0]),
                   "description": "in domain when the distance to the nearest training composition of this "
                   "target, in standardized descriptor space (leading principal subspace plus residual norm), "
                   f"is at most the {int(DOMAIN_QUANTILE * 100)}th percentile of the training compositions' "
                   "leave-one-out nearest-neighbour distances"},
        "versions": versions(("magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen", "pandas")),
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
        Called with a progress line per step.
    """
    sets = {}
    for target in TARGETS:
        if target == "Tc_K":
            selection = select_tier_rule(target, extra, seed, log)
            data = training_set(target, extra, selection["chosen"])
            sets[target] = replace(data, tier_selection=selection)
            if log is not None:
                log(f"{target}: tier rule {selection['chosen']} (grouped MAE per rule "
                    + ", ".join(f"{r} {m:.4g}" for r, m in selection["grouped_mae"].items())
                    + f"; nested estimate {selection['nested_mae']:.4g})")
        else:
            sets[target] = training_set(target, extra)
    domain = _domain(sets)
    surrogates = {target: train_target(data, domain, seed, log) for target, data in sets.items()}
    return SurrogateSet(surrogates, domain)


def train_target(data: TrainingSet, domain: Domain, seed: int = 0, log=None) -> Surrogate:
    """Run the protocol on one target's rows, pick the model with the lowest grouped MAE, calibrate it and fit
    it on every row; the card records everything measured."""
    result = evaluate(data, seed)
    kind = min(result["grouped"], key=lambda k: (result["grouped"][k]["MAE"], k))
    pred, spread = result["oof"][kind]
    calibration = _calibrate(data, pred, spread, result["folds"], has_spread=kind in ("random_forest", "extra_trees"))
    model = _fit(kind, data, np.arange(len(data.y)), seed)
    card = _card(data, result, kind, calibration, seed, domain)
    if log is not None:
        m = result["grouped"][kind]
        log(f"{data.target}: {len(data.y)} rows, shipped {kind}: grouped MAE {m['MAE']:.4g} {UNITS[data.target]} "
            f"(baseline {result['grouped']['nearest_phase']['MAE']:.4g}; random K-fold "
            f"{result['kfold'][kind]['MAE']:.4g}), 1-sigma coverage {card['coverage']['empirical']}")
    return Surrogate(data.target, kind, model.ensemble, model.phase_elements, model.phase_fractions,
                     model.phase_values, calibration["sigma_scale"], calibration["sigma_floor"], card)


def feature_labels() -> list[str]:
    """Names of the model matrix columns."""
    return feature_names() + list(CONTEXT_FEATURES)
