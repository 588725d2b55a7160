"""What customers write: keywords, topics and sentiment of open-text comments.

Each comment's language is detected from its characters (Chinese if it is
mostly Han characters, English if mostly Latin letters). Chinese is segmented
into words with jieba; English is split on letters. Stop words (lists written
for this project, below) and one-character Chinese tokens are dropped.

Keywords are ranked by TF-IDF over the comments themselves: a term's weight in
a comment is its share of the comment's tokens times the smoothed inverse
document frequency ``ln((1 + N) / (1 + df)) + 1``; a keyword's score is its
mean weight over all N comments of that language. A "topic" is a top keyword
with the comments that mention it and their mean sentiment.

Sentiment runs offline with models shipped inside the wheels, nothing is
downloaded: SnowNLP for Chinese (a naive Bayes model trained on product
reviews; its probability of "positive" p is mapped to 2p - 1), and VADER for
English (C. J. Hutto and E. Gilbert (2014), "VADER: A Parsimonious Rule-based
Model for Sentiment Analysis of Social Media Text", ICWSM; the compound score).
Both scores lie in -1..1. Labels: VADER's own cut-offs +-0.05 for English;
+-0.2 (p outside 0.4..0.6) for SnowNLP, whose probabilities crowd near 0 and 1.
"""

from __future__ import annotations

import logging
import math
import re
import statistics
import warnings
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import cache

CHINESE, ENGLISH, UNKNOWN = "zh", "en", "unknown"
HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff]")
LATIN_WORD = re.compile(r"[a-z]+(?:'[a-z]+)*")
LABEL_CUTOFFS = {CHINESE: 0.2, ENGLISH: 0.05}
SENTIMENT_LIBRARIES = {CHINESE: "snownlp", ENGLISH: "vaderSentiment"}


def _word_list(block: str) -> frozenset[str]:
    return frozenset(block.split())


ZH_STOP_WORDS = _word_list(
    """
    的 了 是 在 和 与 及 或 而 但 但是 并 并且 就 都 也 还 又 再 才 很 太 挺 更 最 非常 比较 特别
    我 我们 你 你们 您 他 她 它 他们 她们 大家 自己 这 那 这个 那个 这些 那些 这里 那里 这样 那样
    这次 那次 每次 一次 一个 一些 一下 一点 一直 一样 有点 有些 什么 怎么 怎么样 为什么 哪里
    因为 所以 如果 虽然 然后 而且 还是 就是 只是 可是 不过 已经 正在 没有 不是 可以 可能 应该
    需要 觉得 感觉 认为 真的 其实 确实 时候 今天 昨天 东西 事情 问题 方面 地方 还有 以及 之后
    之前 以后 以前 这么 那么 有 没 不 把 被 让 给 对 从 到 向 于 吗 呢 吧 啊 呀 哦 嗯 哈 啦 嘛 着 过
    """
)
EN_STOP_WORDS = _word_list(
    """
    a about above after again all also am an and any are as at be because been before being
    below between both but by can could did do does doing done down during each even ever every
    few for from further get got had has have having he her here hers him his how i if in into is
    it its itself just let me more most much my no nor not now of off on once only or other our
    ours out over own really same she should so some such than that the their theirs them then
    there these they this those through to too under until up us very was we were what when where
    which while who whom why will with would you your yours yourself also still though however
    i'm i've it's don't didn't doesn't can't won't isn't wasn't aren't there's that's you're we're
    one two thing things lot bit time way back always never again
    """
)


def detect_language(text: str) -> str:
    """'zh', 'en' or 'unknown': Han characters weigh about as much as a four-letter word."""
    han = len(HAN.findall(text))
    latin = sum(1 for ch in text if "a" <= ch.lower() <= "z")
    if han == 0 and latin == 0:
        return UNKNOWN
    return CHINESE if han * 4 >= latin else ENGLISH


@cache
def _jieba() -> Callable[[str], list[str]]:
    with warnings.catch_warnings():
        # jieba imports pkg_resources when setuptools is installed, which newer
        # setuptools flag as deprecated; jieba still works without it.
        warnings.filterwarnings("ignore", message=".*pkg_resources.*")
        import jieba
    jieba.setLogLevel(logging.WARNING)  # no "Building prefix dict" lines on stderr
    cut: Callable[[str], list[str]] = jieba.lcut
    return cut


def _english_words(text: str) -> list[str]:
    words = (w.removesuffix("'s") for w in LATIN_WORD.findall(text.lower()))
    return [w for w in words if len(w) > 1 and w not in EN_STOP_WORDS]


def tokenize(text: str, language: str) -> list[str]:
    """Content words of a comment, stop words removed."""
    if language == CHINESE:
        tokens: list[str] = []
        for token in (t.strip() for t in _jieba()(text)):
            if HAN.search(token):
                if len(token) > 1 and token not in ZH_STOP_WORDS:
                    tokens.append(token)
            else:
                tokens.extend(_english_words(token))
        return tokens
    if language == ENGLISH:
        return _english_words(text)
    return []


@dataclass(frozen=True)
class Keyword:
    term: str
    score: float  # mean TF-IDF weight over the comments of its language
    comments: int  # how many comments mention it
    mean_sentiment: float | None  # over those comments, -1..1


def tfidf_keywords(documents: Sequence[Sequence[str]], top_k: int) -> list[tuple[str, float, int]]:
    """(term, mean TF-IDF weight, document frequency), best first, ties by term."""
    n = len(documents)
    frequency = Counter(term for doc in documents for term in set(doc))
    totals: defaultdict[str, float] = defaultdict(float)
    for doc in documents:
        for term, count in Counter(doc).items():
            idf = math.log((1 + n) / (1 + frequency[term])) + 1.0
            totals[term] += count / len(doc) * idf
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [(term, total / n, frequency[term]) for term, total in ranked[:top_k]]


@cache
def _sentiment_scorer(language: str) -> Callable[[str], float]:
    if language == CHINESE:
        from snownlp import SnowNLP

        return lambda text: 2.0 * float(SnowNLP(text).sentiments) - 1.0
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    analyzer = SentimentIntensityAnalyzer()
    return lambda text: float(analyzer.polarity_scores(text)["compound"])


def sentiment(text: str, language: str) -> float | None:
    """-1 (negative) .. 1 (positive), or None for a language without a model."""
    if language not in SENTIMENT_LIBRARIES:
        return None
    return _sentiment_scorer(language)(text)


def sentiment_label(score: float, language: str) -> str:
    cutoff = LABEL_CUTOFFS[language]
    if score >= cutoff:
        return "positive"
    return "negative" if score <= -cutoff else "neutral"


@dataclass(frozen=True)
class LanguageSummary:
    language: str
    comments: int
    keywords: list[Keyword]
    sentiment_library: str | None
    mean_sentiment: float | None
    labels: dict[str, int]  # positive / neutral / negative counts


@dataclass(frozen=True)
class CommentSummary:
    comments: int  # answered comments (blank ones are not responses)
    languages: dict[str, LanguageSummary]


def summarize_comments(
    texts: Iterable[str | None], *, top_k: int = 10, with_sentiment: bool = True
) -> CommentSummary:
    """Keywords, topics and sentiment per language of the answered comments."""
    by_language: dict[str, list[str]] = {}
    for text in texts:
        if text is not None and text.strip():
            by_language.setdefault(detect_language(text), []).append(text.strip())
    summaries = {
        language: _summarize_language(language, comments, top_k, with_sentiment)
        for language, comments in sorted(by_language.items())
    }
    return CommentSummary(comments=sum(len(c) for c in by_language.values()), languages=summaries)


def _summarize_language(
    language: str, comments: list[str], top_k: int, with_sentiment: bool
) -> LanguageSummary:
    documents = [tokenize(text, language) for text in comments]
    scores = [sentiment(t, language) if with_sentiment else None for t in comments]
    known = [s for s in scores if s is not None]
    keywords = []
    for term, weight, frequency in tfidf_keywords([d for d in documents if d], top_k):
        mentions = [s for doc, s in zip(documents, scores, strict=True) if term in doc]
        rated = [s for s in mentions if s is not None]
        mean = statistics.fmean(rated) if rated else None
        keywords.append(Keyword(term, weight, frequency, mean))
    labels = Counter(sentiment_label(s, language) for s in known)
    return LanguageSummary(
        language=language,
        comments=len(comments),
        keywords=keywords,
        sentiment_library=SENTIMENT_LIBRARIES.get(language) if known else None,
        mean_sentiment=statistics.fmean(known) if known else None,
        labels={label: labels.get(label, 0) for label in ("positive", "neutral", "negative")},
    )
