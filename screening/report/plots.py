"""The report's plots, drawn with plotly and embedded for offline use.

plotly.js is embedded once in the page, gzip-compressed and base64-encoded (:func:`plotly_js_gzip_base64`:
about 1.9 MB instead of 4.8 MB), and unpacked in the browser with the standard ``DecompressionStream``
(``assets/plot-loader.js``); each figure is a ``<div>`` with a deferred ``Plotly.newPlot`` call
(``<script type="text/x-magnetscreen-plot">``) that the loader runs once plotly.js is ready, so the report
needs no network. Div ids are fixed and the compression has no timestamp, so a report is reproducible.

Figures:

- :func:`pareto_figure`: performance at the operating temperature against heavy-rare-earth intensity,
  coloured by supply risk, Pareto front 1 outlined, the 2-D front (best performance at or below each HREE
  intensity) drawn as a step line, reference magnets as labelled stars;
- :func:`risk_breakdown_figure`: the value-weighted supply risk of the top candidates split into element
  contributions ``v_j R_j / sum v_j`` (``v_j = m_j p_j``, the element's raw-material
  value), with the weakest-link score as a marker;
- :func:`family_figure`: candidates enumerated, passing the constraints, surviving and shortlisted per family.
"""

from __future__ import annotations

import math
import re

import numpy as np
import pandas as pd

from magnetscreen.screening.report.format import metric_label, unit_of

__all__ = ["plotly_js", "plotly_js_gzip_base64", "PLOT_SCRIPT_TYPE", "plotly_version", "pareto_figure",
           "risk_breakdown_figure", "family_figure", "MAX_POINTS"]

#: Most candidates drawn in the Pareto plot (the best-ranked ones); the caption says when it is capped.
MAX_POINTS = 5000
_CONFIG = {"displaylogo": False, "responsive": True, "modeBarButtonsToRemove": ["select2d", "lasso2d"]}
_FONT = "system-ui, -apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif"
#: Supply risk: blue (low) through teal, gold and orange to red (high); no near-white or grey stretch, so
#: every marker shows on white and neighbouring risks stay distinguishable.
_RISK_SCALE = [[0.0, "#2b5fa8"], [0.25, "#2a9d8f"], [0.5, "#e9c46a"], [0.75, "#f4a261"], [1.0, "#c0262d"]]
_PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
            "#bab0ac", "#1f77b4", "#17becf")


def plotly_js() -> str:
    """The minified plotly.js bundle shipped with the plotly package (inlined once in the report)."""
    from plotly.offline import get_plotlyjs

    return get_plotlyjs()


#: Script type of a figure's deferred ``Plotly.newPlot`` call (not run by the browser until the loader does).
PLOT_SCRIPT_TYPE = "text/x-magnetscreen-plot"


def plotly_js_gzip_base64() -> str:
    """:func:`plotly_js` gzip-compressed (level 9, no timestamp, so the same bytes every time) and base64-encoded."""
    import base64
    import gzip

    return base64.b64encode(gzip.compress(plotly_js().encode("utf-8"), compresslevel=9, mtime=0)).decode("ascii")


def plotly_version() -> str:
    import plotly

    return plotly.__version__


def _layout(fig, title: str, height: int = 460) -> None:
    fig.update_layout(
        title={"text": title, "x": 0.0, "xanchor": "left", "font": {"size": 15}},
        height=height, margin={"l": 70, "r": 30, "t": 50, "b": 60}, template="plotly_white",
        font={"family": _FONT, "size": 12}, legend={"orientation": "h", "y": -0.18, "x": 0.0},
    )


def _html(fig, div_id: str) -> str:
    import plotly.io as pio

    html = pio.to_html(fig, full_html=False, include_plotlyjs=False, config=_CONFIG, div_id=div_id,
                       default_height=f"{fig.layout.height}px")
    deferred = re.sub(r'<script(?: type="text/javascript")?>', f'<script type="{PLOT_SCRIPT_TYPE}">', html)
    if deferred.count(PLOT_SCRIPT_TYPE) != 1:
        raise RuntimeError(f"plotly.io.to_html wrote {deferred.count(PLOT_SCRIPT_TYPE)} figure scripts for "
                           f"{div_id!r}, expected 1: the deferred loading does not know this plotly version")
    return deferred


def _front_2d(hree: np.ndarray, perf: np.ndarray) -> np.ndarray:
    """Indices of the points not dominated in (HREE down, performance up), by increasing HREE."""
    order = np.lexsort((-perf, hree))
    best, keep = -math.inf, []
    for i in order:
        if np.isfinite(perf[i]) and np.isfinite(hree[i]) and perf[i] > best:
            keep.append(i)
            best = perf[i]
    return np.array(keep, dtype=np.int64)


def _hover(frame: pd.DataFrame, name_column: str, metric: str) -> list[str]:
    texts = []
    for row in frame.itertuples(index=False):
        name = getattr(row, name_column)
        rank = f"rank {row.rank}, front {row.front}<br>" if hasattr(row, "rank") else ""
        texts.append(f"<b>{name}</b> ({row.family})<br>{rank}{metric}: {row.performance:.4g}<br>"
                     f"HREE: {row.hree_g_per_kg:.2f} g/kg<br>risk: {row.risk_value:.3f} ({row.risk_value_driver})"
                     f"<br>cost: {row.cost_usd_per_kg:.3g} USD/kg"
                     f"<br>{'in domain' if row.in_domain else 'extrapolating'}")
    return texts


def pareto_figure(ranked: pd.DataFrame, references: pd.DataFrame | None, metric: str, temperature_K: float,
                  pessimistic_k: float = 0.0) -> str:
    """HTML div of the performance-versus-HREE plot coloured by value-weighted supply risk."""
    import plotly.graph_objects as go

    shown = ranked.head(MAX_POINTS)
    refs = references if references is not None else ranked.iloc[:0]
    risks = np.concatenate([shown["risk_value"].to_numpy(float), refs["risk_value"].to_numpy(float)])
    finite = risks[np.isfinite(risks)]
    cmin, cmax = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if cmax - cmin < 1e-9:
        cmin, cmax = cmin - 0.05, cmax + 0.05
    colour = {"colorscale": _RISK_SCALE, "cmin": cmin, "cmax": cmax}
    fig = go.Figure()
    for in_domain, label, symbol in ((True, "candidates (in domain)", "circle"),
                                     (False, "candidates (extrapolating)", "circle-open")):
        part = shown[shown["in_domain"] == in_domain]
        if not len(part):
            continue
        front1 = part["front"].to_numpy() == 1
        fig.add_trace(go.Scatter(
            x=part["hree_g_per_kg"], y=part["performance"], mode="markers", name=label,
            text=_hover(part, "formula", metric), hoverinfo="text",
            marker={"symbol": symbol, "size": np.where(front1, 10, 7).tolist(), "color": part["risk_value"],
                    "line": {"width": (np.where(front1, 1.5, 0.5) if in_domain
                                       else np.where(front1, 3.0, 2.0)).tolist(),
                             "color": "#222"}, "opacity": 0.95,
                    "showscale": False, **colour},
        ))
    xs = np.concatenate([shown["hree_g_per_kg"].to_numpy(float), refs["hree_g_per_kg"].to_numpy(float)])
    xs = xs[np.isfinite(xs)]
    x_max = float(xs.max()) if xs.size and xs.max() > 0 else 1.0
    if len(shown):
        idx = _front_2d(shown["hree_g_per_kg"].to_numpy(float), shown["performance"].to_numpy(float))
        if idx.size:
            # the step line runs on to the right edge: beyond its last point the best stays the same
            front_x = np.append(shown["hree_g_per_kg"].to_numpy(float)[idx], 1.04 * x_max)
            performance = shown["performance"].to_numpy(float)
            front_y = np.append(performance[idx], performance[idx[-1]])
            fig.add_trace(go.Scatter(
                x=front_x, y=front_y,
                mode="lines", line={"shape": "hv", "color": "#555", "dash": "dot", "width": 1.5},
                name="front: best performance at or below each HREE intensity", hoverinfo="skip"))
    if len(refs):
        fig.add_trace(go.Scatter(
            x=refs["hree_g_per_kg"], y=refs["performance"], mode="markers+text", name="reference magnets",
            text=refs["label"].tolist(), textfont={"size": 11, "color": "#111"},
            textposition=["middle right" if x < 0.15 * x_max else "top center" for x in refs["hree_g_per_kg"]],
            hovertext=_hover(refs, "label", metric), hoverinfo="text",
            marker={"symbol": "star", "size": 15, "color": refs["risk_value"],
                    "line": {"width": 1.2, "color": "#111"}, **colour},
        ))
    # one colour bar for every trace: an invisible trace carries it
    fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", showlegend=False, hoverinfo="skip",
                             marker={**colour, "color": [cmin], "showscale": True,
                                     "colorbar": {"title": {"text": "supply risk<br>(value-weighted)"},
                                                  "thickness": 14}}))
    unit = unit_of(metric)
    basis = f", mean \u2212 {pessimistic_k:g}\u03c3" if pessimistic_k else ""
    _layout(fig, f"Performance against heavy-rare-earth intensity at {temperature_K:.2f} K", height=500)
    fig.update_xaxes(title_text="heavy-rare-earth intensity (g/kg)", range=[-0.05 * x_max, 1.08 * x_max],
                     zeroline=True, zerolinecolor="#bbb")
    fig.update_yaxes(title_text=f"{metric_label(metric)}{' (' + unit + ')' if unit else ''}{basis}",
                     rangemode="tozero")
    return _html(fig, "plot-pareto")


def risk_breakdown_figure(rows: pd.DataFrame, contributions: list[dict[str, float]]) -> str:
    """HTML div of stacked element contributions to the value-weighted risk, weakest link as a diamond."""
    import plotly.graph_objects as go

    labels = [f"#{r} {f}" for r, f in zip(rows["rank"], rows["formula"])]
    totals: dict[str, float] = {}
    for block in contributions:
        for element, value in block.items():
            totals[element] = totals.get(element, 0.0) + value
    elements = sorted(totals, key=lambda e: (-totals[e], e))
    fig = go.Figure()
    for i, element in enumerate(elements):
        fig.add_trace(go.Bar(
            y=labels, x=[block.get(element, 0.0) for block in contributions], orientation="h", name=element,
            marker={"color": _PALETTE[i % len(_PALETTE)]},
            hovertemplate=f"{element}: %{{x:.3f}}<extra>%{{y}}</extra>"))
    fig.add_trace(go.Scatter(
        y=labels, x=rows["risk_weakest"], mode="markers", name="weakest link (max over elements)",
        marker={"symbol": "diamond", "size": 11, "color": "#111"},
        text=rows["risk_weakest_driver"], hovertemplate="weakest link %{x:.3f} (%{text})<extra>%{y}</extra>"))
    _layout(fig, "Supply-risk breakdown of the top candidates", height=max(320, 80 + 34 * len(labels)))
    fig.update_layout(barmode="stack", legend={"orientation": "h", "y": -0.22})
    fig.update_xaxes(title_text="supply risk (0 to 1): element contributions to the value-weighted score",
                     range=[0, 1])
    fig.update_yaxes(autorange="reversed", automargin=True)
    return _html(fig, "plot-risk")


def family_figure(families: dict[str, dict], shortlisted: dict[str, int]) -> str:
    """HTML div of candidate counts per family (log scale), each bar labelled with its count."""
    import plotly.graph_objects as go

    names = sorted(set(families) | set(shortlisted))
    fig = go.Figure()
    for i, (key, label) in enumerate((("enumerated", "enumerated"), ("passed", "passed the constraints"),
                                      ("survivors", "survivors (ranked)"), ("shortlisted", "in the shortlist"))):
        if key == "shortlisted":
            values = [shortlisted.get(n, 0) for n in names]
        else:
            found = [families.get(n, {}).get(key) for n in names]
            if all(v is None for v in found):
                continue
            values = [0 if v is None else int(v) for v in found]
        fig.add_trace(go.Bar(x=names, y=[v if v > 0 else None for v in values], name=label,
                             text=[f"{v:,}" for v in values], textposition="outside", cliponaxis=False,
                             marker={"color": _PALETTE[i]}, hovertemplate=f"{label}: %{{text}}<extra>%{{x}}</extra>"))
    _layout(fig, "Candidates per family", height=420)
    fig.update_layout(barmode="group")
    fig.update_yaxes(type="log", title_text="candidates (log scale)")
    return _html(fig, "plot-families")
