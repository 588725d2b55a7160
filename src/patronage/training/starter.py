"""Load the built-in starter curriculum (YAML under ``curriculum/<lang>/``) into domain objects.

``course.yaml`` names the course, its certification policy, the rubric scale
shared by the role plays and the module files in order. Each module file holds
a module and its activities (lesson, quiz, role_play, case_study, attendance).
Every language has the same files, ids and correct answers; only the text differs.
``load_course`` reads a course of your own written the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from importlib.resources.abc import Traversable
from typing import Any

import yaml

from patronage.domain.training import (
    Activity,
    Attendance,
    CaseStudy,
    CertificationPolicy,
    Course,
    Lesson,
    Module,
    RolePlay,
)
from patronage.domain.training_assessment import (
    AttemptsPolicy,
    Choice,
    CountedAttempt,
    Question,
    QuestionKind,
    Quiz,
    Rubric,
    RubricCriterion,
    RubricLevel,
)
from patronage.errors import InvalidInput

LANGUAGES = ("en", "zh-CN")


def curriculum_dir(language: str) -> Traversable:
    if language not in LANGUAGES:
        raise InvalidInput(f"language must be one of {', '.join(LANGUAGES)}", field="lang")
    return files("patronage.training").joinpath("curriculum", language)


def load_starter_course(language: str = "en") -> Course:
    return load_course(curriculum_dir(language), language)


def load_course(folder: Traversable, language: str | None = None) -> Course:
    """A course from ``course.yaml`` and its module files in ``folder``, in
    ``language`` (default: the ``language`` that course.yaml names)."""
    head = _read(folder, "course.yaml")
    language = language or str(_get(head, "language", "course.yaml"))
    if language not in LANGUAGES:
        raise InvalidInput(
            f"course.yaml: language must be one of {', '.join(LANGUAGES)}",
            field="course.yaml:language",
        )
    scale = tuple(
        RubricLevel(int(_get(lv, "score", "course.yaml")), str(_get(lv, "label", "course.yaml")))
        for lv in _get(head, "rubric_scale", "course.yaml")
    )
    modules = tuple(
        _module(_read(folder, name), scale, name) for name in _get(head, "modules", "course.yaml")
    )
    cert = _get(head, "certification", "course.yaml")
    return Course(
        id=str(_get(head, "id", "course.yaml")),
        title=str(_get(head, "title", "course.yaml")),
        language=language,
        modules=modules,
        certification=CertificationPolicy(
            int(_get(cert, "valid_days", "course.yaml")),
            int(_get(cert, "remind_days_before", "course.yaml")),
        ),
    )


def module_summaries(course: Course) -> list[dict[str, Any]]:
    """One row per module: id, title and the kinds of its activities."""
    return [
        {
            "id": module.id,
            "title": module.title,
            "activities": [activity_kind(a) for a in module.activities],
        }
        for module in course.modules
    ]


def activity_kind(activity: Activity) -> str:
    kinds = {
        Lesson: "lesson",
        Quiz: "quiz",
        RolePlay: "role_play",
        CaseStudy: "case_study",
        Attendance: "attendance",
    }
    return kinds[type(activity)]


def _read(folder: Traversable, name: str) -> dict[str, Any]:
    try:
        data = yaml.safe_load(folder.joinpath(name).read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise InvalidInput(f"curriculum file {name} cannot be read: {exc}", field=name) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"curriculum file {name} must hold a mapping", field=name)
    return data


def _get(data: Any, key: str, where: str) -> Any:
    if not isinstance(data, dict) or data.get(key) in (None, ""):
        raise InvalidInput(f"{where}: {key} is missing", field=f"{where}:{key}")
    return data[key]


def _module(data: dict[str, Any], scale: tuple[RubricLevel, ...], where: str) -> Module:
    builders: dict[str, Callable[[dict[str, Any], tuple[RubricLevel, ...], str], Activity]] = {
        "lesson": _lesson,
        "quiz": _quiz,
        "role_play": _role_play,
        "case_study": _case,
        "attendance": _attendance,
    }
    activities: list[Activity] = []
    for item in _get(data, "activities", where):
        kind = _get(item, "kind", where)
        if kind not in builders:
            raise InvalidInput(f"{where}: unknown activity kind {kind!r}", field=f"{where}:kind")
        activities.append(builders[kind](item, scale, f"{where}:{item.get('id')}"))
    return Module(str(_get(data, "id", where)), str(_get(data, "title", where)), tuple(activities))


def _lesson(data: dict[str, Any], _scale: tuple[RubricLevel, ...], where: str) -> Lesson:
    return Lesson(_get(data, "id", where), _get(data, "title", where), _get(data, "body", where))


def _quiz(data: dict[str, Any], _scale: tuple[RubricLevel, ...], where: str) -> Quiz:
    questions = tuple(_question(q, where) for q in _get(data, "questions", where))
    policy = AttemptsPolicy(
        data.get("max_attempts", 3), CountedAttempt(data.get("counts", "highest"))
    )
    return Quiz(
        _get(data, "id", where),
        _get(data, "title", where),
        questions,
        int(data.get("pass_mark", 80)),
        policy,
    )


def _question(data: dict[str, Any], where: str) -> Question:
    choices = _get(data, "choices", where)
    return Question(
        id=str(_get(data, "id", where)),
        kind=QuestionKind(_get(data, "kind", where)),
        prompt=str(_get(data, "prompt", where)),
        choices=tuple(Choice(str(k), str(v)) for k, v in choices.items()),
        correct=frozenset(str(c) for c in _get(data, "correct", where)),
        points=int(data.get("points", 1)),
        explanation=str(data.get("explanation", "")),
    )


def _role_play(data: dict[str, Any], scale: tuple[RubricLevel, ...], where: str) -> RolePlay:
    criteria = tuple(
        RubricCriterion(
            str(_get(c, "id", where)),
            str(_get(c, "title", where)),
            int(_get(c, "weight", where)),
            scale,
        )
        for c in _get(data, "criteria", where)
    )
    return RolePlay(
        id=_get(data, "id", where),
        title=_get(data, "title", where),
        situation=_get(data, "situation", where),
        customer_brief=_get(data, "customer_brief", where),
        learner_goal=_get(data, "learner_goal", where),
        rubric=Rubric(criteria, int(data.get("pass_mark", 70))),
    )


def _case(data: dict[str, Any], _scale: tuple[RubricLevel, ...], where: str) -> CaseStudy:
    return CaseStudy(
        id=_get(data, "id", where),
        title=_get(data, "title", where),
        company=_get(data, "company", where),
        summary=_get(data, "summary", where),
        discussion=tuple(str(d) for d in data.get("discussion", ())),
    )


def _attendance(data: dict[str, Any], _scale: tuple[RubricLevel, ...], where: str) -> Attendance:
    sessions = data.get("sessions", 1)
    if not isinstance(sessions, int) or isinstance(sessions, bool):
        raise InvalidInput(f"{where}: sessions must be a whole number", field=f"{where}:sessions")
    return Attendance(
        id=_get(data, "id", where), title=_get(data, "title", where), sessions=sessions
    )
