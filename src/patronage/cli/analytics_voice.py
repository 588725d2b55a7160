"""`patronage analytics nps|csat|servqual|comments`: voice-of-the-customer statistics from files.

Thin: read the file, call the domain statistics, print JSON or a Rich table.
Bad input (a missing column, a score out of range in some row) prints one line
naming the column and row and exits with code 2.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from patronage.cli.analytics import app
from patronage.cli.common import cli_errors, console
from patronage.errors import InvalidInput

if TYPE_CHECKING:
    from patronage.analytics.comments import CommentSummary
    from patronage.domain.servqual import GapEstimate, ServqualAnswers, ServqualResult
    from patronage.domain.surveys import NpsResult

Payload = dict[str, Any]

ResponsesOption = Annotated[
    Path,
    typer.Option(
        "--responses",
        help="CSV or Parquet file, one response per row. Empty cells are unanswered and "
        "never count. Rows are numbered from 1 after the header.",
    ),
]
JsonOption = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
DIGITS = 4


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, DIGITS)


def _interval(ci: tuple[float, float] | None) -> list[float | None] | None:
    return None if ci is None else [_round(ci[0]), _round(ci[1])]


def _emit(payload: Payload, as_json: bool, render: Callable[[Payload], None]) -> None:
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False))
    else:
        render(payload)


# --- NPS ---------------------------------------------------------------------------


def nps_payload(result: NpsResult) -> Payload:
    return {
        "nps": _round(result.nps),
        "n": result.n,
        "promoters": result.promoters,
        "passives": result.passives,
        "detractors": result.detractors,
        "ci95": _interval(result.ci95),
        "method": result.method,
    }


def grouped_nps_payload(
    scores: list[float | None], labels: list[str | None], field: str, group_field: str
) -> Payload:
    """One NPS per group, and a z test when there are exactly two groups."""
    from patronage.domain.surveys import answered_scores, compare_nps, net_promoter_score

    answered_scores(scores, low=0, high=10, field=field)  # errors name the file's row
    by_group: dict[str, list[float | None]] = {}
    for row, (score, label) in enumerate(zip(scores, labels, strict=True), start=1):
        if score is None:
            continue
        if label is None:
            raise InvalidInput(f"{group_field} is empty (row {row})", field=group_field, row=row)
        by_group.setdefault(label, []).append(score)
    if not by_group:
        raise InvalidInput(f"no answered {field} scores", field=field)
    results = {g: net_promoter_score(by_group[g], field=field) for g in sorted(by_group)}
    payload: Payload = {"groups": {g: nps_payload(r) for g, r in results.items()}}
    if len(results) == 2:
        (first, a), (second, b) = results.items()
        comparison = compare_nps(a, b)
        payload["comparison"] = {
            "first": first,
            "second": second,
            "difference": _round(comparison.difference),
            "ci95": _interval(comparison.ci95),
            "z": _round(comparison.z),
            "p_value": _round(comparison.p_value),
        }
    return payload


def _render_nps(payload: Payload) -> None:
    table = Table(title="Net Promoter Score (-100..100), 95% adjusted-Wald interval")
    for column in ("group", "n", "NPS", "95% CI", "promoters", "passives", "detractors"):
        table.add_column(column, justify="left" if column == "group" else "right")
    groups = payload.get("groups", {"all": payload})
    for name, g in groups.items():
        lo, hi = g["ci95"]
        table.add_row(
            escape(name), str(g["n"]), f"{g['nps']:.1f}", f"{lo:.1f} .. {hi:.1f}",
            str(g["promoters"]), str(g["passives"]), str(g["detractors"]),
        )  # fmt: skip
    console.print(table)
    if "comparison" in payload:
        c = payload["comparison"]
        console.print(
            f"{escape(c['second'])} - {escape(c['first'])}: difference {c['difference']:.1f}, "
            f"z = {c['z']:.2f}, p = {c['p_value']:.4f}"
        )


@app.command("nps")
def nps_command(
    responses: ResponsesOption,
    score_col: Annotated[str, typer.Option("--score-col", help="Column of 0-10 scores.")],
    group_col: Annotated[
        str | None,
        typer.Option(
            "--group-col",
            help="Column of groups or periods; with exactly two, a z test of the difference "
            "(second minus first in sorted order).",
        ),
    ] = None,
    as_json: JsonOption = False,
) -> None:
    """Net Promoter Score on the -100..100 scale (promoters 9-10 minus detractors 0-6).

    The 95% interval, also on -100..100, is the adjusted-Wald interval of Rocks (2016).
    """
    from patronage.analytics.response_files import label_column, numeric_column, read_responses
    from patronage.domain.surveys import net_promoter_score

    with cli_errors():
        frame = read_responses(responses)
        scores = numeric_column(frame, score_col)
        if group_col is None:
            payload = nps_payload(net_promoter_score(scores, field=score_col))
        else:
            labels = label_column(frame, group_col)
            payload = grouped_nps_payload(scores, labels, score_col, group_col)
    _emit(payload, as_json, _render_nps)


# --- CSAT --------------------------------------------------------------------------


def _render_csat(payload: Payload) -> None:
    table = Table(title="CSAT: share of 4-5 answers (%), 95% Wilson interval")
    for column in ("n", "satisfied", "CSAT %", "95% CI"):
        table.add_column(column, justify="right")
    lo, hi = payload["ci95"]
    table.add_row(
        str(payload["n"]),
        str(payload["satisfied"]),
        f"{payload['csat']:.1f}",
        f"{lo:.1f} .. {hi:.1f}",
    )
    console.print(table)


@app.command("csat")
def csat_command(
    responses: ResponsesOption,
    score_col: Annotated[str, typer.Option("--score-col", help="Column of 1-5 scores.")],
    as_json: JsonOption = False,
) -> None:
    """CSAT: the percentage (0..100) of 4 and 5 answers on a 1-5 scale, with a Wilson interval."""
    from patronage.analytics.response_files import numeric_column, read_responses
    from patronage.domain.surveys import customer_satisfaction

    with cli_errors():
        frame = read_responses(responses)
        result = customer_satisfaction(numeric_column(frame, score_col), field=score_col)
        payload = {
            "csat": _round(result.csat),
            "n": result.n,
            "satisfied": result.satisfied,
            "ci95": _interval(result.ci95),
            "method": result.method,
        }
    _emit(payload, as_json, _render_csat)


# --- SERVQUAL ----------------------------------------------------------------------


def _weight_columns() -> dict[str, str]:
    """W_tangibles, W_reliability, ...: each weight column and its dimension."""
    from patronage.domain.servqual import DIMENSIONS

    return {f"W_{name}": name for name in DIMENSIONS}


def servqual_answers(frame: Any) -> list[ServqualAnswers]:
    """E1..E22 and P1..P22 (and W_* when present) from a table of responses."""
    from patronage.analytics.response_files import numeric_column, require_columns
    from patronage.domain.servqual import ITEM_COUNT, ServqualAnswers

    weight_columns = _weight_columns()
    e_cols = [f"E{i}" for i in range(1, ITEM_COUNT + 1)]
    p_cols = [f"P{i}" for i in range(1, ITEM_COUNT + 1)]
    require_columns(frame, e_cols + p_cols)
    present_weights = [c for c in weight_columns if c in frame.columns]
    if present_weights:
        require_columns(frame, list(weight_columns))
    columns = {c: numeric_column(frame, c) for c in e_cols + p_cols + present_weights}
    answers = []
    for i in range(len(frame)):
        weights = {weight_columns[c]: columns[c][i] for c in present_weights}
        answers.append(
            ServqualAnswers(
                expectations=[columns[c][i] for c in e_cols],
                perceptions=[columns[c][i] for c in p_cols],
                weights=weights or None,  # type: ignore[arg-type]
            )
        )
    return answers


def _gap(estimate: GapEstimate | None) -> Payload | None:
    if estimate is None:
        return None
    return {
        "gap": _round(estimate.mean),
        "n": estimate.n,
        "se": _round(estimate.standard_error),
        "ci95": _interval(estimate.ci95),
    }


def servqual_payload(result: ServqualResult) -> Payload:
    return {
        "respondents": result.respondents,
        "items": {f"{i}": _gap(e) for i, e in result.items.items()},
        "dimensions": {d: _gap(e) for d, e in result.dimensions.items()},
        "unweighted_total": _gap(result.unweighted_total),
        "weighted_total": _gap(result.weighted_total),
        "method": "gap = perception - expectation; t intervals",
    }


def _render_servqual(payload: Payload) -> None:
    table = Table(title=f"SERVQUAL gaps (P - E), {payload['respondents']} respondents")
    for column in ("", "gap", "95% CI", "n"):
        table.add_column(column, justify="left" if not column else "right")
    rows = [*payload["dimensions"].items()]
    rows += [("unweighted total", payload["unweighted_total"])]
    rows += [("weighted total", payload["weighted_total"])]
    rows += [(f"item {i}", g) for i, g in payload["items"].items()]
    for name, gap in rows:
        if gap is None:
            table.add_row(name, "-", "-", "0")
            continue
        ci = "-" if gap["ci95"] is None else f"{gap['ci95'][0]:.2f} .. {gap['ci95'][1]:.2f}"
        table.add_row(name, f"{gap['gap']:.2f}", ci, str(gap["n"]))
    console.print(table)


@app.command("servqual")
def servqual_command(responses: ResponsesOption, as_json: JsonOption = False) -> None:
    """SERVQUAL gaps (perception minus expectation, 7-point scale) per item and dimension.

    Reads E1..E22 and P1..P22, and W_tangibles, W_reliability, W_responsiveness,
    W_assurance, W_empathy (100 importance points per respondent) when present.
    Prints unweighted and weighted totals (Parasuraman, Zeithaml and Berry 1988, 1991).
    """
    from patronage.analytics.response_files import read_responses
    from patronage.domain.servqual import servqual_gaps

    with cli_errors():
        frame = read_responses(responses)
        payload = servqual_payload(servqual_gaps(servqual_answers(frame)))
    _emit(payload, as_json, _render_servqual)


# --- open-text comments ------------------------------------------------------------


def comments_payload(summary: CommentSummary) -> Payload:
    languages: Payload = {}
    for language, part in summary.languages.items():
        languages[language] = {
            "comments": part.comments,
            "sentiment": {
                "library": part.sentiment_library,
                "mean": _round(part.mean_sentiment),
                **part.labels,
            },
            "keywords": [
                {
                    "term": k.term,
                    "score": _round(k.score),
                    "comments": k.comments,
                    "mean_sentiment": _round(k.mean_sentiment),
                }
                for k in part.keywords
            ],
        }
    return {"comments": summary.comments, "languages": languages}


def _render_comments(payload: Payload) -> None:
    for language, part in payload["languages"].items():
        s = part["sentiment"]
        mean = "-" if s["mean"] is None else f"{s['mean']:+.2f}"
        table = Table(
            title=f"{language}: {part['comments']} comments, sentiment {mean} "
            f"(+{s['positive']} ={s['neutral']} -{s['negative']}, {s['library'] or 'none'})"
        )
        for column in ("keyword", "TF-IDF", "comments", "sentiment"):
            table.add_column(column, justify="left" if column == "keyword" else "right")
        for k in part["keywords"]:
            sentiment = "-" if k["mean_sentiment"] is None else f"{k['mean_sentiment']:+.2f}"
            table.add_row(k["term"], f"{k['score']:.3f}", str(k["comments"]), sentiment)
        console.print(table)


@app.command("comments")
def comments_command(
    responses: ResponsesOption,
    text_col: Annotated[str, typer.Option("--text-col", help="Column of free-text comments.")],
    top: Annotated[int, typer.Option("--top", min=1, help="Keywords per language.")] = 10,
    with_sentiment: Annotated[
        bool, typer.Option("--sentiment/--no-sentiment", help="Score sentiment (offline).")
    ] = True,
    as_json: JsonOption = False,
) -> None:
    """Keywords (TF-IDF; jieba for Chinese) and sentiment (SnowNLP, VADER) per language."""
    from patronage.analytics.comments import summarize_comments
    from patronage.analytics.response_files import read_responses, text_column

    with cli_errors():
        texts = text_column(read_responses(responses), text_col)
        if not any(texts):
            raise InvalidInput(f"no answered {text_col} comments", field=text_col)
        summary = summarize_comments(texts, top_k=top, with_sentiment=with_sentiment)
    _emit(comments_payload(summary), as_json, _render_comments)
