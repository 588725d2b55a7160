"""`analytics clv --bayes`: pymc-marketing's posterior against the published CDNOW fit.

pymc-marketing needs Python >= 3.12 and the suite may run on 3.11, so the Bayesian
path runs the CLI of a separate venv (`make bayes-env` -> .venv-bayes), which the
session builds when missing. Every parameter has a flat prior, so the posterior mode
is the maximum-likelihood fit of Fader, Hardie & Lee (2005) and Fader & Hardie (2013).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from typer.testing import CliRunner

from patronage.cli.analytics_customers import _warn_unconverged
from patronage.cli.main import app

ROOT = Path(__file__).parents[3]
BAYES_BIN = ROOT / ".venv-bayes" / "bin"
PUBLISHED = {
    "r": 0.243,
    "alpha": 4.414,
    "a": 0.793,
    "b": 2.426,
    "p": 6.25,
    "q": 3.74,
    "v": 15.44,
}
CDNOW_ARGS = ["--calibration-end", "1997-09-30", "--json"]


def test_without_pymc_marketing_bayes_names_the_extra(
    runner: CliRunner, cdnow_csv: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "pymc_marketing", None)  # as where it is not installed
    result = runner.invoke(
        app, ["analytics", "clv", "--transactions", str(cdnow_csv), *CDNOW_ARGS, "--bayes"]
    )
    assert result.exit_code == 2
    message = " ".join(result.stderr.split())
    assert "pip install 'patronage[bayes]' (Python >= 3.12)" in message
    assert len(result.stderr.strip().splitlines()) <= 2  # one line (Rich may wrap at 80)
    assert result.stdout == ""


@pytest.mark.parametrize(("r_hat", "warned"), [(1.005, False), (1.2, True)])
def test_disagreeing_chains_are_flagged(
    capsys: pytest.CaptureFixture[str], r_hat: float, warned: bool
) -> None:
    spend = {"r_hat_max": 1.001, "converged": True}
    _warn_unconverged({"r_hat_max": r_hat, "converged": r_hat < 1.01, "spend_model": spend})
    err = " ".join(capsys.readouterr().err.split())
    assert ("chains disagree (r_hat_max 1.200)" in err) is warned


@pytest.fixture(scope="session")
def bayes_bin() -> Path:
    """.venv-bayes (Python 3.12 + pymc-marketing), built by `make bayes-env` if needed."""
    built = subprocess.run(["make", "-s", "bayes-env"], cwd=ROOT, capture_output=True, text=True)
    if built.returncode != 0:
        pytest.fail(f"make bayes-env failed:\n{built.stdout}\n{built.stderr}")
    return BAYES_BIN


def _clv(bayes_bin: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bayes_bin / "patronage"), "analytics", "clv", *args],
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@pytest.fixture(scope="module")
def posterior(bayes_bin: Path, cdnow_csv: Path, tmp_path_factory: pytest.TempPathFactory) -> Any:
    out = tmp_path_factory.mktemp("bayes") / "clv.csv"
    args = ["--transactions", str(cdnow_csv), *CDNOW_ARGS, "--horizon", "39"]
    result = _clv(bayes_bin, *args, "--output", str(out), "--bayes", "--draws", "1000")
    assert result.returncode == 0, result.stderr
    payload = json.loads(result.stdout)
    return payload, pd.read_csv(out, dtype={"customer_id": str}).set_index("customer_id")


@pytest.mark.slow
def test_posterior_agrees_with_the_published_fit(posterior: Any) -> None:
    """Each published MLE lies in its 94% HDI; the mean is off the mode only by skew.

    A flat-prior posterior peaks at the MLE; its mean sits to the right of the peak in
    the long right tail of a and b (weakly identified), so the mean is held to a
    quarter of the interval's width from the MLE, and to 5% for the well-identified
    r and alpha.
    """
    payload, _ = posterior
    bayes = payload["bayes"]
    assert (bayes["sampler"], bayes["chains"], bayes["draws"], bayes["hdi_prob"]) == (
        "nuts",
        2,
        1000,
        0.94,
    )
    fitted = {**bayes["params"], **bayes["spend_model"]["params"]}
    assert sorted(fitted) == sorted(PUBLISHED)
    for name, mle in PUBLISHED.items():
        param = fitted[name]
        assert param["hdi_low"] < mle < param["hdi_high"], name
        assert abs(param["mean"] - mle) < (param["hdi_high"] - param["hdi_low"]) / 4, name
        assert param["r_hat"] < 1.05, name
    for name in ("r", "alpha"):
        assert fitted[name]["mean"] == pytest.approx(PUBLISHED[name], rel=0.05)
    assert bayes["r_hat_max"] < 1.05
    assert bayes["converged"] is (bayes["r_hat_max"] < 1.01)
    assert bayes["spend_model"]["r_hat_max"] < 1.05
    assert round(payload["params"]["alpha"], 3) == 4.414  # the MLE fit is still reported


@pytest.mark.slow
def test_predictions_gain_intervals(posterior: Any) -> None:
    """FHL 2005's example customer (1.226 purchases expected) lies inside its interval."""
    _, predicted = posterior
    first = predicted.loc["1"]
    assert first["expected_purchases"] == pytest.approx(1.226, abs=0.001)
    assert first["expected_purchases_hdi_low"] < 1.226 < first["expected_purchases_hdi_high"]
    assert first["p_alive_hdi_low"] < first["p_alive"] < first["p_alive_hdi_high"]
    assert (predicted["p_alive_hdi_low"] <= predicted["p_alive_hdi_high"]).all()
    assert (predicted["expected_purchases_hdi_high"] > 0).all()
    assert len(predicted) == 2357


@pytest.mark.slow
def test_bad_sampling_options_exit_2(bayes_bin: Path, cdnow_csv: Path) -> None:
    result = _clv(bayes_bin, "--transactions", str(cdnow_csv), "--bayes", "--chains", "1")
    assert result.returncode == 2
    assert "--chains must be at least 2" in " ".join(result.stderr.split())


@pytest.mark.slow
def test_the_default_path_never_imports_pymc(bayes_bin: Path, cdnow_csv: Path) -> None:
    """Even where pymc-marketing is installed, the MLE fit does not load PyMC."""
    script = (
        "import importlib.util, sys\n"
        "assert importlib.util.find_spec('pymc_marketing'), 'not installed'\n"
        "from typer.testing import CliRunner\n"
        "from patronage.cli.main import app\n"
        f"args = ['analytics', 'clv', '--transactions', {str(cdnow_csv)!r}, '--json']\n"
        "result = CliRunner().invoke(app, args)\n"
        "assert result.exit_code == 0, result.output\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('pymc', 'pymc_marketing',"
        " 'pytensor')))\n"
    )
    result = subprocess.run(
        [str(bayes_bin / "python"), "-c", script], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"
