"""The self-contained HTML report of a screening run (``magnetscreen report RUN_DIR``).

One HTML file with everything embedded (stylesheet, the sortable-table script and plotly.js), so it opens
offline and makes no network request. Sections, in order: warnings, run summary, shortlist (top N,
sortable, extrapolating rows marked), reference magnets, plots (performance against HREE intensity
coloured by supply risk, supply-risk breakdown of the top candidates, candidates per family),
heavy-rare-earth and supply-concentration disclosures of the top 10, model cards, data provenance.
Number formats are fixed per column (:data:`~magnetscreen.screening.report_format.FORMATS`); the
sections and formats are documented in ``docs/report.md``.

Examples
--------
>>> from magnetscreen.screening.report.render import write_report
>>> write_report("magnetscreen-run", top_n=50)  # doctest: +SKIP
PosixPath('magnetscreen-run/report.html')
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from magnetscreen.datasets.provenance import package_version
from magnetscreen.screening.engine.contract import RANKED_COLUMNS, RunData, RunError, column_names, load_run
from magnetscreen.screening.engine.outputs import atomic_path
from magnetscreen.screening.report.appendix import (
    TOP_DISCLOSED,
    disclosure_section,
    model_cards_section,
    provenance_section,
)
from magnetscreen.screening.report.decision import decision_section
from magnetscreen.screening.report.format import esc
from magnetscreen.screening.report.sections import (
    Notice,
    collect_warnings,
    references_section,
    shortlist_section,
    summary_section,
    warnings_section,
)

__all__ = ["write_report", "write_report_of", "render_report", "ReportError", "DEFAULT_TOP_N"]

#: Rows of the shortlist table by default.
DEFAULT_TOP_N = 50


class ReportError(RunError):
    """A run folder that cannot be reported (a missing or malformed file) or a bad report option."""


def _asset(name: str) -> str:
    from importlib import resources

    return (resources.files("magnetscreen.screening.report") / "assets" / name).read_text(encoding="utf-8")


def _script(text: str) -> str:
    return "<script>" + text.replace("</script", "<\\/script") + "</script>"


def _supply(run: RunData, top: pd.DataFrame) -> tuple[list | None, list | None, str, list[Notice]]:
    """The saved disclosures and risk breakdown of the top rows, with notices (nothing is recomputed)."""
    supply = run.supply
    if supply is None:
        message = "the run has not written supply.json yet"
        notice = Notice("warning", f"<b>Disclosures and risk breakdown unavailable</b> ({esc(message)}).")
        return None, None, message, [notice]
    by_rank = {b.rank: b for b in supply.breakdown}
    contributions = [by_rank[int(r)].contributions if int(r) in by_rank else {} for r in top["rank"]]
    records = supply.disclosures[: len(top)]
    notices = []
    gaps = [(b.formula, b.covered_mass_fraction) for b in supply.breakdown[: len(top)] if b.covered_mass_fraction < 1.0]
    if gaps:
        notices.append(Notice("warning", "<b>Supply data missing</b> for part of the mass of: " + ", ".join(
            f"{esc(f)} (covered {100 * c:.1f} %)" for f, c in gaps) + "; the risk scores cover only that mass."))
    return records, contributions, "", notices


def _plots(run: RunData, top_n: int, top: pd.DataFrame, contributions: list | None) -> str:
    from magnetscreen.screening.report import plots as plots

    config = run.manifest.config
    ranked = run.ranked if run.ranked is not None else pd.DataFrame(
        {c: pd.Series(dtype=object) for c in column_names(RANKED_COLUMNS)})
    parts = ['<section id="plots"><h2>Plots</h2>']
    if len(ranked) or (run.references is not None and len(run.references)):
        capped = (f" (the best {plots.MAX_POINTS:,} of {len(ranked):,} by rank)"
                  if len(ranked) > plots.MAX_POINTS else "")
        parts.append('<div class="plot">' + plots.pareto_figure(
            ranked, run.references, config.metric, config.operating_temperature_K,
            config.pessimistic_k) + f'<p class="note">Each dot is a survivor{capped}; colour is '
            "the value-weighted supply risk; large outlined dots are on Pareto front 1 (not dominated in performance, "
            "HREE intensity and supply risk together); open circles are extrapolating. Stars are the reference "
            "magnets. The dotted step line is the best performance available at or below each HREE "
            "intensity.</p></div>")
    if contributions:
        parts.append('<div class="plot">' + plots.risk_breakdown_figure(top, contributions)
                     + f'<p class="note">Top {len(top)} candidates: each bar is the value-weighted supply risk split '
                     "into element contributions (share of the raw-material value \u00d7 element risk, over the "
                     "elements with supply data and a price); "
                     "the diamond is the weakest-link score (the riskiest element above the mass threshold).</p></div>")
    counts = run.manifest.counts
    families = {} if counts is None else {name: vars(f) for name, f in counts.families.items()}
    shortlisted = ranked.head(top_n)["family"].value_counts().to_dict() if len(ranked) else {}
    if families or shortlisted:
        parts.append('<div class="plot">' + plots.family_figure(families, shortlisted) + '<p class="note">Log scale; '
                     "a missing bar is a count of zero (the label above says so).</p></div>")
    if len(parts) == 1:
        parts.append("<p>Nothing to plot yet.</p>")
    return "".join(parts) + "</section>"


def render_report(run: RunData, top_n: int = DEFAULT_TOP_N) -> str:
    """The report of checked run data as one HTML document (str)."""
    from magnetscreen.screening.report.plots import plotly_js_gzip_base64, plotly_version

    if isinstance(top_n, bool) or not isinstance(top_n, int) or top_n < 1:
        raise ReportError(f"top_n: expected an integer >= 1, got {top_n!r}")
    config = run.manifest.config
    top = run.ranked.head(TOP_DISCLOSED) if run.ranked is not None else None
    records = contributions = None
    error, extra = "", list[Notice]()
    if top is not None and len(top):
        records, contributions, error, extra = _supply(run, top)
    notices = collect_warnings(run, top_n, extra)
    name = esc(config.name)
    banner = ""
    if not run.complete:
        banner = (f'<div class="banner" role="alert">Incomplete run (status {esc(run.manifest.status)}): '
                  'this report shows '
                  "partial results only.</div>")
    nav = "".join(f'<a href="#{a}">{t}</a>' for a, t in (
        ("decision", "Decision"), ("warnings", "Warnings"), ("summary", "Summary"), ("shortlist", "Shortlist"),
        ("references", "References"), ("plots", "Plots"), ("disclosures", "Disclosures"), ("models", "Model cards"),
        ("provenance", "Provenance")))
    created = esc(run.manifest.created)
    body = "".join([
        decision_section(run),
        warnings_section(notices),
        summary_section(run, top_n),
        shortlist_section(run, top_n),
        references_section(run),
        _plots(run, top_n, top if top is not None else pd.DataFrame(), contributions),
        disclosure_section(top, records, error, config.as_of, config.scenario),
        model_cards_section(run.manifest.models),
        provenance_section(),
    ])
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>magnetscreen report: {name}</title>"
        '<link rel="icon" href="data:,">'
        f"<style>{_asset('report.css')}</style></head><body>"
        f'<header class="top"><h1>magnetscreen screening report: {name}</h1><div class="meta">run {created} \u00b7 '
        f"status {esc(run.manifest.status)} \u00b7 magnetscreen {esc(run.manifest.magnetscreen_version)}"
        f"</div></header>{banner}<nav class=\"toc\">{nav}</nav><main>{body}</main>"
        f"<footer>Written by magnetscreen {esc(package_version())} with plotly {esc(plotly_version())} "
        "(plotly.js embedded, gzip-compressed). "
        "Self-contained: no script, style or font is loaded from elsewhere. Sections and number formats: "
        f"docs/report.md.</footer>{_script(_asset('report.js'))}"
        f'<script id="plotly-gzip" type="application/octet-stream">{plotly_js_gzip_base64()}</script>'
        f"{_script(_asset('plot-loader.js'))}</body></html>\n"
    )


def write_report_of(run: RunData, out: str | Path, top_n: int = DEFAULT_TOP_N) -> Path:
    """Write the report of run data already in memory (the engine calls this before marking a run complete)."""
    html = render_report(run, top_n)
    path = Path(out)
    with atomic_path(path) as tmp:
        tmp.write_text(html, encoding="utf-8")
    return path


def write_report(run_dir: str | Path, top_n: int = DEFAULT_TOP_N, out: str | Path | None = None) -> Path:
    """Write the HTML report of a run folder.

    Parameters
    ----------
    run_dir : str or Path
        Folder written by ``magnetscreen screen``.
    top_n : int, default=50
        Rows of the shortlist table.
    out : str or Path, optional
        Output file; default ``RUN_DIR/report.html``. Written atomically.

    Returns
    -------
    Path
        The file written.

    Raises
    ------
    ReportError
        A missing or malformed run-folder file (named with the problem), or a bad ``top_n``.
    """
    try:
        run = load_run(run_dir)
    except RunError as exc:
        raise ReportError(str(exc)) from None
    return write_report_of(run, Path(out) if out is not None else run.path / "report.html", top_n)
