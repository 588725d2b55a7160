"""How staff are assessed in training: quizzes and coached role plays.

Quizzes hold single- and multiple-choice questions. A question scores all or
nothing: a multiple-choice answer earns its points only when the learner picks
exactly the correct set (no partial credit, so guessing every box never pays).
A quiz is passed when the counted attempt reaches the pass mark; the attempts
policy says how many attempts a learner has and which one counts (the highest
or the last).

Role plays are scored by a coach on a rubric: each criterion has a weight and a
scale of levels; the score is the weighted share of the top level reached.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from patronage.clock import require_aware
from patronage.errors import InvalidInput, RuleViolation


class QuestionKind(StrEnum):
    SINGLE = "single"
    MULTIPLE = "multiple"


class CountedAttempt(StrEnum):
    """Which attempt decides a learner's quiz result."""

    HIGHEST = "highest"
    LAST = "last"


@dataclass(frozen=True)
class Choice:
    id: str
    text: str


@dataclass(frozen=True)
class Question:
    id: str
    kind: QuestionKind
    prompt: str
    choices: tuple[Choice, ...]
    correct: frozenset[str]
    points: int = 1
    explanation: str = ""

    def __post_init__(self) -> None:
        ids = [c.id for c in self.choices]
        if len(ids) < 2 or len(set(ids)) != len(ids):
            raise InvalidInput(
                f"question {self.id} needs two or more distinct choices", field="choices"
            )
        if not self.correct or not self.correct <= set(ids):
            raise InvalidInput(f"question {self.id} must name correct choices", field="correct")
        if self.kind is QuestionKind.SINGLE and len(self.correct) != 1:
            raise InvalidInput(f"single-choice question {self.id} has one answer", field="correct")
        if self.points < 1:
            raise InvalidInput(f"question {self.id} must be worth at least 1 point", field="points")

    def score(self, selected: Iterable[str]) -> int:
        """All or nothing: full points for exactly the correct set, else zero."""
        picked = frozenset(selected)
        unknown = picked - {c.id for c in self.choices}
        if unknown:
            raise InvalidInput(f"unknown choice for question {self.id}", field=self.id)
        if self.kind is QuestionKind.SINGLE and len(picked) > 1:
            raise InvalidInput(f"question {self.id} takes one answer", field=self.id)
        return self.points if picked == self.correct else 0


@dataclass(frozen=True)
class AttemptsPolicy:
    max_attempts: int | None = 3
    counts: CountedAttempt = CountedAttempt.HIGHEST

    def __post_init__(self) -> None:
        if self.max_attempts is not None and self.max_attempts < 1:
            raise InvalidInput("max_attempts must be at least 1", field="max_attempts")


@dataclass(frozen=True)
class QuizAttempt:
    number: int
    points: int
    max_points: int
    submitted_at: datetime

    @property
    def percent(self) -> float:
        return 100.0 * self.points / self.max_points


@dataclass(frozen=True)
class Quiz:
    id: str
    title: str
    questions: tuple[Question, ...]
    pass_mark_percent: int = 80
    attempts: AttemptsPolicy = field(default_factory=AttemptsPolicy)

    def __post_init__(self) -> None:
        if not self.questions:
            raise InvalidInput(f"quiz {self.id} has no questions", field="questions")
        if len({q.id for q in self.questions}) != len(self.questions):
            raise InvalidInput(f"quiz {self.id} repeats a question id", field="questions")
        if not 0 < self.pass_mark_percent <= 100:
            raise InvalidInput("pass_mark_percent must be in 1..100", field="pass_mark_percent")

    @property
    def max_points(self) -> int:
        return sum(q.points for q in self.questions)

    def points_for(self, answers: Mapping[str, Iterable[str]]) -> int:
        """Points earned; an unanswered question earns nothing."""
        known = {q.id for q in self.questions}
        stray = set(answers) - known
        if stray:
            raise InvalidInput(f"answers name unknown questions: {sorted(stray)}", field="answers")
        return sum(q.score(answers.get(q.id, ())) for q in self.questions)

    def passes(self, attempt: QuizAttempt) -> bool:
        return attempt.points * 100 >= self.pass_mark_percent * attempt.max_points


def submit_quiz(
    quiz: Quiz,
    earlier: Sequence[QuizAttempt],
    answers: Mapping[str, Iterable[str]],
    at: datetime,
) -> QuizAttempt:
    """Score a new attempt, refusing it when the learner has no attempts left."""
    require_aware(at, "submitted_at")
    limit = quiz.attempts.max_attempts
    if limit is not None and len(earlier) >= limit:
        raise RuleViolation(
            f"no attempts left on quiz {quiz.id}",
            code="no_attempts_left",
            quiz_id=quiz.id,
            max_attempts=limit,
        )
    return QuizAttempt(len(earlier) + 1, quiz.points_for(answers), quiz.max_points, at)


def counted_attempt(quiz: Quiz, attempts: Sequence[QuizAttempt]) -> QuizAttempt | None:
    """The attempt that decides the result under the quiz's policy (None before any)."""
    if not attempts:
        return None
    if quiz.attempts.counts is CountedAttempt.LAST:
        return max(attempts, key=lambda a: a.number)
    return max(attempts, key=lambda a: (a.points, -a.number))


def quiz_passed(quiz: Quiz, attempts: Sequence[QuizAttempt]) -> bool:
    decisive = counted_attempt(quiz, attempts)
    return decisive is not None and quiz.passes(decisive)


@dataclass(frozen=True)
class RubricLevel:
    score: int
    label: str
    description: str = ""


@dataclass(frozen=True)
class RubricCriterion:
    id: str
    title: str
    weight: int
    levels: tuple[RubricLevel, ...]

    def __post_init__(self) -> None:
        if self.weight < 1:
            raise InvalidInput(f"criterion {self.id} needs a positive weight", field="weight")
        scores = [lv.score for lv in self.levels]
        if len(scores) < 2 or len(set(scores)) != len(scores) or min(scores) < 0:
            raise InvalidInput(f"criterion {self.id} needs distinct levels >= 0", field="levels")

    @property
    def top(self) -> int:
        return max(lv.score for lv in self.levels)


@dataclass(frozen=True)
class Rubric:
    criteria: tuple[RubricCriterion, ...]
    pass_mark_percent: int = 70

    def __post_init__(self) -> None:
        if not self.criteria:
            raise InvalidInput("a rubric needs criteria", field="criteria")
        if len({c.id for c in self.criteria}) != len(self.criteria):
            raise InvalidInput("rubric criteria ids repeat", field="criteria")


@dataclass(frozen=True)
class RubricScore:
    """A coach's rating of one role-play performance."""

    percent: float
    passed: bool
    ratings: Mapping[str, int]


def score_role_play(rubric: Rubric, ratings: Mapping[str, int]) -> RubricScore:
    """Weighted share of the top level: sum(w * level / top) / sum(w), as a percent.

    Every criterion must be rated with one of its levels.
    """
    for criterion in rubric.criteria:
        if criterion.id not in ratings:
            raise InvalidInput(f"criterion {criterion.id} is not rated", field=criterion.id)
        if ratings[criterion.id] not in {lv.score for lv in criterion.levels}:
            raise InvalidInput(
                f"{ratings[criterion.id]} is not a level of {criterion.id}", field=criterion.id
            )
    extra = set(ratings) - {c.id for c in rubric.criteria}
    if extra:
        raise InvalidInput(f"ratings name unknown criteria: {sorted(extra)}", field="ratings")
    total = sum(c.weight for c in rubric.criteria)
    earned = sum(c.weight * ratings[c.id] / c.top for c in rubric.criteria)
    percent = 100.0 * earned / total
    return RubricScore(percent, percent >= rubric.pass_mark_percent - 1e-9, dict(ratings))
