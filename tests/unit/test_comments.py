"""Keywords and sentiment of open-text comments, Chinese and English."""

from __future__ import annotations

import subprocess
import sys

import pytest

from patronage.analytics.comments import (
    detect_language,
    sentiment,
    sentiment_label,
    summarize_comments,
    tfidf_keywords,
    tokenize,
)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("服务很好", "zh"),
        ("Great service", "en"),
        ("服务 great", "zh"),  # 2 Han characters weigh 8 >= 5 letters
        ("APP is slow 闪退", "en"),  # 2 * 4 = 8 < 9 letters
        ("123 !! 👍", "unknown"),
    ],
)
def test_language_detection(text: str, language: str) -> None:
    assert detect_language(text) == language


def test_chinese_tokens_drop_stop_words_and_single_characters() -> None:
    # jieba: 积分 / 兑换 / 太慢 / 了 / ， / 客服 / 态度 / 很 / 好
    assert tokenize("积分兑换太慢了，客服态度很好", "zh") == [
        "积分",
        "兑换",
        "太慢",
        "客服",
        "态度",
    ]
    assert "app" in tokenize("APP经常闪退", "zh")


def test_english_tokens() -> None:
    assert tokenize("The staff's attitude was GREAT, didn't wait!", "en") == [
        "staff",
        "attitude",
        "great",
        "wait",
    ]


def test_tfidf_by_hand() -> None:
    # N = 3; df: delivery 2, the others 1.
    # idf(delivery) = ln(4/3) + 1 = 1.287682; idf(other) = ln(4/2) + 1 = 1.693147
    # tf is 1/2 in every document, so delivery: (0.643841 * 2) / 3 = 0.429227
    # and slow, late, friendly, staff: 0.846574 / 3 = 0.282191 each (ties by term).
    documents = [["delivery", "slow"], ["delivery", "late"], ["friendly", "staff"]]
    ranked = tfidf_keywords(documents, top_k=3)
    assert [term for term, _, _ in ranked] == ["delivery", "friendly", "late"]
    assert ranked[0][1] == pytest.approx(0.429227, abs=1e-6)
    assert ranked[0][2] == 2
    assert ranked[1][1] == pytest.approx(0.282191, abs=1e-6)


def test_summary_by_language_with_blank_comments_left_out() -> None:
    summary = summarize_comments(
        [
            "The delivery was slow",
            "Delivery was late!",
            "Friendly staff.",
            "积分兑换太慢了",
            "积分过期了也没有提醒",
            None,
            "   ",
        ],
        top_k=2,
        with_sentiment=False,
    )
    assert summary.comments == 5
    english, chinese = summary.languages["en"], summary.languages["zh"]
    assert english.comments == 3
    assert english.keywords[0].term == "delivery"
    assert english.keywords[0].score == pytest.approx(0.429227, abs=1e-6)
    assert chinese.keywords[0].term == "积分"
    assert chinese.keywords[0].comments == 2
    assert english.sentiment_library is None
    assert english.mean_sentiment is None


def test_sentiment_points_the_right_way_in_both_languages() -> None:
    assert sentiment("Great service, friendly staff!", "en") == pytest.approx(0.8221, abs=1e-3)
    rude = sentiment("The checkout was slow and the staff were rude.", "en")
    assert rude is not None
    assert rude < -0.05
    happy = sentiment("服务员很热情，菜品新鲜，下次还来", "zh")
    angry = sentiment("服务很差，排队一个小时，再也不来了", "zh")
    assert happy is not None
    assert angry is not None
    assert sentiment_label(happy, "zh") == "positive"
    assert sentiment_label(angry, "zh") == "negative"
    assert sentiment("👍", "unknown") is None


def test_keyword_carries_the_sentiment_of_its_comments() -> None:
    summary = summarize_comments(
        ["服务员很热情，菜品新鲜", "服务很差，排队太久", "Great staff", "Rude staff"], top_k=10
    )
    chinese = summary.languages["zh"]
    assert chinese.sentiment_library == "snownlp"
    assert chinese.labels["positive"] + chinese.labels["neutral"] + chinese.labels["negative"] == 2
    by_term = {k.term: k for k in chinese.keywords}
    assert by_term["热情"].mean_sentiment is not None
    assert by_term["热情"].mean_sentiment > 0
    english = summary.languages["en"]
    staff = next(k for k in english.keywords if k.term == "staff")
    assert staff.comments == 2
    # mean of VADER compounds of "Great staff" (+0.6249) and "Rude staff" (-0.4588)
    assert staff.mean_sentiment == pytest.approx((0.6249 - 0.4588) / 2, abs=1e-3)


def test_jieba_is_silent_on_stderr() -> None:
    code = "from patronage.analytics.comments import tokenize; tokenize('积分兑换太慢了', 'zh')"
    done = subprocess.run(
        [sys.executable, "-W", "error", "-c", code],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
