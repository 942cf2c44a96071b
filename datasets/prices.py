"""Raw-material prices: the dated, cited price table and its conversion to US dollars per kg of element.

The shipped table ``data/supply/prices.csv`` keeps every price exactly as its source printed it (unit,
form, basis; see ``docs/prices.md``). This module converts, explicitly and in one place:

1. **Unit** to US dollars per kg of the priced product (:data:`UNIT_TO_USD_PER_KG`): ``USD/lb`` divided by
   0.45359237 kg, ``USc/lb`` (US cents) also by 100, ``USD/t`` (metric ton) by 1000, ``USD/short-ton`` by
   907.18474 kg, ``USD/mt-unit`` (1 % of a metric ton) by 10 kg. ``USD/ton`` (the celestite series, whose
   ton is not stated) and ``CNY/t`` (no dated exchange rate in the table) are not converted.
2. **Form** to the element: divided by ``element_mass_fraction`` (e.g. Nd2O3 holds 0.857353 of Nd by
   mass), except where ``basis`` says the price is per unit of *contained* element already.

An element's price is read from one of its *eligible series* (:data:`PRICE_SERIES`: one product and
market each, in order of preference) as the newest quote dated on or before ``as_of`` (ties: the earlier
series in the list). A quote printed as a low-high range gives the midpoint and that range; an annual
average gives itself, with the range of the same series' averages in the five years up to it as its band
(how far the price has moved recently). When no eligible quote is dated on or before ``as_of`` the oldest
one is used and flagged ``after_as_of``.

Series left out on purpose (so the element has no price, and costs that need it are lower bounds with the
unpriced mass reported): joint products (Ce-La mischmetal, NdPr oxide: one quote for two elements), iron
ore (Fe content not stated), mixed borates (B content not stated), molybdic oxide (the source does not say
whether the price is per kg of oxide or of contained Mo), celestite (unit ``USD/ton`` not stated as metric)
and strontium carbonate (CNY). Oxygen is priced at zero by convention (from air or the oxide feedstock),
not from a source. Nitrogen is priced from ammonia, an upper bound for the N2 that nitrides are made with.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources

import pandas as pd

from magnetscreen.datasets.elements import symbol_to_z
from magnetscreen.datasets.errors import DataError
from magnetscreen.datasets.schema import Column, TableSpec, parse_date, read_table

__all__ = [
    "PRICES",
    "PriceSeries",
    "PRICE_SERIES",
    "UNIT_TO_USD_PER_KG",
    "ZERO_COST_ELEMENTS",
    "PROXY_PRODUCTS",
    "BAND_YEARS",
    "load_price_table",
    "usd_per_kg_of_element",
    "element_prices",
    "price_vintage",
]

PRICES = TableSpec(
    name="prices",
    filename="prices.csv",
    description="Dated raw-material prices, each as its source printed it (unit, form, basis)",
    columns=(
        Column("element", "element", required=True, description="element symbol"),
        Column("form", "str", required=True, description="metal, oxide, ore, ... as priced"),
        Column("formula_of_form", "str", required=True, description="the priced product"),
        Column("element_mass_fraction", "float", "1", low=0.0, high=1.0, low_open=True,
               description="mass fraction of the element in the product (empty: not stated by the source)"),
        Column("price", "float", low=0.0, low_open=True, description="price as printed"),
        Column("price_low", "float", low=0.0, low_open=True, description="low end of a quoted range"),
        Column("price_high", "float", low=0.0, low_open=True, description="high end of a quoted range"),
        Column("unit", "str", required=True, description="currency per quantity, as printed"),
        Column("basis", "str", required=True, description="what the price is per"),
        Column("market", "str", required=True, description="market or price basis (FOB, LME cash, ...)"),
        Column("period", "str", required=True, description="period of the price (annual average, week)"),
        Column("date", "date", required=True, description="end of the period (ISO)"),
        Column("source", "str", required=True, description="publication (URL or DOI)"),
        Column("locator", "str", required=True, description="table row and column in the source"),
        Column("read_at", "url", required=True, description="where the value was read"),
        Column("note", "str", description="caveats"),
    ),
    property_columns=("price", "price_low"),
)

#: US dollars per kg of product for one price unit; units not listed are not converted (see module docstring).
UNIT_TO_USD_PER_KG: Mapping[str, float] = {
    "USD/kg": 1.0,
    "USD/lb": 1.0 / 0.45359237,
    "USc/lb": 0.01 / 0.45359237,
    "USD/t": 1.0e-3,
    "USD/short-ton": 1.0 / 907.18474,
    "USD/mt-unit": 1.0 / 10.0,
}

#: Elements priced at zero by convention, with the reason.
ZERO_COST_ELEMENTS: Mapping[str, str] = {"O": "priced at 0 by convention: from air or the oxide feedstock"}

#: Products priced as the element itself where the source states no content, with the reason.
PROXY_PRODUCTS: Mapping[tuple[str, str], str] = {
    ("Fe", "steel scrap (No. 1 heavy melting)"):
        "carbon-steel scrap taken as iron (mass fraction 1; its carbon and alloying elements are a few per cent)",
}

#: Years of annual averages behind the band of a single-valued quote.
BAND_YEARS = 5


@dataclass(frozen=True)
class PriceSeries:
    """One eligible price series of an element: its product and the start of its market label."""

    element: str
    product: str
    market: str

    def matches(self, row) -> bool:
        return row.element == self.element and row.formula_of_form == self.product and \
            row.market.startswith(self.market)


def _series(element: str, *pairs: tuple[str, str]) -> tuple[PriceSeries, ...]:
    return tuple(PriceSeries(element, product, market) for product, market in pairs)


#: Eligible series per element, in order of preference (metal before oxide where both are quoted).
PRICE_SERIES: Mapping[str, tuple[PriceSeries, ...]] = {
    "La": _series("La", ("La", "not stated"), ("La2O3", "FOB")),
    "Ce": _series("Ce", ("CeO2", "FOB")),
    "Pr": _series("Pr", ("Pr", "FOB"), ("Pr6O11", "FOB")),
    "Nd": _series("Nd", ("Nd", "FOB"), ("Nd2O3", "FOB")),
    "Sm": _series("Sm", ("Sm2O3", "FOB")),
    "Gd": _series("Gd", ("Gd2O3", "FOB")),
    "Tb": _series("Tb", ("Tb", "not stated"), ("Tb4O7", "FOB"), ("Tb4O7", "not stated")),
    "Dy": _series("Dy", ("Dy2O3", "FOB")),
    "Ho": _series("Ho", ("Ho2O3", "FOB")),
    "Er": _series("Er", ("Er2O3", "FOB")),
    "Y": _series("Y", ("Y", "China FOB"), ("Y", "FOB"), ("Y2O3", "China FOB")),
    "Co": _series("Co", ("Co", "LME cash")),
    "Ni": _series("Ni", ("Ni", "LME cash")),
    "Cu": _series("Cu", ("Cu", "LME cash")),
    "Al": _series("Al", ("Al", "US spot")),
    "Zn": _series("Zn", ("Zn", "LME cash")),
    "Pb": _series("Pb", ("Pb", "North America")),
    "Bi": _series("Bi", ("Bi", "Rotterdam")),
    "Sb": _series("Sb", ("Sb", "CIF")),
    "Ga": _series("Ga", ("Ga", "US imports")),
    "V": _series("V", ("V2O5", "China")),
    "Mn": _series("Mn", ("Mn ore (44% Mn)", "China CIF")),
    "Si": _series("Si", ("Si", "US (mean import price)")),
    "Ti": _series("Ti", ("Ti", "US imports")),
    "Zr": _series("Zr", ("Zr", "China ex-works")),
    "Ba": _series("Ba", ("BaSO4", "US ex-works")),
    "Ca": _series("Ca", ("CaO", "US at plant")),
    "C": _series("C", ("C", "US imports")),
    "N": _series("N", ("NH3", "US Gulf Coast")),
    "Fe": _series("Fe", ("steel scrap (No. 1 heavy melting)", "US delivered")),
}


@cache
def _load() -> pd.DataFrame:
    ref = resources.files("magnetscreen.datasets") / "data" / "supply" / PRICES.filename
    with resources.as_file(ref) as path:
        frame, digest = read_table(path, PRICES, f"supply/{PRICES.filename}")
    for row in frame.itertuples(index=False):
        has_price = not _missing(row.price)
        has_range = not _missing(row.price_low) and not _missing(row.price_high)
        where = f"supply/{PRICES.filename}: {row.element} {row.formula_of_form} {row.date}"
        if has_price == has_range:
            raise DataError(f"{where}: give either price or both price_low and price_high")
        if has_range and row.price_low > row.price_high:
            raise DataError(f"{where}: price_low {row.price_low} > price_high {row.price_high}")
    frame.attrs["provenance"] = {"table": PRICES.name, "file": f"supply/{PRICES.filename}", "sha256": digest,
                                 "rows": len(frame), "description": PRICES.description,
                                 "sources": sorted(set(frame["source"])),
                                 "dates": [str(frame["date"].min()), str(frame["date"].max())]}
    return frame


def _missing(value) -> bool:
    return value is None or value == "" or (isinstance(value, float) and math.isnan(value))


def load_price_table() -> pd.DataFrame:
    """The shipped price table as printed by its sources (a fresh copy, with ``attrs["provenance"]``)."""
    frame = _load().copy()
    frame.attrs = {"provenance": dict(_load().attrs["provenance"])}
    return frame


def usd_per_kg_of_element(value: float, unit: str, basis: str, element_mass_fraction: float | None) -> float:
    """A printed price converted to US dollars per kg of the element (see the module docstring).

    Raises
    ------
    DataError
        For a unit that is not converted, or a gross-weight price without the element's mass fraction.

    Examples
    --------
    >>> round(usd_per_kg_of_element(73.0, "USD/kg", "kg of Nd2O3 (gross oxide weight)", 0.857353), 2)
    85.15
    >>> round(usd_per_kg_of_element(15.0, "USD/lb", "lb of cobalt metal", 1.0), 3)
    33.069
    """
    if unit not in UNIT_TO_USD_PER_KG:
        raise DataError(f"price unit {unit!r} is not converted (known: {', '.join(UNIT_TO_USD_PER_KG)})")
    per_kg_product = value * UNIT_TO_USD_PER_KG[unit]
    if "contained" in basis:
        return per_kg_product
    if element_mass_fraction is None or _missing(element_mass_fraction):
        raise DataError(f"price per {basis!r}: the element's mass fraction in the product is not stated")
    return per_kg_product / float(element_mass_fraction)


def _quote(row) -> tuple[float, float, float]:
    if _missing(row.price):
        return 0.5 * (row.price_low + row.price_high), float(row.price_low), float(row.price_high)
    return float(row.price), math.nan, math.nan


def element_prices(as_of: dt.date, scale: Mapping[str, float] | None = None) -> pd.DataFrame:
    """One price per element in US dollars per kg of element, as of a date, times a scenario's factors.

    Parameters
    ----------
    as_of : datetime.date
    scale : mapping of element symbol to factor, optional
        Price shocks of a scenario (``[[price]] scale``), applied to the price and its band.

    Returns
    -------
    DataFrame
        One row per priced element (by atomic number): ``usd_per_kg`` with ``usd_per_kg_low`` and
        ``usd_per_kg_high``, ``scale``, the quote it came from (``quoted``, ``unit``, ``product``, ``form``,
        ``market``, ``period``, ``date``, ``source``, ``locator``), ``conversion`` (the arithmetic in
        words) and ``after_as_of`` (no eligible quote on or before ``as_of``). ``attrs["provenance"]``
        describes the table.
    """
    scale = dict(scale or {})
    table = _load()
    rows = list(table.itertuples(index=False))
    out = []
    for element, series in PRICE_SERIES.items():
        eligible = [(k, r) for k, s in enumerate(series) for r in rows if s.matches(r)]
        if not eligible:
            raise DataError(f"supply/{PRICES.filename}: no row of the eligible series of {element} "
                            f"({', '.join(s.product + ' / ' + s.market for s in series)})")
        dated = [(parse_date(r.date, "prices.csv", DataError), k, r) for k, r in eligible]
        before = [d for d in dated if d[0] <= as_of]
        if before:
            date, k, row = max(before, key=lambda d: (d[0], -d[1]))
        else:
            date, k, row = min(dated, key=lambda d: (d[0], d[1]))
        mid, low, high = _quote(row)
        fraction = None if _missing(row.element_mass_fraction) else float(row.element_mass_fraction)
        proxy = PROXY_PRODUCTS.get((element, row.formula_of_form))
        if proxy is not None and fraction is None:
            fraction = 1.0
        if math.isnan(low):
            recent = [_quote(r)[0] for d, kk, r in dated
                      if kk == k and date.year - BAND_YEARS < d.year <= date.year and d <= date]
            low, high = min(recent), max(recent)
        factor = float(scale.get(element, 1.0))
        value, low, high = (usd_per_kg_of_element(v, row.unit, row.basis, fraction) for v in (mid, low, high))
        if _missing(row.price):
            quoted = f"{row.price_low:g}-{row.price_high:g} {row.unit} (midpoint {mid:g})"
        else:
            quoted = f"{mid:g} {row.unit}"
        if "contained" in row.basis:
            how = f"{quoted} of contained {element} -> {value:.4g} USD/kg"
        else:
            how = f"{quoted} of {row.formula_of_form} / {fraction:g} -> {value:.4g} USD/kg {element}"
        if proxy is not None:
            how += f"; {proxy}"
        out.append({
            "element": element, "Z": symbol_to_z()[element], "usd_per_kg": value * factor,
            "usd_per_kg_low": low * factor, "usd_per_kg_high": high * factor, "scale": factor,
            "quoted": quoted, "unit": row.unit, "product": row.formula_of_form, "form": row.form,
            "market": row.market, "period": row.period, "date": date.isoformat(), "conversion": how,
            "after_as_of": date > as_of, "source": row.source, "locator": row.locator})
    for element, reason in ZERO_COST_ELEMENTS.items():
        out.append({"element": element, "Z": symbol_to_z()[element], "usd_per_kg": 0.0, "usd_per_kg_low": 0.0,
                    "usd_per_kg_high": 0.0, "scale": 1.0, "quoted": "", "unit": "", "product": "", "form": "",
                    "market": "", "period": "", "date": "", "conversion": reason, "after_as_of": False,
                    "source": "", "locator": ""})
    unknown = sorted(set(scale) - {r["element"] for r in out})
    if unknown:
        raise DataError(f"price scale for {', '.join(unknown)}: no price of these elements to scale "
                        f"(priced: {', '.join(PRICE_SERIES)})")
    frame = pd.DataFrame(out).sort_values("Z", kind="stable").reset_index(drop=True)
    frame.attrs = {"provenance": dict(table.attrs["provenance"]), "as_of": as_of.isoformat()}
    return frame


def price_vintage() -> dt.date:
    """Date of the newest quote of any eligible series (the price data end there)."""
    table = _load()
    dates = [parse_date(r.date, "prices.csv", DataError) for r in table.itertuples(index=False)
             if any(s.matches(r) for s in PRICE_SERIES.get(r.element, ()))]
    return max(dates)
