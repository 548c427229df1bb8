"""Tests for annotator.zones: hand-labelled gold on the five samples, generated articles with
furniture and comments in wording the rules have not seen, one test per rule, edge cases and
hostile inputs whose cost is counted, not timed. No database, no Django.

Gold files live in tests/gold/zones/<sample stem>.txt: `#` lines are notes, then one line per
sentence, `ordinal<TAB>paragraph<TAB>zone<TAB>sentence`. The sentences are what the project's
segmenter made of the sample when the gold was written; the zones were given by reading each
article, not by running the rules.
"""

from __future__ import annotations

import ast
import random
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from annotator import zones
from annotator.segmentation import SentenceSpan, split_sentences
from annotator.zones import (
    BODY,
    BOILERPLATE,
    COMMENTS,
    KEYWORDS,
    RULES,
    ZONE_RULES_VERSION,
    ZONES,
    ZoneSuggestion,
    suggest_zones,
)
from tests.zone_articles import (
    COMMENT_HEADERS,
    RELATED_HEADERS,
    generate_article,
)

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted((ROOT / "samples").glob("*.txt"))
GOLD = ROOT / "tests" / "gold" / "zones"


def read_gold(sample: Path) -> tuple[str, list[SentenceSpan], list[str]]:
    """The sample's text, its gold sentences as spans (found in order) and their zones."""
    text = sample.read_text(encoding="utf-8")
    spans, labels = [], []
    position = 0
    for number, line in enumerate(
        (GOLD / sample.name).read_text(encoding="utf-8").splitlines(), start=1
    ):
        if not line or line.startswith("#"):
            continue
        ordinal, paragraph, zone, sentence = line.split("\t", 3)
        assert int(ordinal) == len(spans), f"{sample.name} line {number}: ordinal out of order"
        assert zone in ZONES, f"{sample.name} line {number}: unknown zone {zone!r}"
        start = text.index(sentence, position)
        position = start + len(sentence)
        spans.append(SentenceSpan(start, position, int(paragraph)))
        labels.append(zone)
    return text, spans, labels


def zones_of(text: str) -> list[tuple[str, str, str]]:
    """(sentence, zone, rule) for every sentence the segmenter finds."""
    spans = split_sentences(text)
    return [
        (text[span.start : span.end], suggestion.zone, suggestion.rule)
        for span, suggestion in zip(spans, suggest_zones(text, spans), strict=True)
    ]


def scores(pairs: Counter[tuple[str, str]], zone: str) -> tuple[float, float]:
    """(precision, recall) of one zone from (gold, suggested) counts."""
    right = pairs[zone, zone]
    suggested = sum(count for (_, got), count in pairs.items() if got == zone)
    gold = sum(count for (wanted, _), count in pairs.items() if wanted == zone)
    return (right / suggested if suggested else 1.0, right / gold if gold else 1.0)


# --- gold on the samples --------------------------------------------------------------------


def test_every_sample_has_a_zone_gold_file() -> None:
    assert SAMPLES
    assert {path.stem for path in SAMPLES} == {path.stem for path in GOLD.glob("*.txt")}


# Measured when the gold was written: 000, 002, 003 and 004 all right; 001 loses the first of
# its four unmarked comments ("The little boy is unsure...", 4 sentences) to the body.
MINIMUM_ACCURACY = {
    "000_3b5d33387df6cb3c": 1.0,
    "001_98008b1fa77a6126": 0.87,
    "002_9dc813a9fb6319d2": 1.0,
    "003_5c2d2b785f327099": 1.0,
    "004_7b50ad076fc6ee72": 1.0,
}


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_sample_zones_match_gold(sample: Path) -> None:
    text, spans, gold = read_gold(sample)
    suggested = [suggestion.zone for suggestion in suggest_zones(text, spans)]
    right = sum(wanted == got for wanted, got in zip(gold, suggested, strict=True))
    wrong = [
        (ordinal, wanted, got)
        for ordinal, (wanted, got) in enumerate(zip(gold, suggested, strict=True))
        if wanted != got
    ]
    assert right / len(gold) >= MINIMUM_ACCURACY[sample.stem], wrong


def test_samples_recall_and_precision_per_zone() -> None:
    pairs: Counter[tuple[str, str]] = Counter()
    for sample in SAMPLES:
        text, spans, gold = read_gold(sample)
        pairs += Counter(zip(gold, [s.zone for s in suggest_zones(text, spans)], strict=True))
    assert sum(pairs.values()) == 186
    right = sum(pairs[zone, zone] for zone in ZONES)
    assert right / 186 >= 0.975  # 182 of 186
    boilerplate_precision, boilerplate_recall = scores(pairs, BOILERPLATE)
    assert (boilerplate_precision, boilerplate_recall) == (1.0, 1.0)  # 20 of 20
    comments_precision, comments_recall = scores(pairs, COMMENTS)
    assert comments_precision == 1.0
    assert comments_recall >= 0.91  # 44 of 48
    body_precision, body_recall = scores(pairs, BODY)
    assert body_recall == 1.0
    assert body_precision >= 0.96  # 118 of 122


@pytest.mark.parametrize("sample", SAMPLES, ids=lambda path: path.stem)
def test_zones_hold_on_the_segmenters_own_spans(sample: Path) -> None:
    """What import will run: today's segmenter, each of its sentences scored against the gold
    sentence it starts in (so a changed boundary does not break the comparison)."""
    text, gold_spans, gold = read_gold(sample)
    spans = split_sentences(text)
    suggested = suggest_zones(text, spans)
    starts = [span.start for span in gold_spans]
    right = 0
    for span, suggestion in zip(spans, suggested, strict=True):
        index = max(i for i, start in enumerate(starts) if start <= span.start)
        right += gold[index] == suggestion.zone
    assert right / len(spans) >= MINIMUM_ACCURACY[sample.stem]


def test_sample_rules_name_the_structure_they_saw() -> None:
    text, spans, _ = read_gold(ROOT / "samples" / "004_7b50ad076fc6ee72.txt")
    rules = [suggestion.rule for suggestion in suggest_zones(text, spans)]
    assert rules[14:17] == ["tag_list", "caption", "photo_credit"]
    assert rules[35] == "furniture_header"
    text, spans, _ = read_gold(ROOT / "samples" / "002_9dc813a9fb6319d2.txt")
    rules = [suggestion.rule for suggestion in suggest_zones(text, spans)]
    assert rules[3:7] == ["furniture_header", "after_header", "after_header", "after_header"]
    assert rules[27] == "caps_headline"


# --- generated articles ---------------------------------------------------------------------


def generated_pairs(
    seed: int, count: int, **options: bool
) -> tuple[Counter[tuple[str, str]], Counter[tuple[str, bool]]]:
    """(gold, suggested) zone counts over generated articles, and per generator kind
    (kind, right) counts."""
    rng = random.Random(seed)
    pairs: Counter[tuple[str, str]] = Counter()
    kinds: Counter[tuple[str, bool]] = Counter()
    for _ in range(count):
        article = generate_article(rng, **options)
        suggested = suggest_zones(article.text, article.sentences)
        for wanted, kind, got in zip(article.zones, article.kinds, suggested, strict=True):
            pairs[wanted, got.zone] += 1
            kinds[kind, wanted == got.zone] += 1
    return pairs, kinds


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_generated_articles_precision_and_recall(seed: int) -> None:
    # Measured over seeds 1-7 (300 articles each): boilerplate precision >= 0.996 and recall
    # 0.92-0.94 (most misses are blurbs, share prompts and ad markers in words no rule
    # knows), comments precision >= 0.999 and recall 0.96-0.97, body recall 1.0 and
    # precision 0.97 (it holds what the other two miss). Seeds 1-3 at 200: the same.
    pairs, _ = generated_pairs(seed, 200)
    boilerplate_precision, boilerplate_recall = scores(pairs, BOILERPLATE)
    comments_precision, comments_recall = scores(pairs, COMMENTS)
    body_precision, body_recall = scores(pairs, BODY)
    assert boilerplate_precision >= 0.99
    assert boilerplate_recall >= 0.91
    assert comments_precision >= 0.99
    assert comments_recall >= 0.95
    assert body_recall >= 0.998
    assert body_precision >= 0.95


def test_generated_kinds_the_rules_find_by_structure() -> None:
    """Headers, headline lists and comment threads the table does not name are still found."""
    _, kinds = generated_pairs(11, 300)

    def recall(kind: str) -> float:
        return kinds[kind, True] / (kinds[kind, True] + kinds[kind, False])

    # Measured: related headers 0.94, their items 0.96, comment headers 0.95, comments 0.98,
    # the rest 1.0; blurbs (0.64), share prompts (0.88) and ad markers (0.87) in unknown
    # words are what the rules miss.
    for kind in ("related_header", "related_item", "comment_header"):
        assert recall(kind) >= 0.92, kind
    for kind in ("headline_item", "caption", "credit", "comment_meta", "comment", "menu"):
        assert recall(kind) >= 0.97, kind
    for kind in ("breadcrumb", "byline", "dateline", "copyright"):
        assert recall(kind) >= 0.97, kind
    assert recall("title") == 1.0
    assert recall("body") >= 0.995


def test_generated_articles_without_furniture_stay_body() -> None:
    pairs, _ = generated_pairs(5, 200, furniture=False, comments=False)
    assert set(pairs) == {(BODY, BODY)}


def test_generator_wording_is_mostly_not_in_the_rule_table() -> None:
    """The generated headers test the structure rules, not the word list."""
    normalise = zones._normalise
    known = [h for h in RELATED_HEADERS if normalise(h) in KEYWORDS["furniture_header"]]
    assert len(known) * 2 < len(RELATED_HEADERS)
    known = [h for h in COMMENT_HEADERS if normalise(h) in KEYWORDS["comments_header"]]
    assert len(known) * 2 <= len(COMMENT_HEADERS)


# --- one test per rule ----------------------------------------------------------------------

PROSE = [
    "The city council approved the budget on Tuesday after a six-hour debate.",
    "Officials said the plan would add 300 buses to the fleet by the end of next year.",
    '"We have waited long enough," the mayor told reporters outside the chamber.',
    "Opposition members criticised the cost, which they put at 2.4 billion dollars.",
]


def article(*middle: str, after: tuple[str, ...] = ()) -> str:
    """A title, two prose paragraphs, `middle` (one line each), two more, then `after`."""
    lines = ["Council Backs Bus Plan After Long Debate", "", PROSE[0], "", PROSE[1], ""]
    lines += [*middle, "", PROSE[2], "", PROSE[3]]
    if after:
        lines += ["", *after]
    return "\n".join(lines) + "\n"


def labelled(text: str) -> dict[str, tuple[str, str]]:
    return {sentence: (zone, rule) for sentence, zone, rule in zones_of(text)}


@pytest.mark.parametrize(
    ("lines", "expected"),
    [
        (["Advertisement"], [("boilerplate", "advertisement")]),
        (["ADVERTISEMENT - Scroll to continue"], [("boilerplate", "advertisement")]),
        (["Share this story"], [("boilerplate", "share_prompt")]),
        (["Facebook  Twitter  WhatsApp  Email"], [("boilerplate", "share_prompt")]),
        (["Sign up for our daily newsletter"], [("boilerplate", "subscription")]),
        (["Get unlimited digital access for $4.99 per month"], [("boilerplate", "subscription")]),
        (["Already a subscriber? Log in"], [("boilerplate", "subscription")] * 2),
        (["© 2025 Example Media Ltd"], [("boilerplate", "copyright")]),
        (["By Maria Lopez and Tom Hale"], [("boilerplate", "byline")]),
        (["Published: 12 May 2024 10:41 BST"], [("boilerplate", "byline")]),
        (["Home › World › Europe"], [("boilerplate", "breadcrumb")]),
        (["Tags: economy, budget, transport, city hall"], [("boilerplate", "tag_list")]),
        (
            ["MAYOR VOWS TO FIGHT ON AS COUNCIL REJECTS TRANSIT DEAL"],
            [("boilerplate", "caps_headline")],
        ),
        (
            ["Related coverage", "- Council rejects bus plan in first vote", "- Fares to rise"],
            [("boilerplate", "furniture_header")] + [("boilerplate", "after_header")] * 2,
        ),
        (
            ["• Flooding closes two bridges in the north", "• Rail strike called off after deal"],
            [("boilerplate", "headline_list")] * 2,
        ),
        (
            [
                "Flooding closes two bridges in the north",
                "Rail strike called off after late deal",
                "Why the airport expansion matters to you",
            ],
            [("boilerplate", "headline_run")] * 3,
        ),
        (
            ["Elsewhere today", "▪ Flooding closes two bridges", "▪ Rail strike called off"],
            [("boilerplate", "list_header")] + [("boilerplate", "headline_list")] * 2,
        ),
        (["News", "Sport", "Business", "Weather"], [("boilerplate", "menu_run")] * 4),
        (
            ["Commuters wait for a bus in the rain on Monday.", "Photo: Ana Silva/Reuters"],
            [("boilerplate", "caption"), ("boilerplate", "photo_credit")],
        ),
        (
            ["Commuters wait for a bus in the rain on Monday. Ana Silva/Reuters"],
            [("boilerplate", "caption"), ("boilerplate", "photo_credit")],
        ),
        (
            ["Commuters wait for a bus on Monday. (AP Photo/Ana Silva)"],
            [("boilerplate", "caption"), ("boilerplate", "photo_credit")],
        ),
    ],
)
def test_furniture_rule(lines: list[str], expected: list[tuple[str, str]]) -> None:
    found = zones_of(article(*lines))
    furniture = [(zone, rule) for sentence, zone, rule in found if sentence not in PROSE][1:]
    assert furniture == expected
    assert all(zone == BODY for sentence, zone, _ in found if sentence in PROSE)
    assert found[0][1] == BODY  # the title


def test_repeated_short_line_is_furniture() -> None:
    found = labelled(article("Courier Daily Digest", after=("Courier Daily Digest",)))
    assert found["Courier Daily Digest"] == (BOILERPLATE, "repeated_line")


@pytest.mark.parametrize(
    "line",
    [
        "The paper lost 5,000 subscribers last year, its owner said.",
        "By the end of the year, fares will rise by 5 percent.",
        "Share prices fell 3 percent after the announcement.",
        "Related to this, the council also approved new cycle lanes.",
        "A costly plan",
        "Advertising revenue at the transit authority fell sharply in 2023.",
        "Photographs of the meeting were published by the council on Wednesday.",
        "Read the full report on the council's website, officials said.",
    ],
)
def test_prose_that_mentions_furniture_words_stays_body(line: str) -> None:
    assert {zone for _, zone, _ in zones_of(article(line))} == {BODY}


def test_list_introduced_by_a_colon_is_the_articles_own() -> None:
    text = article(
        "The plan has three parts:",
        "- 300 new electric buses",
        "- two depots in the east",
        "- free travel for pupils",
    )
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


def test_title_in_capitals_stays_body() -> None:
    text = "COUNCIL BACKS BUS PLAN AFTER A LONG AND BITTER DEBATE\n\n" + "\n\n".join(PROSE)
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


# --- comments -------------------------------------------------------------------------------

THREAD = (
    "Comments (3)",
    "jdoe",
    "2 hours ago",
    "This will never work, the buses are always late.",
    "Reply",
    "Sam K.",
    "5 hours ago",
    "Finally some good news for the east side!",
    "Reply · 4 likes",
)


def test_comment_thread_after_a_header() -> None:
    found = zones_of(article(after=THREAD))
    tail = found[-len(THREAD) :]
    assert [zone for _, zone, _ in tail] == [COMMENTS] * len(THREAD)
    rules = {sentence: rule for sentence, _, rule in tail}
    assert rules["Comments (3)"] == "comments_header"
    assert rules["2 hours ago"] == rules["Reply"] == "comment_meta"
    assert rules["Finally some good news for the east side!"] == "after_comments_header"
    assert {zone for sentence, zone, _ in found if sentence in PROSE} == {BODY}


def test_comment_thread_without_a_header_is_found_by_its_metadata() -> None:
    found = zones_of(article(after=THREAD[1:]))
    assert [zone for _, zone, _ in found[-8:]] == [COMMENTS] * 8
    assert found[-8][2] == "comment_thread"  # the user name above the first timestamp


def test_an_unknown_header_above_a_thread_joins_the_comments() -> None:
    found = labelled(article(after=("Have your say", *THREAD[1:])))
    assert found["Have your say"] == (COMMENTS, "comments_header")


def test_furniture_after_the_comments_stays_furniture() -> None:
    found = labelled(article(after=(*THREAD, "© 2025 Example Media Ltd", "Advertisement")))
    assert found["© 2025 Example Media Ltd"] == (BOILERPLATE, "copyright")
    assert found["Advertisement"] == (BOILERPLATE, "advertisement")


def test_comment_count_link_before_the_article_is_furniture() -> None:
    text = "Council Backs Bus Plan\n14 comments\n\n" + "\n\n".join(PROSE)
    assert labelled(text)["14 comments"] == (BOILERPLATE, "comment_link")


def test_timestamps_at_the_top_do_not_make_the_article_a_comment() -> None:
    text = "Council Backs Bus Plan\nBy Ana Silva\nUpdated 3 hours ago\n\n" + "\n\n".join(PROSE)
    assert {zone for sentence, zone, _ in zones_of(text) if sentence in PROSE} == {BODY}


NUMBERED_POSTS = (
    "1. I have taken that bus every day for ten years and it has never once been on time.",
    "2. You people never learn, do you?",
    "    Exactly my point!",
    "3. Great news for the east side, about time.",
)


def test_numbered_posts_after_the_article_are_comments() -> None:
    found = zones_of(article(after=NUMBERED_POSTS))
    assert [(zone, rule) for _, zone, rule in found[-4:]] == [(COMMENTS, "numbered_posts")] * 4


def test_numbered_list_inside_the_article_stays_body() -> None:
    text = article(
        "1. The council will buy 300 electric buses from a Polish maker.",
        "2. Two depots will open in the east of the city next spring.",
        "3. Pupils will travel free from September.",
    )
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


INFORMAL_TAIL = (
    "What a waste of money, I have never seen a full bus on that route.",
    "You clearly don't live here.",
    "Same old promises every year!!",
)


def test_unmarked_posts_after_the_article_are_comments() -> None:
    found = zones_of(article(after=INFORMAL_TAIL))
    assert [(zone, rule) for _, zone, rule in found[-3:]] == [(COMMENTS, "informal_tail")] * 3
    assert {zone for sentence, zone, _ in found if sentence in PROSE} == {BODY}


def test_opinion_piece_in_the_first_person_stays_body() -> None:
    text = "\n\n".join(
        [
            "Why I Finally Gave Up My Car",
            "I drove to work for twenty years, and I never thought I would stop.",
            "Then the new bus line opened and I tried it for a week.",
            "You may think that sounds naive, but my commute is now shorter.",
            "I will not go back, and I suspect many of you will not either!",
        ]
    )
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


def test_article_ending_in_a_first_person_quote_stays_body() -> None:
    text = article(
        after=(
            '"I think you will see a very different city in five years," the mayor said.',
            '"My message to you is simple: be patient," she added.',
        )
    )
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


# --- edge cases -----------------------------------------------------------------------------


def test_empty_article_has_no_suggestions() -> None:
    assert suggest_zones("", []) == []
    assert suggest_zones("   \n\n", []) == []


def test_one_paragraph_is_body() -> None:
    text = "Just one paragraph. It has two sentences."
    assert zones_of(text) == [
        ("Just one paragraph.", BODY, "body"),
        ("It has two sentences.", BODY, "body"),
    ]


@pytest.mark.parametrize(
    "text",
    [
        # Chinese: a title without a full stop, paragraphs ending in 。
        "习近平会见金正恩\n\n中国国家主席习近平周四在北京会见了朝鲜最高领导人金正恩。"
        "双方表示将加强合作。\n\n会谈持续了两个多小时。\n\n分析人士认为，这次会面意义重大。",
        # Japanese
        "首脳会談が北京で開催\n\n中国の習近平国家主席は木曜日、北京で金正恩総書記と会談した。"
        "\n\n両首脳は協力の強化で一致した。\n\n会談は二時間以上続いた。",
        # Arabic (right to left)
        "لقاء في بكين\n\nالتقى الرئيس الصيني شي جين بينغ بالزعيم الكوري الشمالي كيم جونغ أون "
        "في بكين يوم الخميس.\n\nواتفق الجانبان على تعزيز التعاون بينهما.\n\nهل سيغير ذلك شيئا؟",
        # Hebrew (right to left)
        "פגישה בבייג'ינג\n\nנשיא סין שי ג'ינפינג נפגש ביום חמישי עם מנהיג צפון קוריאה.\n\n"
        "השניים הסכימו להדק את שיתוף הפעולה.\n\nהפגישה נמשכה יותר משעתיים.",
        # Korean, one line per sentence without blank lines
        "시진핑 주석, 김정은 위원장과 회담\n시진핑 중국 국가주석은 목요일 베이징에서 김정은 "
        "위원장과 만났다.\n양측은 협력을 강화하기로 했다.\n회담은 두 시간 넘게 이어졌다.",
    ],
    ids=["chinese", "japanese", "arabic", "hebrew", "korean"],
)
def test_text_in_other_scripts_stays_body(text: str) -> None:
    assert {zone for _, zone, _ in zones_of(text)} == {BODY}


def test_any_span_with_start_end_and_paragraph_will_do() -> None:
    @dataclass(frozen=True)
    class Row:  # as a caller might rebuild sentences from values_list()
        start: int
        end: int
        paragraph: int

    lines = ["Recommended", "- One headline here today", "- Another headline here"]
    text = "\n".join(lines)
    rows = [Row(text.index(line), text.index(line) + len(line), 0) for line in lines]
    suggested = suggest_zones(text, rows)
    assert [s.zone for s in suggested] == [BOILERPLATE] * 3


def test_windows_line_ends_change_nothing() -> None:
    text = article("Related coverage", "- Council rejects bus plan in first vote", after=THREAD)
    unix = [(zone, rule) for _, zone, rule in zones_of(text)]
    assert [(zone, rule) for _, zone, rule in zones_of(text.replace("\n", "\r\n"))] == unix


def test_a_sentence_merged_across_a_line_break_is_accepted() -> None:
    """A manager may merge two adjacent sentences (issue 12, part 5), even over a line break:
    the merged sentence is read as one line and the others keep their zones."""
    text = article("Related coverage", "- Council rejects bus plan in first vote")
    spans = split_sentences(text)
    before = suggest_zones(text, spans)
    header = next(i for i, s in enumerate(spans) if text[s.start : s.end] == "Related coverage")
    merged = SentenceSpan(spans[header].start, spans[header + 1].end, spans[header].paragraph)
    spans[header : header + 2] = [merged]
    after = suggest_zones(text, spans)
    assert len(after) == len(spans)
    assert after[header].zone in ZONES
    assert after[:header] + after[header + 1 :] == before[:header] + before[header + 2 :]


@pytest.mark.parametrize(
    "spans",
    [
        [SentenceSpan(0, 5, 0), SentenceSpan(3, 8, 0)],  # overlaps
        [SentenceSpan(0, 5, 0), SentenceSpan(6, 99, 0)],  # past the end
        [SentenceSpan(0, 5, 0), SentenceSpan(6, 6, 0)],  # empty
        [SentenceSpan(0, 5, 0), SentenceSpan(-1, 2, 0)],  # negative
    ],
)
def test_bad_spans_are_refused_naming_the_sentence(spans: list[SentenceSpan]) -> None:
    with pytest.raises(ValueError, match=r"^sentence 1: span"):
        suggest_zones("Hello there. Again.", spans)


def test_every_rule_fired_is_described_with_its_zone() -> None:
    seen = set()
    rng = random.Random(3)
    texts = [path.read_text(encoding="utf-8") for path in SAMPLES]
    texts += [generate_article(rng).text for _ in range(100)]
    for text in texts:
        for suggestion in suggest_zones(text, split_sentences(text)):
            assert RULES[suggestion.rule][0] == suggestion.zone
            seen.add(suggestion.rule)
    assert len(seen) >= 15


def test_rule_table_entries_are_normalised() -> None:
    """Entries are compared with normalised lines, so one in another form could never match."""
    for kind, entries in KEYWORDS.items():
        for entry in entries:
            assert zones._normalise(entry) == entry, (kind, entry)


def test_version_and_suggestion_type() -> None:
    assert isinstance(ZONE_RULES_VERSION, str)
    assert ZONE_RULES_VERSION
    assert set(ZONES) == {BODY, BOILERPLATE, COMMENTS}
    suggestion = ZoneSuggestion(BODY, "body")
    with pytest.raises(AttributeError):
        suggestion.zone = COMMENTS  # type: ignore[misc]


def test_zones_module_does_not_import_django() -> None:
    tree = ast.parse(Path(zones.__file__).read_text(encoding="utf-8"))
    imported = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.append(node.module)
    assert imported
    assert not [name for name in imported if name.split(".")[0] == "django"]


# --- hostile input: the work is counted, not timed ------------------------------------------


def line_spans(unit: str, count: int, separator: str = "\n") -> tuple[str, list[SentenceSpan]]:
    """`count` copies of `unit` joined by `separator`, with one span per copy."""
    text = separator.join([unit] * count)
    step = len(unit) + len(separator)
    return text, [SentenceSpan(i * step, i * step + len(unit), 0) for i in range(count)]


def work_for(text: str, spans: list[SentenceSpan]) -> Counter[str]:
    work: Counter[str] = Counter()
    assert len(suggest_zones(text, spans, work=work)) == len(spans)
    return work


@pytest.mark.slow
@pytest.mark.parametrize(
    ("unit", "count", "separator"),
    [
        # 5 MB without a line break: one line of ~114,000 sentences.
        ("Word word word word word word word word ok.", 113_636, " "),
        ("- Another headline about the same old thing", 100_000, "\n"),  # 100k bullets
        ("ok", 100_000, "\n"),  # 100k short lines
        # Lines that wake the comment rules; the bounds are per line, so fewer lines will do.
        ("3 hours ago", 20_000, "\n"),
        ("1. I said you are wrong! lol", 20_000, "\n"),
        ("I said you are wrong! lol", 20_000, "\n"),
    ],
    ids=["no-newlines-5MB", "bullets", "short-lines", "timestamps", "numbered", "informal"],
)
def test_hostile_input_costs_linear_work(unit: str, count: int, separator: str) -> None:
    text, spans = line_spans(unit, count, separator)
    lines = text.count("\n") + 1
    work = work_for(text, spans)
    # A bounded number of rule evaluations per line and of scans per character: linear.
    assert work["rules"] <= 25 * lines + 2 * len(spans)
    assert work["chars"] <= 10 * len(text)


@pytest.mark.parametrize(
    "text",
    ["“" * 1_000_000, "a" * 1_000_000, "x " * 500_000, "(" * 1_000_000, "1." * 500_000],
    ids=["open-quotes", "one-word", "tiny-words", "brackets", "markers"],
)
def test_one_huge_line_reads_a_bounded_prefix(text: str) -> None:
    work = work_for(text, [SentenceSpan(0, len(text.rstrip()), 0)])
    assert work["chars"] <= 10_000
