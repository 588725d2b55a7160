"""Do paid members spend more than comparable unpaid members?

Each paid member is matched, at their sign-up date, with the unpaid member (never
signed up, joined before that date) nearest in prior spend (log of spend over the
``prior_days`` before sign-up) and tenure (days since joining), both scaled by
their spread. The outcome is spend over the ``after_days`` after sign-up; only
sign-ups with a complete follow-up window count. The difference per matched pair is
averaged, with a 95% interval from a bootstrap over pairs (fixed seed) and a paired
t interval. Raw averages are shown alongside, to see what matching changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
from scipy import stats

from patronage.errors import InvalidInput
from patronage.storage.uow import UnitOfWork

SEED = 7
RESAMPLES = 2000


@dataclass(frozen=True)
class SpendReport:
    prior_days: int
    after_days: int
    paid_members: int
    pairs: int
    paid_after_mean_minor: float
    matched_after_mean_minor: float
    difference_minor: float
    bootstrap_ci_minor: tuple[float, float] | None
    t_ci_minor: tuple[float, float] | None
    paid_prior_mean_minor: float
    matched_prior_mean_minor: float
    raw_unpaid_after_mean_minor: float


def _spend(
    members: np.ndarray, times: np.ndarray, amounts: np.ndarray, n: int, start: float, end: float
) -> np.ndarray:
    mask = (times >= start) & (times < end)
    return np.bincount(members[mask], weights=amounts[mask], minlength=n)


def _ci(diffs: np.ndarray) -> tuple[tuple[float, float] | None, tuple[float, float] | None]:
    if len(diffs) < 2:
        return None, None
    rng = np.random.default_rng(SEED)
    means = diffs[rng.integers(0, len(diffs), size=(RESAMPLES, len(diffs)))].mean(axis=1)
    boot = (round(float(np.quantile(means, 0.025)), 2), round(float(np.quantile(means, 0.975)), 2))
    sem = float(diffs.std(ddof=1)) / np.sqrt(len(diffs))
    half = float(stats.t.ppf(0.975, len(diffs) - 1)) * sem
    mean = float(diffs.mean())
    return boot, (round(mean - half, 2), round(mean + half, 2))


def spend_report(
    uow: UnitOfWork, program: str = "default", prior_days: int = 180, after_days: int = 90
) -> SpendReport:
    if not 30 <= prior_days <= 730 or not 7 <= after_days <= 730:
        raise InvalidInput("prior_days must be 30..730 and after_days 7..730", field="prior_days")
    with uow:
        program_id = uow.programs.get(program).id or 0
        now = uow.clock()
        sign_ups = uow.memberships.sign_ups(program_id)
        orders = uow.memberships.orders(program_id)
        joined = uow.memberships.members_joined(program_id)
    index = {m: n for n, (m, _) in enumerate(joined)}
    day = 86400.0

    def secs(t: datetime) -> float:
        return t.timestamp()

    joined_at = np.array([secs(j) for _, j in joined])
    o_members = np.array([index[m] for m, _, _ in orders if m in index], dtype=np.int64)
    o_times = np.array([secs(t) for m, t, _ in orders if m in index])
    o_amounts = np.array([float(a) for m, _, a in orders if m in index])
    paid = np.zeros(len(joined), dtype=bool)
    for m, _, _ in sign_ups:
        if m in index:
            paid[index[m]] = True
    done = [
        (index[m], secs(s))
        for m, s, _ in sign_ups
        if m in index and s + timedelta(days=after_days) <= now
    ]
    rows: list[
        tuple[float, float, float, float]
    ] = []  # paid after, control after, paid prior, control prior
    for who, signed in done:
        prior = _spend(
            o_members, o_times, o_amounts, len(joined), signed - prior_days * day, signed
        )
        after = _spend(
            o_members, o_times, o_amounts, len(joined), signed, signed + after_days * day
        )
        tenure = (signed - joined_at) / day
        pool = np.flatnonzero(~paid & (tenure >= 0))
        if len(pool) == 0:
            continue
        log_prior = np.log1p(prior)
        scale_s = max(float(log_prior[pool].std()), 1e-9)
        scale_t = max(float(tenure[pool].std()), 1e-9)
        distance = (
            np.abs(log_prior[pool] - log_prior[who]) / scale_s
            + np.abs(tenure[pool] - tenure[who]) / scale_t
        )
        match = pool[int(np.argmin(distance))]
        rows.append((after[who], after[match], prior[who], prior[match]))
    data = np.array(rows) if rows else np.zeros((0, 4))
    diffs = data[:, 0] - data[:, 1]
    boot, t_ci = _ci(diffs)
    unpaid_after = []
    for _, signed in done:
        after = _spend(
            o_members, o_times, o_amounts, len(joined), signed, signed + after_days * day
        )
        unpaid_after.append(float(after[~paid].mean()) if (~paid).any() else 0.0)

    def mean(values: np.ndarray | list[float]) -> float:
        return round(float(np.mean(values)), 2) if len(values) else 0.0

    return SpendReport(
        prior_days,
        after_days,
        int(paid.sum()),
        len(rows),
        mean(data[:, 0]),
        mean(data[:, 1]),
        mean(diffs),
        boot,
        t_ci,
        mean(data[:, 2]),
        mean(data[:, 3]),
        mean(unpaid_after),
    )
