"""The known facts of ../shared/SCIENCE.md hold in the shipped models' predictions (sanity checks, not
training targets)."""

from __future__ import annotations

import numpy as np
import pytest

from magnetscreen.models.predictions import Conditions, score

ROOM = Conditions(temperature_K=295.0)


@pytest.fixture(scope="module")
def predict():
    def run(formulas):
        return score(formulas, conditions=ROOM)

    return run


def test_dy_lowers_js_and_raises_ha_in_2_14_1_tc_changes_little(predict):
    series = ["Nd2Fe14B"] + [f"(Nd{1 - x:.2f}Dy{x:.2f})2Fe14B" for x in (0.25, 0.5, 0.75)] + ["Dy2Fe14B"]
    out = predict(series)
    assert np.all(np.diff(out["Js_T"]) <= 0) and out["Js_T"][-1] < out["Js_T"][0] - 0.3
    assert np.all(np.diff(out["muHA_T"]) >= 0) and out["muHA_T"][-1] > out["muHA_T"][0] + 3.0
    assert abs(out["Tc_K"][-1] - out["Tc_K"][0]) < 0.1 * out["Tc_K"][0]


def test_co_raises_tc_in_nd2fe14b(predict):
    out = predict(["Nd2Fe14B", "Nd2Fe12Co2B", "Nd2Fe10Co4B"])
    assert out["Tc_K"][0] < out["Tc_K"][1] < out["Tc_K"][2]


@pytest.mark.parametrize("substitute, keys", [("Ce", ("Js_T", "muHA_T", "Tc_K")), ("La", ("Js_T", "Tc_K"))])
def test_ce_or_la_for_nd_lowers_js_ha_and_tc(predict, substitute, keys):
    """La2Fe14B's lower HA is not reproduced: the data give its mu0HA but no Js or K1, so the K1 model has
    no La2Fe14B value to learn from (documented in docs/models.md); the test checks what holds."""
    out = predict(["Nd2Fe14B", f"{substitute}2Fe14B"])
    for key in keys:
        assert out[key][1] < out[key][0], key


def test_fe16n2_is_rare_earth_free_with_js_above_2_t(predict):
    assert predict(["Fe16N2"])["Js_T"][0] > 2.0


def test_smco5_has_the_largest_k1_of_the_classic_phases(predict):
    phases = ["SmCo5", "Nd2Fe14B", "Sm2Co17", "Sm2Fe17N3", "SrFe12O19", "MnBi", "FePt", "Fe16N2"]
    k1 = predict(phases)["K1_MJm3"]
    assert np.argmax(k1) == 0, dict(zip(phases, k1))
