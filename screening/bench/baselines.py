"""Baselines of the benchmark suite, measured in the same run as magnetscreen on the same candidates.

- ``encode``: one pymatgen ``Composition`` per candidate, from which atomic and mass fractions are read.
- ``featurize``: matminer ``ElementProperty.from_preset("magpie")`` on a sample (``Composition`` objects
  built outside the timing), extrapolated per candidate.
- ``predict``: scikit-learn ``predict`` (n_jobs=1) of the tree ensembles of the shipped surrogates,
  rebuilt with the same estimator class, tree count, ``max_features=0.33`` and seed on the shipped
  training sets, against our kernel on the same flattened trees (mean and per-tree spread); the outputs
  are compared for bitwise equality.
- ``end_to_end``: the naive pipeline a script would run without magnetscreen, per chunk: a pymatgen
  ``Composition`` per candidate, matminer Magpie features, scikit-learn ``predict`` of models fitted on
  Magpie features of the same training sets. It does no physics, risk or ranking, which favours it.

A baseline whose library is not installed is recorded as ``{"status": "skipped", "reason": ...}`` and
gets no ratio.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["encode_baseline", "featurize_baseline", "inference_baseline", "naive_pipeline", "skipped"]

from magnetscreen.models.training import MAX_FEATURES  # the shipped forests' setting


def skipped(reason: str) -> dict:
    """The record of a baseline that could not run."""
    return {"status": "skipped", "reason": reason}


def _missing(*modules: str) -> str | None:
    import importlib.util

    absent = [m for m in modules if importlib.util.find_spec(m) is None]
    return f"{', '.join(absent)} not installed" if absent else None


def encode_baseline(names: list[str]) -> dict:
    """Candidates/s of building one pymatgen ``Composition`` per formula with its atomic and mass fractions."""
    reason = _missing("pymatgen")
    if reason:
        return skipped(reason)
    from pymatgen.core import Composition

    Composition(names[0])
    start = time.perf_counter()
    for name in names:
        comp = Composition(name)
        _ = np.array([comp.get_atomic_fraction(e) for e in comp.elements])
        _ = np.array([comp.get_wt_fraction(e) for e in comp.elements])
    seconds = time.perf_counter() - start
    return {"status": "measured", "library": "pymatgen Composition per candidate", "n": len(names),
            "seconds": seconds, "candidates_per_s": len(names) / seconds, "extrapolated": True}


def featurize_baseline(names: list[str]) -> dict:
    """Candidates/s of matminer Magpie (one process) on ``names``, Compositions built outside the timing."""
    reason = _missing("matminer", "pymatgen")
    if reason:
        return skipped(reason)
    from matminer.featurizers.composition import ElementProperty
    from pymatgen.core import Composition

    comps = [Composition(s) for s in names]
    ep = ElementProperty.from_preset("magpie")
    ep.set_n_jobs(1)
    ep.featurize(comps[0])
    start = time.perf_counter()
    for comp in comps:
        ep.featurize(comp)
    seconds = time.perf_counter() - start
    return {"status": "measured", "library": 'matminer ElementProperty.from_preset("magpie"), 1 process',
            "n": len(comps), "seconds": seconds, "candidates_per_s": len(comps) / seconds, "extrapolated": True,
            "features": len(ep.feature_labels())}


def _sklearn_estimator(kind: str, n_trees: int, seed: int = 0):
    from sklearn.ensemble import ExtraTreesRegressor, RandomForestRegressor

    cls = {"random_forest": RandomForestRegressor, "extra_trees": ExtraTreesRegressor}[kind]
    return cls(n_estimators=n_trees, max_features=MAX_FEATURES, random_state=seed, n_jobs=1)


def inference_baseline(descriptors: np.ndarray, models) -> dict:
    """scikit-learn ``predict`` vs our kernel on the same trees, over the rows of ``descriptors``.

    Parameters
    ----------
    descriptors : ndarray of float64, shape (n, n_descriptors)
        Candidate descriptors (the model matrix adds T_K = 295 K and is_dft = 0).
    models : SurrogateSet
        The shipped surrogates: their tree targets, kinds and tree counts are rebuilt.
    """
    reason = _missing("sklearn")
    if reason:
        return skipped(reason)
    from magnetscreen.models.surrogates import model_matrix
    from magnetscreen.models.training import training_set
    from magnetscreen.models.trees import flatten

    X = np.ascontiguousarray(model_matrix(descriptors), dtype=np.float32)
    t_sklearn = t_ours = 0.0
    identical = True
    targets = []
    for target, surrogate in models.surrogates.items():
        if surrogate.ensemble is None or surrogate.kind not in ("random_forest", "extra_trees"):
            continue
        data = training_set(target)
        est = _sklearn_estimator(surrogate.kind, surrogate.ensemble.n_trees).fit(data.X.astype(np.float32), data.y)
        flat = flatten(est)
        flat.predict(X[:16])
        start = time.perf_counter()
        reference = est.predict(X)
        t_sklearn += time.perf_counter() - start
        start = time.perf_counter()
        mean, _spread = flat.predict(X)
        t_ours += time.perf_counter() - start
        identical &= bool(np.array_equal(mean, reference))
        targets.append({"target": target, "kind": surrogate.kind, "trees": flat.n_trees,
                        "nodes": int(flat.offset[-1]), "shipped_nodes": int(surrogate.ensemble.offset[-1])})
    if not targets:
        return skipped("no tree-ensemble surrogate to compare")
    n = len(X)
    return {"status": "measured", "library": "scikit-learn predict (n_jobs=1), same trees", "n": n,
            "seconds": t_sklearn, "candidates_per_s": n / t_sklearn, "extrapolated": False,
            "ours_seconds": t_ours, "ours_candidates_per_s": n / t_ours, "ratio": t_sklearn / t_ours,
            "identical_output": identical, "targets": targets,
            "note": "tree inference only (mean and per-tree spread for ours, mean for scikit-learn), every tree "
            "target summed; the predict stage also computes domain distances"}


def _magpie_models(models, ep):
    """scikit-learn models of every tree target fitted on Magpie features of the shipped training sets."""
    from pymatgen.core import Composition

    from magnetscreen.models.training import training_set

    fitted = []
    for target, surrogate in models.surrogates.items():
        if surrogate.ensemble is None or surrogate.kind not in ("random_forest", "extra_trees"):
            continue
        data = training_set(target)
        feats = np.array([ep.featurize(Composition(f)) for f in data.frame["formula"]], dtype=float)
        X = np.column_stack([np.nan_to_num(feats), data.frame["T_K"].to_numpy(float),
                             data.frame["is_dft"].to_numpy(float)])
        fitted.append(_sklearn_estimator(surrogate.kind, surrogate.ensemble.n_trees).fit(X, data.y))
    return fitted


def naive_pipeline(names: list[str], models, chunk_size: int = 1000) -> dict:
    """Candidates/s of the naive pipeline (pymatgen + matminer Magpie + scikit-learn) on ``names``."""
    reason = _missing("matminer", "pymatgen", "sklearn")
    if reason:
        return skipped(reason)
    from matminer.featurizers.composition import ElementProperty
    from pymatgen.core import Composition

    ep = ElementProperty.from_preset("magpie")
    ep.set_n_jobs(1)
    fitted = _magpie_models(models, ep)
    if not fitted:
        return skipped("no tree-ensemble surrogate to rebuild")
    start = time.perf_counter()
    for lo in range(0, len(names), chunk_size):
        comps = [Composition(s) for s in names[lo:lo + chunk_size]]
        _ = [np.array([c.get_wt_fraction(e) for e in c.elements]) for c in comps]
        feats = np.array([ep.featurize(c) for c in comps], dtype=float)
        X = np.column_stack([np.nan_to_num(feats), np.full(len(comps), 295.0), np.zeros(len(comps))])
        for est in fitted:
            est.predict(X)
    seconds = time.perf_counter() - start
    return {"status": "measured", "library": "pymatgen Composition + matminer Magpie + scikit-learn predict, "
            "per chunk, 1 process", "n": len(names), "seconds": seconds, "candidates_per_s": len(names) / seconds,
            "extrapolated": True, "note": "no physics, risk or ranking (favours the baseline)"}
