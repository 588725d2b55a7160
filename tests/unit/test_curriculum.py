from __future__ import annotations

from collections.abc import Iterator

import pytest

from patronage.domain.training import CaseStudy, Course, Lesson, RolePlay
from patronage.domain.training_assessment import Quiz
from patronage.errors import InvalidInput
from patronage.training.starter import LANGUAGES, load_starter_course, module_summaries


@pytest.fixture(scope="module")
def courses() -> dict[str, Course]:
    return {lang: load_starter_course(lang) for lang in LANGUAGES}


def structure(course: Course) -> Iterator[tuple[object, ...]]:
    """Everything that must not differ between languages: ids, answers, weights, policies."""
    yield (course.id, course.certification)
    for module in course.modules:
        yield ("module", module.id)
        for activity in module.activities:
            yield (type(activity).__name__, activity.id)
            if isinstance(activity, Quiz):
                yield (activity.pass_mark_percent, activity.attempts)
                for q in activity.questions:
                    yield (q.id, q.kind, q.correct, q.points, tuple(c.id for c in q.choices))
            if isinstance(activity, RolePlay):
                rubric = activity.rubric
                yield (rubric.pass_mark_percent,)
                for c in rubric.criteria:
                    yield (c.id, c.weight, tuple(lv.score for lv in c.levels))


@pytest.mark.parametrize("lang", LANGUAGES)
def test_curriculum_loads_with_every_kind_of_activity(
    courses: dict[str, Course], lang: str
) -> None:
    course = courses[lang]
    assert course.language == lang
    assert len(course.modules) >= 8
    for module in course.modules:
        kinds = {type(a) for a in module.activities}
        assert {Lesson, Quiz, RolePlay} <= kinds, module.id
    cases = [a for a in course.activities if isinstance(a, CaseStudy)]
    assert len(cases) >= 5


def test_languages_share_one_structure(courses: dict[str, Course]) -> None:
    assert list(structure(courses["en"])) == list(structure(courses["zh-CN"]))


def test_texts_are_translated(courses: dict[str, Course]) -> None:
    pairs = zip(courses["en"].activities, courses["zh-CN"].activities, strict=True)
    for en, zh in pairs:
        assert en.title != zh.title
        if isinstance(en, Lesson) and isinstance(zh, Lesson):
            assert any("\u4e00" <= ch <= "\u9fff" for ch in zh.body_markdown)


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_quiz_can_be_passed_with_its_answer_key(
    courses: dict[str, Course], lang: str
) -> None:
    for quiz in (a for a in courses[lang].activities if isinstance(a, Quiz)):
        key = {q.id: q.correct for q in quiz.questions}
        assert quiz.points_for(key) == quiz.max_points
        assert all(len(q.choices) > len(q.correct) for q in quiz.questions)


def test_required_topics_are_covered(courses: dict[str, Course]) -> None:
    text = " ".join(
        getattr(a, "body_markdown", "") + getattr(a, "company", "") + a.title
        for a in courses["en"].activities
    )
    for topic in (
        "Behavioural",
        "RFM",
        "80/20",
        "touchpoint",
        "SERVQUAL",
        "NPS",
        "Tiers",
        "Haidilao",
        "Pang Dong Lai",
        "Atour",
        "Starbucks",
        "Amazon Prime",
        "points expired",
        "tier benefit",
    ):
        assert topic.lower() in text.lower(), topic


def test_summaries_list_modules_in_order(courses: dict[str, Course]) -> None:
    rows = module_summaries(courses["en"])
    assert rows[0]["id"] == "foundations"
    assert rows[0]["activities"] == ["lesson", "quiz", "role_play", "case_study"]


def test_unknown_language_is_refused() -> None:
    with pytest.raises(InvalidInput) as exc:
        load_starter_course("fr")
    assert exc.value.details["field"] == "lang"
