"""The Curie-temperature corpus: cleaning rules on small synthetic sources, and the shipped tables."""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import replace
from pathlib import Path

import pandas as pd
import pytest

from magnetscreen.datasets import curie_corpus as cc
from magnetscreen.datasets.errors import DataError

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "datasets" / "data"

# --- synthetic sources, one per format (written by the tests, not copies of the real files) ----------

DS1 = (
    "Id,Name,Tc,Orig_Name,Ref\r\n"
    "0,Co1,1388,Co,Springer1_1.0\r\n"
    "1,Fe1,1043,Fe,Springer1_1.0\r\n"
    "2,Fe2O3,900,Fe2O3+x,Paper_1.0\r\n"
    "3,Gd1,293,Gd,NIMS_F_1\r\n"
    "4,Gd1,293,Gd,NIMS_F_1\r\n"
    "5,Bi1Mn1,630,MnBi,Springer2_2.0\r\n"
    "6,Ni1,0,Ni,Springer1_1.0\r\n"
)

DS2 = (
    "wChemicalFormula\twListOfElements\twListOfElementsQ\twCurieTemperature\r\n"
    "Fe\tFe;\t1;\t1040 K;1044 K;\r\n"
    "MnBi\tBi;Mn;\t1;1;\t633 K;\r\n"
    "CrI3\tCr;I;\t1;3;\t61 K;\r\n"
    "SmCo5\tCo;Sm;\t5;1;\t1020 K;\r\n"
)

NEMAD_HEADER = ("Material_Name,Curie,Neel,Curie_Weiss,Crystal_Structure,Lattice_Structure,Lattice_Parameters,"
                "Space_Group,Coercivity,Magnetic_Moment,Magnetization,Remanence,Susceptibility,DOI,Experimental")


def nemad_row(name, curie, doi, experimental="True", neel=""):
    return f"{name},{curie},{neel},,,,,,,,,,,{doi},{experimental}"


NEMAD = "\n".join([
    NEMAD_HEADER,
    nemad_row("Fe3O4", "312 °C", "10.1000/fe3o4"),
    nemad_row("NiO", "", "10.1000/nio", neel="523"),
    nemad_row("Co", "1390 K", "10.1000/co"),
    nemad_row("MnBi", "640", "10.1000/mnbi-dft", experimental="False"),
    nemad_row("Gd", ">290 K", "10.1000/gd"),
    nemad_row("TbMn", "Param.", "10.1000/tbmn"),
    nemad_row("Fe2O3+x", "900", "10.1000/fe2o3x"),
    nemad_row("Nd2Fe14B", "585", "10.1103/RevModPhys.63.819"),
    nemad_row("SmCo5", "700 K", "10.1000/smco5"),
    nemad_row("EuO", "69.3333333333333", "10.1000/euo"),
]) + "\n"

BERT = (
    "compound,Tc,source\n"
    "Co,\"[ 300. 1385.\n 1390.]\",\"['10.1000/b1' '10.1000/b2'\n '10.1000/b3']\"\n"
    "Nd2Fe14B,[585.],['10.1000/b4']\n"
    "Fe,[1.043e+03 1.600e+04],['10.1000/b5' '10.1000/b6']\n"
)

LIT_HEADER = ("Compound;Filename;Reference;DOI;La;Ce;Pr;Nd;Sm;Gd;Tb;Dy;Mn;Ni;Fe;Co;B;C;a;c;V;Nfu;muB;"
              "mu0Ms (T);mu0Ha (T);Tc (K)")


def lit_row(compound, key, ref, doi, nd, fe, co, b, dy="0", mub="", ms="", ha="", tc=""):
    return ";".join([compound, key, ref, doi, "0", "0", "0", nd, "0", "0", "0", dy, "0", "0", fe, co, b, "0",
                     "0.88", "1.22", "9.3e-28", "4.3e+27", mub, ms, ha, tc])


LITERATURE = "\n".join([
    LIT_HEADER,
    lit_row("Nd2Fe14B", "herbst1991", "Rev. Mod. Phys. 63 (1991)", "https://doi.org/10.1103/RevModPhys.63.819",
            "2", "14", "0", "1", mub="32.1", ms="1.6115043210987654", ha="7.3", tc="585"),
    lit_row("Nd2Fe14B", "hirosawa1986", "J. Appl. Phys. 59, 873 (1986)", "", "2", "14", "0", "1", ms="1.61",
            ha="7.3", tc="586"),
    lit_row("Dy2Fe14B", "pourarian1988", "J. Appl. Phys. 64 (1988)", "", "0.5", "14", "0", "1", dy="2", tc="586"),
    lit_row("Nd2Fe12Co2B", "fig2015", "J. Rare Earths 33 (2015)", "", "2", "12", "2", "1", ms="1.7173323261802169",
            tc="708.36651490034001"),
    lit_row("Nd2Co14B", "nokey", "", "", "2", "0", "14", "1", ha="8", tc="1000"),
]) + "\n"

MTCSUM = (
    "\ufeffSystem,M_s/theo [T],M_s/exp [T],T_Ctheo MF [K],T_C/theo [K],T_C_exp [K],Type 1=noRE,Stable,source\n"
    "SmFe11Ti,1.31,1.28,,568,567,2,y,https://doi.org/10.1000/a;https://doi.org/10.1000/b\n"
    "NdFe11Ti,1.56,1.55,,,523,2,y,https://doi.org/10.1000/ndfe11ti\n"
    "Nd1.2Fe10.6Mo1.4,NaN,1.15,,,623,2,y,https://doi.org/10.1000/mo\n"
    "Nd2Fe14B,NaN,1.86,,,585,2,y,https://doi.org/10.1103/RevModPhys.63.819\n"
    "CeFe12,1.66,NaN,806,,,2,y,https://doi.org/10.1000/dft\n"
)

MTCSUM_NUR = (
    "\ufeffSystem,M0_1,s_1,M0_2,s_2,M_s/theo [T] 0K,M_s/exp_[T]_5K,M_s/exp_[T]_300K,T_Ctheo MF [K],T_C/theo [K],"
    "T_C_exp_[K],Type 1=noRE,Stable,source\r"
    "SmFe11Ti,,,,,1.31,1.28,,,568,567,2,y,https://doi.org/10.1000/a\r"
    "NdFe11Ti,,,,,1.56,1.55,,,,523,2,y,https://doi.org/10.1000/ndfe11ti\r"
    "Nd1.2Fe10.6Mo1.4,,,,,,1.3,0.91,,,433,2,y,https://doi.org/10.1000/mo\r"
    "Nd2Fe14B,,,,,,1.86,1.6,,,585,2,y,https://doi.org/10.1103/RevModPhys.63.819\r"
    "CeFe12,,,,,1.66,,,806,,,2,y,https://doi.org/10.1000/dft\r"
)

FILES = {
    "DS1-RAW.csv": DS1,
    "DS2-RAW.txt": DS2,
    "MagneticMaterials_All.csv": NEMAD,
    "Tc_dataset.csv": BERT,
    "literature_values.csv": LITERATURE,
    "m-tcsum.csv": MTCSUM,
    "m-tcsum_nur_new.csv": MTCSUM_NUR,
}


def write_sources(folder: Path) -> tuple[cc.SourceSpec, ...]:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in FILES.items():
        (folder / name).write_bytes(text.encode("utf-8"))
    specs = []
    for spec in cc.SOURCES:
        files = tuple(replace(f, sha256=hashlib.sha256((folder / f.local_name).read_bytes()).hexdigest())
                      for f in spec.files)
        specs.append(replace(spec, files=files))
    return tuple(specs)


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("curie")
    specs = write_sources(root / "sources")
    summary = cc.build(root / "sources", root / "out", sources=specs)
    corpus = pd.read_csv(root / "out" / cc.CORPUS_FILE, keep_default_na=False).set_index("formula")
    rejects = pd.read_csv(root / "out" / cc.REJECTS_FILE, keep_default_na=False)
    records = pd.read_csv(root / "out" / cc.RECORDS_FILE, keep_default_na=False)
    series = pd.read_csv(root / "out" / cc.SERIES_FILE, keep_default_na=False, dtype=str)
    return {"root": root, "specs": specs, "summary": summary, "corpus": corpus, "rejects": rejects,
            "records": records, "series": series}


def reasons(built, source_id):
    frame = built["rejects"]
    return dict(frame[frame.source_id == source_id].groupby("reason").size())


# --- value parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize("text, expected", [
    ("585", (585.0, "K", None)),
    ("585 K", (585.0, "K", None)),
    ("585K", (585.0, "K", None)),
    ("312 °C", (585.15, "C", None)),
    ("312 degC", (585.15, "C", None)),
    ("585(2) K", (585.0, "K", None)),
    ("585 ± 5 K", (585.0, "K", None)),
    ("Tc = 585 K", (585.0, "K", None)),
    (">300 K", (None, "", "value_bound")),
    ("Above 300 K", (None, "", "value_bound")),
    ("~300 K", (None, "", "value_approximate")),
    ("300-400 K", (None, "", "value_range")),
    ("100 K, 70 K", (None, "", "value_several")),
    ("Param.", (None, "", "not_ferromagnetic_marked")),
    ("Output:", (None, "", "value_unparsed")),
])
def test_value_text_is_parsed_or_left_out_with_a_reason(text, expected):
    assert cc.parse_value_text(text) == expected


def test_material_class_rule():
    assert cc.composition_identity("Nd2Fe14B")[2] == cc.INTERMETALLIC
    assert cc.composition_identity("Sm2Fe17N3")[2] == cc.INTERMETALLIC
    assert cc.composition_identity("LaFe11.5Si1.5H1.5")[2] == cc.INTERMETALLIC
    assert cc.composition_identity("SrFe12O19")[2] == cc.OXIDE
    assert cc.composition_identity("CrI3")[2] == cc.OTHER
    assert cc.composition_identity("CdCr2Se4")[2] == cc.OTHER
    assert cc.composition_identity("UAs2")[2] == cc.OTHER  # more than 50 at.% anion formers


def test_identity_key_ignores_spelling_and_multiples():
    assert cc.composition_identity("Fe14Nd2B")[0] == cc.composition_identity("Nd4Fe28B2")[0]
    assert cc.composition_identity("Fe80B20")[:2] == cc.composition_identity("Fe4B")[:2]


# --- cleaning rules on the synthetic sources -----------------------------------------------------------


def test_rejected_formula_is_listed_with_the_parser_message(built):
    rejects = built["rejects"]
    bad = rejects[rejects.raw_formula == "Fe2O3+x"]
    assert set(bad.source_id) == {"ds1_nelson_sanvito", "nemad"}
    assert (bad.reason == "formula_rejected").all()
    assert bad.detail.str.contains("Fe2O3+x", regex=False).all()
    assert "Fe2O3" not in built["corpus"].index  # never repaired


def test_celsius_is_converted(built):
    row = built["corpus"].loc["Fe3O4"]
    assert row.Tc_K == pytest.approx(585.15)
    rec = built["records"][built["records"].formula == "Fe3O4"]
    assert list(rec.unit) == ["C"] and list(rec.raw_value) == ["312 °C"]


def test_source_markings_leave_records_out(built):
    nemad = reasons(built, "nemad")
    assert nemad["computed"] == 1  # MnBi, Experimental == False
    assert nemad["value_bound"] == 1  # Gd ">290 K"
    assert nemad["not_ferromagnetic_marked"] == 1  # "Param."
    assert nemad["value_not_stated"] == 1  # 69.3333333333333
    source = next(s for s in built["summary"]["sources"] if s["id"] == "nemad")
    assert source["rows_without_curie_value"] == 1  # NiO has only a Neel temperature
    assert "NiO" not in built["corpus"].index and "EuO" not in built["corpus"].index
    mtcsum = reasons(built, "mammos_mtcsum")
    assert mtcsum == {"several_sources_named": 1, "versions_disagree": 1}
    literature = reasons(built, "mammos_literature")
    assert literature == {"formula_columns_disagree": 1, "value_not_stated": 1}


def test_range_rules(built):
    assert reasons(built, "ds1_nelson_sanvito")["value_nonpositive"] == 1
    assert reasons(built, "bert_psie")["value_above_1500K"] == 1


def test_duplicates_collapse_to_the_median_with_count_and_spread(built):
    co = built["corpus"].loc["Co"]
    # DS1 1388, NEMAD 1390, BERT-PSIE 300, 1385, 1390: lineage medians 1388, 1390, 1385 -> 1388
    assert co.Tc_K == 1388 and co.n_records == 5
    assert (co.Tc_min_K, co.Tc_max_K, co.Tc_spread_K) == (300, 1390, 1090)
    assert co.sources == "ds1_nelson_sanvito;nemad;bert_psie"
    gd = built["corpus"].loc["Gd"]
    assert gd.n_records == 1  # the repeated DS1 row is one reading
    assert next(s for s in built["summary"]["sources"] if s["id"] == "ds1_nelson_sanvito")["duplicate_records"] == 1
    nd = built["corpus"].loc["Nd2Fe14B"]
    # the m-tcsum row repeats the literature row (same lineage, value and DOI)
    assert nd.n_records == 4 and "doi:10.1103/revmodphys.63.819" in nd.references


def test_tiers_follow_the_rule(built):
    corpus = built["corpus"]
    assert corpus.loc["Co", "tier"] == "A"  # three lineages agree
    assert corpus.loc["MnBi", "tier"] == "A" and corpus.loc["MnBi", "Tc_K"] == 631.5
    assert corpus.loc["Gd", "tier"] == "B"  # one hand-curated compilation
    assert corpus.loc["CrI3", "tier"] == "B"
    assert corpus.loc["Fe3O4", "tier"] == "C"  # text-mined only
    assert corpus.loc["SmCo5", "tier"] == "B" and bool(corpus.loc["SmCo5", "conflict"]) is True
    assert bool(corpus.loc["Co", "conflict"]) is False
    conflicts = built["summary"]["conflicts"]
    assert [c["formula"] for c in conflicts] == ["SmCo5"]
    assert conflicts[0]["source_medians"]["ds2_taufour"]["median_K"] == 1020


def test_material_class_column(built):
    corpus = built["corpus"]
    assert corpus.loc["CrI3", "material_class"] == "other_compound"
    assert corpus.loc["Fe3O4", "material_class"] == "oxide"
    assert corpus.loc["MnBi", "material_class"] == "intermetallic/alloy"
    assert set(corpus.method) == {"experiment"}


def test_bert_references_are_marked_unpaired(built):
    rec = built["records"]
    co = rec[(rec.formula == "Co") & (rec.source_id == "bert_psie")]
    assert set(co.reference_paired) == {False}
    assert set(co.reference) == {"doi:10.1000/b1 | doi:10.1000/b2 | doi:10.1000/b3"}
    nd = rec[(rec.formula == "Nd2Fe14B") & (rec.source_id == "bert_psie")]
    assert set(nd.reference_paired) == {True}
    # the Co record spans lines 2-4 of the file (line breaks inside two cells), so Nd2Fe14B starts on line 5
    assert set(co.source_line) == {2} and list(nd.source_row) == [2] and list(nd.source_line) == [5]


def test_intrinsic_series_takes_only_stated_values(built):
    series = built["series"]
    nd = series[series.formula == "Nd2Fe14B"]
    herbst = nd[nd.source == "doi:10.1103/revmodphys.63.819"]
    lit = herbst[herbst.locator.str.contains("literature_values.csv")].iloc[0]
    assert lit.Js_T == "" and "computed by the compilation from muB" in lit.note  # derived mu0Ms omitted
    assert (lit.muHA_T, lit.Tc_K, lit.T_K, lit.T_K_nominal) == ("7.3", "585", "295", "True")
    hirosawa = nd[nd.source == "J. Appl. Phys. 59, 873 (1986)"].iloc[0]
    assert hirosawa.Js_T == "1.61"
    assert "Nd2Fe12Co2B" not in set(series.formula)  # only figure-read values
    assert "Nd2Co14B" not in set(series.formula)  # no bibliographic reference
    assert "Dy2Fe14B" not in set(series.formula)  # formula disagrees with the element columns
    ndfe11ti = series[series.formula == "NdFe11Ti"].iloc[0]
    assert (ndfe11ti.family, ndfe11ti.Tc_K, ndfe11ti.T_K, ndfe11ti.T_K_nominal) == ("1-12", "523", "", "False")
    assert set(series.formula) >= {"Nd2Fe14B", "NdFe11Ti"}
    assert not {"SmFe11Ti", "Nd1.2Fe10.6Mo1.4", "CeFe12"} & set(series.formula)
    assert series.read_at.str.startswith("https://github.com/MaMMoS-project/ML-models/blob/").all()


def test_build_is_deterministic(built, tmp_path):
    cc.build(built["root"] / "sources", tmp_path, sources=built["specs"])
    for name in (cc.CORPUS_FILE, cc.RECORDS_FILE, cc.REJECTS_FILE, cc.SOURCES_FILE, cc.SERIES_FILE):
        assert (tmp_path / name).read_bytes() == (built["root"] / "out" / name).read_bytes(), name


def test_missing_or_changed_source_fails_clearly(built, tmp_path):
    sources = tmp_path / "sources"
    specs = write_sources(sources)
    (sources / "DS2-RAW.txt").write_bytes(DS2.replace("633 K", "634 K").encode())
    with pytest.raises(DataError, match="SHA-256"):
        cc.build(sources, tmp_path / "out", sources=specs)
    (sources / "DS2-RAW.txt").unlink()
    with pytest.raises(DataError, match="missing"):
        cc.build(sources, tmp_path / "out", sources=specs)


def test_default_manifest_pins_every_file():
    for spec in cc.SOURCES:
        assert len(spec.commit) == 40 and spec.licence and spec.description
        for f in spec.files:
            assert len(f.sha256) == 64


# --- the shipped tables -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def shipped():
    corpus = pd.read_csv(DATA / cc.CORPUS_FILE, keep_default_na=False)
    records = pd.read_csv(DATA / cc.RECORDS_FILE, keep_default_na=False)
    summary = json.loads((DATA / cc.SOURCES_FILE).read_text())
    return corpus, records, summary


def test_shipped_corpus_size_and_sources(shipped):
    corpus, _, summary = shipped
    assert list(corpus.columns) == list(cc.CORPUS_COLUMNS)
    assert corpus.key.is_unique
    metals = corpus[corpus.material_class == "intermetallic/alloy"]
    assert metals.key.nunique() >= 5000
    assert (corpus.sources.str.strip() != "").all()
    assert set(corpus.tier) <= {"A", "B", "C"} and set(corpus.method) == {"experiment"}
    assert ((corpus.Tc_K > 0) & (corpus.Tc_K <= cc.TC_MAX_K)).all()
    assert ((corpus.Tc_min_K <= corpus.Tc_K) & (corpus.Tc_K <= corpus.Tc_max_K)).all()
    assert summary["totals"]["compositions"] == len(corpus)
    assert {s["id"] for s in summary["sources"]} == {s.id for s in cc.SOURCES}
    for source in summary["sources"]:
        assert source["records_read"] == (source["records_kept"] + source["duplicate_records"]
                                          + sum(source["records_rejected"].values()))


def test_shipped_rows_trace_back_to_records(shipped):
    corpus, records, _ = shipped
    by_key = records.groupby("key")
    rng = random.Random(20240601)
    for index in rng.sample(range(len(corpus)), 20):
        row = corpus.iloc[index]
        rec = by_key.get_group(row.key)
        assert len(rec) == row.n_records
        assert rec.Tc_K.min() == row.Tc_min_K and rec.Tc_K.max() == row.Tc_max_K
        assert set(rec.source_id) == set(row.sources.split(";"))
        assert (rec.source_row > 0).all()


def test_shipped_intrinsic_series():
    series = pd.read_csv(DATA / cc.SERIES_FILE, keep_default_na=False, dtype=str)
    assert list(series.columns) == list(cc.SERIES_COLUMNS)
    assert set(series.family) == {"2-14-1", "1-12"}
    assert set(series.method) == {"experiment"}
    assert (series.source.str.strip() != "").all()
    assert series.read_at.str.match(r"^https://github\.com/MaMMoS-project/ML-models/blob/[0-9a-f]{40}/").all()
    values = series[["Js_T", "muHA_T", "Tc_K"]].replace("", float("nan")).astype(float)
    assert values.notna().any(axis=1).all()
    nominal = series.T_K_nominal.astype(str) == "True"
    assert (values.Js_T.notna() | values.muHA_T.notna())[nominal].all()
