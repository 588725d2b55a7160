"""Course activities to JSON and back, so a stored course is scored by the domain rules.

Each activity becomes a plain mapping with a ``kind`` (lesson, quiz, role_play,
case_study, attendance); ``activity_from_json(activity_to_json(a)) == a``.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from patronage.domain.training import (
    Activity,
    Attendance,
    CaseStudy,
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

Json = dict[str, Any]


def activity_to_json(activity: Activity) -> Json:
    if isinstance(activity, Lesson):
        return {"kind": "lesson", "id": activity.id, "title": activity.title,
                "body": activity.body_markdown}  # fmt: skip
    if isinstance(activity, Quiz):
        return _quiz_json(activity)
    if isinstance(activity, Attendance):
        return {"kind": "attendance", "id": activity.id, "title": activity.title,
                "sessions": activity.sessions}  # fmt: skip
    if isinstance(activity, RolePlay):
        return {
            "kind": "role_play",
            "id": activity.id,
            "title": activity.title,
            "situation": activity.situation,
            "customer_brief": activity.customer_brief,
            "learner_goal": activity.learner_goal,
            "pass_mark": activity.rubric.pass_mark_percent,
            "criteria": [
                {
                    "id": c.id,
                    "title": c.title,
                    "weight": c.weight,
                    "levels": [[lv.score, lv.label, lv.description] for lv in c.levels],
                }
                for c in activity.rubric.criteria
            ],
        }
    return {
        "kind": "case_study",
        "id": activity.id,
        "title": activity.title,
        "company": activity.company,
        "summary": activity.summary,
        "discussion": list(activity.discussion),
    }


def _quiz_json(quiz: Quiz) -> Json:
    return {
        "kind": "quiz",
        "id": quiz.id,
        "title": quiz.title,
        "pass_mark": quiz.pass_mark_percent,
        "max_attempts": quiz.attempts.max_attempts,
        "counts": quiz.attempts.counts.value,
        "questions": [
            {
                "id": q.id,
                "kind": q.kind.value,
                "prompt": q.prompt,
                "choices": [[c.id, c.text] for c in q.choices],
                "correct": sorted(q.correct),
                "points": q.points,
                "explanation": q.explanation,
            }
            for q in quiz.questions
        ],
    }


def activity_from_json(data: Json) -> Activity:
    kind = data["kind"]
    if kind == "lesson":
        return Lesson(data["id"], data["title"], data["body"])
    if kind == "quiz":
        return _quiz(data)
    if kind == "attendance":
        return Attendance(data["id"], data["title"], int(data["sessions"]))
    if kind == "role_play":
        criteria = tuple(
            RubricCriterion(
                c["id"],
                c["title"],
                int(c["weight"]),
                tuple(RubricLevel(int(s), str(lb), str(d)) for s, lb, d in c["levels"]),
            )
            for c in data["criteria"]
        )
        return RolePlay(
            data["id"],
            data["title"],
            data["situation"],
            data["customer_brief"],
            data["learner_goal"],
            Rubric(criteria, int(data["pass_mark"])),
        )
    return CaseStudy(
        data["id"], data["title"], data["company"], data["summary"], tuple(data["discussion"])
    )


def _quiz(data: Json) -> Quiz:
    questions = tuple(
        Question(
            id=q["id"],
            kind=QuestionKind(q["kind"]),
            prompt=q["prompt"],
            choices=tuple(Choice(str(k), str(v)) for k, v in q["choices"]),
            correct=frozenset(q["correct"]),
            points=int(q["points"]),
            explanation=q.get("explanation", ""),
        )
        for q in data["questions"]
    )
    policy = AttemptsPolicy(data["max_attempts"], CountedAttempt(data["counts"]))
    return Quiz(data["id"], data["title"], questions, int(data["pass_mark"]), policy)


def module_to_json(module: Module) -> list[Json]:
    return [activity_to_json(a) for a in module.activities]


def course_fingerprint(course: Course) -> str:
    """A digest of everything stored about the course: equal digests, nothing to update."""
    body = {
        "title": course.title,
        "certification": [course.certification.valid_days, course.certification.remind_days_before],
        "modules": [[m.id, m.title, module_to_json(m)] for m in course.modules],
    }
    text = json.dumps(body, ensure_ascii=False, sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()
