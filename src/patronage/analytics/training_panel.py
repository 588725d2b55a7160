"""From raw interactions and training records to a staff x period panel.

Interactions (one row per customer served: staff_id, customer_id, occurred_at and
an outcome column) are bucketed into calendar months or ISO weeks in a chosen
time zone and averaged per staff member and period, so that every staff member
weighs the same however many customers they served. Training records
(staff_id, course_id, completed_at) give each staff member the period in which
they first completed the course: their cohort. Staff with no record are never
trained.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

import numpy as np
import numpy.typing as npt
import pandas as pd

from patronage.errors import InvalidInput

INTERACTION_COLUMNS = ("staff_id", "customer_id", "occurred_at")
TRAINING_COLUMNS = ("staff_id", "course_id", "completed_at")
_OFFSET = r"(?:Z|[+-]\d{2}:?\d{2})$"
_MONDAY = pd.Timestamp("1970-01-05")  # day 0 of week 0

FloatArray = npt.NDArray[np.float64]


class PeriodUnit(StrEnum):
    MONTH = "month"
    WEEK = "week"


@dataclass(frozen=True)
class StaffPanel:
    """Outcome means per staff member (rows) and period (columns).

    ``outcome`` is NaN where a staff member served nobody in a period; ``cohort``
    is the period index of training completion, +inf for staff never trained.
    """

    staff: tuple[str, ...]
    periods: npt.NDArray[np.int64]
    outcome: FloatArray
    served: FloatArray
    cohort: FloatArray
    unit: PeriodUnit

    def label(self, period: int) -> str:
        return period_label(period, self.unit)


def period_label(period: int, unit: PeriodUnit) -> str:
    if unit is PeriodUnit.MONTH:
        year, month = divmod(period, 12)
        return f"{year:04d}-{month + 1:02d}"
    monday: pd.Timestamp = _MONDAY + pd.Timedelta(weeks=period)
    return str(monday.date().isoformat())


def parse_times(values: pd.Series, field: str, tz: str) -> pd.Series:
    """Aware timestamps in ``tz``; values without an offset are read as ``tz`` local time."""
    try:
        if pd.api.types.is_datetime64_any_dtype(values):
            stamps = pd.Series(values)
            aware = stamps if stamps.dt.tz is not None else stamps.dt.tz_localize(tz)
            return aware.dt.tz_convert(tz)
        text = values.astype("string").str.strip()
        has_offset = text.str.contains(_OFFSET, regex=True).fillna(False).astype(bool)
        result = pd.Series(pd.NaT, index=values.index, dtype=f"datetime64[ns, {tz}]")
        if has_offset.any():
            parsed = pd.to_datetime(text[has_offset], format="ISO8601", utc=True)
            result[has_offset] = parsed.dt.tz_convert(tz)
        if (~has_offset).any():
            naive = pd.to_datetime(text[~has_offset], format="ISO8601")
            result[~has_offset] = naive.dt.tz_localize(tz)
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidInput(
            f"{field} holds a value that is not a date: {exc}", field=field
        ) from None
    if result.isna().any():
        raise InvalidInput(f"{field} has empty values", field=field)
    return result


def period_index(stamps: pd.Series, unit: PeriodUnit) -> pd.Series:
    """Integer period numbers: months since year 0, or weeks since Monday 1970-01-05."""
    if unit is PeriodUnit.MONTH:
        return (stamps.dt.year * 12 + stamps.dt.month - 1).astype("int64")
    local_days = stamps.dt.tz_localize(None).dt.normalize()
    return ((local_days - _MONDAY).dt.days // 7).astype("int64")


def require_columns(frame: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    for column in columns:
        if column not in frame.columns:
            raise InvalidInput(f"{source} has no column {column!r}", field=column)


def outcome_values(interactions: pd.DataFrame, outcome: str) -> pd.Series:
    if outcome not in interactions.columns or outcome in INTERACTION_COLUMNS:
        raise InvalidInput(f"interactions have no outcome column {outcome!r}", field="outcome")
    raw = interactions[outcome]
    if pd.api.types.is_bool_dtype(raw):
        return raw.astype("float64")
    values = pd.to_numeric(raw, errors="coerce").astype("float64")
    if (values.isna() & raw.notna() & (raw.astype("string").str.strip() != "")).any():
        raise InvalidInput(f"outcome column {outcome!r} holds non-numbers", field="outcome")
    return values


def staff_cohorts(
    trainings: pd.DataFrame, course: str | None, unit: PeriodUnit, tz: str
) -> pd.Series:
    """Period of each staff member's first completion (of ``course`` when given)."""
    require_columns(trainings, TRAINING_COLUMNS, "trainings")
    rows = trainings
    if course is not None:
        rows = trainings[trainings["course_id"].astype("string") == course]
        if rows.empty:
            raise InvalidInput(f"no training records for course {course!r}", field="course")
    completed = parse_times(rows["completed_at"], "completed_at", tz)
    periods = period_index(completed, unit)
    return periods.groupby(rows["staff_id"].astype("string")).min()


def build_panel(
    interactions: pd.DataFrame,
    trainings: pd.DataFrame,
    outcome: str,
    *,
    course: str | None = None,
    unit: PeriodUnit = PeriodUnit.MONTH,
    tz: str = "UTC",
) -> StaffPanel:
    require_columns(interactions, INTERACTION_COLUMNS, "interactions")
    values = outcome_values(interactions, outcome)
    stamps = parse_times(interactions["occurred_at"], "occurred_at", tz)
    rows = pd.DataFrame(
        {
            "staff": interactions["staff_id"].astype("string"),
            "period": period_index(stamps, unit),
            "y": values,
        }
    ).dropna()
    if rows.empty:
        raise InvalidInput("no interactions with an outcome", field="interactions")
    cells = rows.groupby(["staff", "period"])["y"].agg(["mean", "size"])
    periods = np.arange(cells.index.get_level_values("period").min(), rows["period"].max() + 1)
    means = cells["mean"].unstack("period").reindex(columns=periods)
    served = cells["size"].unstack("period").reindex(columns=periods).fillna(0.0)
    cohort = staff_cohorts(trainings, course, unit, tz).reindex(means.index)
    return StaffPanel(
        staff=tuple(str(s) for s in means.index),
        periods=periods.astype(np.int64),
        outcome=means.to_numpy(dtype=np.float64),
        served=served.to_numpy(dtype=np.float64),
        cohort=cohort.fillna(np.inf).to_numpy(dtype=np.float64),
        unit=unit,
    )
