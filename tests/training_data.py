"""Generated training data in a real database: staff trained in waves and the
purchases they served, with a planted effect of training on spend."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from sqlalchemy import Engine, select

from patronage.clock import FixedClock
from patronage.services.programs import ensure_default_program
from patronage.services.training import seed_curriculum
from patronage.storage.tables import EventRow, MemberRow, ProgramRow
from patronage.storage.training_tables import EnrollmentRow, StaffRow
from patronage.storage.uow import UnitOfWork

MONTHS = [datetime(2025, m, 1, tzinfo=UTC) for m in range(1, 9)]


def plant_spend_effect(
    engine: Engine,
    clock: FixedClock,
    effect: float,
    *,
    seed: int = 7,
    n_staff: int = 40,
    per_month: int = 5,
    waves: tuple[int, ...] = (2, 4, 6, -1),
) -> dict[str, int]:
    """Spend = 50 + staff level + 2 a month + a monthly shock + ``effect`` once trained
    + noise. Staff are trained (an enrollment completed) at the start of their wave's
    month; wave -1 is never. Returns how many staff are trained and never trained."""
    rng = np.random.default_rng(seed)
    ensure_default_program(UnitOfWork(engine, clock))
    course_id = seed_curriculum(UnitOfWork(engine, clock), ["en"])[0]["id"]
    wave = rng.choice(waves, size=n_staff)
    level = rng.normal(0, 10, n_staff)
    shock = rng.normal(0, 3, len(MONTHS))
    with UnitOfWork(engine, clock) as uow:
        program_id = uow.session.scalar(select(ProgramRow.id).where(ProgramRow.code == "default"))
        members = [
            MemberRow(program_id=program_id, external_id=f"c{i}", joined_at=MONTHS[0],
                      created_at=MONTHS[0], consents={}, attributes={}, debt=0)
            for i in range(60)
        ]  # fmt: skip
        uow.session.add_all(members)
        uow.session.flush()
        for s in range(n_staff):
            staff = uow.training.add(
                StaffRow(staff_id=f"s{s:02d}", name=f"Staff {s}", store=f"st{s % 4}",
                         role="cashier", active=True, created_at=MONTHS[0])
            )  # fmt: skip
            if wave[s] >= 0:
                done = MONTHS[wave[s]] + timedelta(hours=1)
                uow.training.add(
                    EnrollmentRow(staff_row_id=staff.id, course_id=course_id, plan_id=None,
                                  enrolled_at=MONTHS[0], due_at=None, completed_at=done)
                )  # fmt: skip
            for m, start in enumerate(MONTHS):
                trained = 0 <= wave[s] <= m
                for k in range(per_month):
                    spend = 50 + level[s] + 2 * m + shock[m] + effect * trained
                    spend += rng.normal(0, 5)
                    at = start + timedelta(days=2 + 5 * k, hours=int(rng.integers(9, 20)))
                    member = members[int(rng.integers(0, len(members)))]
                    uow.session.add(
                        EventRow(program_id=program_id, member_id=member.id, type="purchase",
                                 source_id=f"s{s}-{m}-{k}", order_id=f"o-{s}-{m}-{k}",
                                 occurred_at=at, recorded_at=at,
                                 amount_minor=int(round(max(spend, 1) * 100)), currency="CNY",
                                 staff_id=f"s{s:02d}", attributes={})
                    )  # fmt: skip
        uow.commit()
    return {"trained": int((wave >= 0).sum()), "never": int((wave < 0).sum())}


COURSE_YAML = """\
id: counter-care
title: Counter care
language: en
certification: {valid_days: 365, remind_days_before: 30}
rubric_scale: [{score: 0, label: absent}, {score: 1, label: shown}]
modules: [drills.yaml]
"""


def write_course(folder: Path, *activities: str) -> Path:
    """A course of one's own on disk (the starter's format): one module, ``drills``,
    holding a lesson ``intro`` and the given activity lines (YAML flow mappings)."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "course.yaml").write_text(COURSE_YAML, encoding="utf-8")
    lines = [
        "id: drills",
        "title: Drills",
        "activities:",
        '  - {kind: lesson, id: intro, title: Why drills, body: "Practise before it matters."}',
        *(f"  - {a}" for a in activities),
    ]
    (folder / "drills.yaml").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder
