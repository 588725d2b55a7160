"""Survey definitions and the answers a member gives: checked before anything is stored.

Pure domain, no I/O. A survey is a list of questions, each with an ``id``, a
``type`` and its text in both languages (zh-CN and en):

- ``nps``: "how likely are you to recommend", a whole number 0-10;
- ``csat``: satisfaction, a whole number 1-5;
- ``servqual``: the 22-item SERVQUAL instrument, answered as
  ``{"E": [22 scores], "P": [22 scores], "weights": {"tangibles": 20, ...}}`` on
  a 7-point scale, the weights (100 importance points) optional;
- ``text``: an open comment.

Answers are a mapping from question id to answer; a missing or null answer is a
question that was shown and not answered. A submission with nothing answered is
not a response and is refused.

Signed links: an invitation's token is ``<invitation id>.<member id>.<signature>``,
the signature an HMAC-SHA256 of both ids under the platform's secret key, so a
token names one member's one invitation and cannot be forged or re-pointed.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from patronage.domain.servqual import (
    DIMENSIONS,
    ITEM_COUNT,
    ServqualAnswers,
    respondent_item_gaps,
    respondent_weights,
)
from patronage.errors import InvalidInput, NotFound

LANGUAGES = ("zh-CN", "en")
QUESTION_TYPES = ("nps", "csat", "servqual", "text")
SCALES = {"nps": (0, 10), "csat": (1, 5)}
TEXT_MAX = 4000
TRIGGERS = ("manual", "purchase", "complaint_resolved")
_QUESTION_ID = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


@dataclass(frozen=True)
class Question:
    id: str
    type: str
    text: Mapping[str, str]

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "type": self.type, "text": dict(self.text)}


def parse_questions(raw: Sequence[Mapping[str, Any]]) -> tuple[Question, ...]:
    """Questions from a definition, checked: known types, unique ids, both languages."""
    if not raw:
        raise InvalidInput("a survey needs at least one question", field="questions")
    questions: list[Question] = []
    for index, item in enumerate(raw):
        field = f"questions[{index}]"
        qid, qtype, text = item.get("id"), item.get("type"), item.get("text")
        if not isinstance(qid, str) or not _QUESTION_ID.match(qid):
            raise InvalidInput(
                f"{field}.id must be lower-case letters, digits or _", field=f"{field}.id"
            )
        if qtype not in QUESTION_TYPES:
            raise InvalidInput(
                f"{field}.type must be one of {', '.join(QUESTION_TYPES)}", field=f"{field}.type"
            )
        if any(q.id == qid for q in questions):
            raise InvalidInput(f"question id {qid!r} is used twice", field=f"{field}.id")
        questions.append(Question(qid, qtype, bilingual(text, f"{field}.text")))
    return tuple(questions)


def bilingual(text: Any, field: str) -> dict[str, str]:
    """A text in zh-CN and en, both present and non-empty."""
    if not isinstance(text, Mapping):
        raise InvalidInput(f"{field} needs zh-CN and en texts", field=field)
    for language in LANGUAGES:
        value = text.get(language)
        if not isinstance(value, str) or not value.strip() or len(value) > 1000:
            raise InvalidInput(f"{field} needs a {language} text", field=f"{field}.{language}")
    return {language: str(text[language]) for language in LANGUAGES}


def check_answers(questions: Sequence[Question], answers: Mapping[str, Any]) -> dict[str, Any]:
    """The answers, checked against the questions; unanswered questions are left out.

    Errors name the question (``field="answers.<id>"``).
    """
    known = {q.id: q for q in questions}
    for qid in answers:
        if qid not in known:
            raise InvalidInput(f"the survey has no question {qid!r}", field=f"answers.{qid}")
    checked: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.id)
        if value is None or value == "":
            continue
        checked[question.id] = _checked_answer(question, value)
    if not checked:
        raise InvalidInput(
            "nothing was answered: a survey shown and not answered is not a response",
            field="answers",
        )
    return checked


def _checked_answer(question: Question, value: Any) -> Any:
    field = f"answers.{question.id}"
    if question.type in SCALES:
        low, high = SCALES[question.type]
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidInput(f"{question.id}: a score must be a number", field=field)
        if not low <= value <= high or not float(value).is_integer():
            raise InvalidInput(
                f"{question.id}: score {value} is out of range {low}-{high}",
                field=field,
                value=value,
            )
        return int(value)
    if question.type == "text":
        if not isinstance(value, str) or len(value) > TEXT_MAX:
            raise InvalidInput(
                f"{question.id}: a comment is text of at most {TEXT_MAX} characters", field=field
            )
        return value.strip()
    return _checked_servqual(question.id, value)


def _checked_servqual(qid: str, value: Any) -> dict[str, Any]:
    field = f"answers.{qid}"
    if not isinstance(value, Mapping) or set(value) - {"E", "P", "weights"}:
        raise InvalidInput(f"{qid}: SERVQUAL answers are {{E, P, weights}}", field=field)
    expectations, perceptions = value.get("E"), value.get("P")
    weights = value.get("weights")
    for name, scores in (("E", expectations), ("P", perceptions)):
        if not isinstance(scores, list) or len(scores) != ITEM_COUNT:
            raise InvalidInput(f"{qid}: {name} needs {ITEM_COUNT} scores", field=f"{field}.{name}")
        if not all(_small_number(s) for s in scores if s is not None):
            raise InvalidInput(
                f"{qid}: {name} scores must be whole numbers 1-7", field=f"{field}.{name}"
            )
    if weights is not None and (
        not isinstance(weights, Mapping)
        or set(weights) - set(DIMENSIONS)
        or not all(_small_number(w) for w in weights.values() if w is not None)
    ):
        raise InvalidInput(
            f"{qid}: weights are per dimension: {', '.join(DIMENSIONS)}", field=f"{field}.weights"
        )
    answers = ServqualAnswers(expectations, perceptions, weights)  # type: ignore[arg-type]
    try:
        gaps = respondent_item_gaps(answers, row=1)
        respondent_weights(weights, row=1)
    except InvalidInput as exc:
        inner = str(exc.details.get("field", ""))
        message = exc.message.replace(" (row 1", " (").replace(" ()", "").replace("(: ", "(")
        raise InvalidInput(f"{qid}: {message}", field=f"{field}.{inner}") from None
    if not gaps:
        raise InvalidInput(f"{qid}: no item has both E and P answered", field=field)
    return {"E": list(expectations), "P": list(perceptions), "weights": weights}  # type: ignore[arg-type]


def _small_number(value: Any) -> bool:
    """A number that is safe to check further (no bool, no overflow)."""
    return not isinstance(value, bool) and isinstance(value, int | float) and abs(value) < 10**6


# --- signed links ------------------------------------------------------------------


def _signature(secret: str, invitation_id: int, member_id: int) -> str:
    message = f"survey-invitation:{invitation_id}:{member_id}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:40]


def sign_invitation(secret: str, invitation_id: int, member_id: int) -> str:
    return f"{invitation_id}.{member_id}.{_signature(secret, invitation_id, member_id)}"


def read_invitation_token(secret: str, token: str) -> tuple[int, int]:
    """(invitation id, member id) of a genuine token; anything else is not found."""
    parts = token.split(".")
    if (
        len(parts) == 3
        and parts[0].isdigit()
        and parts[1].isdigit()
        and max(len(parts[0]), len(parts[1])) < 19
    ):
        invitation_id, member_id = int(parts[0]), int(parts[1])
        expected = _signature(secret, invitation_id, member_id)
        if hmac.compare_digest(expected, parts[2]):
            return invitation_id, member_id
    raise NotFound("this survey link is not valid", field="token")
