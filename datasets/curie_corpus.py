"""A large, cited corpus of experimental Curie temperatures built from public compilations.

The corpus is built by :func:`build` from local copies of files published in public GitHub
repositories (the "sources"). The raw files are never shipped: :data:`SOURCES` records, per source,
the repository, the commit, the path of each file in the repository, its SHA-256, the licence and a
description, and :func:`build` refuses to run when a file is missing or its SHA-256 differs. The same
inputs give byte-identical outputs. Run it as::

    python -m magnetscreen.datasets.curie_corpus --sources /work/sources/curie --out datasets/data

Outputs (in ``--out``):

- ``curie_corpus.csv``: one row per composition (see "Collapse" and "Tiers" below);
- ``curie_records.csv.gz``: every kept record (composition key, value, source, source row, reference);
- ``curie_corpus.rejects.csv``: every record left out, with the reason;
- ``curie_corpus.sources.json``: the sources with their counts (read, kept, rejected by reason), the
  totals per tier and class, and the list of conflicts;
- ``intrinsic_series.csv``: the 2-14-1 and 1-12 (ThMn12-type) magnetization series of the MaMMoS
  literature tables (see "Magnetization series" below).

Sources and readers
-------------------
``ds1_nelson_sanvito``
    ``Data/DS1-RAW.csv`` of msg-byu/ML-for-CurieTemp-Predictions: about 2,500 ferromagnets compiled by
    hand by J. Nelson and S. Sanvito (Phys. Rev. Materials 3, 104405 (2019)). One record per row;
    formula = ``Orig_Name`` (the formula as the compilers wrote it), value = ``Tc`` in K, reference = the
    compilation's own reference code (``Ref``, e.g. ``Springer4_25``), which the compilation does not
    expand. Hand-curated.
``ds2_taufour``
    ``Data/DS2-RAW.txt`` of the same repository: about 3,200 compounds compiled by hand by V. Taufour,
    several values per compound (``10 K;7.5 K;``). One record per value; no reference per value.
    Hand-curated.
``nemad``
    ``MagneticMaterials_All.csv`` of the Northeast Materials Database (NEMAD; Itani, Zhang and Zang,
    arXiv:2409.15675), extracted from papers by a large language model, as redistributed in
    MaMMoS-project/ML-models. One record per row with a ``Curie`` value; reference = the ``DOI`` column
    (a DOI or, for a few rows, a book or author citation). Rows flagged ``Experimental == False`` are
    computed values and left out; rows with an empty flag are left out too. Text-mined.
``bert_psie``
    ``Tc_dataset.csv`` of StefanoSanvitoGroup/BERT-PSIE-TC: Curie temperatures extracted from papers by a
    chain of fine-tuned BERT models (arXiv:2301.11689). One row per compound with an array of values and
    an array of sources; both arrays are sorted independently (values ascending, sources
    alphabetically), so the compilation does not say which paper gave which value. One record per value;
    the reference is the row's list of sources, marked ``reference_paired = false`` unless the row has a
    single distinct source. Text-mined.
``mammos_literature``
    ``experimental-simulation-relations/experimental-simulation-ms/data/literature_values.csv`` of
    MaMMoS-project/ML-models: one row per (compound, original paper) for 2-14-1 phases, with the
    bibliographic reference and sometimes a DOI. One record per row with ``Tc (K)``. Hand-curated.
    (``compound-to-tc/.../literature_values_prepared.csv`` is a resaved subset of this file with the
    same values and is not read again.)
``mammos_mtcsum``
    ``experimental-simulation-relations/experimental-simulation-ms/data/m-tcsum.csv`` of the same
    repository: DFT and measured values of 1-12 and 2-14-1 phases with the source of each row. One record
    per row with ``T_C_exp [K]``. Its second version ``experimental-simulation-tc/data/m-tcsum_nur_new.csv``
    is read only to cross-check the measured values. Hand-curated.

Left out as sources: the MaMMoS "experimental Tc" tables (``Experimental_Tc*.csv``, about 14,500
formulas) and ``merged_curie_temp.csv``, because they are median merges of the files above (DS1+DS2,
NEMAD, the literature tables) without a source per row; ``DS1+DS2.csv`` (a merge of DS1 and DS2);
``combinded_tables.xlsx`` (most rows have no source per row; one block carries figure-read values with
twelve digits).

Cleaning rules (each counted per source in ``curie_corpus.sources.json``)
-------------------------------------------------------------------------
1. Source markings. A record is left out when its source marks it as computed (NEMAD
   ``Experimental == False``: ``computed``), gives no experimental flag (``experimental_flag_missing``),
   or marks it as not ferromagnetic (text such as "Param.", "spin glass", "AFM", "Neel" in the value:
   ``not_ferromagnetic_marked``). Rows that carry only a Neel temperature are not records at all
   (counted as ``rows_without_curie_value``). m-tcsum rows naming several sources (the row does not say
   which one holds the measured value: ``several_sources_named``) and rows whose two versions of the
   compilation state different values (``versions_disagree``) are left out. MaMMoS literature rows
   whose formula disagrees with the compilation's own element columns are left out
   (``formula_columns_disagree``).
2. Values. A number with an optional unit ``K``, ``°C``/``C``/``degC`` (converted with +273.15), an
   optional leading ``Tc =``, and an optional uncertainty (``585(2) K``, ``585 ± 5 K``, which is
   dropped, the central value kept) is parsed. Anything else is left out and counted:
   ``value_bound`` (``>300 K``, ``above``, ``up to``), ``value_approximate`` (``~``, ``≈``),
   ``value_range`` (``300-400 K``), ``value_several`` (several numbers in one cell),
   ``value_unparsed``. Values with more than six significant digits (``152.666666666667``,
   ``762.638706383094``) are not stated values but averages, fits or figure readings:
   ``value_not_stated`` (left out).
3. Range. Non-finite values (``value_nonfinite``), values <= 0 K (``value_nonpositive``) and values
   above 1500 K (``value_above_1500K``) are left out.
4. Formulas. Every formula goes through
   :func:`magnetscreen.datasets.composition.parse_composition` as written (only surrounding white space
   is stripped). A formula it rejects (variables such as ``x``, ``Fe2O3+x``, phase labels, unicode
   subscripts, names) is left out with the parser's message (``formula_rejected``); nothing is repaired.
5. Duplicates. A record with the same composition, value and reference as an earlier record of the same
   lineage (a compilation and its own derived files) is the same reading listed twice and is counted
   once (``duplicate_record``). Records without a paired reference are never merged this way.

Composition identity and material class
---------------------------------------
The identity key of a composition is the tuple of its elements (sorted alphabetically) with their
atomic fractions rounded to 1e-4, written as ``"B:0.0588 Fe:0.8235 Nd:0.1176"``. The ``formula`` shown
for a composition is pymatgen's reduced composition of the first record in source order, written
without spaces and without amounts of 1 (elements in pymatgen's electronegativity order).

``material_class`` is decided from the elements alone, in this order:

1. ``oxide``: contains O;
2. ``other_compound``: contains a halogen (F, Cl, Br, I, At), S, Se, Te, Po or a noble gas
   (halides, chalcogenides), or both C and H (molecular and organic compounds), or no metal at all, or
   more than 50 at.% of the anion formers H, C, N, P, As (pnictides, carbides, nitrides and hydrides
   that are clearly not metallic alloys by composition);
3. ``intermetallic/alloy``: everything else, i.e. metals with the metalloids B, Si, Ge, As, Sb and the
   interstitial or minority non-metals H, C, N, P (borides, silicides, interstitial carbides, nitrides
   and hydrides of intermetallics such as ``Nd2Fe14B``, ``Sm2Fe17N3``, ``LaFe11.5Si1.5H1.5``, ``MnBi``).

Collapse
--------
All kept records of one composition are collapsed to one row. ``Tc_K`` is a median in two steps:
the median of the records of each lineage (see "Tiers"), then the median of these lineage medians, so
each independent compilation has one vote. (A plain median over records would let the number of times
a compound is mentioned decide: BERT-PSIE lists 162 text mentions of Co with a median of 300 K, against
1388 K in DS1, DS2 and NEMAD.) The row also gives ``n_records``, ``Tc_min_K``, ``Tc_max_K`` and
``Tc_spread_K = max - min`` over all records, the sources
(compilation ids, ``;``-joined) and up to :data:`MAX_REFERENCES` references (references paired with
their value first, then alphabetical; the rest counted as ``(+N more)``). Two values agree when they
differ by at most 15 K or by at most 5 % of their mean (:func:`values_agree`). A composition has a
``conflict`` when the medians of two of its sources do not agree; every conflict is listed in
``curie_corpus.sources.json`` with the per-source medians.

Tiers
-----
Sources belong to lineages; two sources are independent when they are in different lineages. The
lineages are: ``nelson-sanvito`` (DS1), ``taufour`` (DS2), ``nemad`` (NEMAD), ``bert-psie`` (BERT-PSIE)
and ``mammos`` (both MaMMoS files, which are one group's compilation and repeat each other). These were
assembled separately (by hand from handbooks and papers, by an LLM from papers, by BERT models from
papers, by hand from papers), none is built from another. They may go back to the same original
measurement (a handbook value read by two groups), so tier A confirms the transcription of a value,
not that it was measured twice.

- ``A``: the medians of at least two independent lineages each agree with ``Tc_K``;
- ``B``: not A, and at least one record comes from a hand-curated compilation (DS1, DS2, MaMMoS);
- ``C``: only text-mined records (NEMAD, BERT-PSIE).

Magnetization series
--------------------
``intrinsic_series.csv`` holds every row of the MaMMoS literature table (2-14-1 phases) and of
``m-tcsum.csv`` (1-12 and 2-14-1 phases) that states ``mu0Ms``, ``mu0Ha`` or ``Tc`` and names an
original source (a DOI, or the bibliographic reference). Taken only where stated: ``mu0Ms`` is left out
where the compilation gives the moment ``muB`` from which it computed ``mu0Ms`` with the lattice
volume; values with more than six significant digits are left out (figure readings, fits); DOIs that
differ between rows of one paper are not used (the citation is used instead); rows whose formula
disagrees with the element columns, and the rows of Kobayashi et al. 2012 (stated values whose
measurement temperature is not room temperature, see ``docs/data.md``), are left out. The compilation
gives no measurement temperature: rows with ``Js_T`` or ``muHA_T`` carry ``T_K = 295`` with
``T_K_nominal = True``; Curie-temperature-only rows have no ``T_K``. The m-tcsum magnetizations are not
used (their 300 K column carries values computed from fitted M(T) curves, and the other column cannot
be told apart from converted or fitted values without the originals).
"""

from __future__ import annotations

import argparse
import csv
import gzip
import io
import json
import math
import re
import statistics
import sys
import time
import warnings
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from magnetscreen.datasets.composition import parse_composition
from magnetscreen.datasets.errors import CompositionError, DataError
from magnetscreen.datasets.provenance import file_sha256

__all__ = [
    "SourceFile",
    "SourceSpec",
    "RawRecord",
    "ReaderOutput",
    "SOURCES",
    "MAX_REFERENCES",
    "TC_MAX_K",
    "parse_value_text",
    "normalise_reference",
    "composition_identity",
    "material_class",
    "values_agree",
    "read_ds1",
    "read_ds2",
    "read_nemad",
    "read_bert_psie",
    "read_mammos_literature",
    "read_mammos_mtcsum",
    "build",
    "main",
]

#: Largest Curie temperature accepted (K); larger values are left out.
TC_MAX_K = 1500.0
#: Absolute and relative tolerance for two values to agree (K and fraction of their mean).
AGREE_ABS_K = 15.0
AGREE_REL = 0.05
#: Most references listed per composition in ``curie_corpus.csv``.
MAX_REFERENCES = 8
#: Most significant digits of a stated value (585.15 K from 312 °C has five).
MAX_SIGNIFICANT = 6
#: Room temperature assumed where a compilation gives none (with ``T_K_nominal``).
ROOM_TEMPERATURE_K = 295.0

CORPUS_FILE = "curie_corpus.csv"
RECORDS_FILE = "curie_records.csv.gz"
REJECTS_FILE = "curie_corpus.rejects.csv"
SOURCES_FILE = "curie_corpus.sources.json"
SERIES_FILE = "intrinsic_series.csv"

HAND_CURATED = "hand-curated"
TEXT_MINED = "text-mined"

INTERMETALLIC = "intermetallic/alloy"
OXIDE = "oxide"
OTHER = "other_compound"


# ---------------------------------------------------------------------------------------------------
# Sources
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SourceFile:
    """One file of a source: its path in the repository, its local name and its SHA-256."""

    path: str
    local_name: str
    sha256: str


@dataclass(frozen=True)
class SourceSpec:
    """A source compilation: where it is published, at which commit, under which licence.

    Attributes
    ----------
    id : str
        Short id used in the outputs (``sources`` column, ``source_id``).
    lineage : str
        Sources of one lineage are not independent of each other (see "Tiers").
    kind : str
        ``"hand-curated"`` or ``"text-mined"``.
    repository : str
        ``owner/name`` on GitHub.
    commit : str
        Commit (40 hex digits) of the files read.
    files : tuple of SourceFile
        The files read; the first one holds the records.
    licence, description, citation : str
        Licence of the repository, what the source is, how to cite it.
    """

    id: str
    lineage: str
    kind: str
    repository: str
    commit: str
    files: tuple[SourceFile, ...]
    licence: str
    description: str
    citation: str

    def url(self, index: int = 0, line: int | None = None) -> str:
        """GitHub URL of file ``index`` pinned to the commit, optionally to a line."""
        anchor = f"#L{line}" if line is not None else ""
        return f"https://github.com/{self.repository}/blob/{self.commit}/{self.files[index].path}{anchor}"


_MAMMOS = "MaMMoS-project/ML-models"
_MAMMOS_COMMIT = "791e0b5730b78c9f6041af7237f83d11b67133d7"
_BYU = "msg-byu/ML-for-CurieTemp-Predictions"
_BYU_COMMIT = "80841ce4074388ffb1558ad1b42bf85bd1c99c7a"
_BERT = "StefanoSanvitoGroup/BERT-PSIE-TC"
_BERT_COMMIT = "c1a00cbd1576450912a4fa87adff11d9f2111dd6"
_MAMMOS_LICENCE = "MIT (LICENSE of MaMMoS-project/ML-models, (c) 2025 MaMMoS)"

#: The sources read by :func:`build`, in the order their records are listed.
SOURCES: tuple[SourceSpec, ...] = (
    SourceSpec(
        id="ds1_nelson_sanvito",
        lineage="nelson-sanvito",
        kind=HAND_CURATED,
        repository=_BYU,
        commit=_BYU_COMMIT,
        files=(SourceFile("Data/DS1-RAW.csv", "DS1-RAW.csv",
                          "1405cc2fe5fa24beab9c9074a8a718c748c373181a17c173cfcf4be44c04a54f"),),
        licence="MIT (LICENSE of msg-byu/ML-for-CurieTemp-Predictions, (c) 2023 Materials Simulation Group at BYU)",
        description=("Raw data set of ferromagnets and their Curie temperatures compiled by hand by James Nelson "
                     "and Stefano Sanvito (README of the repository); columns Id, Name (integer formula), "
                     "Tc (K), Orig_Name (formula as compiled), Ref (the compilers' reference code)."),
        citation=("J. Nelson and S. Sanvito, Phys. Rev. Materials 3, 104405 (2019), "
                  "doi:10.1103/PhysRevMaterials.3.104405; redistributed with Belot et al., arXiv:2307.06879"),
    ),
    SourceSpec(
        id="ds2_taufour",
        lineage="taufour",
        kind=HAND_CURATED,
        repository=_BYU,
        commit=_BYU_COMMIT,
        files=(SourceFile("Data/DS2-RAW.txt", "DS2-RAW.txt",
                          "934de4b549549474932e083fe1253cf31af2ecd0a12ca2bdff7e0508155a8bed"),),
        licence="MIT (LICENSE of msg-byu/ML-for-CurieTemp-Predictions, (c) 2023 Materials Simulation Group at BYU)",
        description=("Raw data set of ferromagnets and their Curie temperatures compiled by hand by Valentin "
                     "Taufour (README of the repository); tab-separated: formula, element list, amounts, "
                     "';'-separated Curie temperatures with unit; no reference per value."),
        citation="Belot, Taufour, Sanvito and Hart, arXiv:2307.06879 (data set DS2)",
    ),
    SourceSpec(
        id="nemad",
        lineage="nemad",
        kind=TEXT_MINED,
        repository=_MAMMOS,
        commit=_MAMMOS_COMMIT,
        files=(SourceFile("experimental-simulation-relations/experimental-simulation-tc/data/MagneticMaterials_All.csv",
                          "MagneticMaterials_All.csv",
                          "3419069b1bd99ced20bd9c89c5577ac1a875b802b0eddc1f33f2282413044827"),),
        licence=(_MAMMOS_LICENCE + "; upstream NEMAD (github.com/sumanitani/NEMAD-MagneticML, www.nemad.org) states "
                 "no licence in its repository; only facts (formula, value, DOI) are shipped"),
        description=("Northeast Materials Database (NEMAD) export as redistributed in MaMMoS-project/ML-models: "
                     "magnetic materials extracted from papers by a large language model; columns Material_Name, "
                     "Curie, Neel, ..., DOI, Experimental (True for measured values)."),
        citation=("S. Itani, Y. Zhang and J. Zang, The Northeast Materials Database for magnetic materials, "
                  "arXiv:2409.15675 (Nat. Commun. 2025); Y. Zhang et al., J. Magn. Magn. Mater. 597, 172001 (2024)"),
    ),
    SourceSpec(
        id="bert_psie",
        lineage="bert-psie",
        kind=TEXT_MINED,
        repository=_BERT,
        commit=_BERT_COMMIT,
        files=(SourceFile("Tc_dataset.csv", "Tc_dataset.csv",
                          "b6ed99da5a115cbed216de2aea31679f337420f5a661b04e3079bad2dc6906d3"),),
        licence="MIT (LICENSE of StefanoSanvitoGroup/BERT-PSIE-TC, (c) 2023 StefanoSanvitoGroup)",
        description=("Curie temperatures extracted automatically from papers by the BERT-PSIE workflow; one row "
                     "per compound with the array of extracted values (K) and the array of sources (DOIs or "
                     "citation keys), each array sorted on its own."),
        citation="L. Gilligan et al., arXiv:2301.11689 (BERT-PSIE)",
    ),
    SourceSpec(
        id="mammos_literature",
        lineage="mammos",
        kind=HAND_CURATED,
        repository=_MAMMOS,
        commit=_MAMMOS_COMMIT,
        files=(SourceFile("experimental-simulation-relations/experimental-simulation-ms/data/literature_values.csv",
                          "literature_values.csv",
                          "10102ac1e21343a003acb3ea5e392a2dfc8cd61836fa119ac0ee17acfeed1f21"),),
        licence=_MAMMOS_LICENCE,
        description=("Literature values of 2-14-1 phases compiled by hand by the MaMMoS project: one row per "
                     "compound and original paper (Filename key, Reference, DOI), element amounts, lattice "
                     "parameters, moment muB, mu0Ms (T), mu0Ha (T), Tc (K); ';'-separated."),
        citation="MaMMoS-project/ML-models, experimental-simulation-ms literature table",
    ),
    SourceSpec(
        id="mammos_mtcsum",
        lineage="mammos",
        kind=HAND_CURATED,
        repository=_MAMMOS,
        commit=_MAMMOS_COMMIT,
        files=(
            SourceFile("experimental-simulation-relations/experimental-simulation-ms/data/m-tcsum.csv",
                       "m-tcsum.csv",
                       "91908958e058600622ab704b606605f155bed4b8d4aa0c442fa0a1b6ab2aa368"),
            SourceFile("experimental-simulation-relations/experimental-simulation-tc/data/m-tcsum_nur_new.csv",
                       "m-tcsum_nur_new.csv",
                       "84fde1b664966109836b234963a7b4b12411538e15311b1db1e74931ab5e24dd"),
        ),
        licence=_MAMMOS_LICENCE,
        description=("DFT and measured magnetization and Curie temperatures of 1-12 (ThMn12-type) and 2-14-1 "
                     "phases compiled by the MaMMoS project, with the source(s) of each row; the second file is "
                     "another version of the same table, read only to cross-check the measured values."),
        citation="MaMMoS-project/ML-models, m-tcsum table",
    ),
)


# ---------------------------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RawRecord:
    """One candidate Curie temperature as a reader found it.

    Attributes
    ----------
    source_id : str
        Id of the source (:attr:`SourceSpec.id`).
    row : int
        1-based number of the data record in the file, header not counted (as Python's ``csv`` reader
        counts records).
    line : int
        1-based line of the file where the record starts (the header is line 1).
    value_index : int or None
        1-based position of the value in a multi-value cell (DS2, BERT-PSIE), else None.
    formula_text, value_text : str
        The formula and the value exactly as in the file.
    value : float or None
        The value when the file holds a bare number (then ``value_text`` is its text), else None.
    unit : str
        Unit the source uses for bare numbers (``"K"``).
    reference : str
        Normalised original reference (``doi:...`` or citation text) or ``""``.
    reference_paired : bool
        Whether the compilation pairs this value with this reference.
    flags : tuple of str
        Extra markings (e.g. ``"also_neel"``: the row gives a Neel temperature too).
    reject, reject_detail : str or None, str
        Reason (and detail) when the source's own markings leave the record out.
    """

    source_id: str
    row: int
    line: int
    value_index: int | None
    formula_text: str
    value_text: str
    value: float | None
    unit: str
    reference: str
    reference_paired: bool
    flags: tuple[str, ...] = ()
    reject: str | None = None
    reject_detail: str = ""


@dataclass
class ReaderOutput:
    """What a reader returns: the number of data rows read, the records, and counts of rows without one."""

    rows_read: int
    records: list[RawRecord]
    row_counts: Counter = field(default_factory=Counter)


@dataclass(frozen=True)
class _Kept:
    raw: RawRecord
    key: str
    formula: str
    material_class: str
    value_K: float
    unit: str


# ---------------------------------------------------------------------------------------------------
# Small parsers
# ---------------------------------------------------------------------------------------------------

_NUM = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"
_VALUE = re.compile(
    rf"^(?:T[cC]\s*=\s*)?(?P<num>{_NUM})\s*(?:\((?P<paren>\d+)\))?\s*(?:(?:±|\+/-|\+-)\s*(?P<pm>{_NUM}))?\s*"
    r"(?P<unit>K|°\s*C|º\s*C|˚\s*C|deg\s*C|degC|C)?\s*\.?$"
)
_NOT_FM = re.compile(r"param|spin[\s-]*glass|antiferro|\bAFM\b|n[ée]el|no\s+(?:magnetic\s+)?order|diamagn|not\s+ferro",
                     re.IGNORECASE)
_BOUND = re.compile(r"^\s*(?:[<>≤≥⩽⩾]|>>|<<)|\b(?:above|below|over|up\s+to|less\s+than|more\s+than|higher\s+than|"
                    r"lower\s+than|exceed|at\s+least|at\s+most)\b", re.IGNORECASE)
_APPROX = re.compile(r"[~≈∼≃]|\b(?:about|approx|approximately|ca\.|around|nearly)\b", re.IGNORECASE)
_RANGE = re.compile(rf"\d\s*(?:-|–|—|to)\s*{_NUM}", re.IGNORECASE)
_ANY_NUM = re.compile(r"\d+(?:\.\d+)?")


def parse_value_text(text: str, default_unit: str = "K") -> tuple[float | None, str, str | None]:
    """Parse a Curie temperature written as text.

    Parameters
    ----------
    text : str
        The cell, e.g. ``"585"``, ``"585 K"``, ``"312 °C"``, ``"585(2) K"``, ``"585 ± 5 K"``.
    default_unit : str
        Unit of a bare number (``"K"``).

    Returns
    -------
    value_K : float or None
        The value in kelvin, or None when the text is left out.
    unit : str
        The unit read (``"K"`` or ``"C"``) or ``""``.
    reason : str or None
        None when parsed, else one of ``not_ferromagnetic_marked``, ``value_bound``,
        ``value_approximate``, ``value_range``, ``value_several``, ``value_unparsed``.

    Examples
    --------
    >>> parse_value_text("312 °C")
    (585.15, 'C', None)
    >>> parse_value_text(">300 K")
    (None, '', 'value_bound')
    """
    s = " ".join(str(text).split())
    match = _VALUE.match(s)
    if match:
        value = float(match.group("num"))
        unit = match.group("unit") or default_unit
        unit = "K" if unit == "K" else "C"
        if unit == "C":
            value = round(value + 273.15, 6)
        return value, unit, None
    if _NOT_FM.search(s):
        return None, "", "not_ferromagnetic_marked"
    if _BOUND.search(s):
        return None, "", "value_bound"
    if _APPROX.search(s):
        return None, "", "value_approximate"
    if _RANGE.search(s):
        return None, "", "value_range"
    if len(_ANY_NUM.findall(s)) >= 2:
        return None, "", "value_several"
    return None, "", "value_unparsed"


def _not_stated(value: float) -> bool:
    """True for a value with more than :data:`MAX_SIGNIFICANT` significant digits (an average, fit or reading)."""
    mantissa = f"{abs(value):.15g}".split("e")[0]
    return len(re.sub(r"[^0-9]", "", mantissa).lstrip("0")) > MAX_SIGNIFICANT


_DOI = re.compile(r"10\.\d{4,9}/[^\s;,|'\"]+")


def normalise_reference(text: str) -> str:
    """Normalise a reference: ``doi:<lower-case DOI>`` when the text holds a DOI, else the text.

    Examples
    --------
    >>> normalise_reference(" https://doi.org/10.1103/RevModPhys.63.819 ")
    'doi:10.1103/revmodphys.63.819'
    >>> normalise_reference("Handbook of  Magnetic Materials")
    'Handbook of Magnetic Materials'
    """
    t = " ".join(str(text).split())
    if not t:
        return ""
    match = _DOI.search(t)
    if match:
        return "doi:" + match.group(0).rstrip(".").lower()
    return t


def _fmt(x: float | None) -> str:
    """Deterministic short text of a number: six significant digits (every stated value has at most six,
    see :data:`MAX_SIGNIFICANT`), so a value of 3.5e-05 K stays 3.5e-05 and 312 C + 273.15 stays 585.15."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return ""
    text = f"{x:.{MAX_SIGNIFICANT}g}"
    return "0" if text == "-0" else text


# ---------------------------------------------------------------------------------------------------
# Compositions
# ---------------------------------------------------------------------------------------------------

_HALOGENS = frozenset({"F", "Cl", "Br", "I", "At", "Ts"})
_CHALCOGENS = frozenset({"S", "Se", "Te", "Po"})
_NOBLE = frozenset({"He", "Ne", "Ar", "Kr", "Xe", "Rn", "Og"})
_NON_METALS = frozenset({"H", "B", "C", "N", "O", "Si", "P", "Ge", "As", "Sb", "Se", "Te"}) | _HALOGENS | _NOBLE | {"S"}
_ANION_FORMERS = frozenset({"H", "C", "N", "P", "As"})
_RARE = frozenset({"Sc", "Y", "La", "Ce", "Pr", "Nd", "Pm", "Sm", "Eu", "Gd", "Tb", "Dy", "Ho", "Er", "Tm", "Yb",
                   "Lu", "Th"})


def material_class(fractions: dict[str, float]) -> str:
    """Material class of a composition from its elements (rule in the module docstring).

    Parameters
    ----------
    fractions : dict of str to float
        Atomic fractions by element symbol.

    Returns
    -------
    str
        ``"intermetallic/alloy"``, ``"oxide"`` or ``"other_compound"``.

    Examples
    --------
    >>> material_class({"Nd": 2 / 17, "Fe": 14 / 17, "B": 1 / 17})
    'intermetallic/alloy'
    >>> material_class({"Cr": 0.25, "I": 0.75})
    'other_compound'
    """
    elements = set(fractions)
    if "O" in elements:
        return OXIDE
    if elements & (_HALOGENS | _CHALCOGENS | _NOBLE):
        return OTHER
    if {"C", "H"} <= elements:
        return OTHER
    if not elements - _NON_METALS:
        return OTHER
    if sum(f for el, f in fractions.items() if el in _ANION_FORMERS) > 0.5:
        return OTHER
    return INTERMETALLIC


_IDENTITY_CACHE: dict[str, tuple[str, str, str, dict[str, float]] | str] = {}


def composition_identity(formula: str) -> tuple[str, str, str, dict[str, float]]:
    """Identity key, reduced formula, material class and amounts of a formula.

    Parameters
    ----------
    formula : str
        A formula as written in a source (surrounding white space is ignored).

    Returns
    -------
    key : str
        Elements sorted alphabetically with atomic fractions rounded to 1e-4, e.g.
        ``"B:0.0588 Fe:0.8235 Nd:0.1176"``.
    reduced_formula : str
        pymatgen's reduced composition written without spaces and without amounts of 1
        (``"Nd2Fe14B"``, ``"Sr0.3La0.7MnO3"``).
    material_class : str
        See :func:`material_class`.
    amounts : dict of str to float
        Amounts as written.

    Raises
    ------
    CompositionError
        If :func:`~magnetscreen.datasets.composition.parse_composition` rejects the formula.
    """
    text = formula.strip()
    cached = _IDENTITY_CACHE.get(text)
    if cached is None:
        try:
            comp = parse_composition(text)
        except CompositionError as exc:
            _IDENTITY_CACHE[text] = str(exc)
            raise
        amounts = {str(el): float(amt) for el, amt in comp.items()}
        total = sum(amounts.values())
        fractions = {el: amt / total for el, amt in amounts.items()}
        key = " ".join(f"{el}:{fractions[el]:.4f}" for el in sorted(fractions))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # pymatgen warns about elements without electronegativity
            tokens = comp.reduced_composition.formula.split()
        display = "".join(re.sub(r"(?<=[A-Za-z])1$", "", token) for token in tokens)
        cached = (key, display, material_class(fractions), amounts)
        _IDENTITY_CACHE[text] = cached
    if isinstance(cached, str):
        raise CompositionError(cached)
    return cached


def values_agree(a: float, b: float) -> bool:
    """Whether two values agree: within 15 K or within 5 % of their mean.

    Examples
    --------
    >>> values_agree(585.0, 598.0), values_agree(1000.0, 1045.0), values_agree(424.0, 530.0)
    (True, True, False)
    """
    return abs(a - b) <= max(AGREE_ABS_K, AGREE_REL * abs(a + b) / 2.0)


# ---------------------------------------------------------------------------------------------------
# Readers (one per source format)
# ---------------------------------------------------------------------------------------------------


def _csv_rows(path: Path, delimiter: str = ",", encoding: str = "utf-8") -> tuple[list[str], list[list[str]]]:
    header, rows, _ = _csv_rows_lines(path, delimiter, encoding)
    return header, rows


def _csv_rows_lines(path: Path, delimiter: str = ",",
                    encoding: str = "utf-8") -> tuple[list[str], list[list[str]], list[int]]:
    """Header, data records and the file line (1-based) where each data record starts."""
    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        rows, lines, previous = [], [], 0
        for record in reader:
            rows.append(record)
            lines.append(previous + 1)
            previous = reader.line_num
    if not rows:
        raise DataError(f"{path}: empty file")
    return rows[0], rows[1:], lines[1:]


def _column(header: list[str], name: str, path: Path) -> int:
    try:
        return header.index(name)
    except ValueError:
        raise DataError(f"{path}: column {name!r} not found (columns: {header})") from None


def _cell(row: list[str], index: int) -> str:
    return row[index] if index < len(row) else ""


def read_ds1(paths: Sequence[Path], source_id: str = "ds1_nelson_sanvito") -> ReaderOutput:
    """Read the Nelson-Sanvito compilation (``DS1-RAW.csv``: Id, Name, Tc, Orig_Name, Ref).

    Parameters
    ----------
    paths : sequence of Path
        The file (one).
    source_id : str
        Id written into the records.

    Returns
    -------
    ReaderOutput
        One record per row: formula = ``Orig_Name``, value = ``Tc`` (K), reference = ``ds1:<Ref>``.
    """
    path = paths[0]
    header, rows, lines = _csv_rows_lines(path, encoding="utf-8-sig")
    i_tc, i_name, i_ref = (_column(header, c, path) for c in ("Tc", "Orig_Name", "Ref"))
    out = ReaderOutput(rows_read=len(rows), records=[])
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        value_text = _cell(row, i_tc).strip()
        if not value_text:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        ref = _cell(row, i_ref).strip()
        out.records.append(RawRecord(source_id, n, line, None, _cell(row, i_name), value_text, None, "K",
                                     f"ds1:{ref}" if ref else "", bool(ref)))
    return out


def read_ds2(paths: Sequence[Path], source_id: str = "ds2_taufour") -> ReaderOutput:
    """Read the Taufour compilation (``DS2-RAW.txt``: tab-separated, values ``"10 K;7.5 K;"``).

    Returns
    -------
    ReaderOutput
        One record per value; no reference (the compilation gives none).
    """
    path = paths[0]
    header, rows, lines = _csv_rows_lines(path, delimiter="\t", encoding="utf-8-sig")
    i_formula = _column(header, "wChemicalFormula", path)
    i_tc = _column(header, "wCurieTemperature", path)
    kept_rows = [(r, line) for r, line in zip(rows, lines) if any(c.strip() for c in r)]
    out = ReaderOutput(rows_read=len(kept_rows), records=[])
    for n, (row, line) in enumerate(kept_rows, start=1):
        values = [v for v in _cell(row, i_tc).split(";") if v.strip()]
        if not values:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        for k, value_text in enumerate(values, start=1):
            out.records.append(RawRecord(source_id, n, line, k, _cell(row, i_formula), value_text.strip(), None, "K",
                                         "", False))
    return out


def read_nemad(paths: Sequence[Path], source_id: str = "nemad") -> ReaderOutput:
    """Read the NEMAD export (``MagneticMaterials_All.csv``).

    Rows with a ``Curie`` value are records; ``Experimental`` must be ``True`` (``False``: computed,
    left out; empty: left out). Rows that also give a Neel temperature carry the flag ``also_neel``.

    Returns
    -------
    ReaderOutput
        One record per row with a Curie value; reference = the ``DOI`` column, normalised.
    """
    path = paths[0]
    header, rows, lines = _csv_rows_lines(path, encoding="utf-8-sig")
    i_name, i_curie, i_neel, i_doi, i_exp = (
        _column(header, c, path) for c in ("Material_Name", "Curie", "Neel", "DOI", "Experimental"))
    out = ReaderOutput(rows_read=len(rows), records=[])
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        value_text = _cell(row, i_curie).strip()
        if not value_text:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        flags = ("also_neel",) if _cell(row, i_neel).strip() else ()
        experimental = _cell(row, i_exp).strip()
        reject = None
        if experimental == "False":
            reject = "computed"
        elif experimental != "True":
            reject = "experimental_flag_missing"
        ref = normalise_reference(_cell(row, i_doi))
        out.records.append(RawRecord(source_id, n, line, None, _cell(row, i_name), value_text, None, "K", ref,
                                     bool(ref), flags, reject, f"Experimental={experimental!r}" if reject else ""))
    return out


_QUOTED = re.compile(r"'([^']*)'|\"([^\"]*)\"")


def read_bert_psie(paths: Sequence[Path], source_id: str = "bert_psie") -> ReaderOutput:
    """Read the BERT-PSIE data set (``Tc_dataset.csv``: compound, Tc array, source array).

    Returns
    -------
    ReaderOutput
        One record per value of the ``Tc`` array (values in K). The reference is the row's distinct
        sources joined by ``" | "``; ``reference_paired`` only when the row has one distinct source,
        because the compilation sorts values and sources separately.
    """
    path = paths[0]
    header, rows, lines = _csv_rows_lines(path, encoding="utf-8-sig")
    i_comp, i_tc, i_src = (_column(header, c, path) for c in ("compound", "Tc", "source"))
    out = ReaderOutput(rows_read=len(rows), records=[])
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        tokens = _cell(row, i_tc).strip().strip("[]").split()
        if not tokens:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        refs = sorted({normalise_reference(a or b) for a, b in _QUOTED.findall(_cell(row, i_src))} - {""})
        reference = " | ".join(refs)
        for k, token in enumerate(tokens, start=1):
            try:
                value = float(token)
            except ValueError:
                value = None
            out.records.append(RawRecord(source_id, n, line, k, _cell(row, i_comp), token, value, "K", reference,
                                         len(refs) == 1))
    return out


_LIT_ELEMENTS = ("La", "Ce", "Pr", "Nd", "Sm", "Gd", "Tb", "Dy", "Mn", "Ni", "Fe", "Co", "B", "C")


def _literature_table(path: Path) -> tuple[list[str], list[list[str]]]:
    return _csv_rows(path, delimiter=";", encoding="utf-8-sig")


def _literature_lines(path: Path) -> list[int]:
    return _csv_rows_lines(path, delimiter=";", encoding="utf-8-sig")[2]


def _literature_doi_consistency(header: list[str], rows: list[list[str]], path: Path) -> dict[str, bool]:
    """Per Filename key: True when the rows of that paper give at most one distinct DOI."""
    i_file, i_doi = _column(header, "Filename", path), _column(header, "DOI", path)
    dois: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        doi = normalise_reference(_cell(row, i_doi))
        if doi.startswith("doi:"):
            dois[_cell(row, i_file).strip()].add(doi)
    return {key: len(values) <= 1 for key, values in dois.items()}


def _literature_reference(row: list[str], header: list[str], path: Path, doi_ok: dict[str, bool]) -> tuple[str, str]:
    """(normalised reference, citation text) of a literature row; reference is ``""`` when untraceable."""
    key = _cell(row, _column(header, "Filename", path)).strip()
    citation = " ".join(_cell(row, _column(header, "Reference", path)).split()).rstrip(";").strip()
    doi = normalise_reference(_cell(row, _column(header, "DOI", path)))
    if doi.startswith("doi:") and doi_ok.get(key, True):
        return doi, citation
    return citation, citation


def _literature_columns_agree(row: list[str], header: list[str], path: Path, formula: str) -> str:
    """``""`` when the formula's amounts equal the element columns, else a description of the difference."""
    try:
        amounts = composition_identity(formula)[3]
    except CompositionError:
        return ""  # the formula rule reports it
    diffs = []
    for el in _LIT_ELEMENTS:
        text = _cell(row, _column(header, el, path)).strip()
        column = float(text) if text else 0.0
        stated = amounts.get(el, 0.0)
        if abs(column - stated) > 1e-6 * max(1.0, abs(stated)):
            diffs.append(f"{el}: formula {stated:g}, column {column:g}")
    return "; ".join(diffs)


def read_mammos_literature(paths: Sequence[Path], source_id: str = "mammos_literature") -> ReaderOutput:
    """Read the MaMMoS literature table of 2-14-1 phases (``literature_values.csv``, ';'-separated).

    Returns
    -------
    ReaderOutput
        One record per row with ``Tc (K)``; reference = the DOI when the rows of that paper give one
        consistent DOI, else the bibliographic reference, else ``key:<Filename>``.
    """
    path = paths[0]
    header, rows = _literature_table(path)
    doi_ok = _literature_doi_consistency(header, rows, path)
    i_comp, i_tc, i_file = (_column(header, c, path) for c in ("Compound", "Tc (K)", "Filename"))
    lines = _literature_lines(path)
    out = ReaderOutput(rows_read=len(rows), records=[])
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        value_text = _cell(row, i_tc).strip()
        if not value_text:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        reference, _ = _literature_reference(row, header, path, doi_ok)
        if not reference:
            reference = f"key:{_cell(row, i_file).strip()}"
        formula = _cell(row, i_comp)
        disagree = _literature_columns_agree(row, header, path, formula)
        out.records.append(RawRecord(source_id, n, line, None, formula, value_text, None, "K", reference, True, (),
                                     "formula_columns_disagree" if disagree else None, disagree))
    return out


def _split_sources(text: str) -> list[str]:
    return [normalise_reference(part) for part in re.split(r"[;\s]+", text) if part.strip()]


def _read_mtcsum_versions(paths: Sequence[Path]) -> tuple[list[str], list[list[str]], dict[int, str]]:
    path = paths[0]
    header, rows = _csv_rows(path, encoding="utf-8-sig")
    other: dict[int, str] = {}
    if len(paths) > 1:
        with open(paths[1], newline="", encoding="utf-8-sig") as handle:
            text = handle.read().replace("\r\n", "\n").replace("\r", "\n")
        rows2 = list(csv.reader(io.StringIO(text)))
        i_tc2 = _column(rows2[0], "T_C_exp_[K]", paths[1])
        i_sys2 = _column(rows2[0], "System", paths[1])
        i_sys = _column(header, "System", path)
        for n, (row, row2) in enumerate(zip(rows, rows2[1:]), start=1):
            if _cell(row, i_sys).strip() == _cell(row2, i_sys2).strip():
                other[n] = _cell(row2, i_tc2).strip()
    return header, rows, other


def read_mammos_mtcsum(paths: Sequence[Path], source_id: str = "mammos_mtcsum") -> ReaderOutput:
    """Read the MaMMoS m-tcsum table (``m-tcsum.csv``; ``m-tcsum_nur_new.csv`` as cross-check).

    Returns
    -------
    ReaderOutput
        One record per row with ``T_C_exp [K]``. Rows naming several sources and rows whose value
        differs in the second version are marked as rejected.
    """
    path = paths[0]
    header, rows, other = _read_mtcsum_versions(paths)
    i_sys, i_tc, i_src = (_column(header, c, path) for c in ("System", "T_C_exp [K]", "source"))
    out = ReaderOutput(rows_read=len(rows), records=[])  # no line breaks inside cells: line = row + 1
    for n, row in enumerate(rows, start=1):
        value_text = _cell(row, i_tc).strip()
        if not value_text:
            out.row_counts["rows_without_curie_value"] += 1
            continue
        refs = _split_sources(_cell(row, i_src))
        reject, detail = None, ""
        if len(refs) != 1:
            reject, detail = "several_sources_named", " | ".join(refs)
        elif n in other and other[n] != value_text:
            try:
                same = float(other[n]) == float(value_text)
            except ValueError:
                same = False
            if not same:
                reject, detail = "versions_disagree", f"{paths[1].name} gives {other[n]!r}"
        out.records.append(RawRecord(source_id, n, n + 1, None, _cell(row, i_sys), value_text, None, "K",
                                     refs[0] if len(refs) == 1 else " | ".join(refs), len(refs) == 1, (), reject,
                                     detail))
    return out


_READERS = {
    "ds1_nelson_sanvito": read_ds1,
    "ds2_taufour": read_ds2,
    "nemad": read_nemad,
    "bert_psie": read_bert_psie,
    "mammos_literature": read_mammos_literature,
    "mammos_mtcsum": read_mammos_mtcsum,
}


# ---------------------------------------------------------------------------------------------------
# Cleaning, collapse, tiers
# ---------------------------------------------------------------------------------------------------


def _sha256(path: Path) -> str:
    return file_sha256(path)


def _check_files(sources_dir: Path, sources: Sequence[SourceSpec]) -> dict[str, list[Path]]:
    paths: dict[str, list[Path]] = {}
    problems = []
    for spec in sources:
        paths[spec.id] = []
        for f in spec.files:
            path = sources_dir / f.local_name
            paths[spec.id].append(path)
            how = (f"get it with: git show {spec.commit}:{f.path} (repository github.com/{spec.repository}), "
                   f"or https://raw.githubusercontent.com/{spec.repository}/{spec.commit}/{f.path}")
            if not path.is_file():
                problems.append(f"source {spec.id!r}: file {path} is missing; {how}")
                continue
            digest = _sha256(path)
            if digest != f.sha256:
                problems.append(f"source {spec.id!r}: file {path} has SHA-256 {digest}, the manifest expects "
                                f"{f.sha256} (a different version of {f.path}?); {how}")
    if problems:
        raise DataError("cannot build the Curie corpus:\n  " + "\n  ".join(problems))
    return paths


def _clean(raw: RawRecord) -> tuple[_Kept | None, str, str]:
    """Apply the value, range and formula rules; return (kept record or None, reason, detail)."""
    if raw.reject:
        return None, raw.reject, raw.reject_detail
    value: float | None
    if raw.value is not None:
        value, unit, reason = raw.value, raw.unit, None
    else:
        value, unit, reason = parse_value_text(raw.value_text, raw.unit)
    if reason:
        return None, reason, ""
    assert value is not None
    if not math.isfinite(value):
        return None, "value_nonfinite", ""
    if _not_stated(value):
        return None, "value_not_stated", f"more than {MAX_SIGNIFICANT} significant digits"
    if value <= 0:
        return None, "value_nonpositive", ""
    if value > TC_MAX_K:
        return None, "value_above_1500K", ""
    try:
        key, formula, mclass, _ = composition_identity(raw.formula_text)
    except CompositionError as exc:
        return None, "formula_rejected", str(exc)
    return _Kept(raw, key, formula, mclass, float(value), unit), "", ""


@dataclass
class _SourceCounts:
    rows_read: int = 0
    records_read: int = 0
    kept: int = 0
    duplicates: int = 0
    rejected: Counter = field(default_factory=Counter)
    row_counts: Counter = field(default_factory=Counter)


def _collect(sources: Sequence[SourceSpec], paths: dict[str, list[Path]]):
    order = {spec.id: i for i, spec in enumerate(sources)}
    counts: dict[str, _SourceCounts] = {}
    kept: list[_Kept] = []
    rejects: list[tuple[RawRecord, str, str]] = []
    for spec in sources:
        reader = _READERS[spec.id]
        output = reader(paths[spec.id], spec.id)
        c = _SourceCounts(rows_read=output.rows_read, records_read=len(output.records), row_counts=output.row_counts)
        counts[spec.id] = c
        for raw in output.records:
            record, reason, detail = _clean(raw)
            if record is None:
                c.rejected[reason] += 1
                rejects.append((raw, reason, detail))
            else:
                kept.append(record)
    kept.sort(key=lambda r: (order[r.raw.source_id], r.raw.row, r.raw.value_index or 0))
    lineage = {spec.id: spec.lineage for spec in sources}
    seen: set[tuple[str, str, float, str]] = set()
    unique: list[_Kept] = []
    for record in kept:
        raw = record.raw
        if raw.reference_paired and raw.reference:
            ident = (lineage[raw.source_id], record.key, round(record.value_K, 3), raw.reference)
            if ident in seen:
                counts[raw.source_id].duplicates += 1
                continue
            seen.add(ident)
        unique.append(record)
        counts[raw.source_id].kept += 1
    return unique, rejects, counts


@dataclass
class _Composition:
    key: str
    formula: str
    material_class: str
    records: list[_Kept]


def _summarise(comp: _Composition, specs: dict[str, SourceSpec]) -> dict:
    values = [r.value_K for r in comp.records]
    by_source: dict[str, list[float]] = defaultdict(list)
    by_lineage: dict[str, list[float]] = defaultdict(list)
    for r in comp.records:
        by_source[r.raw.source_id].append(r.value_K)
        by_lineage[specs[r.raw.source_id].lineage].append(r.value_K)
    source_medians = {sid: float(statistics.median(v)) for sid, v in by_source.items()}
    lineage_medians = {lin: float(statistics.median(v)) for lin, v in by_lineage.items()}
    tc = float(statistics.median(sorted(lineage_medians.values())))
    agreeing = [lin for lin, m in lineage_medians.items() if values_agree(m, tc)]
    if len(agreeing) >= 2:
        tier = "A"
    elif any(specs[sid].kind == HAND_CURATED for sid in by_source):
        tier = "B"
    else:
        tier = "C"
    ordered = [sid for sid in specs if sid in by_source]
    worst = 0.0
    conflict = False
    for i, a in enumerate(ordered):
        for b in ordered[i + 1:]:
            if not values_agree(source_medians[a], source_medians[b]):
                conflict = True
                worst = max(worst, abs(source_medians[a] - source_medians[b]))
    paired = sorted({r.raw.reference for r in comp.records if r.raw.reference and r.raw.reference_paired})
    unpaired = sorted({ref.strip() for r in comp.records if r.raw.reference and not r.raw.reference_paired
                       for ref in r.raw.reference.split(" | ")} - set(paired) - {""})
    refs = paired + unpaired
    shown = refs[:MAX_REFERENCES]
    if len(refs) > MAX_REFERENCES:
        shown.append(f"(+{len(refs) - MAX_REFERENCES} more)")
    return {
        "formula": comp.formula,
        "key": comp.key,
        "Tc_K": tc,
        "n_records": len(values),
        "Tc_min_K": min(values),
        "Tc_max_K": max(values),
        "Tc_spread_K": max(values) - min(values),
        "tier": tier,
        "material_class": comp.material_class,
        "conflict": conflict,
        "sources": ";".join(ordered),
        "references": ";".join(shown),
        "method": "experiment",
        "_source_medians": {sid: (source_medians[sid], len(by_source[sid])) for sid in ordered},
        "_worst": worst,
    }


# ---------------------------------------------------------------------------------------------------
# Magnetization series (2-14-1 and 1-12)
# ---------------------------------------------------------------------------------------------------

#: Literature-table papers left out of the series, with the reason.
SERIES_EXCLUDED_PAPERS = {
    "kobayashi2012": ("Kobayashi et al., J. Appl. Phys. 111, 023907 (2012): the measurement temperature is not given "
                      "and is not room temperature (its Nd2Fe14B Js of 1.49 T), see docs/data.md"),
}
SERIES_COLUMNS = ("formula", "family", "T_K", "T_K_nominal", "Js_T", "muHA_T", "Tc_K", "method", "source", "locator",
                  "read_at", "note")


def _family(amounts: dict[str, float]) -> str | None:
    """``"2-14-1"`` (R2T14X, X = B or C) or ``"1-12"`` (RT12 with interstitial H, C, N) from the amounts, else None."""
    r = sum(a for el, a in amounts.items() if el in _RARE)
    if r <= 0:
        return None
    boron = amounts.get("B", 0.0)
    x = boron + amounts.get("C", 0.0)
    if x > 0:
        t = sum(a for el, a in amounts.items() if el not in _RARE and el not in {"B", "C", "H", "N"})
        if abs(r / x - 2.0) <= 0.2 and abs(t / x - 14.0) <= 0.7:
            return "2-14-1"
    if boron == 0:
        t = sum(a for el, a in amounts.items() if el not in _RARE and el not in {"H", "N", "C"})
        if abs(t / r - 12.0) <= 0.72:
            return "1-12"
    return None


def _number(text: str) -> float | None:
    text = text.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _series(spec_lit: SourceSpec, lit_path: Path, spec_mt: SourceSpec, mt_paths: Sequence[Path]):
    counts: Counter = Counter()
    rows_out: list[dict] = []
    # --- literature table -------------------------------------------------------------------------
    header, rows = _literature_table(lit_path)
    doi_ok = _literature_doi_consistency(header, rows, lit_path)
    col = {name: _column(header, name, lit_path) for name in
           ("Compound", "Filename", "muB", "mu0Ms (T)", "mu0Ha (T)", "Tc (K)", "V")}
    counts["literature_rows_read"] = len(rows)
    lines = _literature_lines(lit_path)
    for n, (row, line) in enumerate(zip(rows, lines), start=1):
        formula = _cell(row, col["Compound"]).strip()
        key = _cell(row, col["Filename"]).strip()
        js, ha, tc = (_number(_cell(row, col[c])) for c in ("mu0Ms (T)", "mu0Ha (T)", "Tc (K)"))
        if js is None and ha is None and tc is None:
            counts["literature: no mu0Ms, mu0Ha or Tc"] += 1
            continue
        if key in SERIES_EXCLUDED_PAPERS:
            counts[f"literature: paper left out ({key})"] += 1
            continue
        reference, citation = _literature_reference(row, header, lit_path, doi_ok)
        if not reference:
            counts["literature: no bibliographic reference"] += 1
            continue
        try:
            _, _, _, amounts = composition_identity(formula)
        except CompositionError:
            counts["literature: formula rejected"] += 1
            continue
        if _literature_columns_agree(row, header, lit_path, formula):
            counts["literature: formula disagrees with element columns"] += 1
            continue
        family = _family(amounts)
        if family is None:
            counts["literature: not a 2-14-1 or 1-12 phase"] += 1
            continue
        notes = [f"compilation key {key}"]
        if reference.startswith("doi:") and citation:
            notes.append(f"citation as given: {citation}")
        elif not reference.startswith("doi:") and doi_ok.get(key) is False:
            notes.append("the compilation gives different DOIs for rows of this paper; DOI not used")
        if js is not None and _cell(row, col["muB"]).strip():
            notes.append(f"mu0Ms omitted: computed by the compilation from muB = {_cell(row, col['muB']).strip()} "
                         "and the lattice volume")
            counts["literature: mu0Ms computed from muB (omitted)"] += 1
            js = None
        for name, value in (("mu0Ms", js), ("mu0Ha", ha), ("Tc", tc)):
            if value is not None and _not_stated(value):
                notes.append(f"{name} omitted: {value!r} has more than {MAX_SIGNIFICANT} significant digits "
                             "(not a stated value)")
                counts[f"literature: {name} not a stated value (omitted)"] += 1
                if name == "mu0Ms":
                    js = None
                elif name == "mu0Ha":
                    ha = None
                else:
                    tc = None
        if js is not None and not 0 < js < 2.6:
            notes.append(f"mu0Ms {js!r} outside (0, 2.6) T omitted")
            js = None
        if ha is not None and not 0 < ha < 150:
            notes.append(f"mu0Ha {ha!r} outside (0, 150) T omitted")
            ha = None
        if tc is not None and not 0 < tc <= TC_MAX_K:
            notes.append(f"Tc {tc!r} outside (0, 1500] K omitted")
            tc = None
        if js is None and ha is None and tc is None:
            counts["literature: every value omitted"] += 1
            continue
        nominal = js is not None or ha is not None
        if nominal:
            notes.append("temperature not stated in the compilation: room temperature assumed (T_K = 295, nominal)")
        rows_out.append({
            "formula": formula, "family": family,
            "T_K": ROOM_TEMPERATURE_K if nominal else None, "T_K_nominal": nominal,
            "Js_T": js, "muHA_T": ha, "Tc_K": tc, "method": "experiment", "source": reference,
            "locator": f"{spec_lit.files[0].path}, data row {n} (line {line})",
            "read_at": spec_lit.url(0, line), "note": notes, "_key": composition_identity(formula)[0],
        })
        counts["literature: rows kept"] += 1
    # --- m-tcsum --------------------------------------------------------------------------------------
    header, rows, other = _read_mtcsum_versions(mt_paths)
    i_sys, i_tc, i_src = (_column(header, c, mt_paths[0]) for c in ("System", "T_C_exp [K]", "source"))
    counts["m-tcsum_rows_read"] = len(rows)
    for n, row in enumerate(rows, start=1):
        tc = _number(_cell(row, i_tc))
        if tc is None:
            counts["m-tcsum: no measured Tc"] += 1
            continue
        refs = _split_sources(_cell(row, i_src))
        if len(refs) != 1:
            counts["m-tcsum: several sources named"] += 1
            continue
        if n in other and _number(other[n]) != tc:
            counts["m-tcsum: versions disagree"] += 1
            continue
        formula = _cell(row, i_sys).strip()
        try:
            _, _, _, amounts = composition_identity(formula)
        except CompositionError:
            counts["m-tcsum: formula rejected"] += 1
            continue
        family = _family(amounts)
        if family is None:
            counts["m-tcsum: not a 2-14-1 or 1-12 phase"] += 1
            continue
        if _not_stated(tc) or not 0 < tc <= TC_MAX_K:
            counts["m-tcsum: Tc not a stated value or out of range"] += 1
            continue
        rows_out.append({
            "formula": formula, "family": family, "T_K": None, "T_K_nominal": False, "Js_T": None, "muHA_T": None,
            "Tc_K": tc, "method": "experiment", "source": refs[0],
            "locator": f"{spec_mt.files[0].path}, data row {n} (line {n + 1})",
            "read_at": spec_mt.url(0, n + 1),
            "note": ["source as named by the compilation (may be a paper quoting the measured value)",
                     "magnetizations of this table not used (see docs/curie-corpus.md)"],
            "_key": composition_identity(formula)[0],
        })
        counts["m-tcsum: rows kept"] += 1
    # --- disagreements inside the compilation -----------------------------------------------------------
    tolerance = {"Js_T": 0.05, "muHA_T": 0.10, "Tc_K": 0.03}
    for out_row in rows_out:
        for prop, rel in tolerance.items():
            value = out_row[prop]
            if value is None:
                continue
            others = [(o[prop], o["locator"].rsplit("line ", 1)[-1].rstrip(")"),
                       o["read_at"].split("/")[-1].split("#")[0])
                      for o in rows_out if o is not out_row and o["_key"] == out_row["_key"] and o[prop] is not None
                      and abs(o[prop] - value) > rel * (o[prop] + value) / 2]
            if others:
                listed = ", ".join(f"{_fmt(v)} ({f} line {line})" for v, line, f in others)
                out_row["note"].append(f"disagrees by more than {int(rel * 100)} % with other rows of the "
                                       f"compilations: {prop} {listed}")
                counts[f"rows with a disagreeing {prop}"] += 1
    return rows_out, counts


# ---------------------------------------------------------------------------------------------------
# Writers
# ---------------------------------------------------------------------------------------------------


def _csv_text(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else v for v in row])
    return buffer.getvalue()


def _write_text(path: Path, text: str) -> None:
    path.write_bytes(text.encode("utf-8"))


def _write_gzip(path: Path, text: str) -> None:
    buffer = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buffer, mtime=0, compresslevel=9) as handle:
        handle.write(text.encode("utf-8"))
    path.write_bytes(buffer.getvalue())


CORPUS_COLUMNS = ("formula", "key", "Tc_K", "n_records", "Tc_min_K", "Tc_max_K", "Tc_spread_K", "tier",
                  "material_class", "conflict", "sources", "references", "method")
RECORD_COLUMNS = ("key", "formula", "Tc_K", "source_id", "source_row", "source_line", "value_index", "raw_formula",
                  "raw_value", "unit", "reference", "reference_paired", "flags")
REJECT_COLUMNS = ("source_id", "source_row", "source_line", "value_index", "raw_formula", "raw_value", "reason",
                  "detail")


def build(sources_dir: str | Path, out_dir: str | Path, sources: Sequence[SourceSpec] | None = None) -> dict:
    """Build the Curie corpus and the magnetization series from local copies of the sources.

    Parameters
    ----------
    sources_dir : str or Path
        Folder holding the files of every source under their ``local_name``.
    out_dir : str or Path
        Folder the outputs are written to (created if needed).
    sources : sequence of SourceSpec, optional
        The sources (default :data:`SOURCES`); tests pass specs with their own SHA-256.

    Returns
    -------
    dict
        The summary also written to ``curie_corpus.sources.json``.

    Raises
    ------
    DataError
        If a source file is missing or its SHA-256 differs from the manifest.
    """
    sources = tuple(SOURCES if sources is None else sources)
    sources_dir, out_dir = Path(sources_dir), Path(out_dir)
    paths = _check_files(sources_dir, sources)
    specs = {spec.id: spec for spec in sources}
    kept, rejects, counts = _collect(sources, paths)

    groups: dict[str, _Composition] = {}
    for record in kept:
        comp = groups.get(record.key)
        if comp is None:
            groups[record.key] = _Composition(record.key, record.formula, record.material_class, [record])
        else:
            comp.records.append(record)
    summaries = sorted((_summarise(c, specs) for c in groups.values()), key=lambda s: (s["formula"], s["key"]))

    out_dir.mkdir(parents=True, exist_ok=True)
    _write_text(out_dir / CORPUS_FILE, _csv_text(CORPUS_COLUMNS, (
        [s["formula"], s["key"], _fmt(s["Tc_K"]), s["n_records"], _fmt(s["Tc_min_K"]), _fmt(s["Tc_max_K"]),
         _fmt(s["Tc_spread_K"]), s["tier"], s["material_class"], "true" if s["conflict"] else "false", s["sources"],
         s["references"], s["method"]] for s in summaries)))
    formula_of = {s["key"]: s["formula"] for s in summaries}
    record_rows = sorted(
        ([r.key, formula_of[r.key], _fmt(r.value_K), r.raw.source_id, r.raw.row, r.raw.line,
          r.raw.value_index if r.raw.value_index is not None else "", r.raw.formula_text.strip(),
          r.raw.value_text, r.unit, r.raw.reference, "true" if r.raw.reference_paired else "false",
          ";".join(r.raw.flags)] for r in kept),
        key=lambda row: (row[1], row[0], list(specs).index(row[3]), row[4], row[6] or 0))
    _write_gzip(out_dir / RECORDS_FILE, _csv_text(RECORD_COLUMNS, record_rows))
    order = {sid: i for i, sid in enumerate(specs)}
    reject_rows = sorted(
        ([raw.source_id, raw.row, raw.line, raw.value_index if raw.value_index is not None else "",
          " ".join(raw.formula_text.split()), " ".join(raw.value_text.split()), reason, detail]
         for raw, reason, detail in rejects),
        key=lambda row: (order[row[0]], row[1], row[3] or 0))
    _write_text(out_dir / REJECTS_FILE, _csv_text(REJECT_COLUMNS, reject_rows))

    series, series_counts = _series(specs["mammos_literature"], paths["mammos_literature"][0],
                                    specs["mammos_mtcsum"], paths["mammos_mtcsum"])
    _write_text(out_dir / SERIES_FILE, _csv_text(SERIES_COLUMNS, (
        [r["formula"], r["family"], _fmt(r["T_K"]), "True" if r["T_K_nominal"] else "False", _fmt(r["Js_T"]),
         _fmt(r["muHA_T"]), _fmt(r["Tc_K"]), r["method"], r["source"], r["locator"], r["read_at"],
         "; ".join(r["note"])] for r in series)))

    conflicts = [
        {"formula": s["formula"], "key": s["key"], "Tc_K": round(s["Tc_K"], 3), "tier": s["tier"],
         "max_difference_K": round(s["_worst"], 3),
         "source_medians": {sid: {"median_K": round(m, 3), "n": n} for sid, (m, n) in s["_source_medians"].items()}}
        for s in summaries if s["conflict"]]
    tiers = Counter(s["tier"] for s in summaries)
    classes = Counter(s["material_class"] for s in summaries)
    per_class_tier = Counter(f"{s['material_class']} / {s['tier']}" for s in summaries)
    series_by_family: Counter = Counter()
    for r in series:
        for prop in ("Js_T", "muHA_T", "Tc_K"):
            if r[prop] is not None:
                series_by_family[f"{r['family']} {prop}"] += 1
        series_by_family[f"{r['family']} rows"] += 1
    summary = {
        "description": ("Curie-temperature corpus built by magnetscreen.datasets.curie_corpus from the sources "
                        "below; rules in the module docstring and docs/curie-corpus.md"),
        "rules": {"tc_max_K": TC_MAX_K, "agree_abs_K": AGREE_ABS_K, "agree_rel": AGREE_REL,
                  "max_significant_digits": MAX_SIGNIFICANT, "max_references": MAX_REFERENCES,
                  "key": "elements sorted alphabetically with atomic fractions rounded to 1e-4"},
        "sources": [
            {"id": spec.id, "lineage": spec.lineage, "kind": spec.kind, "repository": spec.repository,
             "commit": spec.commit, "licence": spec.licence, "description": spec.description,
             "citation": spec.citation,
             "files": [{"path": f.path, "local_name": f.local_name, "sha256": f.sha256, "url": spec.url(i)}
                       for i, f in enumerate(spec.files)],
             "rows_read": counts[spec.id].rows_read,
             "rows_without_curie_value": counts[spec.id].row_counts.get("rows_without_curie_value", 0),
             "records_read": counts[spec.id].records_read,
             "records_kept": counts[spec.id].kept,
             "duplicate_records": counts[spec.id].duplicates,
             "records_rejected": dict(sorted(counts[spec.id].rejected.items())),
             "compositions_with_this_source": sum(1 for s in summaries if spec.id in s["sources"].split(";"))}
            for spec in sources],
        "sources_not_used": {
            "MaMMoS-project/ML-models compound-to-tc/compound-to-experimental-tc/preprocessed_data/"
            "Experimental_Tc*.csv":
                "median merge (about 14,500 formulas) of DS1+DS2, NEMAD and the MaMMoS literature tables; no source "
                "per row",
            "MaMMoS-project/ML-models experimental-simulation-tc/data/merged_curie_temp.csv":
                "median merge of the same files; no source per row",
            "msg-byu/ML-for-CurieTemp-Predictions Data/DS1+DS2.csv (and DS1.csv, DS2.csv)":
                "cleaned and merged versions of DS1-RAW and DS2-RAW (read instead)",
            "MaMMoS-project/ML-models .../literature_values_prepared.csv":
                "resaved subset of literature_values.csv with the same values",
            "MaMMoS-project/ML-models .../combinded_tables.xlsx":
                "most rows without a source per row; the Fe2P block carries figure-read values with 12 digits",
        },
        "totals": {"compositions": len(summaries), "records_kept": len(kept), "records_rejected": len(rejects),
                   "tiers": dict(sorted(tiers.items())), "material_classes": dict(sorted(classes.items())),
                   "material_class_by_tier": dict(sorted(per_class_tier.items())),
                   "compositions_with_conflict": len(conflicts)},
        "intrinsic_series": {"file": SERIES_FILE, "rows": len(series),
                             "counts_by_family_and_property": dict(sorted(series_by_family.items())),
                             "rows_read_and_left_out": dict(sorted(series_counts.items()))},
        "conflicts": conflicts,
    }
    _write_text(out_dir / SOURCES_FILE, json.dumps(summary, indent=1, sort_keys=False, ensure_ascii=True) + "\n")
    return summary


def main(argv: Sequence[str] | None = None) -> int:
    """Command line: ``python -m magnetscreen.datasets.curie_corpus --sources DIR --out DIR``."""
    parser = argparse.ArgumentParser(
        prog="python -m magnetscreen.datasets.curie_corpus",
        description="Build the cited Curie-temperature corpus and the 2-14-1 / 1-12 magnetization series from "
                    "local copies of the source files (see docs/curie-corpus.md).")
    parser.add_argument("--sources", required=True, help="folder holding the source files (never downloaded)")
    parser.add_argument("--out", required=True, help="output folder, e.g. datasets/data")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    try:
        summary = build(args.sources, args.out)
    except DataError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    totals = summary["totals"]
    print(f"{totals['compositions']} compositions from {totals['records_kept']} records "
          f"({totals['records_rejected']} left out); tiers {totals['tiers']}; classes {totals['material_classes']}; "
          f"{totals['compositions_with_conflict']} with conflicts; {summary['intrinsic_series']['rows']} series rows; "
          f"{time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
