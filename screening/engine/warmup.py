"""Warm start: compile, or load from numba's cache, every kernel of the screening before a run needs it.

:func:`warmup` runs a real screening of the embedded default configuration at a tiny size: every built-in
family as :data:`WARMUP_SAMPLES` Sobol points, with the requirements lifted so that candidates survive to
the ranking kernels, in this process, results in a temporary folder. The kernels see the same argument
types as in a full run, so numba caches the same compiled signatures (checked: the warm-up and a run of the
whole embedded default compile identical signatures of the same kernels). Afterwards every kernel of
:data:`~magnetscreen.screening.engine.numba_cache.SCREENING_KERNELS` must be loaded and have a current
index file in the cache; a cache folder numba cannot write is reported as an error.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path

from magnetscreen.datasets.errors import ConfigError
from magnetscreen.screening.engine.config import RunConfig, default_config
from magnetscreen.screening.engine.loop import screen
from magnetscreen.screening.engine.numba_cache import CacheState, cache_state, kernels

__all__ = ["WARMUP_SAMPLES", "WarmupResult", "warmup_config", "warmup"]

#: Sobol points per family of the warm-up screening.
WARMUP_SAMPLES = 64


@dataclass(frozen=True)
class WarmupResult:
    """What :func:`warmup` did.

    Attributes
    ----------
    seconds : float
        Wall time of the warm-up screening (compiling or loading the kernels included).
    before, after : CacheState
        The cache before and after.
    kernels : int
        Kernels now loaded in this process.
    candidates : int
        Candidates the warm-up screening scored.
    """

    seconds: float
    before: CacheState
    after: CacheState
    kernels: int
    candidates: int


def warmup_config(base_dir: Path) -> RunConfig:
    """The embedded default at warm-up size: its families as Sobol samples, no requirements, outputs in ``base_dir``."""
    config = default_config(base_dir)
    families = tuple(f.with_overrides(sampling="sobol", n_samples=WARMUP_SAMPLES) for f in config.families)
    settings = replace(config.screen, requirements=(), grade=None, require_in_domain=False, phase_stability="any")
    return replace(config, name="warmup", families=families, chunk_size=WARMUP_SAMPLES, workers=1, screen=settings)


def warmup() -> WarmupResult:
    """Compile or load every kernel of the screening in this process, filling numba's cache.

    Returns
    -------
    WarmupResult

    Raises
    ------
    ConfigError
        numba could not write its cache (the kernels compiled, but the next process would compile again).
    """
    before = cache_state()
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="magnetscreen-warmup-") as tmp:
        result = screen(warmup_config(Path(tmp)), out=Path(tmp) / "run", workers=1, quiet=True)
    seconds = time.perf_counter() - started
    loaded = kernels()
    idle = sorted(name for name, kernel in loaded.items() if not kernel.signatures)
    if idle:  # the list of kernels or the warm-up configuration is out of date: a bug
        raise RuntimeError(f"the warm-up screening did not run the kernels {', '.join(idle)}")
    after = cache_state()
    if after.cold:
        raise ConfigError(f"numba compiled the kernels but did not write {len(after.missing)} of them to its cache "
                          f"at {after.location} (is it writable?); set NUMBA_CACHE_DIR or --cache-dir to a writable "
                          "folder")
    counts = result.manifest.counts
    return WarmupResult(seconds=seconds, before=before, after=after, kernels=len(loaded),
                        candidates=counts.enumerated if counts is not None else 0)
