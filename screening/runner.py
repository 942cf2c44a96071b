"""The screening as users call it: the engine's loop with the report written before the run is complete.

:func:`screen` composes the engine (:mod:`magnetscreen.screening.engine`) and the report
(:mod:`magnetscreen.screening.report`), which sit side by side below it: the engine knows nothing of the
report, and the report reads only what the engine's run contract saved.
"""

from __future__ import annotations

from pathlib import Path

from magnetscreen.screening.engine.config import RunConfig
from magnetscreen.screening.engine.contract import RunData
from magnetscreen.screening.engine.loop import ScreeningResult
from magnetscreen.screening.engine.loop import screen as run_loop

__all__ = ["screen"]


def _write_report(run: RunData) -> dict[str, str]:
    from magnetscreen.screening.report.render import write_report_of

    path = write_report_of(run, run.path / "report.html")
    return {"report": path.name}


def screen(config: RunConfig, *, out: str | Path | None = None, workers: int | None = None,
           scheduler: str | None = None, dask_workers: int | None = None, models_dir: str | Path | None = None,
           quiet: bool = True, report: bool = True, max_candidates: int | None = None) -> ScreeningResult:
    """Run a screening, write its run folder and (by default) its report.

    Parameters are those of :func:`magnetscreen.screening.engine.loop.screen`, plus ``report`` (default True):
    write ``report.html``; the manifest is marked complete only after it is written.

    Examples
    --------
    >>> from magnetscreen.screening import load_config, screen
    >>> result = screen(load_config("examples/low-dy-2-14-1.toml"), workers=2)  # doctest: +SKIP
    >>> result.shortlist.head()  # doctest: +SKIP
    """
    return run_loop(config, out=out, workers=workers, scheduler=scheduler, dask_workers=dask_workers,
                    models_dir=models_dir, quiet=quiet, finalize=_write_report if report else None,
                    max_candidates=max_candidates)
