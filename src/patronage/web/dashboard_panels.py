"""The charts of the dashboard's tier, RFM, NPS, complaint SLA and campaign panels,
labelled in the page's language."""

from __future__ import annotations

from typing import Any

from markupsafe import Markup

from patronage.services.dashboard import Dashboard
from patronage.web.i18n import Translator
from patronage.web.insight_charts import Scale, horizontal_bars, monthly_chart, treemap


def panel_charts(t: Translator, view: Dashboard) -> dict[str, Markup | None]:
    insights = view.insights
    return {
        "tier_moves": _tier_moves(t, insights.tier_moves),
        "rfm_customers": _rfm_customers(t, insights.rfm_segments),
        "rfm_revenue": _rfm_revenue(t, insights.rfm_segments, view.currency),
        "nps": _nps(t, insights.nps_months, insights.nps_total),
        "sla": _sla(t, insights.sla_months),
        "campaigns": _campaigns(t, insights.campaigns, view.currency),
    }


def _tier_moves(t: Translator, moves: list[dict[str, Any]]) -> Markup | None:
    if not moves:
        return None
    bars = [(f"{m['from']} → {m['to']}", float(m["members"])) for m in moves]
    desc = "; ".join(f"{name}: {t.number(round(v))}" for name, v in bars)
    return horizontal_bars(t("insights.tier_moves"), desc, bars, lambda v: t.number(round(v)))


def _rfm_customers(t: Translator, segments: list[dict[str, Any]]) -> Markup | None:
    items = [(t(f"rfm.{s['slug']}"), float(s["customers"])) for s in segments]
    if not any(v > 0 for _, v in items):
        return None
    desc = _shares(t, segments, "customer_share")
    return treemap(t("insights.rfm_by_customers"), desc, items, lambda v: t.number(round(v)))


def _rfm_revenue(t: Translator, segments: list[dict[str, Any]], currency: str) -> Markup | None:
    items = [(t(f"rfm.{s['slug']}"), float(s["revenue_minor"])) for s in segments]
    if not any(v > 0 for _, v in items):
        return None
    desc = _shares(t, segments, "revenue_share")
    return treemap(t("insights.rfm_by_revenue"), desc, items, lambda v: t.money(round(v), currency))


def _shares(t: Translator, segments: list[dict[str, Any]], key: str) -> str:
    return "; ".join(
        f"{t('rfm.' + s['slug'])}: {t.percent(s[key])}" for s in segments if s[key] > 0
    )


def _nps(
    t: Translator, months: list[dict[str, Any]], total: dict[str, Any] | None
) -> Markup | None:
    if total is None:
        return None
    points = [m["point"] for m in months]
    desc = t(
        "insights.nps_desc",
        nps=t.number(round(total["nps"], 1)),
        low=t.number(round(total["low"], 1)),
        high=t.number(round(total["high"], 1)),
        n=t.number(total["n"]),
    )
    return monthly_chart(
        t("insights.nps"),
        desc,
        [m["month"] for m in months],
        {t("insights.nps_series"): [p["nps"] if p else None for p in points]},
        Scale(-100, 100),
        lambda v: t.number(round(v)),
        band=(
            [p["low"] if p else None for p in points],
            [p["high"] if p else None for p in points],
        ),
    )


def _sla(t: Translator, months: list[dict[str, Any]]) -> Markup | None:
    if not months:
        return None

    def share(clock: str) -> list[float | None]:
        values = [m[clock]["attainment"] for m in months]
        return [None if v is None else 100 * v for v in values]

    first, resolution = share("first_response"), share("resolution")
    desc = "; ".join(
        f"{m['month']}: {t('insights.first_response')} {_pct(t, f)}, "
        f"{t('insights.resolution')} {_pct(t, r)}"
        for m, f, r in zip(months, first, resolution, strict=True)
        if m["complaints"]
    )
    return monthly_chart(
        t("insights.sla"),
        desc,
        [m["month"] for m in months],
        {t("insights.first_response"): first, t("insights.resolution"): resolution},
        Scale(0, 100),
        lambda v: t.percent(v / 100),
    )


def _pct(t: Translator, value: float | None) -> str:
    return "—" if value is None else t.percent(value / 100)


def _campaigns(t: Translator, campaigns: list[dict[str, Any]], currency: str) -> Markup | None:
    if not campaigns:
        return None
    bars = [(c["name"], float(c["cost_minor"])) for c in campaigns]
    desc = "; ".join(
        t(
            "insights.campaign_desc",
            name=c["name"],
            cost=t.money(c["cost_minor"], currency),
            reach=t.number(c["reach"]),
        )
        for c in campaigns
    )
    return horizontal_bars(
        t("insights.campaigns"), desc, bars, lambda v: t.money(round(v), currency)
    )
