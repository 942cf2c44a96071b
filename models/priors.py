"""Physics priors from end members: what a magnet scientist would predict before any fitting.

A prototype's compositions are mixtures on sites: an ``A`` site (the rare earth of 2-14-1, 1-5, 2-17, 1-12; the
large cation of the hexaferrites), a host (the transition metal that fills the T sites, Fe or Co) and, for 2-17, an
interstitial level (none, or N/C at the nitride's three per formula unit). The prior of a composition is the site-
fraction-weighted interpolation between end members,

    prior = sum_a sum_h w_a v_h [(1 - y) E(a, h, 0) + y E(a, h, 1)],

with w_a the A-site fractions, v_h the Fe/Co fractions of the host (other T-site elements are left to the learned
residual), y the interstitial level (0..1: interstitial atoms per host-lattice atom relative to the level-1 end
member, so that Sm2Fe17N1.5 sits half way to Sm2Fe17N3) and E the end-member values: the median of the training
rows whose composition is exactly that end member (a2Fe14B, aCo5, a2Fe17N3, ...). The prior is NaN when an end
member the composition needs has no value. Prototypes without an A site (MnBi, MnAl, L1_0, Fe16N2) have one end
member, their reference phase.

For ``K1_MJm3`` the rare-earth sublattice adds single-ion anisotropy, K1 = K1_host + K1_R with K1_R proportional to
-alpha_J <r^2> J(2J - 1) A20 (Herbst, Rev. Mod. Phys. 63, 819 (1991)): within one prototype and host the missing
end members are filled from the measured ones as E(a) = E0 + k s(a), with s(a) = alpha_J J(2J - 1) of the R3+ ion
(:mod:`magnetscreen.datasets.rare_earth_ions`), E0 the end member of an ion without orbital moment (Y, La, Gd, Lu;
alpha_J = 0) and k fitted by least squares to the measured magnetic end members (only lanthanide and Y end members
are filled; Sc, Th and Zr are not). This carries the sign: an ion with alpha_J of the other sign (Sm, Er, Tm, Yb
against Nd, Pr, Dy, Tb) pulls the other way. It assumes <r_4f^2> equal across the series and a ground-multiplet
picture at room temperature: an approximation, which is why a learned residual follows.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from magnetscreen.datasets.elements import N_Z, symbol_to_z
from magnetscreen.datasets.rare_earth_ions import LANTHANIDES, rare_earth_ion
from magnetscreen.descriptors.encoding import CompositionBatch, encode
from magnetscreen.descriptors.prototypes import PROTOTYPES
from magnetscreen.models import prior_kernels as _k

__all__ = ["SiteModel", "SITE_MODELS", "PriorTable", "fit_prior", "A_SITE", "HOSTS", "direction_table",
           "easy_plane_mask", "shipped_directions", "end_member_names"]

#: Elements of the A site of the rare-earth prototypes (Zr shares the 1-12 R site).
A_SITE = ("Sc", "Y", *LANTHANIDES, "Th", "Zr")
#: Host elements interpolated on the T sites.
HOSTS = ("Fe", "Co")
_NO_ORBITAL = ("Sc", "Y", "La", "Gd", "Lu", "Th", "Zr")


@dataclass(frozen=True)
class SiteModel:
    """How a prototype's compositions mix: A-site elements, host templates and the interstitial level.

    ``templates`` maps (host, level) to the end member's formula with ``{a}`` for the A-site element;
    ``level_fraction`` is the atomic fraction of N + C + H at level 1 (0: no levels). A prototype without an
    A site has one end member, its reference phase: every composition of the prototype made only of the
    ``core`` elements (any ratio inside the prototype's window).
    """

    a_site: tuple[str, ...]
    templates: dict[tuple[str, int], str]
    level_fraction: float = 0.0
    core: tuple[str, ...] = ()


SITE_MODELS: dict[str, SiteModel] = {
    "2-14-1": SiteModel(A_SITE, {("Fe", 0): "{a}2Fe14B", ("Co", 0): "{a}2Co14B"}),
    "1-5": SiteModel(A_SITE, {("Co", 0): "{a}Co5", ("Fe", 0): "{a}Fe5"}),
    "2-17": SiteModel(A_SITE, {("Fe", 0): "{a}2Fe17", ("Co", 0): "{a}2Co17", ("Fe", 1): "{a}2Fe17N3",
                               ("Co", 1): "{a}2Co17N3"}, level_fraction=3 / 22),
    "1-12": SiteModel(A_SITE, {("Fe", 0): "{a}Fe11Ti", ("Co", 0): "{a}Co11Ti"}),
    "hexaferrite": SiteModel(("Sr", "Ba", "Pb", "Ca", "La"), {("Fe", 0): "{a}Fe12O19"}),
    # prototypes without an A site: every row of the prototype made only of its core elements is its reference
    "MnBi": SiteModel((), {}, core=("Mn", "Bi")),
    "MnAl": SiteModel((), {}, core=("Mn", "Al")),
    "L10": SiteModel((), {}, core=("Fe", "Ni")),
    "Fe16N2": SiteModel((), {}, core=("Fe", "N")),
}


@dataclass(frozen=True)
class PriorTable:
    """End-member values of one target as dense arrays for the prior kernel.

    Attributes
    ----------
    values : float64 (P, A, H, 2)
        E[prototype, A-site slot, host slot, level]; NaN where unknown.
    a_slot : int64 (P, N_Z)
        A-site slot of each element in each prototype, -1 elsewhere (all -1 for a prototype without A site).
    host_slot : int64 (N_Z,)
        Host slot of Fe and Co, -1 elsewhere.
    level_fraction : float64 (P,)
        N + C + H fraction at level 1 (0: the prototype has no levels).
    has_a_site : bool (P,)
    measured : bool (P, A, H, 2)
        True where the value is a measured end member (False: filled by single-ion scaling, or unknown).
    """

    values: np.ndarray
    a_slot: np.ndarray
    host_slot: np.ndarray
    level_fraction: np.ndarray
    has_a_site: np.ndarray
    measured: np.ndarray

    def evaluate(self, batch: CompositionBatch, prototype_codes: np.ndarray) -> np.ndarray:
        """The prior of every row (NaN where an end member it needs is unknown)."""
        return _k.prior_kernel(np.ascontiguousarray(batch.elements, dtype=np.int16),
                               np.ascontiguousarray(batch.fractions, dtype=np.float64),
                               np.ascontiguousarray(prototype_codes, dtype=np.int64), self.values, self.a_slot,
                               self.host_slot, self.level_fraction, self.has_a_site, _interstitial_mask())

    def arrays(self) -> dict[str, np.ndarray]:
        return {"prior_values": self.values, "prior_a_slot": self.a_slot, "prior_host_slot": self.host_slot,
                "prior_level_fraction": self.level_fraction, "prior_has_a_site": self.has_a_site,
                "prior_measured": self.measured}

    @classmethod
    def from_arrays(cls, arrays: dict[str, np.ndarray]) -> PriorTable:
        return cls(arrays["prior_values"], arrays["prior_a_slot"], arrays["prior_host_slot"],
                   arrays["prior_level_fraction"], arrays["prior_has_a_site"], arrays["prior_measured"])


def _interstitial_mask() -> np.ndarray:
    z = symbol_to_z()
    mask = np.zeros(N_Z, dtype=np.bool_)
    mask[[z["N"], z["C"], z["H"]]] = True
    return mask


def _layout() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, int]:
    z = symbol_to_z()
    n_proto = len(PROTOTYPES)
    n_a = max(len(m.a_site) for m in SITE_MODELS.values())
    a_slot = np.full((n_proto, N_Z), -1, dtype=np.int64)
    has_a = np.zeros(n_proto, dtype=np.bool_)
    level = np.zeros(n_proto, dtype=np.float64)
    for name, model in SITE_MODELS.items():
        p = PROTOTYPES.index(name)
        for slot, symbol in enumerate(model.a_site):
            a_slot[p, z[symbol]] = slot
        has_a[p] = bool(model.a_site)
        level[p] = model.level_fraction
    host = np.full(N_Z, -1, dtype=np.int64)
    for slot, symbol in enumerate(HOSTS):
        host[z[symbol]] = slot
    return a_slot, host, level, has_a, n_a


def end_member_names() -> dict[str, tuple[int, int, int, int]]:
    """Canonical name of every end member -> (prototype, A slot, host slot, level)."""
    names: dict[str, tuple[int, int, int, int]] = {}
    formulas, keys = [], []
    for name, model in SITE_MODELS.items():
        p = PROTOTYPES.index(name)
        for (host, lev), template in model.templates.items():
            h = HOSTS.index(host)
            for slot, symbol in enumerate(model.a_site):
                formulas.append(template.format(a=symbol))
                keys.append((p, slot, h, lev))
    for canonical, key in zip(encode(formulas).names().tolist(), keys):
        names[canonical] = key
    return names


def _stevens(symbol: str) -> float:
    if symbol in LANTHANIDES:
        return float(rare_earth_ion(symbol).stevens_strength)
    return 0.0


def fit_prior(canonical: np.ndarray, values: np.ndarray, prototypes: np.ndarray, element_sets: list[set[str]],
              target: str) -> PriorTable:
    """The end-member table of ``target`` from training rows.

    Parameters
    ----------
    canonical : array of str, canonical names of the rows
    values : float64, the rows' values
    prototypes : array of str, the rows' prototypes
    element_sets : list of set of str, the rows' elements
    target : str

    Rows whose composition is an end member give its value (the median when several do); for ``K1_MJm3``
    the missing rare-earth end members are filled by single-ion scaling (module docstring).
    """
    a_slot, host, level, has_a, n_a = _layout()
    table = np.full((len(PROTOTYPES), n_a, len(HOSTS), 2), np.nan)
    names = end_member_names()
    cores = {name: set(model.core) for name, model in SITE_MODELS.items() if model.core}
    found: dict[tuple[int, int, int, int], list[float]] = {}
    for name, value, proto, elements in zip(canonical.tolist(), values.tolist(), prototypes.tolist(), element_sets):
        if not np.isfinite(value):
            continue
        key = names.get(name)
        if key is None and proto in cores and elements <= cores[proto]:
            key = (PROTOTYPES.index(proto), 0, 0, 0)
        if key is not None:
            found.setdefault(key, []).append(float(value))
    for key, vals in found.items():
        table[key] = float(np.median(vals))
    measured = np.isfinite(table)
    if target == "K1_MJm3":
        for name, model in SITE_MODELS.items():
            if not model.a_site:
                continue
            p = PROTOTYPES.index(name)
            strengths = np.array([_stevens(s) for s in model.a_site])
            plain = np.array([s in _NO_ORBITAL for s in model.a_site])
            for h in range(len(HOSTS)):
                for lev in range(2):
                    known = measured[p, : len(model.a_site), h, lev]
                    base = table[p, : len(model.a_site), h, lev][known & plain]
                    magnetic = known & ~plain & (strengths != 0)
                    if base.size == 0 or not magnetic.any():
                        continue
                    e0 = float(np.mean(base))
                    s = strengths[magnetic]
                    k = float(np.sum(s * (table[p, : len(model.a_site), h, lev][magnetic] - e0)) / np.sum(s * s))
                    for slot, symbol in enumerate(model.a_site):
                        if not known[slot] and (symbol in LANTHANIDES or symbol == "Y"):
                            table[p, slot, h, lev] = e0 + k * strengths[slot]
    return PriorTable(table, a_slot, host, level, has_a, measured)


#: Temperatures (K) of the stated easy directions used by :func:`direction_table` (room temperature).
DIRECTION_T_WINDOW = (280.0, 310.0)


def direction_table(formulas: list[str], T_K: np.ndarray, anisotropy: np.ndarray) -> PriorTable:
    """The stated room-temperature easy direction of every end member: +1 easy axis, -1 easy plane, NaN unknown.

    Built from rows that state an easy direction (``anisotropy`` of the end-member table) at 280-310 K; an
    easy cone, or an end member stated both ways, is unknown. Interpolated with :func:`prior_kernel`, the table
    gives exactly -1 for a composition whose every occupied end member is easy plane (see
    :func:`easy_plane_mask`).
    """
    a_slot, host, level, has_a, n_a = _layout()
    table = np.full((len(PROTOTYPES), n_a, len(HOSTS), 2), np.nan)
    names = end_member_names()
    canonical = encode(list(formulas)).names().tolist()
    signs: dict[tuple[int, int, int, int], set[float]] = {}
    for name, T, direction in zip(canonical, np.asarray(T_K, dtype=float), anisotropy):
        key = names.get(name)
        if key is None or not (DIRECTION_T_WINDOW[0] <= T <= DIRECTION_T_WINDOW[1]):
            continue
        sign = {"easy_axis": 1.0, "easy_plane": -1.0}.get(str(direction))
        signs.setdefault(key, set()).add(np.nan if sign is None else sign)
    for key, values in signs.items():
        if len(values) == 1 and not np.isnan(next(iter(values))):
            table[key] = next(iter(values))
    return PriorTable(table, a_slot, host, level, has_a, np.isfinite(table))


def easy_plane_mask(batch: CompositionBatch, prototype_codes: np.ndarray,
                    table: PriorTable | None = None) -> np.ndarray:
    """Rows whose every occupied end member (A-site element x host x interstitial level) is stated easy plane at
    room temperature: their K1 cannot be positive whatever a learned model says. ``table`` defaults to the
    directions of the shipped end-member table (:func:`shipped_directions`)."""
    table = table if table is not None else shipped_directions()
    value = table.evaluate(batch, prototype_codes)
    return np.isfinite(value) & (value <= -1.0 + 1e-9)


@lru_cache(maxsize=1)
def shipped_directions() -> PriorTable:
    """:func:`direction_table` of the shipped end-member table's stated easy directions."""
    from magnetscreen.datasets.tables import load_end_members

    rows = load_end_members()
    rows = rows[rows["anisotropy"].notna()]
    return direction_table(list(rows["formula"]), rows["T_K"].to_numpy(float), rows["anisotropy"].to_numpy())
