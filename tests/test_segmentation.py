"""Tests for annotator.segmentation: hand-made gold on the seed articles, one test per rule,
and property tests for the offset invariants. No database, no Django.

Gold files live in tests/gold/segmentation/<seed stem>.txt, one per file in samples/: one
sentence per line exactly as it appears in the article (stripped), and a blank line between
paragraphs. They were written by reading each article, not by running the segmenter.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import FrameType, SimpleNamespace

import pytest
import sentencex
from hypothesis import given, settings
from hypothesis import strategies as st

from annotator import segmentation
from annotator.segmentation import (
    SEGMENTER_VERSION,
    SentenceSpan,
    iter_sentences,
    split_sentences,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))
GOLD = ROOT / "tests" / "gold" / "segmentation"


def sentences(text: str) -> list[str]:
    return [text[span.start : span.end] for span in split_sentences(text)]


def read_gold(path: Path) -> list[tuple[int, str]]:
    """(paragraph, sentence) pairs from a gold file."""
    pairs = []
    paragraph = 0
    for line in path.read_text(encoding="utf-8").split("\n"):
        if line:
            pairs.append((paragraph, line))
        elif pairs and pairs[-1][0] == paragraph:
            paragraph += 1
    return pairs


def gold_ends(text: str, gold: list[tuple[int, str]]) -> set[int]:
    """End offsets of the gold sentences, found in order in the article."""
    ends = set()
    position = 0
    for _, sentence in gold:
        start = text.index(sentence, position)
        position = start + len(sentence)
        ends.add(position)
    return ends


def boundary_f1(predicted: set[int], gold: set[int]) -> float:
    true_positives = len(predicted & gold)
    if not true_positives:
        return 0.0
    precision = true_positives / len(predicted)
    recall = true_positives / len(gold)
    return 2 * precision * recall / (precision + recall)


# --- gold ----------------------------------------------------------------------------------


def test_every_sample_has_a_gold_file() -> None:
    assert SAMPLES
    assert {path.stem for path in SAMPLES} == {path.stem for path in GOLD.glob("*.txt")}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_sample_matches_gold(sample: Path) -> None:
    text = sample.read_text(encoding="utf-8")
    gold = read_gold(GOLD / f"{sample.stem}.txt")
    spans = split_sentences(text)

    predicted_ends = {span.end for span in spans}
    assert boundary_f1(predicted_ends, gold_ends(text, gold)) >= 0.98
    assert [(span.paragraph, text[span.start : span.end]) for span in spans] == gold


def test_gold_boundary_f1_over_all_samples() -> None:
    true_positives = predicted = expected = 0
    for sample in SAMPLES:
        text = sample.read_text(encoding="utf-8")
        gold = gold_ends(text, read_gold(GOLD / f"{sample.stem}.txt"))
        ends = {span.end for span in split_sentences(text)}
        true_positives += len(ends & gold)
        predicted += len(ends)
        expected += len(gold)
    precision, recall = true_positives / predicted, true_positives / expected
    assert 2 * precision * recall / (precision + recall) >= 0.98


def test_boundary_f1_scores_partial_agreement() -> None:
    assert boundary_f1({10, 20, 30}, {10, 20, 30}) == 1.0
    assert boundary_f1({10, 30}, {10, 20, 30}) == pytest.approx(0.8)
    assert boundary_f1(set(), {10}) == 0.0


# --- interface -----------------------------------------------------------------------------


def test_spans_carry_offsets_and_paragraph() -> None:
    text = "First one. Second one.\n\nThird."
    assert split_sentences(text) == [
        SentenceSpan(0, 10, 0),
        SentenceSpan(11, 22, 0),
        SentenceSpan(24, 30, 1),
    ]


def test_iter_sentences_is_lazy_and_agrees_with_split_sentences() -> None:
    text = SAMPLES[0].read_text(encoding="utf-8")
    iterator = iter_sentences(text)
    assert isinstance(iterator, Iterator)
    assert list(iterator) == split_sentences(text)


def test_segmenter_version_is_a_non_empty_string() -> None:
    assert isinstance(SEGMENTER_VERSION, str)
    assert SEGMENTER_VERSION


def test_sentence_span_is_frozen() -> None:
    span = SentenceSpan(0, 1, 0)
    with pytest.raises(AttributeError):
        span.start = 2  # type: ignore[misc]


def test_segmentation_module_does_not_import_django() -> None:
    tree = ast.parse(Path(segmentation.__file__).read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert imported
    assert not [name for name in imported if name.split(".")[0] == "django"]


# --- whitespace, lines and paragraphs ------------------------------------------------------


@pytest.mark.parametrize("text", ["", " ", "\n\n\n", " \t\r\n  \u2028\u3000\n"])
def test_blank_text_has_no_sentences(text: str) -> None:
    assert split_sentences(text) == []


def test_whitespace_around_sentences_is_trimmed() -> None:
    assert sentences("   Hello there.    General Kenobi.   \n") == [
        "Hello there.",
        "General Kenobi.",
    ]


def test_crlf_line_endings_end_sentences_and_separate_paragraphs() -> None:
    text = "Title\r\n\r\nBody one. Body two.\r\nNext line\r\n"
    spans = split_sentences(text)
    assert [text[s.start : s.end] for s in spans] == [
        "Title",
        "Body one.",
        "Body two.",
        "Next line",
    ]
    assert [s.paragraph for s in spans] == [0, 1, 1, 1]


def test_unicode_line_separators_end_sentences() -> None:
    assert sentences("One\u2028Two\u2029Three\x85Four\rFive") == [
        "One",
        "Two",
        "Three",
        "Four",
        "Five",
    ]


def test_paragraph_ordinals_count_blocks_not_blank_lines() -> None:
    text = "\n\n  \nA.\nB.\n\n\n \t\nC.\n\nD."
    assert [s.paragraph for s in split_sentences(text)] == [0, 0, 1, 2]


def test_lines_without_final_punctuation_are_their_own_segments() -> None:
    text = (
        "Kim Jong Un Reaches Devastating Agreement With China\n"
        "Recommended Stories\n"
        "North, Korea, Kim, military, workshop\n"
        "The body starts here. It goes on\n"
        "Editor's Picks"
    )
    assert sentences(text) == [
        "Kim Jong Un Reaches Devastating Agreement With China",
        "Recommended Stories",
        "North, Korea, Kim, military, workshop",
        "The body starts here.",
        "It goes on",
        "Editor's Picks",
    ]


def test_a_sentence_broken_across_lines_is_split_at_the_newline() -> None:
    text = '"Saying that," Kim\n"noted such situation."'
    assert sentences(text) == ['"Saying that," Kim', '"noted such situation."']


def test_indented_reader_comments_are_trimmed_and_split() -> None:
    text = "  3. I hope not. Fat boy cannot.\n\n    Of course maybe. They’re having a bromance.\n"
    assert sentences(text) == [
        "3. I hope not.",
        "Fat boy cannot.",
        "Of course maybe.",
        "They’re having a bromance.",
    ]


# --- abbreviations and initials ------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "Mr. Putin and Mrs. Clinton met Dr. Smith.",
        "Gen. Milley, Sen. Warren and Rep. Smith spoke.",
        "He met Dr. Who and Mr. The Rock.",
        "They flew to St. Louis with Martin Luther King Jr. on Monday.",
        "Apple Inc. and Acme Corp. signed it.",
        "It is the No. 1 priority.",
        "It was Roe vs. Wade all over again.",
        "Some allies, e.g. Japan, agreed, i.e. most of them.",
        "It started at 5 a.m. and ended at 10 p.m. on Friday.",
        "It happened on Jan. 5 and again on Feb. 12, Sept. 11 and Dec. 25.",
        "The U.S. and the U.N. agreed.",
        "The U.S. Senate voted.",
        "A White House spokesman, John F. Kirby, said so.",
        "Sergei K. Shoigu met Jean H. Lee.",
        "The little fat boy from N.K. said so.",
        "Or so N Korea reported.",
        "It cost approx. 5 million dollars, see fig. 3 in Vol. 2 of the report.",
    ],
)
def test_abbreviations_and_initials_do_not_end_sentences(text: str) -> None:
    assert sentences(text) == [text]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He lives in the U.S. He likes it.", ["He lives in the U.S.", "He likes it."]),
        ("He works at the U.N. The U.N. is big.", ["He works at the U.N.", "The U.N. is big."]),
        ("He joined Apple Inc. The company grew.", ["He joined Apple Inc.", "The company grew."]),
        (
            "It was signed at 5 p.m. The talks ended.",
            ["It was signed at 5 p.m.", "The talks ended."],
        ),
    ],
)
def test_abbreviations_end_sentences_before_a_clear_sentence_start(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He told me. Kim left.", ["He told me.", "Kim left."]),
        ("He was ill. Kim visited.", ["He was ill.", "Kim visited."]),
        ("He said no. Kim left.", ["He said no.", "Kim left."]),
        ("It was signed in May. China agreed.", ["It was signed in May.", "China agreed."]),
        ("Police arrived in LA. Officers said so.", ["Police arrived in LA.", "Officers said so."]),
        ("Apples, pears, etc. Kim likes fruit.", ["Apples, pears, etc.", "Kim likes fruit."]),
    ],
)
def test_ordinary_words_are_not_taken_for_abbreviations(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


# --- quotes and parentheses ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("He said “yes.” Then he left.", ["He said “yes.”", "Then he left."]),
        ('He said "yes." Then he left.', ['He said "yes."', "Then he left."]),
        ("He said ‘yes.’ Then he left.", ["He said ‘yes.’", "Then he left."]),
        ("He asked “why?” Then he left.", ["He asked “why?”", "Then he left."]),
        ("It reached a “new stage.”", ["It reached a “new stage.”"]),
    ],
)
def test_closing_quote_after_the_period_belongs_to_the_sentence(
    text: str, expected: list[str]
) -> None:
    assert sentences(text) == expected


def test_a_quote_of_several_sentences_is_split_inside() -> None:
    text = "“It will not change. China will help.” The readout said so."
    assert sentences(text) == ["“It will not change.", "China will help.”", "The readout said so."]


def test_a_quote_followed_by_its_attribution_stays_one_sentence() -> None:
    assert sentences("“Why?” he asked. “Because,” she said.") == [
        "“Why?” he asked.",
        "“Because,” she said.",
    ]
    assert sentences('"Stop!" he shouted.') == ['"Stop!" he shouted.']


def test_quote_after_a_sentence_starts_the_next_one() -> None:
    text = "said Jean H. Lee, a fellow at the Wilson Center. “It’s the resurrection.”"
    assert sentences(text) == [
        "said Jean H. Lee, a fellow at the Wilson Center.",
        "“It’s the resurrection.”",
    ]


def test_apostrophes_do_not_confuse_quotes() -> None:
    text = "China's Xi Vows to 'Defend' North Korea's Ties. Kim's army rallies."
    assert sentences(text) == [
        "China's Xi Vows to 'Defend' North Korea's Ties.",
        "Kim's army rallies.",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "Xi thanked Kim (or so N Korea reported). State media did not.",
            ["Xi thanked Kim (or so N Korea reported).", "State media did not."],
        ),
        (
            "Or New York with Nebraska (going by GDP, which is similar.) Yes, really.",
            ["Or New York with Nebraska (going by GDP, which is similar.)", "Yes, really."],
        ),
        (
            "(This is a whole sentence.) And this is another.",
            ["(This is a whole sentence.)", "And this is another."],
        ),
        ("( Following a horrible year, he won.", ["( Following a horrible year, he won."]),
    ],
)
def test_parentheses(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


# --- lists ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1. Some comment text. More text.", ["1. Some comment text.", "More text."]),
        ("  2) Another item. More.", ["2) Another item.", "More."]),
        ("• Bullet item. Second sentence.", ["• Bullet item.", "Second sentence."]),
        ("- Dash item. Second.", ["- Dash item.", "Second."]),
        ("* Star item. Second.", ["* Star item.", "Second."]),
        ("  • Ad free experience", ["• Ad free experience"]),
        ("4. 1st they got me kicked-off!", ["4. 1st they got me kicked-off!"]),
        ("(a) First point. Second point.", ["(a) First point.", "Second point."]),
        ("1.", ["1."]),
        ("•", ["•"]),
    ],
)
def test_list_markers_stay_with_their_first_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_each_list_item_is_its_own_segment() -> None:
    text = "Newsweek cover\n  • Unlimited access to\n  • Ad free experience\n- One\n- Two"
    assert sentences(text) == [
        "Newsweek cover",
        "• Unlimited access to",
        "• Ad free experience",
        "- One",
        "- Two",
    ]


def test_numbers_with_decimals_are_not_list_markers() -> None:
    assert sentences("1.5 million people came. They left.") == [
        "1.5 million people came.",
        "They left.",
    ]


# --- ellipses, ?! and stray punctuation ----------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("It is the biggest deal…", ["It is the biggest deal…"]),
        ("the use in voting…I stop and respond.", ["the use in voting…I stop and respond."]),
        ("It is here… Really?! Yes.", ["It is here…", "Really?!", "Yes."]),
        ("It was late... He left.", ["It was late...", "He left."]),
        ("It was late… and then he left.", ["It was late… and then he left."]),
        ("What?! No way!? Really??? OK.", ["What?!", "No way!?", "Really???", "OK."]),
        ("I love it!!! You do too?", ["I love it!!!", "You do too?"]),
    ],
)
def test_ellipses_and_repeated_marks(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("to sell ammunition to Russia. […]", ["to sell ammunition to Russia. […]"]),
        ("Great job! 👍👍", ["Great job! 👍👍"]),
        ("… And then it ended.", ["… And then it ended."]),
        ("[…]", ["[…]"]),
    ],
)
def test_punctuation_alone_joins_a_neighbouring_sentence(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_non_ascii_spaces_count_as_whitespace() -> None:
    text = "\u00a0Mr.\u00a0Kim met the\u00a0press. Then\u2009he left.\u3000"
    assert sentences(text) == ["Mr.\u00a0Kim met the\u00a0press.", "Then\u2009he left."]


def test_spaces_that_crash_sentencex_are_normalised() -> None:
    # sentencex 1.0.32 panics on a single letter, a no-break space and a period.
    text = "It was plan A\u00a0. Next came plan B\u3000. Then none."
    assert_invariants(text, split_sentences(text))


def test_text_sentencex_cannot_take_stays_one_sentence() -> None:
    # A lone surrogate cannot be encoded for the Rust library.
    text = "Broken \ud800 text. Still here."
    assert sentences(text) == [text]


def test_other_scripts_are_split() -> None:
    assert sentences("你好。再见。") == ["你好。", "再见。"]
    assert sentences("مرحبا. بالعالم؟") == ["مرحبا.", "بالعالم؟"]


# --- invariants on the seeds and on arbitrary text -----------------------------------------


def assert_invariants(text: str, spans: list[SentenceSpan]) -> None:
    covered = [0] * len(text)
    previous_end = 0
    previous_paragraph = 0
    for span in spans:
        sentence = text[span.start : span.end]
        assert 0 <= previous_end <= span.start < span.end <= len(text)
        assert sentence == sentence.strip()
        assert sentence
        assert span.paragraph >= previous_paragraph
        for index in range(span.start, span.end):
            covered[index] += 1
        previous_end, previous_paragraph = span.end, span.paragraph
    for index, character in enumerate(text):
        if not character.isspace():
            assert covered[index] == 1, (index, character)
    if spans:
        assert spans[0].paragraph == 0


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_sample_spans_are_exact_and_stripped(sample: Path) -> None:
    text = sample.read_text(encoding="utf-8")
    spans = split_sentences(text)
    assert_invariants(text, spans)
    for span in spans:
        assert "\n" not in text[span.start : span.end]


# Fragments that exercise every rule, glued in any order.
NEWSY = st.lists(
    st.sampled_from(
        list("aZ Kim. U.S. e.g.?!…“”‘’\"'()[]•-*1 2)\n\r\t\u2028\u00a0\x00😀\u0301ש")
        + ["Mr.", "Dr. ", "No. ", "p.m. ", "He ", "The ", " 1. ", "\n  • ", "\n\n", "...", "?!"]
    ),
    max_size=120,
).map("".join)


@settings(max_examples=400, deadline=None)
@given(st.text())
def test_any_unicode_text_gives_exact_covering_spans(text: str) -> None:
    assert_invariants(text, split_sentences(text))


@settings(max_examples=400, deadline=None)
@given(NEWSY)
def test_news_like_text_gives_exact_covering_spans(text: str) -> None:
    spans = split_sentences(text)
    assert_invariants(text, spans)
    assert list(iter_sentences(text)) == spans


@settings(max_examples=200, deadline=None)
@given(st.lists(st.text(min_size=1), min_size=1, max_size=5))
def test_blank_lines_number_paragraphs_from_zero(blocks: list[str]) -> None:
    text = "\n\n".join(blocks)
    paragraphs = [span.paragraph for span in split_sentences(text)]
    assert paragraphs == sorted(paragraphs)
    if paragraphs:
        assert paragraphs[0] == 0
        # A new paragraph needs a line break before it (any break str.splitlines knows:
        # \r, \x85 and \u2028 count as well as \n).
        assert paragraphs[-1] <= len(text.splitlines(keepends=True)) - 1


# --- hostile input: the work done grows linearly ---------------------------------------------
# These count work instead of timing it: Python lines run inside annotator/segmentation.py
# (the quadratic walk-back this replaced was such a loop) and characters handed to sentencex
# (whose own cost is superlinear in the length of one call on Chinese). Doubling the input
# must double the work, not quadruple it. bench/bench_segmentation.py records the times.


@dataclass
class Work:
    lines: int = 0
    sentencex_characters: int = 0
    longest_sentencex_call: int = 0


def measure_work(text: str, monkeypatch: pytest.MonkeyPatch) -> tuple[Work, list[SentenceSpan]]:
    work = Work()
    source = segmentation.__file__

    def segment(language: str, chunk: str) -> list[str]:
        work.sentencex_characters += len(chunk)
        work.longest_sentencex_call = max(work.longest_sentencex_call, len(chunk))
        return sentencex.segment(language, chunk)

    def count_lines(frame: FrameType, event: str, arg: object) -> object:
        if event == "line":
            work.lines += 1
        return count_lines

    def trace(frame: FrameType, event: str, arg: object) -> object:
        return count_lines if frame.f_code.co_filename == source else None

    monkeypatch.setattr(segmentation, "sentencex", SimpleNamespace(segment=segment))
    previous = sys.gettrace()
    sys.settrace(trace)
    try:
        spans = split_sentences(text)
    finally:
        sys.settrace(previous)
    return work, spans


HOSTILE = {
    "no spaces": lambda n: ("Abc.Def!" * n)[:n],
    "no spaces, periods only": lambda n: ("a.b." * n)[:n] + " End.",
    "brackets": lambda n: "[" * n + "Mr. Kim. [He] left. [",
    "Chinese": lambda n: ("我们是朋友。他说：你好！" * n)[:n],
    "Arabic": lambda n: ("هذا نص عربي طويل. وهو يتكرر! " * n)[:n],
    "Hebrew, no spaces": lambda n: ("שלום.עולם!" * n)[:n],
    "emoji": lambda n: ("😀🎉👍🏽. " * n)[:n],
    "titles": lambda n: ("Mr. " * n)[:n],
    "quoted questions": lambda n: ("“Why?” he asked " * n)[:n],
    "punctuation": lambda n: ("! . ? " * n)[:n],
    "short lines": lambda n: ("Ab. Cd\n" * n)[:n],
}


@pytest.mark.parametrize("make", HOSTILE.values(), ids=HOSTILE.keys())
def test_work_grows_linearly_with_hostile_input(
    make: Callable[[int], str], monkeypatch: pytest.MonkeyPatch
) -> None:
    small_text, large_text = make(25_000), make(50_000)
    small, small_spans = measure_work(small_text, monkeypatch)
    large, large_spans = measure_work(large_text, monkeypatch)

    assert large.lines <= 2.1 * small.lines
    assert large.sentencex_characters <= 2.1 * small.sentencex_characters
    assert large.longest_sentencex_call <= segmentation._WINDOW
    # ... and the spans stay exact.
    assert_invariants(small_text, small_spans)
    assert_invariants(large_text, large_spans)


def test_the_line_from_the_report_splits_with_bounded_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # 50,000 characters, no whitespace: took 183 s when each period walked back to the start.
    text = "Abc.Def!" * 6250
    work, spans = measure_work(text, monkeypatch)
    assert [text[span.start : span.end] for span in spans[:3]] == ["Abc.", "Def!", "Abc."]
    assert len(spans) == 12_500
    assert work.lines < 30 * len(spans)  # a few dozen lines per sentence, none per character
    assert_invariants(text, spans)


def test_a_hundred_thousand_brackets_are_one_sentence_with_bounded_work(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "[" * 100_000
    work, spans = measure_work(text, monkeypatch)
    assert spans == [SentenceSpan(0, 100_000, 0)]
    assert work.lines < 100


def test_sentencex_reads_a_long_line_in_overlapping_windows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = "我们是朋友。" * 10_000
    work, spans = measure_work(text, monkeypatch)
    assert len(spans) == 10_000
    assert work.longest_sentencex_call == segmentation._WINDOW
    # Each character is read about once, plus the overlap between windows.
    assert len(text) <= work.sentencex_characters <= 1.5 * len(text)


def test_windows_split_long_news_lines_as_one_reading_would() -> None:
    # The seed articles' paragraphs joined into one 25,000-character line: sentencex's
    # windows must find the same boundaries it finds reading the line whole.
    line = " ".join(" ".join(path.read_text(encoding="utf-8").split()) for path in SAMPLES)
    assert len(line) > 10 * segmentation._WINDOW
    windowed = split_sentences(line)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segmentation, "_WINDOW", len(line))
        whole = split_sentences(line)
    assert windowed == whole


@settings(max_examples=300, deadline=None)
@given(st.lists(NEWSY, min_size=1, max_size=8).map(" ".join))
def test_small_windows_keep_spans_exact_on_any_line(text: str) -> None:
    # Windows of 40 characters with 8 of context make every line of a few sentences take the
    # windowed path: restarts at a break and restarts without one.
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(segmentation, "_WINDOW", 40)
        patch.setattr(segmentation, "_CONTEXT", 8)
        spans = split_sentences(text)
    assert_invariants(text, spans)
