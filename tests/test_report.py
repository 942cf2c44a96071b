"""Tests of the HTML report (``magnetscreen report``).

The run directories here are a fixture of the report layer: a small, hand-written but schema-complete
``ranked.parquet`` / ``references.parquet`` / ``manifest.json`` with a dozen real-looking candidates. The
intrinsic values are typical literature magnitudes; the derived columns were computed once with
``magnetscreen.models.physics`` (Kuz'min s = 0.5, sintered route, 423.15 K) and the risk columns with
``composition_risk(..., as_of="2025-06-01")``, then written down. They test the report, not the models.

The browser test opens the report in headless Chromium (Debian packages ``chromium`` and
``chromium-driver``, driven by selenium) and saves screenshots under ``$MAGNETSCREEN_ARTIFACTS``
(default ``test-artifacts/`` in the repository). It skips only when Chromium is not installed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import functools
import json
import math
import os
import re
import shutil
import time
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest

from magnetscreen.datasets.errors import MagnetscreenError
from magnetscreen.screening.cli import report as cli_report
from magnetscreen.screening.engine.contract import (
    RANKED_COLUMNS,
    REFERENCE_COLUMNS,
    ConstraintRecord,
    Counts,
    FamilyCounts,
    Manifest,
    ResolvedInputs,
    RiskBreakdown,
    RouteRecord,
    RunFolder,
    RunSettings,
    ScenarioRecord,
    SupplyRecord,
    Timings,
    column_names,
)
from magnetscreen.screening.engine.records import to_json
from magnetscreen.screening.report.format import FORMATS
from magnetscreen.screening.report.render import ReportError, write_report
from magnetscreen.screening.report.sections import SHORTLIST_COLUMNS

REPO = Path(__file__).resolve().parents[1]
NAN = float("nan")

# ---------------------------------------------------------------------------------------------------------
# The fixture: candidates in rank order (front, then performance, then formula)
# ---------------------------------------------------------------------------------------------------------

_INTRINSIC = ("formula", "family", "front", "in_domain", "Js_T", "Js_T_sigma", "K1_MJm3", "K1_MJm3_sigma", "Tc_K",
              "Tc_K_sigma")
_DERIVED = ("Js_op_T", "muHA_T", "kappa", "muHc_T", "Br_T", "BHmax_kJm3", "BHmax_branch", "BHmax_bound_kJm3", "grade",
            "hree_g_per_kg", "performance", "perf_per_hree", "risk_weighted", "risk_weighted_driver", "risk_weakest",
            "risk_weakest_driver")

CANDIDATES = [
    (("Nd2Fe13CoB", "2-14-1", 1, True, 1.62, 0.04, 4.6, 0.5, 640.0, 15.0),
     (1.450276, 5.719443, 1.404225, 0.837502, 1.305248, 338.9349, "remanence", 418.4381, "N", 0.0, 338.9349,
      338.93488, 0.419412, "Nd", 0.735656, "Nd")),
    (("Sm2Fe17N3", "2-17-interstitial", 1, True, 1.54, 0.06, 8.6, 1.1, 749.0, 25.0),
     (1.433587, 12.162548, 2.059611, 3.431432, 1.290229, 331.1796, "remanence", 408.8637, "AH", 0.0, 331.1796,
      331.179596, 0.402505, "Fe", 0.801742, "Sm")),
    (("Pr0.2Nd1.8Fe14B", "2-14-1", 1, True, 1.60, 0.03, 5.0, 0.4, 582.0, 12.0),
     (1.377519, 5.821638, 1.453646, 0.951136, 1.239767, 305.781, "remanence", 377.5074, "M", 0.0, 305.781,
      305.780962, 0.399531, "Fe", 0.735656, "Pr")),
    (("Pr2Fe14B", "2-14-1", 1, True, 1.56, 0.05, 5.6, 0.7, 565.0, 16.0),
     (1.321371, 6.47297, 1.565036, 1.267817, 1.189234, 281.3615, "remanence", 347.3599, "SH", 0.0, 281.3615,
      281.361516, 0.397654, "Fe", 0.735656, "Pr")),
    (("SmTiFe11", "1-12", 1, True, 1.14, 0.05, 4.8, 0.8, 584.0, 20.0),
     (0.983184, 7.871108, 2.000717, 2.165259, 0.884865, 155.7702, "remanence", 192.3089, "EH", 0.0, 155.7702,
      155.770239, 0.386063, "Fe", 0.801742, "Sm")),
    (("Pr0.4Nd1.6Fe13CoB", "2-14-1", 2, True, 1.60, 0.04, 4.8, 0.6, 630.0, 18.0),
     (1.424672, 5.977927, 1.448448, 0.966499, 1.282204, 327.073, "remanence", 403.7938, "M", 0.0, 327.073,
      327.072962, 0.419022, "Fe", 0.735656, "Pr")),
    (("Nd1.9Dy0.1Fe14B", "2-14-1", 2, True, 1.57, 0.03, 5.2, 0.4, 586.0, 12.0),
     (1.356333, 6.212654, 1.513353, 1.128728, 1.2207, 296.4477, "remanence", 365.9848, "H", 15.005298, 296.4477,
      18.521847, 0.401296, "Fe", 0.801742, "Dy")),
    (("La0.3Nd1.7Fe14B", "2-14-1", 2, True, 1.55, 0.06, 4.2, NAN, 565.0, 22.0),
     (1.312901, 4.886049, 1.364106, 0.641519, 1.181611, 277.7659, "remanence", 342.9208, "", 0.0, 277.7659,
      277.765878, 0.39924, "Fe", 0.735656, "La")),
    (("Ce0.4Nd1.6Fe14B", "2-14-1", 2, False, 1.52, 0.05, 4.3, 0.6, 560.0, 20.0),
     (1.280551, 5.046281, 1.403693, 0.737961, 1.152496, 264.2464, "remanence", 326.2301, "N", 0.0, 264.2464,
      264.246385, 0.399225, "Fe", 0.735656, "Ce")),
    (("Nd1.8Dy0.2Fe14B", "2-14-1", 3, True, 1.53, 0.04, 5.5, 0.5, 587.0, 14.0),
     (1.322882, 6.754148, 1.597753, 1.378777, 1.190594, 282.0055, "remanence", 348.1549, "SH", 29.960086, 282.0055,
      9.108678, 0.402849, "Fe", 0.801742, "Dy")),
    (("Sm0.8Zr0.2TiFe9Co2", "1-12", 3, False, 1.30, 0.09, 4.0, 1.2, 640.0, 40.0),
     (1.163801, 6.197657, 1.631771, 1.315262, 1.047421, 218.2594, "remanence", 269.456, "H", 0.0, 218.2594,
      218.259392, 0.423339, "Fe", 0.801742, "Sm")),
    (("MnBi", "MnBi", 4, True, 0.75, 0.05, 0.9, 0.2, 630.0, 25.0),
     (0.667815, 2.391171, 1.338019, 0.288654, 0.601033, 71.7546, "coercivity", 88.7242, "", 0.0, 71.7546,
      71.754627, 0.617065, "Bi", 0.650437, "Bi")),
]

REFERENCES = [
    ("Nd2Fe14B", ("Nd2Fe14B", "2-14-1", 0, True, 1.61, 0.03, 4.9, 0.4, 585.0, 10.0),
     (1.389716, 5.699154, 1.431948, 0.889946, 1.250744, 311.2198, "remanence", 384.222, "M", 0.0, 311.2198,
      311.219826, 0.399738, "Fe", 0.735656, "Nd")),
    ("(Nd0.8Dy0.2)2Fe14B", ("Nd1.6Dy0.4Fe14B", "2-14-1", 0, True, 1.45, 0.04, 6.0, 0.5, 588.0, 12.0),
     (1.25475, 7.787557, 1.761599, 1.860273, 1.129275, 253.7052, "remanence", 313.2162, "UH", 59.719144, 253.7052,
      4.178339, 0.405939, "Fe", 0.801742, "Dy")),
    ("SmCo5", ("SmCo5", "SmCo5", 0, True, 1.07, 0.04, 17.0, 1.5, 1020.0, 20.0),
     (1.033587, 37.259026, 4.245484, 13.870023, 0.930228, 172.1509, "remanence", 212.5319, "AH", 0.0, 172.1509,
      172.150865, 0.6976, "Co", 0.801742, "Sm")),
    ("Sm2Co17", ("Sm2Co17", "Sm2Co17", 0, True, 1.25, 0.04, 4.2, 0.5, 1190.0, 25.0),
     (1.21913, 8.032653, 1.815054, 1.993931, 1.097217, 239.5053, "remanence", 295.6855, "SH", 0.0, 239.5053,
      239.50525, 0.68077, "Co", 0.801742, "Sm")),
    ("SrFe12O19", ("SrFe12O19", "M-hexaferrite", 0, True, 0.47, 0.02, 0.35, 0.05, 740.0, 15.0),
     (0.436526, 1.614486, 1.359869, 0.209269, 0.392873, 30.7068, "remanence", 37.9097, "", 0.0, 30.7068,
      30.706839, 0.303064, "Fe", 0.509732, "Sr")),
]

def _complete(row: dict) -> dict:
    """Fill the scored columns the fixture does not list: sigmas of derived metrics 0, K1 at T_op and the upside
    as given (the report does not show them)."""
    for name in ("Js_op_T_sigma", "muHA_T_sigma", "kappa_sigma", "muHc_T_sigma", "BHmax_kJm3_sigma", "performance_sigma"):
        row.setdefault(name, 0.0)
    row.setdefault("K1_op_MJm3", row["K1_MJm3"])
    row.setdefault("upside", row["performance"])
    row.setdefault("p_top", 1.0)
    row.setdefault("prototype", "other")
    row.setdefault("domain_note", "")
    row.setdefault("phase_stability", "reported")
    row.setdefault("stability_limit", "")
    row.setdefault("stability_source", "")
    supply = _supply_columns(row["formula"])
    for name, value in supply.items():
        row.setdefault(name, value)
    row.setdefault("cost_per_BHmax", row["cost_usd_per_kg"] / row["BHmax_kJm3"])
    return row


@functools.cache
def _supply_columns(formula: str) -> dict:
    """The value-weighted risk, cost and export-control columns of a formula as the pipeline computes them at the
    fixture's as-of date (the fixture takes them from the real code, as it took the other columns)."""
    from magnetscreen.models.risk import composition_risk

    row = composition_risk([formula], as_of="2025-06-01").iloc[0]
    return {"risk_value": float(row["risk_value_weighted"]), "risk_value_driver": str(row["driver_value_weighted"]),
            "cost_usd_per_kg": float(row["cost_usd_per_kg"]), "cost_usd_per_kg_low": float(row["cost_usd_per_kg_low"]),
            "cost_usd_per_kg_high": float(row["cost_usd_per_kg_high"]),
            "cost_priced_fraction": float(row["priced_mass_fraction"]),
            "controlled_elements": str(row["controlled_elements"])}


def ranked_frame() -> pd.DataFrame:
    rows = []
    for i, (intrinsic, derived) in enumerate(CANDIDATES):
        row = _complete(dict(zip(_INTRINSIC, intrinsic)) | dict(zip(_DERIVED, derived)))
        row["rank"] = i + 1
        row["candidate_index"] = 1000 + 37 * i
        rows.append(row)
    frame = pd.DataFrame(rows)[list(column_names(RANKED_COLUMNS))]
    return frame.astype({"rank": "int64", "front": "int64", "candidate_index": "int64", "in_domain": bool})


def references_frame() -> pd.DataFrame:
    rows = []
    for label, intrinsic, derived in REFERENCES:
        row = _complete(dict(zip(_INTRINSIC, intrinsic)) | dict(zip(_DERIVED, derived)))
        del row["front"]
        row["label"] = label
        rows.append(row)
    return pd.DataFrame(rows)[list(column_names(REFERENCE_COLUMNS))]


def explore_frame() -> pd.DataFrame:
    frame = ranked_frame().tail(3).drop(columns=["rank", "front", "p_top"]).reset_index(drop=True)
    frame.insert(0, "explore_rank", range(1, 4))
    return frame.astype({"explore_rank": "int64"})


def _card(target: str, unit: str, mae: float) -> dict:
    return {
        "target": target, "unit": unit, "model": "forest", "n_rows": 71, "data_sha256": "ab" * 32, "n_features": 150,
        "seed": 0, "protocol": {"kfold": "5-fold, shuffled, seed 0", "lofo": "leave one family out"},
        "metrics": {"kfold": {"forest": {"MAE": mae, "RMSE": 1.4 * mae, "R2": 0.81},
                              "ridge": {"MAE": 1.6 * mae, "RMSE": 2.1 * mae, "R2": 0.55}},
                    "lofo": {"2-14-1": {"forest": {"MAE": 1.3 * mae, "RMSE": 1.8 * mae, "R2": 0.62, "n": 31}},
                             "1-12": {"forest": {"MAE": 2.2 * mae, "RMSE": 2.9 * mae, "R2": 0.12, "n": 9}}}},
        "coverage": {"nominal": 0.9, "empirical": 0.875},
        "domain": {"threshold": 0.35, "description": "distance to the nearest training composition in feature space"},
        "versions": {"scikit-learn": "1.8.0"}, "notes": [f"{target}: the curated table is thin for 1-12 and MnBi."],
    }


AS_OF = "2025-06-01"


def manifest_record(status: str = "complete", survivors: int = 12, removed_by: dict | None = None) -> Manifest:
    families = {"2-14-1": (4851, 8), "1-12": (1320, 2), "2-17-interstitial": (36, 1), "MnBi": (1, 1), "Fe16N2": (1, 0)}
    if survivors == 0:
        families = {name: (n, 0) for name, (n, _) in families.items()}
    settings = RunSettings(
        name="low-dy-demo", source="examples/low-dy-2-14-1.toml", seed=0, chunk_size=65536, families=list(families),
        operating_temperature_K=423.15, hree_set="default", scenario="baseline", as_of=AS_OF, risk_threshold=0.005,
        route=RouteRecord(0.4, 1.0, 0.9, 0.5, 3.0), metric="BHmax_kJm3", risk_objective="value_weighted",
        pessimistic_k=0.0, h0_g_per_kg=1.0, shortlist_size=50, keep=100, explore_size=20, explore_k=2.0,
        constraints=[ConstraintRecord("Tc_K >= 550", "Tc_K", ">=", 550.0),
                     ConstraintRecord("kappa >= 1", "kappa", ">=", 1.0),
                     ConstraintRecord("BHmax_kJm3 >= 50", "BHmax_kJm3", ">=", 50.0)],
        composition_constraints=[])
    counts = Counts(
        enumerated=sum(n for n, _ in families.values()), scored=sum(n for n, _ in families.values()), passed=survivors,
        survivors=survivors, in_domain_share=10 / 12 if survivors else 1.0,
        survivors_in_domain_share=10 / 12 if survivors else None,
        families={name: FamilyCounts(n, n, s, n, s) for name, (n, s) in families.items()},
        removed_by=removed_by or {"Tc_K >= 550": 3900, "kappa >= 1": 5200, "BHmax_kJm3 >= 50": 2100},
        removed_by_family={})
    inputs = ResolvedInputs(config={}, scenario={"name": "baseline"}, model_files={}, data={},
                            element_risk_sha256="00" * 32, package_version="0.1.0")
    return Manifest(
        status=status, created="2025-06-01T09:30:00+00:00", magnetscreen_version="0.1.0",
        versions={"python": "3.11.7", "numpy": "2.4.0", "numba": "0.68.0", "pandas": "2.3.3"},
        resume_key=inputs.key, inputs=inputs, config=settings,
        counts=counts if status != "running" else None,
        models={"Js_T": _card("Js_T", "T", 0.05), "K1_MJm3": _card("K1_MJm3", "MJ/m^3", 0.6),
                "Tc_K": _card("Tc_K", "K", 28.0)},
        timings=Timings(12.5, 11.0, 3, 0, 560.0, "local", 1, 2) if status != "running" else None,
        warnings=["2 of 6209 candidates had a formula that pymatgen could not weigh; they were skipped"])


def manifest(status: str = "complete", survivors: int = 12, removed_by: dict | None = None) -> dict:
    """The fixture's manifest as JSON (tests edit it to break it)."""
    return to_json(manifest_record(status, survivors, removed_by))


def supply_record(ranked: pd.DataFrame) -> SupplyRecord:
    """What the engine saves for the report, computed for the fixture with the engine's own functions."""
    from magnetscreen.descriptors import encode
    from magnetscreen.models.disclosure import disclose
    from magnetscreen.models.risk import element_price_arrays, element_risk_array, risk_contributions
    from magnetscreen.screening.engine.loop import control_records

    risk = element_risk_array(AS_OF, "baseline")
    prices = element_price_arrays(AS_OF, "baseline")
    formulas = ranked["formula"].tolist()
    breakdown = [RiskBreakdown(int(r), str(f), int(i), str(x), c, cov) for r, f, i, x, (c, cov) in zip(
        ranked["rank"], ranked["family"], ranked["candidate_index"], formulas,
        risk_contributions(encode(formulas), risk, prices) if formulas else [])]
    scenario = ScenarioRecord("baseline", "2026-11-25", "Shipped supply data", "scenarios/baseline.toml", "00" * 32)
    explore = explore_frame() if len(ranked) else explore_frame().iloc[:0]
    return SupplyRecord(AS_OF, scenario, {}, breakdown,
                        to_json(disclose(formulas[:10], as_of=AS_OF, scenario="baseline")) if formulas else [],
                        controls=control_records(dt.date.fromisoformat(AS_OF), "baseline", [ranked, explore]))


def make_run(folder: Path, status: str = "complete", zero: bool = False, parquet: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    removed = {"Tc_K >= 550": 6209, "kappa >= 1": 5200, "BHmax_kJm3 >= 50": 2100} if zero else None
    run = RunFolder(folder)
    run.write_manifest(manifest_record(status, 0 if zero else 12, removed))
    if parquet:
        ranked = ranked_frame().iloc[:0] if zero else ranked_frame()
        run.write_table("ranked", ranked)
        run.write_table("references", references_frame())
        run.write_table("explore", explore_frame().iloc[:0] if zero else explore_frame())
        run.write_supply(supply_record(ranked))
    return folder


@pytest.fixture(scope="module")
def reports(tmp_path_factory) -> dict[str, Path]:
    base = tmp_path_factory.mktemp("runs")
    return {
        "complete": write_report(make_run(base / "complete")),
        "top5": write_report(base / "complete", top_n=5, out=base / "top5.html"),
        "zero": write_report(make_run(base / "zero", zero=True)),
        "running": write_report(make_run(base / "running", status="running", parquet=False)),
    }


# ---------------------------------------------------------------------------------------------------------
# HTML reading
# ---------------------------------------------------------------------------------------------------------


class _Table(HTMLParser):
    """Rows of one table: per ``<tr data-row>``, the (data-col, data-value, text) of every data span, and classes."""

    def __init__(self, table_id: str):
        super().__init__()
        self.table_id, self.inside, self.depth = table_id, False, 0
        self.rows: list[dict] = []
        self.stack: list[list | None] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "table":
            if a.get("id") == self.table_id:
                self.inside = True
            if self.inside:
                self.depth += 1
        if not self.inside:
            return
        if tag == "tr" and "data-row" in a:
            self.rows.append({"class": a.get("class") or "", "cells": [], "text": []})
        elif tag == "span":
            entry = [a["data-col"], a["data-value"], []] if "data-col" in a else None
            self.stack.append(entry)

    def handle_endtag(self, tag):
        if not self.inside:
            return
        if tag == "table":
            self.depth -= 1
            self.inside = self.depth > 0
        elif tag == "span" and self.stack:
            entry = self.stack.pop()
            if entry is not None:
                self.rows[-1]["cells"].append((entry[0], entry[1], "".join(entry[2])))

    def handle_data(self, data):
        if self.inside and self.rows:
            self.rows[-1]["text"].append(data)
            for entry in self.stack:
                if entry is not None:
                    entry[2].append(data)


def table_rows(html: str, table_id: str = "shortlist-table") -> list[dict]:
    parser = _Table(table_id)
    parser.feed(html)
    return parser.rows


class _Resources(HTMLParser):
    """Every attribute or CSS that could make the browser fetch something."""

    FETCHING = {("script", "src"), ("link", "href"), ("img", "src"), ("img", "srcset"), ("iframe", "src"),
                ("source", "src"), ("video", "src"), ("audio", "src"), ("embed", "src"), ("object", "data"),
                ("input", "src"), ("image", "href"), ("use", "href"), ("track", "src"), ("base", "href")}

    def __init__(self):
        super().__init__()
        self.fetches, self.styles, self.in_style, self.meta_refresh = [], [], False, []

    def handle_starttag(self, tag, attrs):
        for name, value in attrs:
            if (tag, name) in self.FETCHING and value is not None:
                self.fetches.append((tag, name, value))
            if name == "style" and value:
                self.styles.append(value)
        if tag == "meta" and dict(attrs).get("http-equiv", "").lower() == "refresh":
            self.meta_refresh.append(attrs)
        self.in_style = tag == "style"

    def handle_endtag(self, tag):
        self.in_style = False

    def handle_data(self, data):
        if self.in_style:
            self.styles.append(data)


# ---------------------------------------------------------------------------------------------------------
# Numbers
# ---------------------------------------------------------------------------------------------------------

#: The precision documented in docs/report.md (and checked against it below).
DOCUMENTED = {
    "rank": "d", "front": "d", "candidate_index": "d", "Js_T": ".3f", "Js_T_sigma": ".3f", "Js_op_T": ".3f",
    "Br_T": ".3f", "K1_MJm3": ".2f", "K1_MJm3_sigma": ".2f", "Tc_K": ".0f", "Tc_K_sigma": ".0f", "muHA_T": ".2f",
    "kappa": ".2f", "muHc_T": ".2f", "BHmax_kJm3": ".1f", "BHmax_bound_kJm3": ".1f", "hree_g_per_kg": ".2f",
    "performance": "#.4g", "performance_sigma": "#.3g", "p_top": ".2f", "perf_per_hree": "#.4g", "risk_value": ".3f", "risk_weighted": ".3f", "risk_weakest": ".3f",
    "cost_usd_per_kg": ".3g", "cost_usd_per_kg_low": ".3g", "cost_usd_per_kg_high": ".3g",
    "cost_priced_fraction": ".3f", "cost_per_BHmax": ".3g",
}


def expected_text(column: str, value) -> str:
    if column == "in_domain":
        return "in domain" if value else "extrapolating"
    if isinstance(value, str):
        return value or "\u2013"
    if isinstance(value, float) and math.isnan(value):
        return "n/a"
    spec = DOCUMENTED[column]
    if spec == "d":
        return str(int(value))
    text = format(float(value), spec)
    return text.removesuffix(".") if spec.startswith("#") else text


def test_formats_match_the_documentation():
    assert FORMATS == DOCUMENTED
    doc = (REPO / "docs" / "report.md").read_text(encoding="utf-8")
    rows = dict(re.findall(r"^\| `([A-Za-z0-9_]+)` \| `([#.0-9a-z]+)` \|", doc, flags=re.M))
    assert rows == DOCUMENTED, "docs/report.md's format table differs from report_format.FORMATS"


def test_format_examples():
    from magnetscreen.screening.report.format import data_value, format_value

    assert format_value("Js_T", 1.61234) == "1.612"
    assert format_value("Tc_K", 585.5) == "586"
    assert format_value("performance", 338.9349) == "338.9"
    assert format_value("perf_per_hree", 9.108678) == "9.109"
    assert format_value("performance", 282.0055) == "282.0"  # trailing zeros kept
    assert format_value("performance", 1234.5) == "1234" and format_value("performance", 0.0) == "0.000"
    assert format_value("K1_MJm3_sigma", NAN) == "n/a" and data_value("K1_MJm3_sigma", NAN) == "nan"
    assert format_value("grade", "") == "\u2013"
    assert format_value("in_domain", False) == "extrapolating"
    assert data_value("risk_weighted", 0.1 + 0.2) == "0.30000000000000004"
    assert data_value("rank", 3) == "3"


def test_every_shortlist_number_equals_the_parquet(reports):
    ranked = pd.read_parquet(reports["complete"].parent / "ranked.parquet")
    rows = table_rows(reports["complete"].read_text(encoding="utf-8"))
    assert len(rows) == len(ranked) == 12
    shown = {c.key for c in SHORTLIST_COLUMNS} | {c.sigma for c in SHORTLIST_COLUMNS if c.sigma} | {
        c.sub for c in SHORTLIST_COLUMNS if c.sub}
    checked = 0
    for row, (_, record) in zip(rows, ranked.iterrows()):
        assert {col for col, _, _ in row["cells"]} == shown
        assert len(row["cells"]) == len(shown)
        for column, value_attr, text in row["cells"]:
            value = record[column]
            assert text == expected_text(column, value), (record["formula"], column)
            if isinstance(value, str):
                assert value_attr == value
            elif isinstance(value, (bool, type(record["in_domain"]))) and column == "in_domain":
                assert value_attr == repr(bool(value))
            elif isinstance(value, float) and math.isnan(value):
                assert value_attr == "nan"
            else:
                assert float(value_attr) == value, (record["formula"], column)
                assert value_attr == (repr(int(value)) if DOCUMENTED[column] == "d" else repr(float(value)))
            checked += 1
    assert checked == 12 * len(shown)


def test_reference_table_numbers_equal_the_parquet(reports):
    refs = pd.read_parquet(reports["complete"].parent / "references.parquet")
    rows = table_rows(reports["complete"].read_text(encoding="utf-8"), "references-table")
    assert [dict((c, v) for c, v, _ in r["cells"])["label"] for r in rows] == refs["label"].tolist()
    for row, (_, record) in zip(rows, refs.iterrows()):
        for column, value_attr, text in row["cells"]:
            assert text == expected_text(column, record[column])
            if not isinstance(record[column], (str, bool)) and column != "in_domain":
                assert float(value_attr) == record[column]


def test_top_n_limits_the_shortlist(reports):
    html = reports["top5"].read_text(encoding="utf-8")
    rows = table_rows(html)
    assert [dict((c, v) for c, v, _ in r["cells"])["rank"] for r in rows] == ["1", "2", "3", "4", "5"]
    assert "Top 5 of 12 survivors" in html


def test_extrapolating_rows_are_marked(reports):
    rows = table_rows(reports["complete"].read_text(encoding="utf-8"))
    ranked = ranked_frame()
    for row, in_domain in zip(rows, ranked["in_domain"]):
        assert ("extrapolating" in row["class"].split()) is (not in_domain)
        assert ("\u26a0" in "".join(row["text"])) is (not in_domain)
    assert sum("extrapolating" in r["class"] for r in rows) == 2


def test_warnings_name_extrapolation_constraints_and_missing_data(reports):
    html = reports["complete"].read_text(encoding="utf-8")
    section = html.split('id="warnings"')[1].split("</section>")[0]
    assert "16.7 % of the survivors" in section and "2 of the 12 shortlisted rows are extrapolating" in section
    removed = section.split("Constraints that removed most candidates")[1]
    assert removed.index("kappa &gt;= 1") < removed.index("Tc_K &gt;= 550") < removed.index("BHmax_kJm3 &gt;= 50")
    assert "83.7 %" in removed  # 5200 of 6209
    assert "<code>K1_MJm3_sigma</code> in 1 row" in section
    assert "pymatgen could not weigh" in section


def test_summary_lists_the_run(reports):
    html = reports["complete"].read_text(encoding="utf-8")
    summary = html.split('id="summary"')[1].split("</section>")[0]
    for text in ("423.15 K (150 \u00b0C)", "Gd, Tb, Dy, Ho, Er, Tm, Yb, Lu, Y", "baseline", "2025-06-01",
                 "BHmax_kJm3", "low-dy-demo", "6,209", "2-17-interstitial", "numba", "0.68.0", "means"):
        assert text in summary, text
    assert "Best-ranked candidate: <b>Nd2Fe13CoB</b>" in summary


def _decision(html: str) -> str:
    return html.split('<section id="decision">')[1].split("</section>")[0]


def test_decision_summary_is_the_first_screen(reports):
    html = reports["complete"].read_text(encoding="utf-8")
    main = html.split("<main>")[1]
    assert main.startswith('<section id="decision">')  # before the warnings and everything else
    decision = _decision(html)
    recommended = decision.split('id="recommended"')[1].split("</table>")[0]
    rows = re.findall(r"<tr><td class=\"num\">(\d+)</td><td>([^<]+)<", recommended)
    assert rows == [(str(i + 1), f) for i, f in enumerate(ranked_frame()["formula"].head(5))]
    ranked, refs = ranked_frame(), references_frame().set_index("label")
    first, nd = ranked.iloc[0], refs.loc["Nd2Fe14B"]
    ratio = f"{first['performance'] / nd['performance']:.2g}\u00d7 the performance of Nd2Fe14B at 423 K"
    cost = f"{first['cost_usd_per_kg'] / nd['cost_usd_per_kg']:.2g}\u00d7 its raw-material cost per kg"
    assert ratio in recommended and cost in recommended
    # Sm2Fe17N3 (rank 2) depends on Sm, under licensing since 2025-04-04 at the fixture's as-of date
    sm_row = recommended.split("Sm2Fe17N3")[1].split("</tr>")[0]
    assert "Sm (licensing since 2025-04-04)" in sm_row and "no heavy rare earth" in sm_row
    test_next = decision.split('id="test-next"')[1].split("</table>")[0]
    assert test_next.count("<tr><td") == 3 and test_next.count("class=\"why\">upside") == 3
    assert "<b>Sm</b>: licensing by CHN" in decision and "<b>Dy</b>: licensing by CHN" in decision
    assert "data vintage" not in decision  # as of 2025-06-01 is inside the data


def test_decision_summary_without_candidates_and_with_stale_data(reports, tmp_path):
    from dataclasses import replace

    from magnetscreen.screening.engine.contract import load_run
    from magnetscreen.screening.report.render import render_report

    assert "Nothing to recommend" in _decision(reports["zero"].read_text(encoding="utf-8"))
    run = load_run(make_run(tmp_path / "stale"))
    stale = replace(run, supply=replace(run.supply, vintage_warning="as_of 2026-12-02 is later than the data"))
    assert "data vintage</span> as_of 2026-12-02 is later than the data" in _decision(render_report(stale))


def test_disclosures_of_the_top_10_in_rank_order(reports):
    html = reports["complete"].read_text(encoding="utf-8")
    formulas = re.findall(r'<article class="disclosure" data-formula="([^"]+)"', html)
    assert formulas == ranked_frame()["formula"].head(10).tolist()
    assert "CN-2025-18-MHREE" in html  # Dy and Sm are under the April 2025 controls as of 2025-06-01


def test_model_cards_and_every_source_cited(reports):
    from magnetscreen.datasets import load_curie, load_intrinsic
    from magnetscreen.datasets.supply import load_supply_table, supply_table_names
    from magnetscreen.screening.report.format import esc

    html = reports["complete"].read_text(encoding="utf-8")
    assert re.findall(r'<article class="model-card" data-target="([^"]+)"', html) == ["Js_T", "K1_MJm3", "Tc_K"]
    assert "nominal 90.0 %, empirical 87.5 %" in html and "Leave-one-family-out" in html
    from magnetscreen.datasets.prices import load_price_table

    frames = [load_intrinsic(), load_curie()] + [load_supply_table(n) for n in supply_table_names()]
    frames.append(load_price_table())
    provenance = html.split('id="provenance"')[1]
    for frame in frames:
        for source in frame.attrs["provenance"]["sources"]:
            assert esc(source) in provenance, source


def test_zero_survivors_say_why(reports):
    html = reports["zero"].read_text(encoding="utf-8")
    assert table_rows(html) == []
    shortlist = html.split('id="shortlist"')[1].split("</section>")[0]
    assert "No candidate passed the constraints." in shortlist
    order = [shortlist.index(f"<code>{c}</code>") for c in ("Tc_K &gt;= 550", "kappa &gt;= 1", "BHmax_kJm3 &gt;= 50")]
    assert order == sorted(order)
    assert "removed 6,209 candidates (100.0 % of those enumerated)" in shortlist
    warnings = html.split('id="warnings"')[1].split("</section>")[0]
    assert "No candidate passed." in warnings and "critical" in warnings


def test_incomplete_run_says_so(reports):
    html = reports["running"].read_text(encoding="utf-8")
    assert 'class="banner" role="alert">Incomplete run (status running)' in html
    assert "This run is incomplete" in html and "ranked.parquet is not written yet" in html
    assert "No shortlist yet" in html


@pytest.mark.parametrize("name", ["complete", "zero", "running"])
def test_nothing_is_loaded_from_elsewhere(reports, name):
    html = reports[name].read_text(encoding="utf-8")
    parser = _Resources()
    parser.feed(html)
    assert all(value.startswith("data:") for _, _, value in parser.fetches), parser.fetches
    assert not parser.meta_refresh
    for css in parser.styles:
        css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
        assert not re.search(r"url\(\s*['\"]?(?!data:)", css) and "@import" not in css
    assert not re.search(r"<script[^>]*\ssrc=", html)


def test_missing_and_malformed_files_name_the_problem(tmp_path):
    with pytest.raises(ReportError, match="not a run folder"):
        write_report(tmp_path / "nowhere")
    run = make_run(tmp_path / "run")
    (run / "manifest.json").write_text("{not json")
    with pytest.raises(ReportError, match=r"manifest\.json: not valid JSON"):
        write_report(run)
    (run / "manifest.json").write_text(json.dumps({**manifest(), "schema": "other"}))
    with pytest.raises(ReportError, match=r"manifest\.json: schema: expected 'magnetscreen-run', got 'other'"):
        write_report(run)
    broken = manifest()
    broken["counts"]["enumerated"] = "many"
    (run / "manifest.json").write_text(json.dumps(broken))
    with pytest.raises(ReportError, match=r"manifest\.json: counts\.enumerated: expected an integer, got 'many'"):
        write_report(run)
    (run / "manifest.json").write_text(json.dumps(manifest()))
    ranked_frame().drop(columns=["kappa"]).to_parquet(run / "ranked.parquet")
    with pytest.raises(ReportError, match=r"ranked\.parquet: columns differ from the run contract \(missing \['kappa'\]"):
        write_report(run)
    ranked_frame().iloc[::-1].to_parquet(run / "ranked.parquet")
    with pytest.raises(ReportError, match=r"column 'rank': expected 1\.\.12 in row order"):
        write_report(run)
    (run / "ranked.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(ReportError, match=r"ranked\.parquet: not a readable Parquet file"):
        write_report(run)
    (run / "ranked.parquet").unlink()
    with pytest.raises(ReportError, match=r"ranked\.parquet: missing"):
        write_report(run)
    assert issubclass(ReportError, MagnetscreenError)
    assert not list(run.glob("*.partial")) and not (run / "report.html").exists()


def test_sparse_model_cards_render(tmp_path):
    run = make_run(tmp_path / "run")
    data = manifest()
    data["models"] = {"Js_T": {"model": "forest"}, "Tc_K": {"metrics": {"kfold": {"forest": {"MAE": 30.0}}}}}
    (run / "manifest.json").write_text(json.dumps(data))
    html = write_report(run, top_n=3).read_text(encoding="utf-8")
    assert "No model card</b> recorded for <code>K1_MJm3</code>" in html
    assert "not recorded" in html.split('id="models"')[1]


def test_cli_writes_the_report(tmp_path, capsys):
    run = make_run(tmp_path / "run")
    parser = argparse.ArgumentParser(prog="magnetscreen")
    cli_report.add_parser(parser.add_subparsers(dest="command"))
    args = parser.parse_args(["report", str(run), "--top", "3", "--out", str(tmp_path / "r.html")])
    assert args.func.__module__ == "magnetscreen.screening.cli.report"
    assert cli_report.run(args) == 0
    assert capsys.readouterr().out.strip() == f"wrote {tmp_path / 'r.html'}"
    assert len(table_rows((tmp_path / "r.html").read_text(encoding="utf-8"))) == 3
    with pytest.raises(SystemExit):
        parser.parse_args(["report", str(run), "--top", "0"])
    with pytest.raises(ReportError, match="manifest.json: missing"):
        cli_report.run(parser.parse_args(["report", str(tmp_path)]))


# ---------------------------------------------------------------------------------------------------------
# The real browser
# ---------------------------------------------------------------------------------------------------------

_INSTALL = "install it with `apt-get install chromium chromium-driver` (Debian packages)"


def _chromium() -> tuple[str, str] | None:
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver")
    return (browser, driver) if browser and driver else None


def artifacts_dir() -> Path:
    folder = Path(os.environ.get("MAGNETSCREEN_ARTIFACTS") or REPO / "test-artifacts")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


_RECORDER = """
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push('uncaught: ' + e.message); });
window.addEventListener('unhandledrejection', function (e) { window.__errors.push('rejection: ' + e.reason); });
var __consoleError = console.error;
console.error = function () { window.__errors.push('console.error: ' + Array.from(arguments).join(' '));
                              return __consoleError.apply(console, arguments); };
"""


@pytest.fixture(scope="module")
def browser():
    found = _chromium()
    if found is None:
        pytest.skip(f"Chromium or chromedriver not found: {_INSTALL}")
    from selenium import webdriver  # a test dependency: an ImportError here is a setup bug, not a skip
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = found[0]
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1440,900",
                 "--no-first-run", "--disable-extensions", "--disable-background-networking", "--hide-scrollbars",
                 "--force-device-scale-factor=1"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    driver = webdriver.Chrome(service=Service(executable_path=found[1]), options=options)
    driver.set_page_load_timeout(20)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _RECORDER})
    yield driver
    driver.quit()


def _open(driver, path: Path) -> dict:
    """Load a file, wait for the plots; return console errors, network attempts and resource entries."""
    from selenium.webdriver.support.ui import WebDriverWait

    driver.get_log("browser"), driver.get_log("performance")  # drop what earlier pages left
    url = path.resolve().as_uri()
    driver.get(url)
    expected = driver.execute_script("return document.querySelectorAll('div.plotly-graph-div').length")
    WebDriverWait(driver, 15).until(lambda d: d.execute_script(
        "return document.readyState === 'complete' && "
        "document.querySelectorAll('div.plotly-graph-div .main-svg').length >= arguments[0]", expected))
    time.sleep(0.3)  # let late errors and requests surface
    requests = []
    for entry in driver.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        if message["method"] in ("Network.requestWillBeSent", "Network.webSocketCreated"):
            target = message["params"].get("request", {}).get("url") or message["params"].get("url", "")
            if target != url and not target.startswith(("data:", "blob:", "about:")):
                requests.append(target)
    console = [e["message"] for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    console += driver.execute_script("return window.__errors || []")
    resources = driver.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    return {"requests": requests, "console": console, "resources": resources, "plots": expected}


def _screenshot(driver, name: str) -> Path:
    import base64

    metrics = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
    size = metrics.get("cssContentSize") or metrics["contentSize"]
    shot = driver.execute_cdp_cmd("Page.captureScreenshot", {
        "format": "png", "captureBeyondViewport": True,
        "clip": {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], 16000), "scale": 1}})
    path = artifacts_dir() / name
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def test_detector_sees_requests_and_errors(browser, tmp_path):
    """The checks below are only worth something if they fire: a page that does both must be caught."""
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><head><link rel="icon" href="data:,"></head><body>'
                    '<div class="plotly-graph-div"><svg class="main-svg"></svg></div>'
                    '<img src="http://127.0.0.1:9/x.png"><script>console.error("boom"); undefinedCall();</script>'
                    "</body></html>")
    seen = _open(browser, page)
    assert any(r.startswith("http://127.0.0.1:9/") for r in seen["requests"]), seen
    assert any("boom" in m for m in seen["console"]) and any("undefinedCall" in m for m in seen["console"]), seen


def test_report_in_headless_chromium(browser, reports):
    seen = _open(browser, reports["complete"])
    assert seen["requests"] == [] and seen["resources"] == [], seen
    assert seen["console"] == [], seen
    assert seen["plots"] == 3
    rows = browser.execute_script("return document.querySelectorAll('#shortlist-table tbody tr').length")
    assert rows == 12
    marked = browser.execute_script("return document.querySelectorAll('#shortlist-table tr.extrapolating').length")
    assert marked == 2
    path = _screenshot(browser, "report-complete.png")
    assert path.stat().st_size > 50_000
    # sorting by the mass-weighted risk puts the lowest first, a second click the highest
    header = browser.find_element("css selector", '#shortlist-table th[data-key="risk_weighted"]')
    header.click()
    first = browser.execute_script("return document.querySelector('#shortlist-table tbody tr td[data-sort]')"
                                   ".parentNode.querySelector('[data-col=formula]').textContent")
    assert first == "SmTiFe11"
    header.click()
    first = browser.execute_script("return document.querySelector('#shortlist-table tbody tr')"
                                   ".querySelector('[data-col=formula]').textContent")
    assert first == "MnBi"


@pytest.mark.parametrize("name", ["zero", "running"])
def test_empty_reports_in_headless_chromium(browser, reports, name):
    seen = _open(browser, reports[name])
    assert seen["requests"] == [] and seen["resources"] == [] and seen["console"] == [], seen
    assert browser.execute_script("return document.querySelectorAll('#shortlist-table tbody tr').length") == 0
    _screenshot(browser, f"report-{name}.png")


def test_report_of_a_real_screening_run_equals_its_parquet(tmp_path):
    """End to end: the report written at the end of `screen` shows exactly the run's ranked.parquet."""
    from magnetscreen.screening.engine.config import parse_config
    from magnetscreen.screening.runner import screen

    data = {"families": [{"name": "SmCo5"}, {"name": "M-hexaferrite", "step": 0.25}, {"name": "Fe16N2"}],
            "screen": {"shortlist_size": 10, "keep": 20}, "supply": {"as_of": "2026-01-15"}}
    result = screen(parse_config(data, "t.toml", tmp_path), out=tmp_path / "run")
    html = (tmp_path / "run" / "report.html").read_text(encoding="utf-8")
    rows = table_rows(html)
    ranked = pd.read_parquet(tmp_path / "run" / "ranked.parquet")
    assert 0 < len(rows) == min(50, len(ranked))
    for row, (_, record) in zip(rows, ranked.iterrows()):
        for column, value_attr, text in row["cells"]:
            value = record[column]
            assert text == expected_text(column, value), (record["formula"], column)
            if isinstance(value, str):
                assert value_attr == value
            elif column == "in_domain":
                assert value_attr == repr(bool(value))
            elif not (isinstance(value, float) and math.isnan(value)):
                assert float(value_attr) == value, (record["formula"], column)
    assert result.manifest.outputs["report"] == "report.html" and result.manifest.status == "complete"
