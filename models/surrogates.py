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

Model files are flat arrays in ``.npz`` with a checksum manifest (:mod:`magnetscreen.models.npzfile`);
loading never unpickles anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

import numpy as np

from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.featurize import featurize
from magnetscreen.models import surrogate_kernels as _k
from magnetscreen.models.npzfile import ModelFileError, file_digest, load_arrays, save_arrays
from magnetscreen.models.trees import FlatEnsemble, check_structure

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
_FORMAT = "magnetscreen-surrogate"
_DOMAIN_FORMAT = "magnetscreen-domain"
_VERSION = 1
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


def save_surrogates(models: SurrogateSet, directory: str | Path) -> dict[str, str]:
    """Write ``{target}.npz``, ``{target}.card.json`` and ``domain.npz`` to ``directory``.

    Returns the SHA-256 of every file written.
    """
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    for target, s in models.surrogates.items():
        arrays: dict[str, np.ndarray] = {}
        meta = {"target": target, "kind": s.kind, "sigma_scale": s.sigma_scale, "sigma_floor": s.sigma_floor}
        if s.ensemble is not None:
            arrays.update({f"tree_{n}": getattr(s.ensemble, n) for n in _TREE_ARRAYS})
            meta.update(ensemble_kind=s.ensemble.kind, n_features=s.ensemble.n_features, init=s.ensemble.init,
                        learning_rate=s.ensemble.learning_rate)
        else:
            arrays.update(phase_elements=s.phase_elements, phase_fractions=s.phase_fractions,
                          phase_values=s.phase_values)
        save_arrays(directory / f"{target}.npz", arrays, format_name=_FORMAT, format_version=_VERSION, metadata=meta)
        text = json.dumps(s.card, indent=2, sort_keys=True) + "\n"
        tmp = directory / f".{target}.card.json.partial"
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(directory / f"{target}.card.json")
    d = models.domain
    save_arrays(directory / "domain.npz",
                {"mean": d.mean, "scale": d.scale, "components": d.components, "train_proj": d.train_proj,
                 "train_resid": d.train_resid, "train_mask": d.train_mask, "thresholds": d.thresholds},
                format_name=_DOMAIN_FORMAT, format_version=_VERSION, metadata={"targets": list(d.targets)})
    return {p.name: file_digest(p) for p in sorted(directory.iterdir()) if p.suffix in (".npz", ".json")}


def _load_surrogate(path: Path, card: dict) -> Surrogate:
    arrays, meta = load_arrays(path, format_name=_FORMAT, format_version=_VERSION)
    kind = meta.get("kind")
    if kind not in KINDS:
        raise ModelFileError(f"{path}: unknown model kind {kind!r}")
    if kind == "nearest_phase":
        for name in ("phase_elements", "phase_fractions", "phase_values"):
            if name not in arrays:
                raise ModelFileError(f"{path}: array {name!r} missing")
        return Surrogate(meta["target"], kind, None, arrays["phase_elements"], arrays["phase_fractions"],
                         arrays["phase_values"], float(meta["sigma_scale"]), float(meta["sigma_floor"]), card)
    for name in _TREE_ARRAYS:
        if f"tree_{name}" not in arrays:
            raise ModelFileError(f"{path}: array 'tree_{name}' missing")
    ensemble = FlatEnsemble(kind=meta["ensemble_kind"], n_features=int(meta["n_features"]),
                            **{n: arrays[f"tree_{n}"] for n in _TREE_ARRAYS}, init=float(meta["init"]),
                            learning_rate=float(meta["learning_rate"]))
    check_structure(ensemble, path)
    return Surrogate(meta["target"], kind, ensemble, None, None, None, float(meta["sigma_scale"]),
                     float(meta["sigma_floor"]), card)


def load_surrogates(directory: str | Path | None = None) -> SurrogateSet:
    """Load a model folder written by :func:`save_surrogates` (default: the shipped models).

    Raises
    ------
    ModelFileError
        A file missing, failing its checksum or shape checks, or inconsistent with the others.
    """
    if directory is None:
        return _load_default()
    return _load(Path(directory))


@lru_cache(maxsize=1)
def _load_default() -> SurrogateSet:
    return _load(default_model_dir())


def _load(directory: Path) -> SurrogateSet:
    if not directory.is_dir():
        raise ModelFileError(f"{directory}: no such model folder (train one with `magnetscreen train --out DIR`)")
    arrays, meta = load_arrays(directory / "domain.npz", format_name=_DOMAIN_FORMAT, format_version=_VERSION,
                               required=("mean", "scale", "components", "train_proj", "train_resid", "train_mask",
                                         "thresholds"))
    targets = tuple(meta.get("targets", ()))
    if targets != TARGETS:
        raise ModelFileError(f"{directory / 'domain.npz'}: targets {list(targets)}, expected {list(TARGETS)}")
    domain = Domain(targets, **arrays)
    surrogates = {}
    for target in TARGETS:
        card_path = directory / f"{target}.card.json"
        try:
            card = json.loads(card_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelFileError(f"{card_path}: model card missing") from None
        except json.JSONDecodeError as exc:
            raise ModelFileError(f"{card_path}: not valid JSON ({exc})") from None
        surrogates[target] = _load_surrogate(directory / f"{target}.npz", card)
        if surrogates[target].target != target:
            raise ModelFileError(f"{directory / (target + '.npz')}: holds a model of {surrogates[target].target!r}")
    files = {p.name: file_digest(p) for p in sorted(directory.iterdir()) if p.suffix in (".npz", ".json")}
    return SurrogateSet(surrogates, domain, files)
