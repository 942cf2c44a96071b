"""The report's first screen: a decision summary for a program manager.

It answers, without scrolling: which candidates to back (the first rows of the ranking) with their
performance at the operating temperature (with its 1-sigma and the rank confidence), heavy-rare-earth
intensity, supply risk and the element driving it, raw-material cost, export-control status; what to test
next (the first rows of the explore list); which export controls the lists depend on; and whether the
supply data are older than the run's as-of date. Every row carries a one-line reason built from the saved
columns and the reference magnets scored in the same run (nothing is recomputed).
"""

from __future__ import annotations

import math

import pandas as pd

from magnetscreen.screening.engine.contract import ControlRecord, RunData
from magnetscreen.screening.report.format import esc, format_value, metric_label, unit_of

__all__ = ["RECOMMENDED", "TEST_NEXT", "REFERENCE", "decision_section", "recommend_reason", "explore_reason"]

#: Rows of the recommended list and of the test-next list.
RECOMMENDED, TEST_NEXT = 5, 3
#: The reference magnet the reasons compare with.
REFERENCE = "Nd2Fe14B"

_RISK_COLUMN = {"value_weighted": ("risk_value", "risk_value_driver"),
                "mass_weighted": ("risk_weighted", "risk_weighted_driver"),
                "weakest_link": ("risk_weakest", "risk_weakest_driver")}


def _finite(x) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)


def _ratio(value, reference) -> str | None:
    if not (_finite(value) and _finite(reference)) or reference <= 0:
        return None
    return f"{value / reference:.2g}\u00d7"


def recommend_reason(row: pd.Series, reference: pd.Series | None, risk: str, temperature_K: float) -> str:
    """One line on why a ranked candidate is worth backing, against the reference magnet of the run."""
    risk_col, _ = _RISK_COLUMN[risk]
    parts = [f"Pareto front {int(row['front'])}"]
    if reference is not None:
        perf = _ratio(row["performance"], reference["performance"])
        cost = _ratio(row["cost_usd_per_kg"], reference["cost_usd_per_kg"])
        if perf:
            parts.append(f"{perf} the performance of {REFERENCE} at {temperature_K:.0f} K")
        if cost:
            parts.append(f"{cost} its raw-material cost per kg")
        if _finite(row[risk_col]) and _finite(reference[risk_col]):
            parts.append(f"supply risk {row[risk_col]:.2f} against {reference[risk_col]:.2f}")
    hree = row["hree_g_per_kg"]
    parts.append("no heavy rare earth" if _finite(hree) and hree == 0 else
                 f"{format_value('hree_g_per_kg', hree)} g/kg heavy rare earth")
    if not row["in_domain"]:
        parts.append("extrapolating: " + str(row["domain_note"] or "outside the models' domain"))
    if row["phase_stability"] != "reported":
        parts.append(f"phase {row['phase_stability']}")
    return "; ".join(parts)


def explore_reason(row: pd.Series, explore_k: float) -> str:
    """One line on why an explore candidate is worth a measurement: its upside and what the models lack."""
    parts = [f"upside {format_value('upside', row['upside'])} = mean {format_value('performance', row['performance'])}"
             f" + {explore_k:g}\u03c3 (\u03c3 {format_value('performance_sigma', row['performance_sigma'])})"]
    parts.append("in the models' domain" if row["in_domain"] else
                 "a measurement would teach the models: " + str(row["domain_note"] or "outside their domain"))
    if row["phase_stability"] == "beyond_reported_range":
        parts.append(f"beyond the reported formation range ({row['stability_limit']}): tests whether the phase forms")
    elif row["phase_stability"] == "unknown":
        parts.append("formation range unknown")
    return "; ".join(parts)


def _control_text(elements: str, controls: dict[str, list[ControlRecord]]) -> str:
    if not elements:
        return "none"
    parts = []
    for symbol in elements.split():
        events = controls.get(symbol, [])
        what = ", ".join(f"{e.action} since {e.effective}" for e in events) or "controlled"
        parts.append(f"{symbol} ({what})")
    return "; ".join(parts)


def _cost_cell(row: pd.Series) -> str:
    cost = row["cost_usd_per_kg"]
    if not _finite(cost):
        return "n/a"
    text = esc(format_value("cost_usd_per_kg", cost))
    low, high = row["cost_usd_per_kg_low"], row["cost_usd_per_kg_high"]
    if _finite(low) and _finite(high):
        text += (f'<span class="sub">{esc(format_value("cost_usd_per_kg_low", low))}\u2013'
                 f'{esc(format_value("cost_usd_per_kg_high", high))}</span>')
    if _finite(row["cost_per_BHmax"]):
        text += f'<span class="sub">{esc(format_value("cost_per_BHmax", row["cost_per_BHmax"]))} per kJ/m\u00b3</span>'
    if row["cost_priced_fraction"] < 1.0 - 1e-9:
        text += f'<span class="sub">lower bound: {100 * row["cost_priced_fraction"]:.0f} % of mass priced</span>'
    return text


def decision_section(run: RunData) -> str:
    """HTML of the decision summary (empty-result text when nothing was ranked)."""
    config = run.manifest.config
    ranked, explore, supply = run.ranked, run.explore, run.supply
    metric, unit = config.metric, unit_of(config.metric)
    risk_col, driver_col = _RISK_COLUMN.get(config.risk_objective, _RISK_COLUMN["value_weighted"])
    controls: dict[str, list[ControlRecord]] = {}
    for record in (supply.controls if supply is not None else []):
        controls.setdefault(record.element, []).append(record)
    reference = None
    if run.references is not None:
        match = run.references[run.references["label"] == REFERENCE]
        reference = None if match.empty else match.iloc[0]
    head = (f'<section id="decision"><h2>Decision summary</h2><p class="note">{esc(metric_label(metric))} '
            f"({esc(unit)}) at {config.operating_temperature_K:.0f} K, ranked on objectives "
            f"{esc(', '.join(config.objectives))} (supply risk: {esc(config.risk_objective.replace('_', '-'))}); "
            f"scenario {esc(config.scenario)}, as of {esc(config.as_of)}.</p>")
    parts = [head]
    if supply is not None and supply.vintage_warning:
        parts.append(f'<p class="notice warning"><span class="level">data vintage</span> '
                     f"{esc(supply.vintage_warning)}</p>")
    if ranked is None or not len(ranked):
        parts.append("<p><b>Nothing to recommend:</b> no candidate was ranked (see Warnings).</p>")
    else:
        rows = []
        for _, row in ranked.head(RECOMMENDED).iterrows():
            perf = (f"{esc(format_value('performance', row['performance']))}"
                    f'<span class="sigma">\u00b1{esc(format_value("performance_sigma", row["performance_sigma"]))}'
                    "</span>")
            rows.append(
                f"<tr><td class=\"num\">{int(row['rank'])}</td><td>{esc(row['formula'])}"
                f"<span class=\"sub\">{esc(row['family'])}</span></td><td class=\"num\">{perf}</td>"
                f"<td class=\"num\">{esc(format_value('p_top', row['p_top']))}</td>"
                f"<td class=\"num\">{esc(format_value('hree_g_per_kg', row['hree_g_per_kg']))}</td>"
                f"<td class=\"num\">{esc(format_value(risk_col, row[risk_col]))}"
                f"<span class=\"sub\">{esc(row[driver_col] or 'n/a')}</span></td>"
                f"<td class=\"num\">{_cost_cell(row)}</td>"
                f"<td>{esc(_control_text(row['controlled_elements'], controls))}</td>"
                "<td class=\"why\">"
                f"{esc(recommend_reason(row, reference, config.risk_objective, config.operating_temperature_K))}"
                "</td></tr>")
        parts.append(
            '<table class="plain decision" id="recommended"><caption>Recommended: the first '
            f"{min(RECOMMENDED, len(ranked))} of {len(ranked):,} ranked candidates</caption><thead><tr><th>#</th>"
            f"<th>candidate</th><th>performance \u00b11\u03c3</th><th>P(top {config.shortlist_size})</th>"
            "<th>HREE (g/kg)</th><th>supply risk (driver)</th><th>cost (USD/kg)</th><th>export control</th>"
            f"<th>why</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if explore is not None and len(explore):
        rows = []
        for _, row in explore.head(TEST_NEXT).iterrows():
            rows.append(
                f"<tr><td class=\"num\">{int(row['explore_rank'])}</td><td>{esc(row['formula'])}"
                f"<span class=\"sub\">{esc(row['family'])}</span></td>"
                f"<td class=\"num\">{_cost_cell(row)}</td>"
                f"<td>{esc(_control_text(row['controlled_elements'], controls))}</td>"
                f"<td class=\"why\">{esc(explore_reason(row, config.explore_k))}</td></tr>")
        parts.append(
            '<table class="plain decision" id="test-next"><caption>Test next: the first '
            f"{min(TEST_NEXT, len(explore))} of the explore list (largest upside among candidates the "
            "requirements do not rule out)</caption><thead><tr><th>#</th><th>candidate</th><th>cost (USD/kg)</th>"
            f"<th>export control</th><th>why</th></tr></thead><tbody>{''.join(rows)}</tbody></table>")
    if controls:
        items = []
        for symbol, events in controls.items():
            for e in events:
                items.append(f"<li><b>{esc(symbol)}</b>: {esc(e.action)} by {esc(e.country)} "
                             f"({esc(e.announcement)}, in force since {esc(e.effective)}); "
                             f"{e.candidates} of the shortlisted and explore candidates contain it</li>")
        parts.append('<div class="controls"><p>The lists depend on elements under export control at '
                      f"{esc(config.as_of)}:</p><ul>{''.join(items)}</ul></div>")
    elif supply is not None:
        parts.append("<p>No shortlisted or explore candidate contains an element under export control at "
                     f"{esc(config.as_of)}.</p>")
    return "".join(parts) + "</section>"
