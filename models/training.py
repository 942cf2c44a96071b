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
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from magnetscreen.datasets.elements import element_symbols
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
from magnetscreen.descriptors.prototypes import FAMILY_PROTOTYPE, PROTOTYPES, prototype_codes, prototype_of
from magnetscreen.models.physics import MU0
from magnetscreen.models.priors import PriorTable, easy_plane_mask, fit_prior
from magnetscreen.models.surrogates import (
    CONTEXT_FEATURES,
    REFERENCE_TEMPERATURE_K,
    ROUTES,
    TARGETS,
    UNITS,
    Domain,
    Surrogate,
    SurrogateSet,
    model_matrix,
)
from magnetscreen.models.trees import flatten

__all__ = ["TrainingSet", "training_rows", "training_set", "evaluate", "select_tier_rule", "train_surrogates",
           "train_target", "fit_calibrated", "build_domain", "user_target_rows", "candidate_kinds", "domain_threshold",
           "held_out_distances", "series_folds", "refit_with", "ONE_SIGMA", "TIER_RULES", "EVALUATED_TIERS"]

ONE_SIGMA = 0.6826894921370859
N_FOLDS = 5
INNER_FOLDS = 3
MAX_COMPONENTS = 8
#: Candidate domain thresholds: these quantiles of the grouped held-out distances to the training rows.
DOMAIN_QUANTILES = (0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
#: In-domain held-out MAE must be at most this share of the out-of-domain MAE ("measurably smaller").
DOMAIN_MARGIN = 0.8
#: Fewest held-out rows on either side of a candidate threshold.
MIN_DOMAIN_ROWS = 10
#: Rows within this many kelvin of 295 K define the room-temperature end members of Js_T and K1_MJm3.
PRIOR_T_WINDOW_K = 15.0
#: Fewest evaluation rows with a prior on which a prototype's route is chosen (learning below).
MIN_ROUTE_ROWS = 10
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
    if extra is None or not len(extra):
        return _shipped_rows(target).copy()
    return _assemble(target, extra)


@lru_cache(maxsize=len(TARGETS))
def _shipped_rows(target: str) -> pd.DataFrame:
    """The rows of the shipped tables (assembled once per process: parsing 10^4 corpus formulas takes seconds)."""
    return _assemble(target, None)


def _assemble(target: str, extra: pd.DataFrame | None) -> pd.DataFrame:
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


def user_target_rows(dataset: pd.DataFrame, target: str) -> pd.DataFrame:
    """The rows of ``target`` in a user dataset, built as training rows are: formula, T_K, is_dft, y, ... (K1 also
    from muHA_T and Js_T at one temperature; Js and K1 rows without T_K dropped)."""
    return _target_rows(_rows(dataset, "user", "user"), target)


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
                         np.ascontiguousarray(data.y[rows]), np.ones(3), np.zeros(3))
    est = _estimator(kind, seed, len(rows)).fit(data.X[rows].astype(np.float32), data.y[rows],
                                                sample_weight=data.weight[rows])
    return Surrogate(data.target, kind, flatten(est), None, None, None, np.ones(3), np.zeros(3))


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
        pred[test], spread[test] = model.predict_learning(X[test], batch.take(test))
    return pred, spread


# ------------------------------------------------------------------------------------- physics priors

def prior_rows(data: TrainingSet) -> np.ndarray:
    """Rows that may define an end member: every Tc_K row; for Js_T and K1_MJm3 the experimental rows within
    :data:`PRIOR_T_WINDOW_K` of the 295 K reference (the prior is a room-temperature value)."""
    if data.target == "Tc_K":
        return np.ones(len(data.y), dtype=bool)
    T = data.frame["T_K"].to_numpy(float)
    return (data.frame["is_dft"].to_numpy(float) == 0) & (np.abs(T - REFERENCE_TEMPERATURE_K) <= PRIOR_T_WINDOW_K)


def _prototype_codes(data: TrainingSet) -> np.ndarray:
    index = {p: i for i, p in enumerate(PROTOTYPES)}
    return np.array([index[p] for p in data.frame["prototype"]], dtype=np.int64)


def _element_sets(data: TrainingSet) -> list[set[str]]:
    symbols = element_symbols()
    batch = encode(list(data.frame["formula"]))
    return [{symbols[z] for z in row if z > 0} for row in batch.elements.tolist()]


def fit_prior_rows(data: TrainingSet, rows: np.ndarray) -> PriorTable:
    """The end-member table of ``data.target`` from ``rows`` (indices) of ``data``."""
    rows = rows[prior_rows(data)[rows]]
    sets = _element_sets(data)
    return fit_prior(data.frame["canonical"].to_numpy()[rows], data.y[rows], data.frame["prototype"].to_numpy()[rows],
                     [sets[i] for i in rows], data.target)


def _residual_kind(kind: str) -> str:
    """The learner of the hybrid's residual: the chosen learner when it is a tree model, else extra trees."""
    return kind if kind in ML_KINDS else "extra_trees"


def _fit_residual(kind: str, data: TrainingSet, rows: np.ndarray, prior: np.ndarray, seed: int):
    est = _estimator(kind, seed, len(rows)).fit(data.X[rows].astype(np.float32), data.y[rows] - prior[rows],
                                                sample_weight=data.weight[rows])
    return flatten(est)


def _hybrid_out_of_fold(kind: str, data: TrainingSet, folds: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Out-of-fold prior and hybrid (prior + learned residual) predictions; the priors are fitted on each fold's
    training rows only. NaN where the prior is undefined."""
    batch = encode(list(data.frame["formula"]))
    codes = _prototype_codes(data)
    X = data.X
    n = len(data.y)
    prior_oof, hybrid, spread = np.full(n, np.nan), np.full(n, np.nan), np.zeros(n)
    for f in sorted(set(folds.tolist())):
        train, test = np.where(folds != f)[0], np.where(folds == f)[0]
        prior = fit_prior_rows(data, train).evaluate(batch, codes)
        fit = train[np.isfinite(prior[train])]
        held = test[np.isfinite(prior[test])]
        prior_oof[held] = prior[held]
        if len(fit) >= 2 and len(held):
            residual = _fit_residual(kind, data, fit, prior, seed)
            r_mean, r_spread = residual.predict(X[held])
            hybrid[held] = prior[held] + r_mean
            spread[held] = r_spread
    return {"prior": prior_oof, "hybrid": hybrid, "hybrid_spread": spread}


def choose_routes(data: TrainingSet, learning: np.ndarray, parts: dict[str, np.ndarray]) -> tuple[np.ndarray, dict]:
    """Route of every prototype: the one of learning, hybrid and prior with the lowest grouped out-of-fold MAE
    on the prototype's evaluation rows with a defined prior (at least :data:`MIN_ROUTE_ROWS`; learning
    otherwise and on ties). Returns the routes (int64, one per prototype) and the comparison per prototype."""
    y, evaluated = data.y, data.evaluated
    prototypes = data.frame["prototype"].to_numpy()
    routes = np.zeros(len(PROTOTYPES), dtype=np.int64)
    comparison: dict[str, dict] = {}
    for proto in sorted(set(prototypes.tolist())):
        rows = evaluated & (prototypes == proto) & np.isfinite(parts["prior"]) & np.isfinite(parts["hybrid"])
        if not rows.any():
            continue
        scores = {"learning": _metrics(y[rows], learning[rows]), "hybrid": _metrics(y[rows], parts["hybrid"][rows]),
                  "prior": _metrics(y[rows], parts["prior"][rows])}
        comparison[proto] = scores
        if rows.sum() >= MIN_ROUTE_ROWS:
            best = min(ROUTES, key=lambda r: (scores[r]["MAE"], ROUTES.index(r)))
            routes[PROTOTYPES.index(proto)] = ROUTES.index(best)
    return routes, comparison


def combine_routes(data: TrainingSet, routes: np.ndarray, learning: tuple[np.ndarray, np.ndarray],
                   parts: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Prediction, spread and route used of every row under ``routes`` (learning where the prior is undefined)."""
    pred, spread = learning[0].copy(), learning[1].copy()
    route = routes[_prototype_codes(data)]
    hybrid = (route == ROUTES.index("hybrid")) & np.isfinite(parts["hybrid"])
    alone = (route == ROUTES.index("prior")) & np.isfinite(parts["prior"])
    pred[hybrid], spread[hybrid] = parts["hybrid"][hybrid], parts["hybrid_spread"][hybrid]
    pred[alone], spread[alone] = parts["prior"][alone], 0.0
    used = np.zeros(len(pred), dtype=np.int64)
    used[hybrid] = ROUTES.index("hybrid")
    used[alone] = ROUTES.index("prior")
    return pred, spread, used


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
    kfold, kfold_oof = {}, {}
    for kind in kinds:
        kfold_oof[kind] = _out_of_fold(kind, data, composition_folds, seed)
        kfold[kind] = _metrics(y[evaluated], kfold_oof[kind][0][evaluated])
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
                p, _ = _fit(kind, data, train, seed).predict_learning(X[test], batch.take(test))
                held_out[proto][kind] = _metrics(y[test], p)
    return {"grouped": grouped, "grouped_by_prototype": by_prototype, "lofo": held_out, "kfold": kfold, "oof": oof,
            "kfold_oof": kfold_oof, "folds": folds, "composition_folds": composition_folds, "n_folds": n_folds}


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


def _calibrate(data: TrainingSet, pred: np.ndarray, spread: np.ndarray, route: np.ndarray, folds: np.ndarray,
               spread_routes: tuple[bool, bool, bool]) -> dict:
    """Split-conformal calibration per route on the grouped out-of-fold predictions.

    ``spread_routes[r]``: whether route r has a spread (forest); routes without one get floor 1, so that their
    sigma is a constant. Coverage is measured fold by fold with the scale calibrated on the other folds' rows
    of the same route.
    """
    y, evaluated = data.y, data.evaluated
    floors, scales = np.ones(len(ROUTES)), np.ones(len(ROUTES))
    for r in range(len(ROUTES)):
        rows = evaluated & (route == r)
        if rows.any() and spread_routes[r]:
            floors[r] = float(np.mean(spread[rows])) or 1.0
    scores = np.abs(y - pred) / (spread + floors[route])
    for r in range(len(ROUTES)):
        rows = evaluated & (route == r)
        if rows.any():
            scales[r] = _conformal(scores[rows], ONE_SIGMA)
    out: dict[str, Any] = {"sigma_floor": floors, "sigma_scale": scales}
    intervals: list[dict] = []
    prototypes = data.frame["prototype"].to_numpy()
    by_prototype: dict[str, dict] = {}
    for level, label in ((ONE_SIGMA, "mean +/- sigma"), (0.9, "90 % interval")):
        covered = np.zeros(len(y), dtype=bool)
        tested = np.zeros(len(y), dtype=bool)
        for f in sorted(set(folds.tolist())):
            for r in range(len(ROUTES)):
                held = (folds == f) & evaluated & (route == r)
                calibration = (folds != f) & evaluated & (route == r)
                if not held.any() or not calibration.any():
                    continue
                q = _conformal(scores[calibration], level)
                covered[held] = scores[held] <= q
                tested[held] = True
        intervals.append({"interval": label, "nominal": level,
                          "empirical": float(covered[tested].mean()) if tested.any() else None,
                          "n": int(tested.sum())})
        for proto in sorted(set(prototypes.tolist())):
            rows = tested & (prototypes == proto)
            if rows.any():
                by_prototype.setdefault(proto, {})[label] = {"empirical": float(covered[rows].mean()),
                                                             "n": int(rows.sum())}
    out["intervals"] = intervals
    out["by_prototype"] = by_prototype
    out["rows_per_route"] = {ROUTES[r]: int((evaluated & (route == r)).sum()) for r in range(len(ROUTES))}
    return out


def build_domain(sets: dict[str, TrainingSet]) -> Domain:
    """The shared projection and the training compositions of every target, sorted by prototype (thresholds 0:
    each target's is chosen by :func:`domain_threshold`)."""
    frames = []
    for t, data in sets.items():
        canonical = data.frame["canonical"].to_numpy()
        _, first = np.unique(canonical, return_index=True)
        frames.append((t, canonical[np.sort(first)], data.descriptors[np.sort(first)]))
    names = sorted({n for _, c, _ in frames for n in c})
    codes = prototype_codes(encode(names))
    order = np.lexsort((np.array(names), codes))
    names = [names[i] for i in order]
    codes = codes[order]
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
    start = np.searchsorted(codes, np.arange(len(PROTOTYPES) + 1)).astype(np.int64)
    proto = Domain(TARGETS, mean, scale, np.ascontiguousarray(components), np.zeros((0, k)), np.zeros(0),
                   np.zeros((0, len(TARGETS)), dtype=bool), np.zeros(len(TARGETS)), start)
    proj, resid = proto.project(D)
    return replace(proto, train_proj=np.ascontiguousarray(proj), train_resid=np.ascontiguousarray(resid),
                   train_mask=mask)


def held_out_distances(domain: Domain, data: TrainingSet, folds: np.ndarray) -> np.ndarray:
    """Distance of every row of ``data`` to the nearest row of the same prototype in the other folds, in the
    domain's descriptor space (inf where the other folds hold no row of that prototype)."""
    codes = _prototype_codes(data)
    proj, resid = domain.project(data.descriptors)
    out = np.full(len(data.y), np.inf)
    for f in sorted(set(folds.tolist())):
        train = np.where(folds != f)[0]
        train = train[np.argsort(codes[train], kind="stable")]
        start = np.searchsorted(codes[train], np.arange(len(PROTOTYPES) + 1)).astype(np.int64)
        test = np.where(folds == f)[0]
        fold_domain = replace(domain, train_proj=np.ascontiguousarray(proj[train]),
                              train_resid=np.ascontiguousarray(resid[train]),
                              train_mask=np.ones((len(train), 1), dtype=bool), proto_start=start)
        out[test] = fold_domain.distances(data.descriptors[test], codes[test])[:, 0]
    return out


def domain_threshold(domain: Domain, data: TrainingSet, folds: np.ndarray, error: np.ndarray) -> dict:
    """Choose the target's domain threshold on grouped held-out folds.

    Candidates are the :data:`DOMAIN_QUANTILES` of the held-out distances (:func:`held_out_distances`) of the
    evaluation rows; the largest one whose in-domain held-out MAE is at most :data:`DOMAIN_MARGIN` times the
    out-of-domain MAE, with at least :data:`MIN_DOMAIN_ROWS` rows on each side, is chosen. If none qualifies,
    the candidate with the smallest ratio is taken and the card says the margin was not met.
    """
    distance = held_out_distances(domain, data, folds)
    evaluated = data.evaluated
    d, e = distance[evaluated], np.abs(error[evaluated])
    finite = np.isfinite(d)
    report: dict[str, Any] = {"candidates": [], "margin": DOMAIN_MARGIN,
                              "rows_without_same_prototype_data": int((~finite).sum())}
    if finite.sum() < MIN_DOMAIN_ROWS:
        report.update(threshold=0.0, quantile=None, margin_met=False)
        return report
    candidates: list[dict[str, Any]] = []
    for q in DOMAIN_QUANTILES:
        thr = float(np.quantile(d[finite], q))
        inside = d <= thr
        n_in, n_out = int(inside.sum()), int((~inside).sum())
        mae_in = float(e[inside].mean()) if n_in else None
        mae_out = float(e[~inside].mean()) if n_out else None
        candidates.append({"quantile": q, "threshold": thr, "n_in": n_in, "n_out": n_out, "mae_in_domain": mae_in,
                           "mae_out_of_domain": mae_out})
    report["candidates"] = candidates
    usable = [c for c in candidates if c["n_in"] >= MIN_DOMAIN_ROWS and c["n_out"] >= MIN_DOMAIN_ROWS]
    met = [c for c in usable if c["mae_in_domain"] <= DOMAIN_MARGIN * c["mae_out_of_domain"]]
    if met:
        chosen, ok = max(met, key=lambda c: c["quantile"]), True
    elif usable:
        chosen, ok = min(usable, key=lambda c: (c["mae_in_domain"] / c["mae_out_of_domain"], c["quantile"])), False
    else:
        chosen, ok = candidates[-1], False
    report.update(threshold=chosen["threshold"], quantile=chosen["quantile"], margin_met=ok,
                  mae_in_domain=chosen["mae_in_domain"], mae_out_of_domain=chosen["mae_out_of_domain"],
                  n_in=chosen["n_in"], n_out=chosen["n_out"])
    return report


def _rounded(obj):
    if isinstance(obj, float):
        return float(f"{obj:.6g}")
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_rounded(v) for v in obj]
    return obj


def _card(data: TrainingSet, result: dict, kind: str, calibration: dict, seed: int, hybrid: dict,
          threshold: dict) -> dict:
    notes = []
    base = "nearest_phase"
    for proto, scores in result["grouped_by_prototype"].items():
        if kind != base and base in scores and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"Grouped: on prototype {proto!r} ({scores[kind]['n']} rows) the learned {kind} "
                         f"(MAE {scores[kind]['MAE']:.3g}) does not beat the nearest-phase baseline "
                         f"(MAE {scores[base]['MAE']:.3g}).")
    for proto, scores in result["lofo"].items():
        if kind != base and base in scores and scores[kind]["MAE"] > scores[base]["MAE"]:
            notes.append(f"Leave-one-prototype-out: on {proto!r} the learned {kind} does not beat the baseline.")
    if kind == base:
        notes.append("The nearest-phase baseline had the lowest grouped MAE of the learners and is the learning "
                     "route.")
    counts = data.frame["prototype"].value_counts()
    thin = sorted(f for f in LOFO_PROTOTYPES if counts.get(f, 0) < 5)
    if thin:
        notes.append(f"Prototypes of built-in families with fewer than 5 rows: {', '.join(thin)}; predictions "
                     "there are weakly supported.")
    if not threshold.get("margin_met"):
        notes.append("Domain: no candidate threshold gave an in-domain held-out MAE below "
                     f"{DOMAIN_MARGIN:g} x the out-of-domain MAE with {MIN_DOMAIN_ROWS} rows on each side; the "
                     "threshold with the smallest ratio is used.")
    one = calibration["intervals"][0]
    tiers = {str(k): int(v) for k, v in sorted(data.frame["tier"].value_counts().items())}
    routes = {p: ROUTES[int(r)] for p, r in zip(PROTOTYPES, hybrid["routes"]) if r > 0}
    return _rounded({
        "target": data.target,
        "unit": UNITS[data.target],
        "reference_temperature_K": None if data.target == "Tc_K" else REFERENCE_TEMPERATURE_K,
        "model": kind,
        "residual_model": hybrid["residual_kind"] if routes else None,
        "routes": {"default": "learning", **routes},
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
            "lofo": "each prototype of a built-in family predicted by models trained on the other rows (the "
                    "held-out prototype has no end members, so the shipped model is its learning route)",
            "kfold": "5-fold over compositions (rows of one composition share a fold); reported last",
            "evaluated_rows": f"tiers {', '.join(EVALUATED_TIERS)} (text-mined corpus rows are trained on, "
                              "never scored)",
            "selection": "learner: lowest grouped MAE; route per prototype: lowest grouped MAE of learning, "
                         f"hybrid and prior on its rows with a prior (at least {MIN_ROUTE_ROWS})",
            "prior": "end-member interpolation over site occupancies (magnetscreen.models.priors), fitted on "
                     "each fold's training rows only",
            "calibration": "split-conformal per route on grouped out-of-fold scores |y - mean| / (spread + floor); "
                           "coverage measured with the scale calibrated on the other folds",
        },
        "metrics": {"grouped": {**result["grouped"], "shipped": hybrid["grouped"]},
                    "grouped_by_prototype": result["grouped_by_prototype"],
                    "shipped_by_prototype": hybrid["by_prototype"],
                    "route_comparison": hybrid["comparison"],
                    "lofo": {p: {**m, "shipped": m[kind]} for p, m in result["lofo"].items()},
                    "kfold": {**result["kfold"], "shipped": hybrid["kfold"]}},
        "coverage": {"nominal": one["nominal"], "empirical": one["empirical"], "intervals": calibration["intervals"],
                     "by_prototype": calibration["by_prototype"], "rows_per_route": calibration["rows_per_route"]},
        "calibration": {"sigma_scale": list(calibration["sigma_scale"]),
                        "sigma_floor": list(calibration["sigma_floor"]), "routes": list(ROUTES)},
        "domain": {**threshold,
                   "description": "in domain when the target has training compositions of the candidate's prototype "
                   "and the nearest of them, in standardized descriptor space (leading principal subspace plus "
                   "residual norm), is within the threshold; the threshold is the largest candidate quantile of "
                   "grouped held-out distances whose in-domain held-out MAE is at most "
                   f"{DOMAIN_MARGIN:g} x the out-of-domain MAE"},
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
    domain = build_domain(sets)
    surrogates = {target: train_target(data, domain, seed, log) for target, data in sets.items()}
    thresholds = np.array([surrogates[t].card["domain"]["threshold"] for t in TARGETS], dtype=np.float64)
    return SurrogateSet(surrogates, replace(domain, thresholds=thresholds))


def train_target(data: TrainingSet, domain: Domain, seed: int = 0, log=None, result: dict | None = None) -> Surrogate:
    """Run the protocol on one target's rows: pick the learner with the lowest grouped MAE, compare it with the
    end-member prior and the hybrid per prototype, choose each prototype's route, calibrate per route, choose
    the domain threshold, and fit everything on every row. The card records everything measured.

    ``domain`` gives the descriptor projection the threshold is measured in (its thresholds are not used).
    """
    result = result if result is not None else evaluate(data, seed)
    kind = min(result["grouped"], key=lambda k: (result["grouped"][k]["MAE"], k))
    residual_kind = _residual_kind(kind)
    learning = result["oof"][kind]
    parts = _hybrid_out_of_fold(residual_kind, data, result["folds"], seed)
    routes, comparison = choose_routes(data, learning[0], parts)
    fitted = fit_calibrated(data, domain, kind, routes, seed, result["folds"], learning, parts)
    pred = fitted["oof"]
    evaluated = data.evaluated
    prototypes = data.frame["prototype"].to_numpy()
    kfold_parts = _hybrid_out_of_fold(residual_kind, data, result["composition_folds"], seed)
    kfold_pred, _, _ = combine_routes(data, routes, result["kfold_oof"][kind], kfold_parts)
    hybrid: dict[str, Any] = {"routes": routes, "residual_kind": residual_kind, "comparison": comparison,
              "grouped": _metrics(data.y[evaluated], pred[evaluated]),
              "kfold": _metrics(data.y[evaluated], kfold_pred[evaluated]),
              "by_prototype": {p: _metrics(data.y[(prototypes == p) & evaluated], pred[(prototypes == p) & evaluated])
                               for p in sorted(set(prototypes[evaluated].tolist()))}}
    calibration, threshold = fitted["calibration"], fitted["threshold"]
    card = _card(data, result, kind, calibration, seed, hybrid, threshold)
    if log is not None:
        m = result["grouped"][kind]
        log(f"{data.target}: {len(data.y)} rows, learner {kind}: grouped MAE {m['MAE']:.4g} {UNITS[data.target]}; "
            f"shipped (routes {card['routes']}): grouped MAE {hybrid['grouped']['MAE']:.4g} (baseline "
            f"{result['grouped']['nearest_phase']['MAE']:.4g}; random K-fold {hybrid['kfold']['MAE']:.4g}), 1-sigma "
            f"coverage {card['coverage']['empirical']}; domain threshold {threshold['threshold']:.4g} (in/out MAE "
            f"{threshold.get('mae_in_domain')}/{threshold.get('mae_out_of_domain')})")
    return replace(fitted["surrogate"], card=card)


def fit_calibrated(data: TrainingSet, domain: Domain, kind: str, routes: np.ndarray, seed: int = 0,
                   folds: np.ndarray | None = None, learning: tuple[np.ndarray, np.ndarray] | None = None,
                   parts: dict[str, np.ndarray] | None = None) -> dict:
    """Fit a given configuration (learner ``kind``, ``routes`` per prototype) on every row of ``data``, with its
    per-route calibration and domain threshold measured on grouped folds (computed here unless given).

    Returns ``surrogate`` (no card), ``calibration``, ``threshold`` and ``oof`` (the grouped out-of-fold
    predictions of the configuration).
    """
    residual_kind = _residual_kind(kind)
    if folds is None:
        groups = data.frame["series"].to_numpy()
        folds = series_folds(groups, min(N_FOLDS, len(set(groups.tolist()))), seed)
    if learning is None:
        learning = _out_of_fold(kind, data, folds, seed)
    if parts is None:
        if routes.any():
            parts = _hybrid_out_of_fold(residual_kind, data, folds, seed)
        else:
            nan = np.full(len(data.y), np.nan)
            parts = {"prior": nan, "hybrid": nan, "hybrid_spread": np.zeros(len(data.y))}
    pred, spread, used = combine_routes(data, routes, learning, parts)
    if data.target == "K1_MJm3":  # stated easy-plane end members cap K1 at 0, as in prediction
        batch = encode(list(data.frame["formula"]))
        pred = np.where(easy_plane_mask(batch, _prototype_codes(data)), np.minimum(pred, 0.0), pred)
    forest = kind in ("random_forest", "extra_trees")
    calibration = _calibrate(data, pred, spread, used, folds,
                             (forest, residual_kind in ("random_forest", "extra_trees"), False))
    threshold = domain_threshold(domain, data, folds, pred - data.y)
    model = _fit(kind, data, np.arange(len(data.y)), seed)
    prior = residual = None
    if routes.any():
        prior = fit_prior_rows(data, np.arange(len(data.y)))
        if np.any(routes == ROUTES.index("hybrid")):
            values = prior.evaluate(encode(list(data.frame["formula"])), _prototype_codes(data))
            rows = np.where(np.isfinite(values))[0]
            residual = _fit_residual(residual_kind, data, rows, values, seed)
    surrogate = Surrogate(data.target, kind, model.ensemble, model.phase_elements, model.phase_fractions,
                          model.phase_values, np.asarray(calibration["sigma_scale"]),
                          np.asarray(calibration["sigma_floor"]), {}, prior, residual,
                          routes if routes.any() else None)
    return {"surrogate": surrogate, "calibration": calibration, "threshold": threshold, "oof": pred}


def refit_with(extra: pd.DataFrame, models: SurrogateSet, seed: int = 0, log=None) -> SurrogateSet:
    """``models`` refitted on their own data plus the rows of ``extra`` (a user dataset), target by target.

    Only targets with at least one row in ``extra`` are refitted, each with the configuration named in its model
    card (learner, corpus tier rule, routes per prototype) and its calibration measured again on grouped folds
    (the model selection itself is not repeated: ``magnetscreen train --data`` does that). The domain of
    applicability (projection, training compositions, thresholds) stays that of ``models``: new rows improve
    the predictions and their sigma, not the domain flag. Deterministic for a seed.
    """
    surrogates = dict(models.surrogates)
    for target, shipped in models.surrogates.items():
        added = user_target_rows(extra, target)
        if len(added) == 0:
            continue
        routes = shipped.routes if shipped.routes is not None else np.zeros(len(PROTOTYPES), dtype=np.int64)
        data = training_set(target, extra, shipped.card.get("tier_rule"))
        fitted = fit_calibrated(data, models.domain, shipped.kind, np.asarray(routes, dtype=np.int64), seed)
        card = dict(shipped.card)
        card["refit"] = {"rows_added": int(len(added)), "n_rows": int(len(data.y)), "seed": int(seed),
                         "sigma_scale": [float(f"{x:.6g}") for x in np.asarray(fitted["calibration"]["sigma_scale"])],
                         "sigma_floor": [float(f"{x:.6g}") for x in np.asarray(fitted["calibration"]["sigma_floor"])],
                         "note": "refitted with the shipped configuration on the shipped rows plus user rows; "
                                 "the domain flag is the shipped one"}
        surrogates[target] = replace(fitted["surrogate"], card=card)
        if log is not None:
            log(f"{target}: refitted with {len(added)} added rows ({len(data.y)} in all)")
    return SurrogateSet(surrogates, models.domain)


def feature_labels() -> list[str]:
    """Names of the model matrix columns."""
    return feature_names() + list(CONTEXT_FEATURES)
