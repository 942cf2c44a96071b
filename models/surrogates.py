"""Surrogates of the intrinsic properties: predictions with a calibrated sigma and a domain flag.

A :class:`SurrogateSet` holds one :class:`Surrogate` per target (``Js_T``, ``K1_MJm3``, ``Tc_K``) and
one :class:`Domain`. The targets are predicted at the reference temperature
:data:`REFERENCE_TEMPERATURE_K` (295 K; ``Tc_K`` has no temperature) from the composition descriptors of
:func:`magnetscreen.descriptors.featurize` plus two context columns (:data:`CONTEXT_FEATURES`: the
temperature of the value and whether it is a DFT value), which are set to 295 K and "experiment" when
screening.

Uncertainty: ``sigma = sigma_scale * (spread + sigma_floor)``, where ``spread`` is the per-tree standard
deviation of a forest (0 for boosting and the nearest-phase baseline), ``sigma_floor`` is the mean
out-of-fold spread (1 for models without spread, so that sigma is a constant), and ``sigma_scale`` is a
split-conformal quantile of the out-of-fold scores ``|y - prediction| / (spread + sigma_floor)`` at the
1-sigma level (68.27 %). ``mean ± sigma`` therefore covers 68.27 % of held-out values when the data are
exchangeable; the coverage measured on held-out folds is in every model card.

Domain of applicability: see :class:`Domain`.

Model files are flat arrays in safetensors files listed, with their sizes and checksums, in a detached
``manifest.json`` (:mod:`magnetscreen.models.modelfile`); loading never unpickles anything and checks every
array before a kernel sees it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from magnetscreen.datasets.elements import N_Z
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.featurize import featurize
from magnetscreen.descriptors.prototypes import PROTOTYPES, prototype_codes
from magnetscreen.models import surrogate_kernels as _k
from magnetscreen.models.modelfile import (
    ArraySpec,
    ModelFileError,
    read_json_file,
    read_tensors,
    save_tensors,
    verify_folder,
    write_folder_manifest,
)
from magnetscreen.models.priors import PriorTable, easy_plane_mask
from magnetscreen.models.trees import ARRAY_SPECS as _TREE_SPECS
from magnetscreen.models.trees import FlatEnsemble, ensemble_from_arrays

__all__ = [
    "TARGETS",
    "UNITS",
    "REFERENCE_TEMPERATURE_K",
    "CONTEXT_FEATURES",
    "Surrogate",
    "Domain",
    "ROUTES",
    "SurrogateSet",
    "domain_notes",
    "domain_note_codes",
    "model_matrix",
    "context_tail",
    "load_surrogates",
    "default_model_dir",
]

TARGETS = ("Js_T", "K1_MJm3", "Tc_K")
UNITS = {"Js_T": "T", "K1_MJm3": "MJ/m^3", "Tc_K": "K"}
REFERENCE_TEMPERATURE_K = 295.0
CONTEXT_FEATURES = ("T_K", "is_dft")
KINDS = ("random_forest", "extra_trees", "gradient_boosting", "nearest_phase")
#: How a row is predicted (see :class:`Surrogate`).
ROUTES = ("learning", "hybrid", "prior")
_TREE_ARRAYS = ("offset", "left", "right", "feature", "threshold", "value")


def model_matrix(descriptors: np.ndarray, T_K: np.ndarray | float = REFERENCE_TEMPERATURE_K,
                 is_dft: np.ndarray | float = 0.0) -> np.ndarray:
    """Model input: the descriptor matrix with the context columns ``T_K`` and ``is_dft`` appended.

    Parameters
    ----------
    descriptors : ndarray of float64, shape (n, n_descriptors)
    T_K : float or ndarray of float, shape (n,), default=295
    is_dft : float or ndarray of float, shape (n,), default=0

    Returns
    -------
    ndarray of float64, shape (n, n_descriptors + 2)
    """
    n = descriptors.shape[0]
    out = np.empty((n, descriptors.shape[1] + 2), dtype=np.float64)
    out[:, :-2] = descriptors
    out[:, -2] = T_K
    out[:, -1] = is_dft
    return out


def context_tail(T_K: float = REFERENCE_TEMPERATURE_K, is_dft: float = 0.0) -> np.ndarray:
    """The context columns of :func:`model_matrix` for rows that share them, float64 (2,): a model given the
    descriptors and this tail predicts as it does on ``model_matrix(descriptors, T_K, is_dft)``."""
    return np.array([T_K, is_dft], dtype=np.float64)


@dataclass(frozen=True)
class Surrogate:
    """One target's model and its calibration: learning, physics prior and hybrid routes per prototype.

    A row is predicted by the route of its prototype (``routes[prototype]``, an index of :data:`ROUTES`):

    - ``learning``: the learned model alone (``ensemble``, or the nearest-phase baseline);
    - ``hybrid``: the end-member prior (:mod:`magnetscreen.models.priors`) plus the learned model of the
      residual ``y - prior`` (``residual``);
    - ``prior``: the end-member prior alone.

    A row whose prior is undefined (an end member it needs has no value) falls back to ``learning``. The
    route of every prototype was chosen by grouped cross-validation (see :mod:`magnetscreen.models.training`).

    Attributes
    ----------
    target : str
    kind : str
        The learned model: one of :data:`KINDS`.
    ensemble : FlatEnsemble or None
        The trees (None for ``nearest_phase``).
    phase_elements, phase_fractions, phase_values : ndarray or None
        Training compositions and values of the ``nearest_phase`` baseline.
    sigma_scale, sigma_floor : ndarray of float64, shape (3,)
        Per route: ``sigma = sigma_scale[route] * (spread + sigma_floor[route])``.
    card : dict
        The model card (JSON-ready).
    prior : PriorTable or None
    residual : FlatEnsemble or None
    routes : ndarray of int64, shape (len(PROTOTYPES),), or None (learning everywhere)
    """

    target: str
    kind: str
    ensemble: FlatEnsemble | None
    phase_elements: np.ndarray | None
    phase_fractions: np.ndarray | None
    phase_values: np.ndarray | None
    sigma_scale: np.ndarray
    sigma_floor: np.ndarray
    card: dict = field(default_factory=dict, compare=False)
    prior: PriorTable | None = None
    residual: FlatEnsemble | None = None
    routes: np.ndarray | None = None

    def predict_learning(self, X: np.ndarray, batch: CompositionBatch,
                         tail: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Point prediction and spread of the learned model alone (spread 0 without an ensemble).

        ``tail``: the context columns, the same for every row, when X holds the descriptors only
        (:func:`context_tail`)."""
        if self.ensemble is not None:
            return self.ensemble.predict(X, tail)
        value, _ = _k.nearest_phase_kernel(batch.elements, batch.fractions, self.phase_elements,
                                           self.phase_fractions, self.phase_values)
        return value, np.zeros_like(value)

    def predict_raw(self, X: np.ndarray, batch: CompositionBatch, prototypes: np.ndarray | None = None,
                    tail: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Point prediction, spread and route index of every row (uncalibrated).

        The learned model runs only on the rows it decides (those of a ``learning`` prototype and those whose
        prior is undefined) when they are at most half of the rows; above that, on every row without copying X,
        and the prior and hybrid routes replace their rows.
        """
        n = X.shape[0]
        route = np.zeros(n, dtype=np.int64)
        if self.routes is None or self.prior is None:
            mean, spread = self.predict_learning(X, batch, tail)
            return mean, spread, route
        if prototypes is None:
            prototypes = prototype_codes(batch)
        # the rows a prior decides: (rows, prior value, route) of the hybrid and prior routes
        decided: list[tuple[np.ndarray, np.ndarray, int]] = []
        wanted = np.where(self.routes[prototypes] > 0)[0]
        if len(wanted):
            everyone = len(wanted) == n
            prior = self.prior.evaluate(batch if everyone else batch.take(wanted),
                                        prototypes if everyone else prototypes[wanted])
            ok = np.isfinite(prior)
            rows, prior = wanted[ok], prior[ok]
            chosen = self.routes[prototypes[rows]]
            for name in ("hybrid", "prior"):
                which = chosen == ROUTES.index(name)
                if name == "hybrid" and self.residual is None:  # without its residual model, hybrid falls back
                    continue
                if which.any():
                    decided.append((rows[which], prior[which], ROUTES.index(name)))
        n_decided = sum(len(r) for r, _, _ in decided)
        if 2 * (n - n_decided) > n:  # the learned model decides most rows: run it on every row (no copy of X)
            mean, spread = self.predict_learning(X, batch, tail)
        else:
            mean, spread = np.empty(n, dtype=np.float64), np.empty(n, dtype=np.float64)
            learning = np.ones(n, dtype=bool)
            for rows, _, _ in decided:
                learning[rows] = False
            if learning.any():
                rows = np.where(learning)[0]
                mean[rows], spread[rows] = self.predict_learning(X[rows], batch.take(rows), tail)
        for rows, prior, code in decided:
            if code == ROUTES.index("hybrid"):
                assert self.residual is not None
                r_mean, r_spread = self.residual.predict(X[rows], tail)
                mean[rows] = prior + r_mean
                spread[rows] = r_spread
            else:
                mean[rows] = prior
                spread[rows] = 0.0
            route[rows] = code
        return mean, spread, route

    def predict(self, X: np.ndarray, batch: CompositionBatch, prototypes: np.ndarray | None = None,
                tail: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Mean and calibrated 1-sigma of the target for the rows of ``X`` (model matrix, or descriptors with
        ``tail``) / ``batch``."""
        mean, spread, route = self.predict_raw(X, batch, prototypes, tail)
        return mean, self.sigma_scale[route] * (spread + self.sigma_floor[route])


@dataclass(frozen=True)
class Domain:
    """Domain of applicability: same prototype, and close in descriptor space.

    Descriptors are standardized with the training mean and standard deviation (1 where a descriptor is
    constant in the training data) and compared in the subspace of the ``k`` leading principal
    directions of the standardized training rows plus the norm of the remainder (see
    :func:`magnetscreen.models.surrogate_kernels.domain_distance_kernel`). A candidate is *in domain* for
    a target when the target has training compositions of the candidate's prototype and the distance to the
    nearest of them is at most the target's threshold. The threshold is chosen on grouped held-out folds so
    that held-out errors in domain are measurably smaller than out of domain (see
    :mod:`magnetscreen.models.training`; both errors are in the model card).

    The training rows are sorted by prototype: those of prototype ``q`` are rows
    ``proto_start[q]:proto_start[q + 1]``.
    """

    targets: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    train_proj: np.ndarray
    train_resid: np.ndarray
    train_mask: np.ndarray
    thresholds: np.ndarray
    proto_start: np.ndarray

    def distances(self, descriptors: np.ndarray, prototypes: np.ndarray, mask: np.ndarray | None = None,
                  finite: np.ndarray | None = None) -> np.ndarray:
        """Distance of each row to the nearest training composition of its prototype, per target: float64
        (n, n_targets) (inf where the target has no training composition of that prototype). ``finite`` (bool
        (n,), optional) receives whether each row's descriptors are all finite."""
        X = np.ascontiguousarray(descriptors, dtype=np.float64)
        if finite is None:
            finite = np.empty(len(X), dtype=bool)
        return _k.domain_distance_kernel(X, np.ascontiguousarray(prototypes, dtype=np.int64), self.mean, self.scale,
                                         np.ascontiguousarray(self.components.T), self.train_proj, self.train_resid,
                                         self.train_mask if mask is None else np.ascontiguousarray(mask),
                                         self.proto_start, finite)

    def project(self, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Projection and residual norm of rows (used to build the training arrays)."""
        z = (np.asarray(descriptors, dtype=np.float64) - self.mean) / self.scale
        proj = z @ self.components.T
        rest = np.einsum("ij,ij->i", z, z) - np.einsum("ij,ij->i", proj, proj)
        return proj, np.sqrt(np.clip(rest, 0.0, None))

    def has_rows(self) -> np.ndarray:
        """bool (P, n_targets): whether the target has training compositions of each prototype."""
        out = np.zeros((len(self.proto_start) - 1, len(self.targets)), dtype=bool)
        for q in range(len(self.proto_start) - 1):
            out[q] = self.train_mask[self.proto_start[q]: self.proto_start[q + 1]].any(axis=0)
        return out


#: States of a target's domain flag in :func:`domain_notes`: in domain, no data of the prototype, far.
_DOMAIN_STATES = ("", "no {target} data for {prototype}", "{target} data of {prototype} too far")


def domain_notes(states: np.ndarray, prototypes: np.ndarray, targets: tuple[str, ...]) -> np.ndarray:
    """What each row's domain flag is missing, as text ("" when in domain for every target).

    ``states`` is int (n, T): 0 in domain, 1 no training row of the target and prototype, 2 training rows of
    the prototype but none within the threshold. Built by table look-up (at most 3^T x P distinct notes).
    """
    codes, table = domain_note_codes(states, prototypes, targets)
    return table[codes]


def domain_note_codes(states: np.ndarray, prototypes: np.ndarray, targets: tuple[str, ...]
                      ) -> tuple[np.ndarray, np.ndarray]:
    """The notes of :func:`domain_notes` as codes into a table: ``table[codes]`` is the text (for building it
    only for the rows that need it)."""
    code = np.zeros(len(states), dtype=np.int64)
    for t in range(len(targets)):
        code = code * 3 + states[:, t]
    table = _note_table(targets)
    return code * table.shape[1] + np.clip(prototypes, 0, len(PROTOTYPES) - 1), table.reshape(-1)


@lru_cache(maxsize=8)
def _note_table(targets: tuple[str, ...]) -> np.ndarray:
    """Fixed-width notes of :func:`domain_notes`, indexed by state code and prototype."""
    n_t = len(targets)
    table = np.empty((3**n_t, len(PROTOTYPES)), dtype=object)
    for c in range(3**n_t):
        digits, rest = [], c
        for _ in range(n_t):
            digits.append(rest % 3)
            rest //= 3
        digits = digits[::-1]
        for q, proto in enumerate(PROTOTYPES):
            parts = [_DOMAIN_STATES[d].format(target=targets[t], prototype=proto) for t, d in enumerate(digits) if d]
            table[c, q] = "; ".join(parts)
    return table.astype(str)


@dataclass(frozen=True)
class SurrogateSet:
    """The surrogates of every target and their shared domain."""

    surrogates: dict[str, Surrogate]
    domain: Domain
    files: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def cards(self) -> dict[str, dict]:
        return {t: s.card for t, s in self.surrogates.items()}

    def predict_descriptors(self, descriptors: np.ndarray, batch: CompositionBatch,
                            note_codes: bool = False) -> dict[str, np.ndarray]:
        """Predictions for already featurized rows (see :meth:`predict`). With ``note_codes`` the domain notes
        come as ``domain_note_code`` and ``domain_note_table`` (:func:`domain_note_codes`) instead of text."""
        X = np.ascontiguousarray(descriptors, dtype=np.float64)
        tail = context_tail()  # the model matrix's context columns, without copying the descriptors
        prototypes = prototype_codes(batch)
        out: dict[str, np.ndarray] = {"prototype": np.array(PROTOTYPES)[prototypes]}
        finite = np.empty(len(batch), dtype=bool)
        distance = self.domain.distances(descriptors, prototypes, finite=finite)
        has_rows = self.domain.has_rows()[prototypes]
        in_domain = np.ones(len(batch), dtype=bool)
        states = np.zeros((len(batch), len(self.domain.targets)), dtype=np.int64)
        bad = ~finite
        for t, target in enumerate(self.domain.targets):
            surrogate = self.surrogates[target]
            mean, spread, route = surrogate.predict_raw(X, batch, prototypes, tail)
            if target == "K1_MJm3":
                mean = np.where(easy_plane_mask(batch, prototypes), np.minimum(mean, 0.0), mean)
            sigma = surrogate.sigma_scale[route] * (spread + surrogate.sigma_floor[route])
            mean[bad] = np.nan
            sigma[bad] = np.nan
            out[target] = mean
            out[f"{target}_sigma"] = sigma
            out[f"{target}_route"] = np.array(ROUTES)[route]
            out[f"{target}_distance"] = distance[:, t]
            inside = distance[:, t] <= self.domain.thresholds[t]
            out[f"{target}_in_domain"] = inside
            states[:, t] = np.where(inside, 0, np.where(has_rows[:, t], 2, 1))
            in_domain &= inside
        out["in_domain"] = in_domain
        if note_codes:
            out["domain_note_code"], out["domain_note_table"] = domain_note_codes(states, prototypes,
                                                                                  self.domain.targets)
        else:
            out["domain_note"] = domain_notes(states, prototypes, self.domain.targets)
        return out

    def predict(self, compositions) -> dict[str, np.ndarray]:
        """Predict every target for compositions (formulas, mappings or a :class:`CompositionBatch`).

        Returns
        -------
        dict of ndarray, shape (n,)
            ``prototype``; ``{target}`` (mean at 295 K), ``{target}_sigma`` (calibrated 1-sigma),
            ``{target}_route`` (learning, hybrid or prior), ``{target}_distance``, ``{target}_in_domain`` for
            each target; ``in_domain`` (all targets in domain) and ``domain_note`` (what is missing, "" when
            in domain). A row whose descriptors are not finite gets NaN predictions and is out of domain.
        """
        batch = compositions if isinstance(compositions, CompositionBatch) else encode(compositions)
        descriptors, _ = featurize(batch)
        return self.predict_descriptors(descriptors, batch)


# ----------------------------------------------------------------------------------------------- files

def default_model_dir() -> Path:
    """Folder of the shipped default models (package data ``magnetscreen.models.data``)."""
    return Path(str(resources.files("magnetscreen.models") / "data"))


#: Format of a model folder (its detached manifest).
FOLDER_FORMAT = "magnetscreen-models"
FOLDER_VERSION = 3
_DOMAIN_SPECS = {
    "mean": ArraySpec("float64", 1, finite=True),
    "scale": ArraySpec("float64", 1, finite=True),
    "components": ArraySpec("float64", 2, finite=True),
    "train_proj": ArraySpec("float64", 2, finite=True),
    "train_resid": ArraySpec("float64", 1, finite=True),
    "train_mask": ArraySpec("bool", 2),
    "thresholds": ArraySpec("float64", 1, finite=True),
    "proto_start": ArraySpec("int64", 1),
}
_PHASE_SPECS = {
    "phase_elements": ArraySpec("int16", 2),
    "phase_fractions": ArraySpec("float64", 2, finite=True),
    "phase_values": ArraySpec("float64", 1, finite=True),
}
_PRIOR_SPECS = {
    "prior_values": ArraySpec("float64", 4),
    "prior_a_slot": ArraySpec("int64", 2),
    "prior_host_slot": ArraySpec("int64", 1),
    "prior_level_fraction": ArraySpec("float64", 1, finite=True),
    "prior_has_a_site": ArraySpec("bool", 1),
    "prior_measured": ArraySpec("bool", 4),
    "routes": ArraySpec("int64", 1),
}
_RESIDUAL_SPECS = {f"residual_{n}": spec for n, spec in _TREE_SPECS.items()}


def _ensemble_settings(ensemble: FlatEnsemble) -> dict:
    return {"ensemble_kind": ensemble.kind, "n_features": ensemble.n_features, "init": ensemble.init,
            "learning_rate": ensemble.learning_rate}


def save_surrogates(models: SurrogateSet, directory: str | Path) -> dict[str, str]:
    """Write a model folder: ``{target}.safetensors``, ``{target}.card.json``, ``domain.safetensors`` and the
    detached ``manifest.json`` (sizes and SHA-256 of every file, model settings).

    Returns the SHA-256 of every file written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    settings = {}
    for target, s in models.surrogates.items():
        entry: dict = {"kind": s.kind, "sigma_scale": [float(v) for v in s.sigma_scale],
                       "sigma_floor": [float(v) for v in s.sigma_floor]}
        if s.ensemble is not None:
            arrays = {n: getattr(s.ensemble, n) for n in _TREE_ARRAYS}
            entry.update(_ensemble_settings(s.ensemble))
        else:
            arrays = {"phase_elements": np.asarray(s.phase_elements, dtype=np.int16),
                      "phase_fractions": s.phase_fractions, "phase_values": s.phase_values}
        if s.prior is not None and s.routes is not None:
            arrays.update(s.prior.arrays())
            arrays["routes"] = np.asarray(s.routes, dtype=np.int64)
            entry["prior"] = True
        if s.residual is not None:
            arrays.update({f"residual_{n}": getattr(s.residual, n) for n in _TREE_ARRAYS})
            entry["residual"] = _ensemble_settings(s.residual)
        settings[target] = entry
        save_tensors(directory / f"{target}.safetensors", arrays, {"target": target})
        text = json.dumps(s.card, indent=2, sort_keys=True) + "\n"
        tmp = directory / f".{target}.card.json.partial"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(directory / f"{target}.card.json")
        files += [f"{target}.safetensors", f"{target}.card.json"]
    d = models.domain
    save_tensors(directory / "domain.safetensors",
                 {"mean": d.mean, "scale": d.scale, "components": d.components, "train_proj": d.train_proj,
                  "train_resid": d.train_resid, "train_mask": d.train_mask, "thresholds": d.thresholds,
                  "proto_start": d.proto_start},
                 {"targets": list(d.targets)})
    files.append("domain.safetensors")
    info = {"format": FOLDER_FORMAT, "format_version": FOLDER_VERSION, "targets": list(models.surrogates),
            "n_descriptors": int(d.mean.shape[0]), "models": settings}
    return write_folder_manifest(directory, files, info)


def _number(value, where: str, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < low:
        raise ModelFileError(f"{where}: expected a finite number >= {low:g}, got {value!r}")
    return float(value)


def _per_route(value, where: str) -> np.ndarray:
    if not isinstance(value, list) or len(value) != len(ROUTES):
        raise ModelFileError(f"{where}: expected a list of {len(ROUTES)} numbers (one per route: "
                             f"{', '.join(ROUTES)}), got {value!r}")
    return np.array([_number(v, f"{where}[{i}]") for i, v in enumerate(value)])


def _check_domain(arrays: dict[str, np.ndarray], n_desc: int, n_targets: int, path: Path) -> Domain:
    mean, scale, comp = arrays["mean"], arrays["scale"], arrays["components"]
    proj, resid, mask, thr = arrays["train_proj"], arrays["train_resid"], arrays["train_mask"], arrays["thresholds"]
    start = arrays["proto_start"]
    if mean.shape != (n_desc,) or scale.shape != (n_desc,):
        raise ModelFileError(f"{path}: arrays 'mean'/'scale' have shapes {list(mean.shape)}/{list(scale.shape)}, "
                             f"expected [{n_desc}] (one per descriptor)")
    if np.any(scale <= 0):
        raise ModelFileError(f"{path}: array 'scale' has a value <= 0")
    k = comp.shape[0]
    if comp.shape != (k, n_desc) or not 1 <= k <= n_desc:
        raise ModelFileError(f"{path}: array 'components' has shape {list(comp.shape)}, expected [k, {n_desc}] with "
                             f"1 <= k <= {n_desc}")
    m = proj.shape[0]
    if m < 1 or proj.shape != (m, k):
        raise ModelFileError(f"{path}: array 'train_proj' has shape {list(proj.shape)}, expected [m, {k}] with m >= 1")
    if resid.shape != (m,) or np.any(resid < 0):
        raise ModelFileError(f"{path}: array 'train_resid' has shape {list(resid.shape)} or a negative value, "
                             f"expected [{m}] values >= 0 (one per training row of 'train_proj')")
    if mask.shape != (m, n_targets):
        raise ModelFileError(f"{path}: array 'train_mask' has shape {list(mask.shape)}, expected [{m}, {n_targets}] "
                             "(training rows x targets)")
    if thr.shape != (n_targets,) or np.any(thr < 0):
        raise ModelFileError(f"{path}: array 'thresholds' has shape {list(thr.shape)} or a negative value, expected "
                             f"[{n_targets}] values >= 0")
    if (start.shape != (len(PROTOTYPES) + 1,) or start[0] != 0 or start[-1] != m or np.any(np.diff(start) < 0)):
        raise ModelFileError(f"{path}: array 'proto_start' must hold {len(PROTOTYPES) + 1} non-decreasing row offsets "
                             f"from 0 to {m} (training rows sorted by prototype), got {start.tolist()[:20]}")
    return Domain(TARGETS, np.ascontiguousarray(mean), np.ascontiguousarray(scale), np.ascontiguousarray(comp),
                  np.ascontiguousarray(proj), np.ascontiguousarray(resid), np.ascontiguousarray(mask),
                  np.ascontiguousarray(thr), np.ascontiguousarray(start))


def _check_prior(arrays: dict[str, np.ndarray], path: Path) -> tuple[PriorTable, np.ndarray]:
    values, a_slot, host = arrays["prior_values"], arrays["prior_a_slot"], arrays["prior_host_slot"]
    level, has_a, measured, routes = (arrays["prior_level_fraction"], arrays["prior_has_a_site"],
                                      arrays["prior_measured"], arrays["routes"])
    P = len(PROTOTYPES)
    n_a = values.shape[1] if values.ndim == 4 else 0
    if values.shape[0] != P or values.shape[2:] != (2, 2) or not 1 <= n_a <= N_Z:
        raise ModelFileError(f"{path}: array 'prior_values' has shape {list(values.shape)}, expected "
                             f"[{P}, A, 2, 2] (prototypes x A-site slots x hosts x levels)")
    if np.any(np.isinf(values)):
        raise ModelFileError(f"{path}: array 'prior_values' holds an infinite value (unknown end members are NaN)")
    if measured.shape != values.shape or np.any(measured & np.isnan(values)):
        raise ModelFileError(f"{path}: array 'prior_measured' must have the shape of 'prior_values' and be False "
                             "where a value is NaN")
    if a_slot.shape != (P, N_Z) or np.any((a_slot < -1) | (a_slot >= n_a)):
        raise ModelFileError(f"{path}: array 'prior_a_slot' must have shape [{P}, {N_Z}] with slots in -1..{n_a - 1}")
    if host.shape != (N_Z,) or np.any((host < -1) | (host >= 2)):
        raise ModelFileError(f"{path}: array 'prior_host_slot' must have shape [{N_Z}] with slots in -1..1")
    if level.shape != (P,) or np.any((level < 0) | (level > 1)) or has_a.shape != (P,):
        raise ModelFileError(f"{path}: arrays 'prior_level_fraction'/'prior_has_a_site' must have shape [{P}] "
                             "(fractions in [0, 1])")
    if routes.shape != (P,) or np.any((routes < 0) | (routes >= len(ROUTES))):
        raise ModelFileError(f"{path}: array 'routes' must hold one route index in 0..{len(ROUTES) - 1} per "
                             f"prototype ({P}), got {routes.tolist()[:20]}")
    table = PriorTable(*(np.ascontiguousarray(a) for a in (values, a_slot, host, level, has_a, measured)))
    return table, np.ascontiguousarray(routes)


def _load_surrogate(directory: Path, target: str, settings, card: dict, n_desc: int) -> Surrogate:
    path = directory / f"{target}.safetensors"
    where = f"{directory / 'manifest.json'}: models.{target}"
    if not isinstance(settings, dict):
        raise ModelFileError(f"{where}: expected an object")
    kind = settings.get("kind")
    if kind not in KINDS:
        raise ModelFileError(f"{where}.kind: unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    scale = _per_route(settings.get("sigma_scale"), f"{where}.sigma_scale")
    floor = _per_route(settings.get("sigma_floor"), f"{where}.sigma_floor")
    has_prior = settings.get("prior", False)
    residual_settings = settings.get("residual")
    if has_prior not in (True, False):
        raise ModelFileError(f"{where}.prior: expected true or false, got {has_prior!r}")
    if residual_settings is not None and (not isinstance(residual_settings, dict) or not has_prior):
        raise ModelFileError(f"{where}.residual: expected an object, and only with a prior")
    specs = dict(_PHASE_SPECS) if kind == "nearest_phase" else dict(_TREE_SPECS)
    if has_prior:
        specs.update(_PRIOR_SPECS)
    if residual_settings is not None:
        specs.update(_RESIDUAL_SPECS)
    arrays, _ = read_tensors(path, specs)
    n_features = n_desc + len(CONTEXT_FEATURES)
    prior = routes = residual = None
    if has_prior:
        prior, routes = _check_prior(arrays, path)
    if residual_settings is not None:
        residual = ensemble_from_arrays({n: arrays[f"residual_{n}"] for n in _TREE_ARRAYS},
                                        {"kind": residual_settings.get("ensemble_kind"),
                                         "n_features": residual_settings.get("n_features"),
                                         "init": residual_settings.get("init", 0.0),
                                         "learning_rate": residual_settings.get("learning_rate", 1.0)}, path)
        if residual.n_features != n_features:
            raise ModelFileError(f"{path}: the residual trees use {residual.n_features} features, expected "
                                 f"{n_features}")
    if kind == "nearest_phase":
        elements, fractions, values = arrays["phase_elements"], arrays["phase_fractions"], arrays["phase_values"]
        m = values.shape[0]
        if m < 1 or elements.shape[0] != m or fractions.shape != elements.shape:
            raise ModelFileError(f"{path}: arrays 'phase_elements' {list(elements.shape)}, 'phase_fractions' "
                                 f"{list(fractions.shape)} and 'phase_values' {list(values.shape)} do not describe "
                                 "the same training rows")
        if np.any((elements < 0) | (elements >= N_Z)):
            raise ModelFileError(f"{path}: array 'phase_elements' has an atomic number outside 0..{N_Z - 1}")
        if np.any((fractions < 0) | (fractions > 1)):
            raise ModelFileError(f"{path}: array 'phase_fractions' has a fraction outside [0, 1]")
        return Surrogate(target, kind, None, elements, fractions, values, scale, floor, card, prior, residual, routes)
    meta = {"kind": settings.get("ensemble_kind"), "n_features": settings.get("n_features"),
            "init": settings.get("init", 0.0), "learning_rate": settings.get("learning_rate", 1.0)}
    ensemble = ensemble_from_arrays({n: arrays[n] for n in _TREE_ARRAYS}, meta, path)
    if ensemble.n_features != n_features:
        raise ModelFileError(f"{path}: the trees use {ensemble.n_features} features, the descriptors give "
                             f"{n_desc} + {len(CONTEXT_FEATURES)} context columns")
    return Surrogate(target, kind, ensemble, None, None, None, scale, floor, card, prior, residual, routes)


def load_surrogates(directory: str | Path | None = None) -> SurrogateSet:
    """Load a model folder written by :func:`save_surrogates` (default: the shipped models).

    The detached manifest is checked first, then every file's size and checksum, then every array's dtype,
    shape, finiteness and consistency with the others, before any kernel sees them.

    Raises
    ------
    ModelFileError
        A file missing, failing its checksum or its checks, or inconsistent with the others; the message
        names the file, the array and the problem.
    """
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _load_default() -> SurrogateSet:
    return _load(default_model_dir())


def _load(directory: Path) -> SurrogateSet:
    from magnetscreen.descriptors.featurize import feature_names

    manifest, digests = verify_folder(directory, FOLDER_FORMAT, FOLDER_VERSION)
    where = directory / "manifest.json"
    if manifest.get("targets") != list(TARGETS):
        raise ModelFileError(f"{where}: targets {manifest.get('targets')!r}, expected {list(TARGETS)}")
    n_desc = len(feature_names())
    if manifest.get("n_descriptors") != n_desc:
        raise ModelFileError(f"{where}: n_descriptors {manifest.get('n_descriptors')!r}, this magnetscreen computes "
                             f"{n_desc} descriptors")
    listed = set(digests)
    for name in [f"{t}.safetensors" for t in TARGETS] + [f"{t}.card.json" for t in TARGETS] + ["domain.safetensors"]:
        if name not in listed:
            raise ModelFileError(f"{where}: files: {name!r} is not listed")
    arrays, meta = read_tensors(directory / "domain.safetensors", _DOMAIN_SPECS)
    if meta.get("targets") != list(TARGETS):
        raise ModelFileError(f"{directory / 'domain.safetensors'}: targets {meta.get('targets')!r}, expected "
                             f"{list(TARGETS)}")
    domain = _check_domain(arrays, n_desc, len(TARGETS), directory / "domain.safetensors")
    models = manifest.get("models")
    if not isinstance(models, dict):
        raise ModelFileError(f"{where}: models: expected an object with one entry per target")
    surrogates = {}
    for target in TARGETS:
        card = read_json_file(directory / f"{target}.card.json", "the model card")
        if not isinstance(card, dict):
            raise ModelFileError(f"{directory / (target + '.card.json')}: expected a JSON object")
        surrogates[target] = _load_surrogate(directory, target, models.get(target), card, n_desc)
    return SurrogateSet(surrogates, domain, digests)
