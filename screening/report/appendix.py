"""HTML of the report's reference sections: disclosures of the top candidates, model cards, data provenance.

Model cards come from the run's manifest and are rendered generically: what is present is shown, a missing
key is said to be "not recorded", unknown keys are listed under "other". Provenance lists every distinct
source of the curated intrinsic and Curie tables and of the supply tables, with the rows it supports.
"""

from __future__ import annotations

import json

import pandas as pd

from magnetscreen.screening.report.format import esc, link, render_value

__all__ = ["disclosure_section", "model_cards_section", "provenance_section", "TOP_DISCLOSED"]

#: Candidates whose disclosure is shown (and whose supply risk is broken down).
TOP_DISCLOSED = 10

_CARD_KEYS = ("target", "unit", "model", "n_rows", "data_sha256", "n_features", "seed", "protocol", "metrics",
              "coverage", "domain", "versions", "notes")


def _pct(x) -> str:
    return "n/a" if x is None else f"{100.0 * float(x):.1f} %"


def _stage_text(stage: str, block: dict) -> str:
    countries = ", ".join(f"{esc(c)} {_pct(m)}" for c, m in block.get("by_country", {}).items()) or "none"
    without = block.get("elements_without_data") or []
    gap = (f"; no {stage} data for {_pct(block.get('mass_share_without_data'))} of the mass "
           f"({esc(' '.join(without))})") if without else ""
    threshold = block.get("threshold_share")
    at_least = "n/a" if threshold is None else f"{100.0 * float(threshold):.0f} %"
    return (f"{_pct(block.get('concentrated_mass_share'))} of the mass comes from elements whose {stage} is at least "
            f"{at_least} in one country ({countries}){gap}")


def _disclosure_card(rank: int, family: str, record: dict) -> str:
    sets = record["hree"]["sets"]
    hree_rows = "".join(
        f"<tr><td>{esc(name)}</td><td class=\"num\">{block['total']:.2f}</td><td>"
        + (esc(", ".join(f"{e} {v:.2f}" for e, v in block["elements"].items() if v > 0)) or "none") + "</td></tr>"
        for name, block in sets.items())
    controls = record["export_controls"]
    if controls["elements"]:
        ctl = "; ".join(
            f"{esc(c['element'])} ({_pct(c['mass_fraction'])} of the mass): " + ", ".join(
                f"{esc(e['announcement'])} [{esc(e['action'])}, effective {esc(e['effective'] or 'always')}]"
                for e in c["events"]) for c in controls["elements"])
    else:
        ctl = "none in force"
    risk = record["supply_risk"]

    def score(key: str, driver: str) -> str:
        value = risk.get(key)
        return ("n/a" if value is None else f"{value:.3f}") + f" (driver {esc(risk.get(driver) or 'n/a')})"

    facts = [
        ("supply risk", f"value-weighted {score('risk_value_weighted', 'driver_value_weighted')}, "
                        f"mass-weighted {score('risk_mass_weighted', 'driver_mass_weighted')}, weakest link "
                        f"{score('risk_weakest_link', 'driver_weakest_link')}; supply data cover "
                        f"{_pct(risk.get('covered_mass_fraction'))} of the mass"),
        ("mining", _stage_text("mining", record["concentration"]["mining"])),
        ("refining", _stage_text("refining", record["concentration"]["refining"])),
        ("export controls", ctl),
    ]
    dl = '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"
    raw = esc(json.dumps(record, indent=1))
    return (f'<article class="disclosure" data-formula="{esc(record["canonical_formula"])}">'
            f"<h3>#{rank} {esc(record['canonical_formula'])} <span class=\"muted\">({esc(family)})</span></h3>"
            '<table class="plain"><thead><tr><th>HREE set</th><th>total (g/kg)</th><th>by element (g/kg)</th></tr>'
            f"</thead><tbody>{hree_rows}</tbody></table>{dl}"
            f"<details><summary>Disclosure record (JSON, schema {esc(record['schema'])} "
            f"{esc(record['schema_version'])})</summary><pre>{raw}</pre></details></article>")


def _years(years: list) -> str:
    return f"{years[0]}" if years[0] == years[-1] else f"{years[0]}\u2013{years[-1]}"


def _vintage(records: list[dict]) -> str:
    """The data vintage, said once: every record of one report comes from the same inputs."""
    vintage = records[0]["data_vintage"]
    tables = ", ".join(f"{esc(n)} {_years(t['years'])}" for n, t in vintage["tables"].items())
    return (f'<p class="note">Supply data years: {tables}; export-control events recorded through '
            f"{esc(vintage.get('export_control_events_through', 'n/a'))}. Per-element data years are in each "
            "JSON record.</p>")


def disclosure_section(top: pd.DataFrame | None, records: list[dict] | None, error: str = "",
                       as_of: str = "", scenario: str = "") -> str:
    """Heavy-rare-earth and supply-concentration disclosure of each of the top candidates."""
    head = ('<section id="disclosures"><h2>Heavy-rare-earth and supply-concentration disclosures</h2>'
            f"<p>Top {TOP_DISCLOSED} candidates, as of {esc(as_of or 'n/a')} under the supply scenario "
            f"<code>{esc(scenario or 'baseline')}</code> (schema magnetscreen-disclosure, docs/supply-risk.md).</p>")
    if error:
        return head + f'<p class="notice warning">Disclosures could not be computed: {esc(error)}</p></section>'
    if top is None or not len(top) or not records:
        return head + "<p>No candidate to disclose.</p></section>"
    cards = "".join(_disclosure_card(int(r), str(f), rec) for r, f, rec in zip(top["rank"], top["family"], records))
    return head + _vintage(records) + f'<div class="cards">{cards}</div></section>'


def _metrics_table(title: str, rows: list[tuple[list[str], dict]], keys_head: list[str], shipped: str) -> str:
    metric_names = []
    for _, metrics in rows:
        for k in metrics:
            if k not in metric_names:
                metric_names.append(k)
    head = "".join(f"<th>{esc(k)}</th>" for k in keys_head + metric_names)
    body = []
    for keys, metrics in rows:
        mark = ' class="shipped"' if keys[-1] == shipped else ""
        cells = "".join(f"<td>{esc(k)}</td>" for k in keys)
        for m in metric_names:
            v = metrics.get(m)
            cells += f'<td class="num">{"n/a" if v is None else render_value(v)}</td>'
        body.append(f"<tr{mark}>{cells}</tr>")
    return (f'<table class="plain metrics"><caption>{title}</caption><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table>")


def _object(value) -> dict:
    return value if isinstance(value, dict) else {}


def _card(target: str, card: dict) -> str:
    get = card.get
    shipped = str(get("model", ""))
    coverage = _object(get("coverage"))
    domain = _object(get("domain"))
    sha = str(get("data_sha256") or "")
    facts = [
        ("target", f"{esc(get('target', target))} ({esc(get('unit', 'unit not recorded'))})"),
        ("model", render_value(get("model"))),
        ("training data", f"{render_value(get('n_rows'))} rows, {render_value(get('n_features'))} features"
                          + (f', sha256 <code title="{esc(sha)}">{esc(sha[:12])}\u2026</code>' if sha else "")),
        ("seed", render_value(get("seed"))),
        ("interval coverage", f"nominal {_pct(coverage.get('nominal')) if 'nominal' in coverage else 'not recorded'}, "
                              "empirical " + (_pct(coverage.get('empirical')) if 'empirical' in coverage
                                              else 'not recorded')),
        ("domain of applicability", (f"threshold {render_value(domain.get('threshold'))}"
                                     + (f": {esc(domain['description'])}" if domain.get("description") else ""))
         if domain else "not recorded"),
        ("protocol", render_value(get("protocol"))),
    ]
    html = [f'<article class="model-card" data-target="{esc(target)}"><h3>{esc(target)}</h3>',
            '<dl class="kv">' + "".join(f"<dt>{k}</dt><dd>{v}</dd>" for k, v in facts) + "</dl>"]
    metrics = _object(get("metrics"))
    kfold = metrics.get("kfold")
    if isinstance(kfold, dict) and kfold:
        rows = [([m], v if isinstance(v, dict) else {"value": v}) for m, v in kfold.items()]
        html.append(_metrics_table("k-fold cross-validation (shipped model highlighted)", rows, ["model"], shipped))
    lofo = metrics.get("lofo")
    if isinstance(lofo, dict) and lofo:
        rows = [([fam, m], v if isinstance(v, dict) else {"value": v}) for fam, per in lofo.items()
                for m, v in (per.items() if isinstance(per, dict) else [("", per)])]
        html.append("<details><summary>Leave-one-family-out validation</summary>"
                    + _metrics_table("held-out family", rows, ["family", "model"], shipped) + "</details>")
    other_metrics = {k: v for k, v in metrics.items() if k not in ("kfold", "lofo")}
    if not metrics:
        html.append('<p class="muted">No validation metrics recorded.</p>')
    if other_metrics:  # grouped folds, per-family coverage, domain checks...: folded, they are most of a card
        html.append("<details><summary>Further validation: " + esc(", ".join(map(str, other_metrics)))
                    + "</summary>" + render_value(other_metrics) + "</details>")
    notes = get("notes")
    if notes:
        html.append("<h4>Notes</h4>" + render_value(notes if isinstance(notes, list) else [notes]))
    extra = {k: v for k, v in card.items() if k not in _CARD_KEYS}
    if get("versions") or extra:
        html.append("<details><summary>Versions and other fields</summary>"
                    + render_value({**({"versions": get("versions")} if get("versions") else {}), **extra})
                    + "</details>")
    return "".join(html) + "</article>"


def model_cards_section(models: dict) -> str:
    if not models:
        return ('<section id="models"><h2>Model cards</h2><p class="notice warning">The run recorded no model '
                "cards.</p></section>")
    cards = "".join(_card(str(t), c) for t, c in models.items())
    return f'<section id="models"><h2>Model cards</h2><div class="cards">{cards}</div></section>'


def _sources_table(frame: pd.DataFrame, with_years: bool) -> str:
    rows = []
    for source, group in frame.groupby("source", sort=True):
        locators = sorted(set(group["locator"]))
        pages = sorted(set(group["read_at"]))
        extra = ""
        if with_years and "year" in group:
            extra = f'<td class="num">{int(group["year"].min())}\u2013{int(group["year"].max())}</td>'
        elif with_years:  # dated quotes (the price table)
            extra = f'<td class="num">{esc(str(group["date"].min()))}\u2013{esc(str(group["date"].max()))}</td>'
        elif "method" in group:
            extra = "<td>" + esc(", ".join(sorted(set(group["method"])))) + "</td>"
        rows.append(f"<tr><td>{link(source)}</td><td class=\"num\">{len(group)}</td>{extra}"
                    f"<td>{esc('; '.join(locators))}</td><td>{'<br>'.join(link(p) for p in pages)}</td></tr>")
    third = "years" if with_years else "method"
    return ('<table class="plain sources"><thead><tr><th>source</th><th>rows</th>'
            f"<th>{third}</th><th>where in the source</th><th>read at</th></tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>")


def provenance_section() -> str:
    """Every cited source of the curated property tables and of the supply tables."""
    from magnetscreen.datasets import load_curie, load_elements, load_intrinsic
    from magnetscreen.datasets.prices import load_price_table
    from magnetscreen.datasets.supply import load_supply_table, supply_table_names

    parts = ['<section id="provenance"><h2>Data provenance</h2><p>Every value in the shipped tables cites its '
             "source, where in it the value was read, and the page it was read on. The property tables train and "
             "check the surrogate models; the supply tables feed the supply-risk scores and the disclosures.</p>"]
    tables = [(load_intrinsic(), False), (load_curie(), False)] + [
        (load_supply_table(name), True) for name in supply_table_names()] + [(load_price_table(), True)]
    for frame, is_supply in tables:
        p = frame.attrs["provenance"]
        methods = p.get("methods")
        detail = (", ".join(f"{n} {m}" for m, n in methods.items()) if methods
                  else f"data years {_years(p['years'])}" if "years" in p
                  else f"quotes dated {p['dates'][0]} to {p['dates'][1]}" if "dates" in p else "")
        sources = len(p["sources"])
        parts.append(
            f"<details class=\"provenance\" data-table=\"{esc(p['table'])}\"><summary><b>{esc(p['table'])}</b>: "
            f"{esc(p['description'])}. {p['rows']} rows from {sources} source{'s' if sources != 1 else ''}"
            f"{'; ' + esc(detail) if detail else ''}. File <code>{esc(p['file'])}</code>, sha256 "
            f"<code title=\"{esc(p['sha256'])}\">{esc(p['sha256'][:12])}\u2026</code> "
            f'<span class="muted">(open to list the sources)</span></summary>'
            f"{_sources_table(frame, is_supply)}</details>")
    elements = load_elements().attrs["provenance"]
    parts.append(f"<p>Element properties: <code>{esc(elements['file'])}</code>, {elements['rows']} elements, from "
                 f"{esc(elements.get('source', 'pymatgen'))}, pymatgen {esc(elements.get('pymatgen_version', 'n/a'))}; "
                 f"{esc(elements.get('missing_values', ''))}.</p>")
    return "".join(parts) + "</section>"
