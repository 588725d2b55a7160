"""Benchmark: RFM summary + BG/NBD + Gamma-Gamma + per-customer predictions, end to end,
with Patronage (Ibis on DuckDB, NumPy/SciPy fits) and with the `lifetimes` package.

    python bench/analytics_bench.py [--customers 1000000] [--lifetimes-python PATH]

The data set is generated once (Parquet, about 10 transactions per customer); each side
then runs in its own subprocess so that its peak memory (max RSS) is its own. The sides
run ``--repeat`` times (default 3), interleaved, and the fastest run of each is compared
(the machine may be shared); every run is printed too. lifetimes 0.11.3 needs old
pandas/numpy; `make bench-analytics` builds bench/.venv-lifetimes for it.
Not a test: it prints figures, it asserts nothing.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

START = date(2023, 1, 1)
AS_OF = date(2024, 12, 31)
HORIZON_WEEKS = 52.0


def generate(path: Path, customers: int, seed: int = 7) -> int:
    """Simulate the BG/NBD story: customers join during 2023 and buy at Poisson rates
    (gamma-distributed, about one purchase in five weeks); after each purchase a customer
    drops out with a beta-distributed probability. Spend per customer is gamma-gamma."""
    rng = np.random.default_rng(seed)
    span = (AS_OF - START).days
    first = rng.integers(0, 365, customers)
    rate = rng.gamma(2.0, 1 / 10.0, customers) / 7.0  # purchases per day
    drop = rng.beta(1.0, 12.0, customers)
    repeats = np.minimum(rng.geometric(drop) - 1, 60)
    counts = 1 + repeats
    owner = np.repeat(np.arange(customers), counts)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    gaps = rng.exponential(1.0, len(owner)) / rate[owner]
    gaps[starts] = 0.0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[starts], counts)
    day = first[owner] + elapsed.astype(np.int64)
    keep = day <= span
    mean_spend = rng.gamma(6.0, 1.0, customers) * 15.0 / rng.gamma(4.0, 1.0, customers)
    amount = np.round(rng.gamma(6.0, 1.0, len(owner)) * mean_spend[owner] / 6.0, 2)
    frame = pd.DataFrame(
        {
            "customer_id": owner[keep].astype(np.int64),
            "date": (pd.Timestamp(START) + pd.to_timedelta(day[keep], unit="D")).date,
            "amount": amount[keep],
        }
    )
    frame.to_parquet(path, index=False)
    return len(frame)


def peak_rss_mb() -> float:
    """This process's own peak resident memory (VmHWM; ru_maxrss survives exec on Linux)."""
    status = Path("/proc/self/status")
    if status.exists():
        for line in status.read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024.0
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_patronage(data: Path) -> dict[str, object]:
    # Both sides import their code before the clock starts, including what would
    # otherwise load on first use: Ibis's DuckDB backend here, pandas' Parquet reader
    # (pyarrow) for lifetimes.
    import ibis.backends.duckdb  # noqa: F401

    from patronage.analytics import clv, rfm
    from patronage.analytics.engines import connect
    from patronage.analytics.sources import TransactionFile, read_transactions
    from patronage.analytics.summary import customer_summary

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    transactions = read_transactions(connect(), TransactionFile(data))
    summary = customer_summary(transactions, AS_OF)
    rfm.score(summary, AS_OF)
    history = clv.repeat_history(summary, AS_OF, "week")
    timings["summary"], clock = time.perf_counter() - clock, time.perf_counter()
    fitted = clv.fit_models(history, "bgnbd")
    timings["fit"], clock = time.perf_counter() - clock, time.perf_counter()
    predicted = clv.predict(history, fitted, HORIZON_WEEKS)
    timings["predict"] = time.perf_counter() - clock
    return {
        "timings": timings,
        "customers": len(predicted),
        "bgnbd": fitted.purchases.params,
        "gamma_gamma": fitted.spend.params,
        "total_clv": float(predicted["clv"].sum()),
    }


def run_lifetimes(data: Path) -> dict[str, object]:
    import pyarrow.parquet  # noqa: F401 - see run_patronage
    from lifetimes import BetaGeoFitter, GammaGammaFitter
    from lifetimes.utils import summary_data_from_transaction_data

    timings: dict[str, float] = {}
    clock = time.perf_counter()
    frame = pd.read_parquet(data)
    frame["date"] = pd.to_datetime(frame["date"])
    summary = summary_data_from_transaction_data(
        frame,
        "customer_id",
        "date",
        monetary_value_col="amount",
        observation_period_end=pd.Timestamp(AS_OF),
        freq="D",
        freq_multiplier=7,
    )
    timings["summary"], clock = time.perf_counter() - clock, time.perf_counter()
    bgf = BetaGeoFitter().fit(summary["frequency"], summary["recency"], summary["T"])
    repeat = summary[(summary["frequency"] > 0) & (summary["monetary_value"] > 0)]
    ggf = GammaGammaFitter().fit(repeat["frequency"], repeat["monetary_value"])
    timings["fit"], clock = time.perf_counter() - clock, time.perf_counter()
    f, r, t = summary["frequency"], summary["recency"], summary["T"]
    bgf.conditional_probability_alive(f, r, t)
    expected = bgf.conditional_expected_number_of_purchases_up_to_time(HORIZON_WEEKS, f, r, t)
    value = ggf.conditional_expected_average_profit(f, summary["monetary_value"])
    timings["predict"] = time.perf_counter() - clock
    return {
        "timings": timings,
        "customers": len(summary),
        "bgnbd": {k: float(v) for k, v in bgf.params_.items()},
        "gamma_gamma": {k: float(v) for k, v in ggf.params_.items()},
        "total_clv": float((expected * value).sum()),
    }


def side(name: str, data: Path) -> None:
    """Run one side in this process and print its JSON result with peak memory."""
    cpu = resource.getrusage(resource.RUSAGE_SELF)
    result = run_patronage(data) if name == "patronage" else run_lifetimes(data)
    after = resource.getrusage(resource.RUSAGE_SELF)
    result["cpu_seconds"] = after.ru_utime + after.ru_stime - cpu.ru_utime - cpu.ru_stime
    result["peak_rss_mb"] = peak_rss_mb()
    print(json.dumps(result))  # noqa: T201 - the parent reads this


def in_subprocess(python: str, name: str, data: Path) -> dict[str, object]:
    done = subprocess.run(
        [python, __file__, "--side", name, "--data", str(data)],
        check=True,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])  # type: ignore[no-any-return]


def significant(value: float, digits: int = 3) -> str:
    return f"{value:.{digits}g}"


def total(result: dict) -> float:  # type: ignore[type-arg]
    return float(sum(result["timings"].values()))


def best_of(runs: list[dict]) -> dict:  # type: ignore[type-arg]
    """The fastest run, with the highest peak memory of all runs."""
    best = dict(min(runs, key=total))
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return best


def report(ours: dict, theirs: dict) -> None:  # type: ignore[type-arg]
    for label, result in (("patronage", ours), ("lifetimes", theirs)):
        t = result["timings"]
        print(  # noqa: T201
            f"{label:10s} summary {t['summary']:7.2f}s  fit {t['fit']:7.2f}s  "
            f"predict {t['predict']:6.2f}s  total {total(result):7.2f}s  "
            f"(CPU {result['cpu_seconds']:6.1f}s)  peak RSS {result['peak_rss_mb']:8.0f} MB"
        )
    speed = total(theirs) / total(ours)
    memory = ours["peak_rss_mb"] / theirs["peak_rss_mb"]
    print(f"speed-up {speed:.1f}x; memory {memory:.2f} of lifetimes'")  # noqa: T201
    for model in ("bgnbd", "gamma_gamma"):
        for key, value in ours[model].items():
            other = theirs[model][key]
            verdict = "same" if significant(value) == significant(other) else "DIFFERENT"
            print(f"{model:11s} {key:5s} {value:12.6g} {other:12.6g}  3 s.f. {verdict}")  # noqa: T201


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--lifetimes-python", default="bench/.venv-lifetimes/bin/python")
    parser.add_argument("--data", type=Path)
    parser.add_argument("--side", choices=("patronage", "lifetimes"))
    parser.add_argument(
        "--repeat", type=int, default=3, help="runs per side, interleaved; the best of each counts"
    )
    args = parser.parse_args()
    if args.side:
        side(args.side, args.data)
        return
    data = args.data or Path(__file__).parent / "data" / f"transactions_{args.customers}.parquet"
    data.parent.mkdir(parents=True, exist_ok=True)
    if not data.exists():
        clock = time.perf_counter()
        rows = generate(data, args.customers)
        print(
            f"generated {rows:,} transactions for {args.customers:,} customers "  # noqa: T201
            f"in {time.perf_counter() - clock:.1f}s -> {data}"
        )
    ours, theirs = [], []
    for run in range(1, max(args.repeat, 1) + 1):  # interleaved, so both see the same load
        ours.append(in_subprocess(sys.executable, "patronage", data))
        theirs.append(in_subprocess(args.lifetimes_python, "lifetimes", data))
        print(  # noqa: T201
            f"run {run}: patronage {total(ours[-1]):.2f}s, lifetimes {total(theirs[-1]):.2f}s "
            f"({total(theirs[-1]) / total(ours[-1]):.1f}x)"
        )
    report(best_of(ours), best_of(theirs))


if __name__ == "__main__":
    main()
