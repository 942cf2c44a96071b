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
from magnetscreen.models.trees import ARRAY_SPECS as _TREE_SPECS
from magnetscreen.models.trees import FlatEnsemble, ensemble_from_arrays

__all__ = [
    "TARGETS",
    "UNITS",
    "REFERENCE_TEMPERATURE_K",
    "CONTEXT_FEATURES",
    "Surrogate",
    "Domain",
    "SurrogateSet",
    "model_matrix",
    "load_surrogates",
    "default_model_dir",
]

TARGETS = ("Js_T", "K1_MJm3", "Tc_K")
UNITS = {"Js_T": "T", "K1_MJm3": "MJ/m^3", "Tc_K": "K"}
REFERENCE_TEMPERATURE_K = 295.0
CONTEXT_FEATURES = ("T_K", "is_dft")
KINDS = ("random_forest", "extra_trees", "gradient_boosting", "nearest_phase")
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


@dataclass(frozen=True)
class Surrogate:
    """One target's model and its calibration.

    Attributes
    ----------
    target : str
    kind : str
        One of :data:`KINDS`.
    ensemble : FlatEnsemble or None
        The trees (None for ``nearest_phase``).
    phase_elements, phase_fractions, phase_values : ndarray or None
        Training compositions and values of the ``nearest_phase`` baseline.
    sigma_scale, sigma_floor : float
        ``sigma = sigma_scale * (spread + sigma_floor)``.
    card : dict
        The model card (JSON-ready).
    """

    target: str
    kind: str
    ensemble: FlatEnsemble | None
    phase_elements: np.ndarray | None
    phase_fractions: np.ndarray | None
    phase_values: np.ndarray | None
    sigma_scale: float
    sigma_floor: float
    card: dict = field(default_factory=dict, compare=False)

    def predict_raw(self, X: np.ndarray, batch: CompositionBatch) -> tuple[np.ndarray, np.ndarray]:
        """Point prediction and spread (0 without an ensemble spread)."""
        if self.ensemble is not None:
            return self.ensemble.predict(X)
        value, _ = _k.nearest_phase_kernel(batch.elements, batch.fractions, self.phase_elements,
                                           self.phase_fractions, self.phase_values)
        return value, np.zeros_like(value)

    def predict(self, X: np.ndarray, batch: CompositionBatch) -> tuple[np.ndarray, np.ndarray]:
        """Mean and calibrated 1-sigma of the target for the rows of ``X`` (model matrix) / ``batch``."""
        mean, spread = self.predict_raw(X, batch)
        return mean, self.sigma_scale * (spread + self.sigma_floor)


@dataclass(frozen=True)
class Domain:
    """Domain of applicability in descriptor space.

    Descriptors are standardized with the training mean and standard deviation (1 where a descriptor is
    constant in the training data) and compared in the subspace of the ``k`` leading principal
    directions of the standardized training rows plus the norm of the remainder (see
    :func:`magnetscreen.models.surrogate_kernels.domain_distance_kernel`). A candidate is *in domain* for
    a target when its distance to the nearest training composition of that target is at most the
    target's threshold: the 95th percentile of the distances of the training compositions to their
    nearest other training composition (leave-one-out), so that a candidate counts as in domain when it
    is about as close to the data as the data are to each other.
    """

    targets: tuple[str, ...]
    mean: np.ndarray
    scale: np.ndarray
    components: np.ndarray
    train_proj: np.ndarray
    train_resid: np.ndarray
    train_mask: np.ndarray
    thresholds: np.ndarray

    def distances(self, descriptors: np.ndarray) -> np.ndarray:
        """Distance of each row to the nearest training composition, per target: float64 (n, n_targets)."""
        X = np.ascontiguousarray(descriptors, dtype=np.float64)
        return _k.domain_distance_kernel(X, self.mean, self.scale, self.components, self.train_proj,
                                         self.train_resid, self.train_mask)

    def project(self, descriptors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Projection and residual norm of rows (used to build the training arrays)."""
        z = (np.asarray(descriptors, dtype=np.float64) - self.mean) / self.scale
        proj = z @ self.components.T
        rest = np.einsum("ij,ij->i", z, z) - np.einsum("ij,ij->i", proj, proj)
        return proj, np.sqrt(np.clip(rest, 0.0, None))


@dataclass(frozen=True)
class SurrogateSet:
    """The surrogates of every target and their shared domain."""

    surrogates: dict[str, Surrogate]
    domain: Domain
    files: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def cards(self) -> dict[str, dict]:
        return {t: s.card for t, s in self.surrogates.items()}

    def predict_descriptors(self, descriptors: np.ndarray, batch: CompositionBatch) -> dict[str, np.ndarray]:
        """Predictions for already featurized rows (see :meth:`predict`)."""
        X = model_matrix(descriptors)
        out: dict[str, np.ndarray] = {}
        distance = self.domain.distances(descriptors)
        in_domain = np.ones(len(batch), dtype=bool)
        for t, target in enumerate(self.domain.targets):
            mean, sigma = self.surrogates[target].predict(X, batch)
            bad = ~np.isfinite(distance[:, t])
            mean[bad] = np.nan
            sigma[bad] = np.nan
            out[target] = mean
            out[f"{target}_sigma"] = sigma
            out[f"{target}_distance"] = distance[:, t]
            inside = distance[:, t] <= self.domain.thresholds[t]
            out[f"{target}_in_domain"] = inside
            in_domain &= inside
        out["in_domain"] = in_domain
        return out

    def predict(self, compositions) -> dict[str, np.ndarray]:
        """Predict every target for compositions (formulas, mappings or a :class:`CompositionBatch`).

        Returns
        -------
        dict of ndarray, shape (n,)
            ``{target}`` (mean at 295 K), ``{target}_sigma`` (calibrated 1-sigma), ``{target}_distance``,
            ``{target}_in_domain`` for each target, and ``in_domain`` (all targets in domain). A row whose
            descriptors are not finite gets NaN predictions and is out of domain.
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
FOLDER_VERSION = 2
_DOMAIN_SPECS = {
    "mean": ArraySpec("float64", 1, finite=True),
    "scale": ArraySpec("float64", 1, finite=True),
    "components": ArraySpec("float64", 2, finite=True),
    "train_proj": ArraySpec("float64", 2, finite=True),
    "train_resid": ArraySpec("float64", 1, finite=True),
    "train_mask": ArraySpec("bool", 2),
    "thresholds": ArraySpec("float64", 1, finite=True),
}
_PHASE_SPECS = {
    "phase_elements": ArraySpec("int16", 2),
    "phase_fractions": ArraySpec("float64", 2, finite=True),
    "phase_values": ArraySpec("float64", 1, finite=True),
}


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
        if s.ensemble is not None:
            arrays = {n: getattr(s.ensemble, n) for n in _TREE_ARRAYS}
            settings[target] = {"kind": s.kind, "sigma_scale": s.sigma_scale, "sigma_floor": s.sigma_floor,
                                "ensemble_kind": s.ensemble.kind, "n_features": s.ensemble.n_features,
                                "init": s.ensemble.init, "learning_rate": s.ensemble.learning_rate}
        else:
            arrays = {"phase_elements": np.asarray(s.phase_elements, dtype=np.int16),
                      "phase_fractions": s.phase_fractions, "phase_values": s.phase_values}
            settings[target] = {"kind": s.kind, "sigma_scale": s.sigma_scale, "sigma_floor": s.sigma_floor}
        save_tensors(directory / f"{target}.safetensors", arrays, {"target": target})
        text = json.dumps(s.card, indent=2, sort_keys=True) + "\n"
        tmp = directory / f".{target}.card.json.partial"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(directory / f"{target}.card.json")
        files += [f"{target}.safetensors", f"{target}.card.json"]
    d = models.domain
    save_tensors(directory / "domain.safetensors",
                 {"mean": d.mean, "scale": d.scale, "components": d.components, "train_proj": d.train_proj,
                  "train_resid": d.train_resid, "train_mask": d.train_mask, "thresholds": d.thresholds},
                 {"targets": list(d.targets)})
    files.append("domain.safetensors")
    info = {"format": FOLDER_FORMAT, "format_version": FOLDER_VERSION, "targets": list(models.surrogates),
            "n_descriptors": int(d.mean.shape[0]), "models": settings}
    return write_folder_manifest(directory, files, info)


def _number(value, where: str, *, low: float = 0.0) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not np.isfinite(value) or value < low:
        raise ModelFileError(f"{where}: expected a finite number >= {low:g}, got {value!r}")
    return float(value)


def _check_domain(arrays: dict[str, np.ndarray], n_desc: int, n_targets: int, path: Path) -> Domain:
    mean, scale, comp = arrays["mean"], arrays["scale"], arrays["components"]
    proj, resid, mask, thr = arrays["train_proj"], arrays["train_resid"], arrays["train_mask"], arrays["thresholds"]
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
    return Domain(TARGETS, np.ascontiguousarray(mean), np.ascontiguousarray(scale), np.ascontiguousarray(comp),
                  np.ascontiguousarray(proj), np.ascontiguousarray(resid), np.ascontiguousarray(mask),
                  np.ascontiguousarray(thr))


def _load_surrogate(directory: Path, target: str, settings, card: dict, n_desc: int) -> Surrogate:
    path = directory / f"{target}.safetensors"
    where = f"{directory / 'manifest.json'}: models.{target}"
    if not isinstance(settings, dict):
        raise ModelFileError(f"{where}: expected an object")
    kind = settings.get("kind")
    if kind not in KINDS:
        raise ModelFileError(f"{where}.kind: unknown model kind {kind!r} (known: {', '.join(KINDS)})")
    scale = _number(settings.get("sigma_scale"), f"{where}.sigma_scale")
    floor = _number(settings.get("sigma_floor"), f"{where}.sigma_floor")
    if kind == "nearest_phase":
        arrays, _ = read_tensors(path, _PHASE_SPECS)
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
        return Surrogate(target, kind, None, elements, fractions, values, scale, floor, card)
    arrays, _ = read_tensors(path, {f"{n}": spec for n, spec in _TREE_SPECS.items()})
    meta = {"kind": settings.get("ensemble_kind"), "n_features": settings.get("n_features"),
            "init": settings.get("init", 0.0), "learning_rate": settings.get("learning_rate", 1.0)}
    ensemble = ensemble_from_arrays(arrays, meta, path)
    if ensemble.n_features != n_desc + len(CONTEXT_FEATURES):
        raise ModelFileError(f"{path}: the trees use {ensemble.n_features} features, the descriptors give "
                             f"{n_desc} + {len(CONTEXT_FEATURES)} context columns")
    return Surrogate(target, kind, ensemble, None, None, None, scale, floor, card)


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
