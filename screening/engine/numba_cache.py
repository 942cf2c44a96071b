"""Numba's on-disk cache of the screening's kernels: where it lives, whether it is cold, and how to fill it.

Every kernel is ``@njit(cache=True)``: the first process that calls it compiles it and writes the result
to numba's cache, later processes load it from there. On the 2-core development machine compiling the
screening's kernels took 50-61 s; with a warm cache the first warm-up-sized screening in a fresh process
took 5.9-10.5 s, kernels and models loaded, against 1.3-3.4 s for a second one in the same process.

The cache lives in ``NUMBA_CACHE_DIR`` when that is set (numba reads it once, when it is first imported:
:func:`use_cache_dir` sets it before that), else in the ``__pycache__`` folder beside each kernel module
(or numba's per-user cache folder where that is not writable).

**Cold or warm.** numba writes one index file (``.nbi``) per compiled function, named after the module,
the function and its first line, in the folder its ``stats.cache_path`` names. The cache counts as cold
when one of the kernels in :data:`SCREENING_KERNELS` has no index file there, or only one older than the
kernel's source file (the source changed since it was compiled: editing or reinstalling magnetscreen).
This looks at files only, so it is known before anything compiles. What it cannot see: an index that
numba will still reject (written by another numba version, or for another CPU; numba then recompiles
without the notice), and a source file touched without a change (the notice appears once and numba loads
the cache anyway, since it compares source contents).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import Any

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.contract import NumbaCacheRecord

__all__ = ["SCREENING_KERNELS", "CacheState", "use_cache_dir", "cache_state", "kernels"]

#: The numba kernels a screening run calls from Python, by module. The kernels they call in turn
#: (``enumerate_kernel`` calls ``unrank_bounded_composition``, for instance) are compiled and cached with them,
#: and a caller loaded from the cache needs no compiled callee. ``tests/test_warm_start.py`` checks that a
#: screening on a warm cache loads exactly these; the warm-up compiles exactly the signatures a run of the
#: whole embedded default compiles. The one-pass ranking kernels (``prune_dominated_kernel``,
#: ``pareto_front_kernel``) run only for four or more objectives or NaN objectives: a run that needs them compiles
#: them (a few seconds) the first time.
SCREENING_KERNELS: dict[str, tuple[str, ...]] = {
    "descriptors.encoding_kernels": ("mass_fractions_kernel", "canonical_units_kernel", "format_names_kernel"),
    "descriptors.enumeration_kernels": ("enumerate_kernel",),
    "descriptors.featurize_kernels": ("featurize_kernel",),
    "descriptors.hree_kernels": ("hree_intensity_kernel",),
    "descriptors.prototype_kernels": ("prototype_codes_kernel",),
    "descriptors.stability_kernels": ("stability_kernel",),
    "models.physics_kernels": ("derive_kernel",),
    "models.prior_kernels": ("prior_kernel",),
    "models.risk_kernels": ("composition_risk_kernel", "value_risk_cost_kernel", "element_set_code_kernel"),
    "models.surrogate_kernels": ("domain_distance_kernel",),
    "models.tree_kernels": ("forest_predict_kernel", "boosting_predict_kernel", "tree_depths_kernel",
                            "preorder_kernel", "leaf_mask_kernel"),
    "screening.engine.ranking_kernels": ("dominance_kernel", "keyed_normals_kernel"),
}


@dataclass(frozen=True)
class CacheState:
    """Where the screening's compiled kernels are cached and whether they are all there.

    Attributes
    ----------
    cache_dir : str or None
        ``NUMBA_CACHE_DIR`` as numba read it; None: numba's default places.
    folders : list of str
        The folders holding the kernels' cache files (one per source folder).
    missing : list of str
        ``module.function`` of each kernel without a current index file.
    """

    cache_dir: str | None
    folders: list[str]
    missing: list[str]

    def record(self) -> NumbaCacheRecord:
        """The manifest's record of this state."""
        return NumbaCacheRecord(cache_dir=self.cache_dir, folders=list(self.folders), cold=self.cold,
                                missing=list(self.missing))

    @property
    def cold(self) -> bool:
        """Whether numba will compile kernels before the first chunk is scored."""
        return bool(self.missing)

    @property
    def location(self) -> str:
        """Where the cache lives, in words."""
        if self.cache_dir is not None:
            return self.cache_dir
        return ", ".join(self.folders) + " (numba's default: no NUMBA_CACHE_DIR)"


def use_cache_dir(path: str | Path) -> Path:
    """Make ``path`` numba's cache folder for this process and the worker processes it starts.

    Sets ``NUMBA_CACHE_DIR``, which numba reads when it is first imported; so this must run before
    anything imports numba (the command line calls it first thing).

    Parameters
    ----------
    path : path
        Created if missing.

    Returns
    -------
    Path
        The absolute folder.

    Raises
    ------
    ConfigError
        The folder cannot be created or written, or numba was imported already with another cache folder.
    """
    folder = Path(path).expanduser().resolve()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(f"--cache-dir {path}: cannot create the folder ({exc.strerror or exc})") from None
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ConfigError(f"--cache-dir {path}: the folder is not writable")
    if "numba" in sys.modules:
        import numba

        current = numba.config.CACHE_DIR  # type: ignore[attr-defined]
        if not current or Path(current).resolve() != folder:
            raise ConfigError(f"--cache-dir {path}: numba is already loaded in this process with cache folder "
                              f"{current or 'its default'}; set NUMBA_CACHE_DIR before starting Python instead")
    os.environ["NUMBA_CACHE_DIR"] = str(folder)
    return folder


def kernels() -> dict[str, Any]:
    """The dispatcher of every kernel in :data:`SCREENING_KERNELS`, by ``module.function``."""
    out = {}
    for module, names in SCREENING_KERNELS.items():
        mod = import_module(f"magnetscreen.{module}")
        for name in names:
            out[f"{module}.{name}"] = getattr(mod, name)
    return out


def _has_index(kernel: Any) -> bool:
    """Whether ``kernel`` has an index file in its cache folder at least as new as its source file."""
    func = kernel.py_func
    source = Path(func.__code__.co_filename)
    folder = Path(kernel.stats.cache_path)
    pattern = f"{source.stem}.{func.__qualname__}-{func.__code__.co_firstlineno}.py*.nbi"
    try:
        newest_source = source.stat().st_mtime
        return any(index.stat().st_mtime >= newest_source for index in folder.glob(pattern))
    except OSError:
        return False


def cache_state() -> CacheState:
    """The cache of this process's kernels: where, and which kernels it lacks (imports the kernel modules)."""
    import numba

    found = kernels()
    folders = sorted({str(k.stats.cache_path) for k in found.values()})
    missing = [name for name, kernel in found.items() if not _has_index(kernel)]
    cache_dir = numba.config.CACHE_DIR or None  # type: ignore[attr-defined]
    return CacheState(cache_dir=cache_dir, folders=folders, missing=missing)
