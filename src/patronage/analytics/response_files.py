"""Survey responses from files (CSV or Parquet), checked and turned into plain columns.

Rows are numbered from 1 for the first data row (the line after a CSV header).
An empty cell is a survey that was shown but not answered; it is kept as
``None`` so that the statistics can leave it out.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from patronage.errors import InvalidInput

SUPPORTED_SUFFIXES = (".csv", ".parquet", ".pq")


def read_responses(path: Path) -> pd.DataFrame:
    """Load a CSV or Parquet file of survey responses."""
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise InvalidInput(
            "responses must be a .csv or .parquet file", field="responses", path=str(path)
        )
    if not path.is_file():
        raise InvalidInput("responses file not found", field="responses", path=str(path))
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        return pd.read_parquet(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise InvalidInput(
            f"cannot read responses: {exc}".splitlines()[0], field="responses"
        ) from None


def require_columns(frame: pd.DataFrame, columns: list[str]) -> None:
    """Bad input naming the first missing column."""
    missing = [c for c in columns if c not in frame.columns]
    if missing:
        raise InvalidInput(
            f"missing column {missing[0]}"
            + (f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""),
            field=missing[0],
        )


def numeric_column(frame: pd.DataFrame, column: str) -> list[float | None]:
    """A column of numbers; blanks become None, anything else that is not a number is bad."""
    require_columns(frame, [column])
    values: list[float | None] = []
    for row, raw in enumerate(frame[column].tolist(), start=1):
        values.append(_number(raw, column, row))
    return values


def text_column(frame: pd.DataFrame, column: str) -> list[str | None]:
    """A column of text; blanks (empty or whitespace) become None."""
    require_columns(frame, [column])
    texts: list[str | None] = []
    for raw in frame[column].tolist():
        if _is_blank(raw):
            texts.append(None)
        else:
            text = str(raw).strip()
            texts.append(text or None)
    return texts


def label_column(frame: pd.DataFrame, column: str) -> list[str | None]:
    """Group labels as text (a numeric label 2024.0 reads as '2024')."""
    require_columns(frame, [column])
    labels: list[str | None] = []
    for raw in frame[column].tolist():
        if _is_blank(raw):
            labels.append(None)
        elif isinstance(raw, float) and raw.is_integer():
            labels.append(str(int(raw)))
        else:
            labels.append(str(raw).strip())
    return labels


def _is_blank(raw: object) -> bool:
    if raw is None or raw is pd.NA or raw is pd.NaT:
        return True
    if isinstance(raw, float) and math.isnan(raw):
        return True
    return isinstance(raw, str) and not raw.strip()


def _number(raw: object, column: str, row: int) -> float | None:
    if _is_blank(raw):
        return None
    if isinstance(raw, bool):
        raise InvalidInput(f"{column} must be a number (row {row})", field=column, row=row)
    try:
        return float(raw)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        raise InvalidInput(
            f"{column} must be a number (row {row})", field=column, row=row, value=str(raw)
        ) from None
