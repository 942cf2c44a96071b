"""Number formats and small HTML helpers of the report.

Every number in the report's tables is printed with a fixed precision per column (:data:`FORMATS`,
documented in ``docs/report.md``); the cell also carries the exact value as ``data-value`` (Python
``repr`` of the float, which round-trips), so a reader or a test can recover what the Parquet file holds.
Missing numbers print as ``n/a`` (``data-value="nan"``), empty strings as an en dash.
"""

from __future__ import annotations

import html
import math
from typing import Any

__all__ = ["FORMATS", "MISSING", "EMPTY", "esc", "format_value", "data_value", "cell_span", "render_value",
           "unit_of", "metric_label", "link"]

#: Format spec of each Parquet column shown in the report (Python format-spec mini-language).
FORMATS = {
    "rank": "d",
    "front": "d",
    "candidate_index": "d",
    "Js_T": ".3f",
    "Js_T_sigma": ".3f",
    "Js_op_T": ".3f",
    "Br_T": ".3f",
    "K1_MJm3": ".2f",
    "K1_MJm3_sigma": ".2f",
    "Tc_K": ".0f",
    "Tc_K_sigma": ".0f",
    "muHA_T": ".2f",
    "kappa": ".2f",
    "muHc_T": ".2f",
    "BHmax_kJm3": ".1f",
    "BHmax_bound_kJm3": ".1f",
    "hree_g_per_kg": ".2f",
    "performance": "#.4g",
    "performance_sigma": "#.3g",
    "p_top": ".2f",
    "perf_per_hree": "#.4g",
    "risk_value": ".3f",
    "risk_weighted": ".3f",
    "risk_weakest": ".3f",
    "cost_usd_per_kg": ".3g",
    "cost_usd_per_kg_low": ".3g",
    "cost_usd_per_kg_high": ".3g",
    "cost_priced_fraction": ".3f",
    "cost_per_BHmax": ".3g",
}
#: Text of a missing number.
MISSING = "n/a"
#: Text of an empty string.
EMPTY = "\u2013"
#: Text of the domain flag.
DOMAIN_TEXT = {True: "in domain", False: "extrapolating"}

_UNITS = (("_kJm3", "kJ/m\u00b3"), ("_MJm3", "MJ/m\u00b3"), ("_g_per_kg", "g/kg"), ("_T", "T"), ("_K", "K"))


def esc(value: Any) -> str:
    """HTML-escaped text of any value (quotes included, safe in attributes)."""
    return html.escape(str(value), quote=True)


def unit_of(column: str) -> str:
    """The unit carried by a column name (``BHmax_kJm3`` -> ``kJ/m³``), or ``""``."""
    for suffix, unit in _UNITS:
        if column.endswith(suffix):
            return unit
    return ""


_METRIC_LABELS = {"BHmax_kJm3": "(BH)max", "BHmax_bound_kJm3": "(BH)max bound", "muHc_T": "\u03bc0Hc",
                  "Js_op_T": "Js", "Br_T": "Br", "muHA_T": "\u03bc0HA", "kappa": "\u03ba"}


def metric_label(column: str) -> str:
    """A reader's name of a ranking metric column (``BHmax_kJm3`` -> ``(BH)max``); the column name otherwise."""
    return _METRIC_LABELS.get(column, column)


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


def format_value(column: str, value: Any) -> str:
    """Displayed text of one Parquet value (see :data:`FORMATS`).

    Examples
    --------
    >>> format_value("Js_T", 1.61234), format_value("Tc_K", float("nan")), format_value("grade", "")
    ('1.612', 'n/a', '–')
    """
    if isinstance(value, bool) or column == "in_domain":
        return DOMAIN_TEXT[bool(value)]
    if isinstance(value, str):
        return value if value else EMPTY
    if hasattr(value, "item"):
        value = value.item()
    if _missing(value):
        return MISSING
    spec = FORMATS.get(column, ".4g")
    if spec == "d":
        return str(int(value))
    text = format(float(value), spec)
    # "#" keeps trailing zeros (282.0), and also a bare trailing point (1234.), which we drop
    return text[:-1] if spec.startswith("#") and text.endswith(".") else text


def data_value(column: str, value: Any) -> str:
    """Exact machine-readable value: ``repr`` of the float, the int, ``True``/``False``, or the string."""
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, bool):
        return repr(value)
    if isinstance(value, str):
        return value
    if FORMATS.get(column) == "d" and not _missing(value):
        return repr(int(value))
    return "nan" if _missing(value) else repr(float(value))


def cell_span(column: str, value: Any, cls: str = "") -> str:
    """``<span data-col=... data-value=...>text</span>`` of one value."""
    klass = f' class="{cls}"' if cls else ""
    return (f'<span{klass} data-col="{esc(column)}" data-value="{esc(data_value(column, value))}">'
            f"{esc(format_value(column, value))}</span>")


def link(text: str) -> str:
    """Text of a citation; a bare DOI or URL becomes a link (followed only when clicked)."""
    text = str(text).strip()
    if text.startswith("doi:"):
        href = "https://doi.org/" + text[4:]
    elif text.startswith(("https://", "http://")) and " " not in text:
        href = text
    else:
        return esc(text)
    return f'<a href="{esc(href)}" rel="noopener noreferrer">{esc(text)}</a>'


def _scalar(value: Any) -> str:
    if value is None:
        return '<span class="muted">not recorded</span>'
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return esc(value)
    if isinstance(value, float):
        return esc(MISSING if math.isnan(value) else format(value, ".4g"))
    return esc(value)


def render_value(value: Any, depth: int = 0) -> str:
    """Generic HTML of a JSON value: objects as definition lists, lists inline or as bullets."""
    if isinstance(value, dict):
        if not value:
            return '<span class="muted">none</span>'
        if depth > 4:
            return esc(value)
        items = "".join(f"<dt>{esc(k)}</dt><dd>{render_value(v, depth + 1)}</dd>" for k, v in value.items())
        return f'<dl class="kv">{items}</dl>'
    if isinstance(value, (list, tuple)):
        if not value:
            return '<span class="muted">none</span>'
        if all(not isinstance(v, (dict, list, tuple)) for v in value):
            return ", ".join(_scalar(v) for v in value)
        return "<ul>" + "".join(f"<li>{render_value(v, depth + 1)}</li>" for v in value) + "</ul>"
    return _scalar(value)
