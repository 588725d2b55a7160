"""Request bodies of the training endpoints."""

from __future__ import annotations

from decimal import Decimal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

StaffText = Field(min_length=1, max_length=128)
CourseId = Field(ge=1, le=2**31 - 1)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class StaffIn(Strict):
    staff_id: str = StaffText
    name: str = Field(min_length=1, max_length=200)
    store: str | None = Field(default=None, max_length=128)
    role: str | None = Field(default=None, max_length=64)


class StaffChangeIn(Strict):
    name: str | None = Field(default=None, min_length=1, max_length=200)
    store: str | None = Field(default=None, max_length=128)
    role: str | None = Field(default=None, max_length=64)
    active: bool | None = None


class SeedIn(Strict):
    languages: list[str] = Field(default=["en", "zh-CN"], min_length=1, max_length=2)


class LiveSessionIn(Strict):
    title: str = Field(min_length=1, max_length=200)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    location: str | None = Field(default=None, max_length=200)


class PlanIn(Strict):
    name: str = Field(min_length=1, max_length=200)
    course_id: int = CourseId
    goals: list[str] = Field(default=[], max_length=50)
    roles: list[str] = Field(default=[], max_length=50)
    stores: list[str] = Field(default=[], max_length=500)
    starts_at: AwareDatetime | None = None
    due_at: AwareDatetime | None = None
    cost: Decimal | None = Field(default=None, ge=0, le=99_999_999, decimal_places=2)
    sessions: list[LiveSessionIn] = Field(default=[], max_length=100)


class AttendanceIn(Strict):
    staff_id: str = StaffText
    present: bool = True


class EnrollIn(Strict):
    staff_id: str = StaffText
    course_id: int = CourseId
    due_at: AwareDatetime | None = None


class DoneIn(Strict):
    activity_id: str = Field(min_length=1, max_length=64)
    staff_id: str | None = Field(default=None, min_length=1, max_length=128)


class AttemptIn(Strict):
    quiz_id: str = Field(min_length=1, max_length=64)
    answers: dict[str, list[str]] = Field(max_length=200)
    staff_id: str | None = Field(default=None, min_length=1, max_length=128)
    phase: str = Field(default="post", pattern="^(pre|post)$")


class RolePlayIn(Strict):
    role_play_id: str = Field(min_length=1, max_length=64)
    ratings: dict[str, int] = Field(max_length=50)


class ReactionIn(Strict):
    rating: int = Field(ge=1, le=5)
    relevance: int | None = Field(default=None, ge=1, le=5)
    comment: str | None = Field(default=None, max_length=4000)
    staff_id: str | None = Field(default=None, min_length=1, max_length=128)
