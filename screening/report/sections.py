"""HTML of the report's main sections: warnings, run summary, shortlist and reference tables.

Each function takes checked run data (:class:`~magnetscreen.screening.report_data.RunData`) and returns an
HTML fragment; every value from the run is escaped. Numbers follow
:data:`~magnetscreen.screening.report_format.FORMATS`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from magnetscreen.screening.engine.contract import Counts, RunData
from magnetscreen.screening.report.format import (
    cell_span,
    data_value,
    esc,
    format_value,
    metric_label,
    render_value,
    unit_of,
)

__all__ = ["Column", "SHORTLIST_COLUMNS", "REFERENCE_COLUMNS_SHOWN", "Notice", "removals", "collect_warnings",
           "warnings_section", "headline", "summary_section", "data_table", "shortlist_section", "EXPECTED_REFERENCES"]

#: Labels of the reference magnets the screening loop scores (``references.parquet``).
EXPECTED_REFERENCES = ("Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B", "SmCo5", "Sm2Co17", "SrFe12O19")


@dataclass(frozen=True)
class Column:
    """A table column: the Parquet column of the cell, its header, tooltip and secondary values in the cell."""

    key: str
    label: str
    title: str = ""
    sigma: str = ""
    sub: str = ""
    group: str = ""


_RT, _OP, _HR = "intrinsic, room temperature", "at the operating temperature", "heavy rare earth and supply risk"

SHORTLIST_COLUMNS = (
    Column("rank", "#", "rank: constraints, then Pareto fronts, then tie-break, then formula"),
    Column("front", "front", "Pareto front on (performance up, HREE down, supply risk down); 1 = non-dominated"),
    Column("formula", "formula", "canonical formula"),
    Column("family", "family", "candidate family"),
    Column("Js_T", "J<sub>s</sub> (T)", "saturation polarization with its 1-sigma", sigma="Js_T_sigma", group=_RT),
    Column("K1_MJm3", "K<sub>1</sub> (MJ/m\u00b3)", "first anisotropy constant with its 1-sigma",
           sigma="K1_MJm3_sigma", group=_RT),
    Column("Tc_K", "T<sub>c</sub> (K)", "Curie temperature with its 1-sigma", sigma="Tc_K_sigma", group=_RT),
    Column("muHA_T", "\u03bc<sub>0</sub>H<sub>A</sub> (T)", "anisotropy field 2K1/Ms", group=_OP),
    Column("kappa", "\u03ba", "hardness sqrt(K1 mu0)/Js; >= 1 can be a hard magnet", group=_OP),
    Column("muHc_T", "\u03bc<sub>0</sub>H<sub>c</sub> (T)", "coercivity (Kronmueller, processing route)", group=_OP),
    Column("BHmax_kJm3", "(BH)<sub>max</sub> (kJ/m\u00b3)", "energy product of the ideal square loop and the branch "
           "that bounds it (remanence or coercivity)", sub="BHmax_branch", group=_OP),
    Column("BHmax_bound_kJm3", "bound J<sub>s</sub>\u00b2/4\u03bc<sub>0</sub>", "upper bound of (BH)max, kJ/m\u00b3",
           group=_OP),
    Column("grade", "grade", "sintered-NdFeB grade by coercivity (empty: below N)", group=_OP),
    Column("hree_g_per_kg", "HREE (g/kg)", "heavy-rare-earth intensity of the run's HREE set", group=_HR),
    Column("performance", "performance", "the ranking metric at the operating temperature, with its 1-sigma",
           sigma="performance_sigma", group=_HR),
    Column("p_top", "P(top N)", "probability of belonging to the shortlist's top N under the predictive "
           "distribution of the ranking metric (seeded Monte Carlo)", group=_HR),
    Column("perf_per_hree", "perf / (HREE + h<sub>0</sub>)", "performance per heavy-rare-earth intensity", group=_HR),
    Column("risk_value", "risk, value-weighted", "supply risk with each element weighted by its share of the "
           "raw-material value (the default), with the element that lifts it most", sub="risk_value_driver",
           group=_HR),
    Column("risk_weighted", "risk, mass-weighted", "supply risk weighted by mass exposure, with its driving element",
           sub="risk_weighted_driver", group=_HR),
    Column("risk_weakest", "risk, weakest link", "largest element risk above the mass threshold, with that element",
           sub="risk_weakest_driver", group=_HR),
    Column("cost_usd_per_kg", "cost (USD/kg)", "raw-material cost per kg at the run's element prices, and per "
           "kJ/m\u00b3 of (BH)max at the operating temperature", sub="cost_per_BHmax", group=_HR),
    Column("controlled_elements", "export control", "elements under export control at the run's as-of date",
           group=_HR),
    Column("in_domain", "domain", "inside the models' domain of applicability, or extrapolating", group=_HR),
    Column("phase_stability", "phase", "inside the composition ranges where the family's phase was reported to "
           "form (reported), beyond them, or unknown, with the element that decided it (docs/stability-ranges.md)",
           sub="stability_limit", group=_HR),
)
REFERENCE_COLUMNS_SHOWN = (Column("label", "reference", "reference magnet"),) + tuple(
    c for c in SHORTLIST_COLUMNS if c.key not in ("rank", "front", "p_top"))


@dataclass(frozen=True)
class Notice:
    """One entry of the warnings section: level ``critical``, ``warning`` or ``info``, and its HTML."""

    level: str
    html: str


def _pct(x: float) -> str:
    return f"{100.0 * x:.1f} %"


def _int(x) -> str:
    return "not recorded" if x is None else f"{int(x):,}"


def _counts(run: RunData) -> Counts | None:
    return run.manifest.counts


def removals(run: RunData) -> list[tuple[str, int, float | None]]:
    """Constraints by candidates removed, most first: (name, removed, share of enumerated or None)."""
    counts = _counts(run)
    if counts is None:
        return []
    enumerated = counts.enumerated
    rows = [(name, int(n), (n / enumerated) if enumerated else None) for name, n in counts.removed_by.items()]
    return sorted(rows, key=lambda r: (-r[1], r[0]))


def _removal_text(run: RunData, limit: int = 3) -> str:
    parts = []
    for name, removed, share in removals(run)[:limit]:
        parts.append(f"<code>{esc(name)}</code> removed {removed:,}"
                     + (f" ({_pct(share)})" if share is not None else ""))
    return "; ".join(parts)


def collect_warnings(run: RunData, top_n: int, extra: list[Notice] | None = None) -> list[Notice]:
    """Incomplete run, no survivors, extrapolation, constraints that removed most, missing data, run warnings."""
    notices = []
    if not run.complete:
        notices.append(Notice("critical", "<b>This run is incomplete</b> (status "
                              f"<code>{esc(run.manifest.status)}</code>): "
                              "counts, plots and the shortlist describe only what was written so far and are not "
                              "a screening result." + "".join(f" {esc(n)}." for n in run.notes)))
    ranked = run.ranked
    counts = _counts(run)
    if ranked is not None and not len(ranked):
        why = _removal_text(run)
        notices.append(Notice("critical", "<b>No candidate passed.</b> "
                              f"{_int(counts.enumerated if counts else None)} candidates "
                              f"were enumerated and none survived the constraints"
                              + (f": {why}." if why else " (the run recorded no per-constraint counts).")))
    share = counts.survivors_in_domain_share if counts else None
    if ranked is not None and len(ranked):
        shown = ranked.head(top_n)
        outside = int((~shown["in_domain"]).sum())
        text = (f"{_pct(1.0 - share)} of the survivors" if share is not None else "An unrecorded share of survivors")
        if outside or (share is not None and share < 1.0):
            notices.append(Notice("warning", f"<b>Extrapolation:</b> {text} lie outside the models' domain of "
                                  f"applicability; {outside} of the {len(shown)} shortlisted rows are extrapolating "
                                  "(marked \u26a0 in the table). Their predictions are less reliable."))
    elif share is not None and share < 1.0:
        notices.append(Notice("warning", f"<b>Extrapolation:</b> {_pct(1.0 - share)} of the survivors lie outside "
                              "the models' domain of applicability."))
    rows = removals(run)
    if rows and (ranked is None or len(ranked)):
        level = "warning" if rows[0][2] is not None and rows[0][2] >= 0.5 else "info"
        notices.append(Notice(level, f"<b>Constraints that removed most candidates:</b> {_removal_text(run)}."))
    if ranked is not None and len(ranked):
        shown = ranked.head(top_n)
        numeric = [c for c in shown.columns if shown[c].dtype.kind == "f"]
        gaps = [(c, int(shown[c].isna().sum())) for c in numeric if shown[c].isna().any()]
        if gaps:
            notices.append(Notice("warning", "<b>Missing values in the shortlist</b> (shown as n/a): " + ", ".join(
                f"<code>{esc(c)}</code> in {n} row{'s' if n > 1 else ''}" for c, n in gaps) + "."))
        empty = [c for c in ("risk_weighted_driver", "risk_weakest_driver") if (shown[c] == "").any()]
        if empty:
            notices.append(Notice("warning", "<b>Supply risk without a driving element</b> in some rows ("
                                  + ", ".join(f"<code>{c}</code>" for c in empty) + "): no supply data for them."))
    if ranked is not None and len(ranked) and "phase_stability" in ranked:
        shown = ranked.head(top_n)
        beyond = shown[shown["phase_stability"] == "beyond_reported_range"]
        if len(beyond):
            limits = ", ".join(sorted(set(beyond["stability_limit"])))
            notices.append(Notice("warning", f"<b>Beyond reported formation ranges:</b> {len(beyond)} of the "
                                  f"{len(shown)} shortlisted rows lie outside the composition ranges where their "
                                  f"phase was reported to form (limited by {esc(limits)}); nobody is known to have "
                                  "made them as that phase."))
        unknown = shown[shown["phase_stability"] == "unknown"]
        if len(unknown):
            no_ranges = sorted(set(unknown.loc[unknown["stability_source"].str.startswith("no stability ranges"),
                                               "family"]))
            text = (f"<b>Formation range unknown</b> for {len(unknown)} of the {len(shown)} shortlisted rows "
                    "(no reported range for " + esc(", ".join(sorted(set(unknown["stability_limit"]) - {""})) or "them")
                    + ")")
            if no_ranges:
                text += "; the families " + esc(", ".join(no_ranges)) + " have no stability ranges at all"
            notices.append(Notice("info", text + "."))
    for target in ("Js_T", "K1_MJm3", "Tc_K"):
        if target not in run.manifest.models:
            notices.append(Notice("warning", f"<b>No model card</b> recorded for <code>{target}</code>."))
    if run.references is not None:
        missing = [label for label in EXPECTED_REFERENCES if label not in set(run.references["label"])]
        if missing:
            notices.append(Notice("warning", "<b>Reference magnets not scored:</b> "
                                  + ", ".join(map(esc, missing)) + "."))
    survivors = counts.survivors if counts else None
    if ranked is not None and survivors is not None and survivors != len(ranked) and run.complete:
        notices.append(Notice("warning", f"<b>Counts disagree:</b> the manifest records {survivors:,} survivors, "
                              f"ranked.parquet holds {len(ranked):,} rows."))
    notices.extend(extra or [])
    notices.extend(Notice("warning", f"<b>Run:</b> {esc(w)}") for w in run.manifest.warnings)
    if run.manifest.error:
        notices.append(Notice("critical", f"<b>The run failed:</b> {esc(run.manifest.error)}"))
    return notices


def warnings_section(notices: list[Notice]) -> str:
    if not notices:
        return ('<section id="warnings"><h2>Warnings</h2><p class="ok">No warnings: every shortlisted row is in '
                'domain, no data are missing and the run completed.</p></section>')
    order = {"critical": 0, "warning": 1, "info": 2}
    items = "".join(f'<li class="notice {n.level}"><span class="level">{n.level}</span> {n.html}</li>'
                    for n in sorted(notices, key=lambda n: order.get(n.level, 3)))
    return f'<section id="warnings"><h2>Warnings</h2><ul class="notices">{items}</ul></section>'


def _ref(references: pd.DataFrame | None, label: str):
    if references is None:
        return None
    match = references[references["label"] == label]
    return None if match.empty else match.iloc[0]


def headline(run: RunData) -> str:
    """A short paragraph for a reader in a hurry: the best-ranked candidate against the 2-14-1 references."""
    ranked = run.ranked
    if ranked is None or not len(ranked):
        return ""
    metric = run.manifest.config.metric
    unit = unit_of(metric)
    at = f" at {run.manifest.config.operating_temperature_K:.0f} K"

    def describe(row) -> str:
        return (f"{esc(metric_label(metric))}{at} {esc(format_value('performance', row['performance']))} {esc(unit)}, "
                f"HREE {esc(format_value('hree_g_per_kg', row['hree_g_per_kg']))} g/kg, supply risk "
                f"{esc(format_value('risk_value', row['risk_value']))} "
                f"(driven by {esc(row['risk_value_driver'] or 'n/a')}), raw-material cost "
                f"{esc(format_value('cost_usd_per_kg', row['cost_usd_per_kg']))} USD/kg")

    top = ranked.iloc[0]
    text = [f"Best-ranked candidate: <b>{esc(top['formula'])}</b> ({esc(top['family'])}): {describe(top)}"
            + ("" if top["in_domain"] else ", <b>extrapolating</b>") + "."]
    for label in ("Nd2Fe14B", "(Nd0.8Dy0.2)2Fe14B"):
        ref = _ref(run.references, label)
        if ref is not None:
            text.append(f"Reference {esc(label)}: {describe(ref)}.")
    return '<p class="headline">' + "<br>".join(text) + "</p>"


def _dl(items: list[tuple[str, str]]) -> str:
    return '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def summary_section(run: RunData, top_n: int) -> str:
    from magnetscreen.datasets.errors import MagnetscreenError
    from magnetscreen.datasets.hree import hree_set

    config, counts, manifest = run.manifest.config, _counts(run), run.manifest
    temperature = config.operating_temperature_K
    t_text = f"{temperature:.2f} K ({temperature - 273.15:.0f} \u00b0C)"
    try:
        members = ", ".join(hree_set(config.hree_set).elements)
    except MagnetscreenError:
        members = "not a shipped set"
    k = config.pessimistic_k
    basis = "means" if k == 0 else f"pessimistic bound mean \u2212 {k:g}\u00b7\u03c3"
    route = config.route
    timings = manifest.timings
    workers = "not recorded" if timings is None else f"{timings.workers} ({timings.backend})"
    run_box = _dl([("name", esc(config.name)), ("config", esc(config.source)),
                   ("status", f'<span class="status {esc(manifest.status)}">{esc(manifest.status)}</span>'),
                   ("created", esc(manifest.created)), ("seed", render_value(config.seed)),
                   ("chunk size", render_value(config.chunk_size)), ("workers", esc(workers)),
                   ("magnetscreen", esc(manifest.magnetscreen_version))])
    conditions = _dl([("operating temperature", t_text),
                      ("HREE set", f"{esc(config.hree_set)}" + (f" ({esc(members)})" if members else "")),
                      ("supply scenario", esc(config.scenario)), ("as of", esc(config.as_of)),
                      ("ranking metric", esc(config.metric)), ("ranked on", esc(basis)),
                      ("h<sub>0</sub> floor", render_value(config.h0_g_per_kg) + " g/kg"),
                      ("shortlist size", render_value(config.shortlist_size))])
    route_box = _dl([("\u03b1 (Kronm\u00fcller)", render_value(route.alpha)),
                     ("N<sub>eff</sub>", render_value(route.n_eff)),
                     ("remanence factor f", render_value(route.remanence_factor)),
                     ("temperature law", esc(route.temperature_law)),
                     ("kuzmin_s (default)", render_value(route.kuzmin_s)),
                     ("k1_exponent (default)", render_value(route.k1_exponent))]
                    + [(f"law of {esc(family)}", esc(law)) for family, law in sorted(route.family_laws.items())])
    share = counts.in_domain_share if counts else None
    count_box = _dl([("enumerated", _int(counts.enumerated if counts else None)),
                     ("passed the constraints", _int(counts.passed if counts else None)),
                     ("survivors (ranked)", _int(counts.survivors if counts else None)),
                     ("in-domain share", "not recorded" if share is None else _pct(share)),
                     ("families", esc(", ".join(config.families)) or "not recorded")])
    boxes = "".join(f'<div class="box"><h3>{t}</h3>{b}</div>' for t, b in (
        ("Run", run_box), ("Conditions", conditions), ("Processing route", route_box), ("Counts", count_box)))
    route_note = ('<p class="note">Extrinsic properties follow the processing route: \u03bc<sub>0</sub>H<sub>c</sub> = '
                  '\u03b1\u00b7\u03bc<sub>0</sub>H<sub>A</sub> \u2212 N<sub>eff</sub>\u00b7J<sub>s</sub>, '
                  'B<sub>r</sub> = f\u00b7J<sub>s</sub>, at the operating temperature.</p>')
    return (f'<section id="summary"><h2>Run summary</h2>{headline(run)}<div class="grid">{boxes}</div>{route_note}'
            f"{_constraints_table(run)}{_families_table(run, top_n)}{_versions(run)}</section>")


def _constraints_table(run: RunData) -> str:
    removed = dict((name, (n, s)) for name, n, s in removals(run))
    rows = []
    for c in run.manifest.config.constraints:
        name = c.name
        n, s = removed.pop(name, (None, None))
        rows.append((name, n, s))
    rows += [(name, n, s) for name, (n, s) in removed.items()]
    if not rows:
        return "<h3>Constraints</h3><p>No constraints: every enumerated candidate was ranked.</p>"
    body = "".join(f"<tr><td><code>{esc(name)}</code></td><td class=\"num\">{_int(n)}</td>"
                   f"<td class=\"num\">{_pct(s) if s is not None else 'n/a'}</td></tr>" for name, n, s in rows)
    return ('<h3>Constraints</h3><table class="plain"><thead><tr><th>constraint</th><th>candidates failing it</th>'
            f"<th>share of enumerated</th></tr></thead><tbody>{body}</tbody></table>"
            '<p class="note">A candidate can fail several constraints, so the counts can add up to more than the '
            "candidates removed.</p>")


def _families_table(run: RunData, top_n: int) -> str:
    counts = _counts(run)
    families = {} if counts is None else {name: vars(f) for name, f in counts.families.items()}
    shortlisted = {} if run.ranked is None else run.ranked.head(top_n)["family"].value_counts().to_dict()
    configured = run.manifest.config.families
    names = list(configured) + sorted(set(families) - set(configured))
    names += sorted(set(shortlisted) - set(names))
    if not names:
        return ""
    body = "".join(
        f"<tr><td>{esc(n)}</td>" + "".join(f'<td class="num">{_int(families.get(n, {}).get(k))}</td>'
                                             for k in ("enumerated", "passed", "survivors"))
        + f'<td class="num">{shortlisted.get(n, 0):,}</td></tr>' for n in names)
    return ('<h3>Families</h3><table class="plain"><thead><tr><th>family</th><th>enumerated</th><th>passed</th>'
            f"<th>survivors</th><th>in the shortlist</th></tr></thead><tbody>{body}</tbody></table>")


def _versions(run: RunData) -> str:
    versions = run.manifest.versions
    timings = run.manifest.timings
    rows = "".join(f"<tr><td>{esc(k)}</td><td>{esc(v)}</td></tr>" for k, v in sorted(versions.items()))
    times = ""
    if timings is not None:
        times = "".join(f"<tr><td>{esc(k)}</td><td class=\"num\">{v:.1f} s</td></tr>" if k.endswith("_s")
                        else f"<tr><td>{esc(k)}</td><td>{render_value(v)}</td></tr>" for k, v in vars(timings).items())
    return ('<details class="versions"><summary>Versions and timings</summary><div class="grid">'
            '<table class="plain"><thead><tr><th>package</th><th>version</th></tr></thead>'
            f'<tbody>{rows}</tbody></table>'
            f'<table class="plain"><thead><tr><th>stage</th><th>time</th></tr></thead><tbody>{times}</tbody></table>'
            "</div></details>")


def _cell(column: Column, row: pd.Series) -> str:
    value = row[column.key]
    inner = cell_span(column.key, value)
    if column.key == "formula" and "in_domain" in row and not row["in_domain"]:
        inner += ' <span class="flag" title="extrapolating: outside the models\' domain of applicability">\u26a0</span>'
    if column.key == "in_domain":
        inner = cell_span(column.key, value, "badge ok" if value else "badge extrapolating")
    if column.sigma:
        inner += f'<span class="sigma">\u00b1{cell_span(column.sigma, row[column.sigma])}</span>'
    if column.sub:
        inner += f'<span class="sub">{cell_span(column.sub, row[column.sub])}</span>'
    kind = "num" if isinstance(value, float) or column.key in ("rank", "front") else "text"
    return f'<td class="{kind}" data-sort="{esc(data_value(column.key, value))}">{inner}</td>'


def data_table(frame: pd.DataFrame, columns: tuple[Column, ...], table_id: str, caption: str) -> str:
    """A sortable table: one ``<tr data-row>`` per frame row; every value a ``data-col``/``data-value`` span."""
    groups: list[list] = []
    previous = None
    for c in columns:
        if groups and c.group == previous:
            groups[-1][1] += 1
        else:
            groups.append([c.group, 1])
        previous = c.group
    group_row = "".join(f'<th colspan="{n}" class="group">{esc(g)}</th>' if g else f'<th colspan="{n}"></th>'
                        for g, n in groups)
    header = "".join(f'<th scope="col" title="{esc(c.title)}" data-key="{esc(c.key)}">{c.label}</th>' for c in columns)
    body = []
    for i, (_, row) in enumerate(frame.iterrows()):
        extrapolating = "in_domain" in row and not row["in_domain"]
        klass = ' class="extrapolating"' if extrapolating else ""
        body.append(f'<tr{klass} data-row="{i}">' + "".join(_cell(c, row) for c in columns) + "</tr>")
    return (f'<div class="table-wrap"><table id="{table_id}" class="data sortable"><caption>{caption}</caption>'
            f'<thead><tr class="groups">{group_row}</tr><tr>{header}</tr></thead><tbody>{"".join(body)}</tbody>'
            "</table></div>")


def _no_survivors(run: RunData) -> str:
    rows = removals(run)
    counts = _counts(run)
    enumerated = counts.enumerated if counts else None
    if enumerated == 0:
        why = "No candidate was enumerated: check the families and their bounds in the run configuration."
    elif rows:
        items = "".join(f"<li><code>{esc(name)}</code> removed {n:,} candidates"
                        + (f" ({_pct(s)} of those enumerated)" if s is not None else "") + "</li>"
                        for name, n, s in rows)
        why = (f"<p>The constraints that removed most candidates, most first:</p><ol>{items}</ol>"
               "<p>Relax the first of these (or widen the families' composition bounds) to let candidates through.</p>")
    else:
        why = ("<p>The run recorded no per-constraint counts, so the report cannot say which constraint removed "
               "them.</p>")
    return (f'<div class="empty-result"><p><b>No candidate passed the constraints.</b> {_int(enumerated)} candidates '
            f"were enumerated, {_int(counts.passed if counts else None)} passed and none survived to be "
            f"ranked.</p>{why}</div>")


def shortlist_section(run: RunData, top_n: int) -> str:
    ranked = run.ranked
    title = f'<section id="shortlist"><h2>Shortlist (top {top_n})</h2>'
    if ranked is None:
        return (title + '<div class="empty-result"><p><b>No shortlist yet:</b> the run is incomplete and has not '
                "written ranked.parquet.</p></div></section>")
    if not len(ranked):
        return title + _no_survivors(run) + "</section>"
    shown = ranked.head(top_n)
    metric = run.manifest.config.metric
    metric = f"{esc(metric_label(metric))} (column <code>{esc(metric)}</code>)"
    caption = (f"Top {len(shown)} of {len(ranked):,} survivors by rank. Click a column header to sort. Rows marked "
               "<span class=\"flag\">\u26a0</span> and tinted are extrapolating (outside the models' domain of "
               f"applicability). Performance is {metric} at the operating temperature.")
    legend = ('<p class="note">Number formats: J<sub>s</sub> 3 decimals, K<sub>1</sub> 2, T<sub>c</sub> 0, '
              "\u03bc<sub>0</sub>H<sub>A</sub>, \u03ba and \u03bc<sub>0</sub>H<sub>c</sub> 2, "
              "(BH)<sub>max</sub> and its "
              "bound 1, HREE 2, risks 3, performance and performance per HREE 4 significant digits; \u00b1 is one "
              "standard deviation; n/a marks a missing value. Each cell holds the exact value in its "
              "<code>data-value</code> attribute.</p>")
    return title + data_table(shown, SHORTLIST_COLUMNS, "shortlist-table", caption) + legend + "</section>"


def references_section(run: RunData) -> str:
    refs = run.references
    if refs is None or not len(refs):
        return ""
    caption = "Reference magnets scored by the same pipeline, at the same operating temperature and processing route."
    return ('<section id="references"><h2>Reference magnets</h2>'
            + data_table(refs, REFERENCE_COLUMNS_SHOWN, "references-table", caption) + "</section>")
