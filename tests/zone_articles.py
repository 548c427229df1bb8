"""Generated news-like articles with page furniture and reader comments, labelled per line.

The zone rules must generalise beyond the five samples, so these articles are built from
word lists written for this generator, not taken from `annotator.zones.KEYWORDS`: headers the
rules know and headers they have never seen, bullets of several kinds, sentence-case and
Title Case headlines, blurbs, captions, bylines, menus, and comment sections with and without
metadata. Every non-blank line carries the zone a reader would give it; the segmenter ends a
sentence at every line break, so each sentence inherits its line's zone.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from annotator.segmentation import SentenceSpan, split_sentences
from tests import claim_corpus

BODY, BOILERPLATE, COMMENTS = "body", "boilerplate", "comments"


@dataclass(frozen=True)
class GeneratedArticle:
    text: str
    sentences: list[SentenceSpan]
    zones: list[str]  # one per sentence
    kinds: list[str]  # what generated each sentence ("body", "related", "comment_meta", ...)


PEOPLE = claim_corpus.PEOPLE[:11]
ROLES = claim_corpus.ROLES[:10]
PLACES = claim_corpus.PLACES[:12]
DAYS = claim_corpus.DAYS[:6]
TOPICS = claim_corpus.TOPICS[:10]
ACTIONS = [
    "announced a review of",
    "defended",
    "criticised the cost of",
    "promised to speed up",
    "warned against delays to",
    "signed a deal on",
    "voted to suspend",
    "questioned the legality of",
]


def _body_sentence(rng: random.Random) -> str:
    person, role, place = rng.choice(PEOPLE), rng.choice(ROLES), rng.choice(PLACES)
    topic, day, action = rng.choice(TOPICS), rng.choice(DAYS), rng.choice(ACTIONS)
    number = rng.randint(2, 950)
    year, times = 2000 + number % 24, number % 9 + 2
    forms = [
        f"{person}, {role}, {action} {topic} {day}.",
        f"Officials in {place} {action} {topic}, citing a shortfall of {number} million dollars.",
        f'"We cannot wait another year for {topic}," {person} said {day}.',
        f'"I have seen the figures and they do not add up," {role} told reporters in {place}.',
        f"The decision affects about {number},000 residents, according to figures released {day}.",
        f"Critics say {topic} has been delayed at least {times} times since {year}.",
        f"In {place}, {role} {action} {topic} after weeks of protests.",
        f"It is not yet clear whether {topic} will survive the next budget.",
        f"{person} did not respond to a request for comment.",
        f"Why did it take so long? Residents of {place} have been asking that for months.",
        f"The plan, first proposed in {year}, would cost roughly {number} million euros.",
        f"Asked about {topic}, {person} said the government would publish its own assessment.",
    ]
    return rng.choice(forms)


def _headline(rng: random.Random) -> str:
    place, topic, person = rng.choice(PLACES), rng.choice(TOPICS), rng.choice(PEOPLE).split()[1]
    forms = [
        f"{place} residents brace for changes to {topic}",
        f"Why {topic} could decide the next election",
        f"{person} faces questions over {topic} in {place}",
        f"What we know about {topic} so far",
        f"Floods Close Roads Across {place} as Rain Continues",
        f"{place} Council Backs Plan for {topic.title().removeprefix('The ')}",
        f"Is {topic} worth the money?",
        f"Five years on, {place} still waits for {topic}",
        f"Court hears challenge to {topic} in {place}",
        f"Watchdog opens inquiry into {person}'s spending",
    ]
    return rng.choice(forms)


def _title(rng: random.Random) -> str:
    topic, place = rng.choice(TOPICS).removeprefix("the "), rng.choice(PLACES)
    return rng.choice(
        [
            f"{place} Leaders Clash Over {topic.title()}",
            f"Deal on {topic} reached in {place} after late-night talks",
            f"{place} Pauses {topic.title()} Amid Cost Concerns",
        ]
    )


# Furniture the generator places; each returns labelled lines.
RELATED_HEADERS = [
    "Recommended reading",
    "More coverage",
    "Popular right now",
    "ICYMI",
    "Elsewhere on the site",
    "What to read next",
    "Top picks for you",
    "Don't Miss",
    "Trending",
    "Also from our newsroom",
    "MORE STORIES",
    "Latest headlines",
    "People are also reading",
    "Read more:",
    "Related Stories",
]
MARKERS = ["- ", "• ", "* ", "▪ ", "» ", "", "", "→ "]


def _related_block(rng: random.Random) -> list[tuple[str, str, str]]:
    marker = rng.choice(MARKERS)
    numbered = rng.random() < 0.15
    lines = [(rng.choice(RELATED_HEADERS), BOILERPLATE, "related_header")]
    for position in range(rng.randint(2, 5)):
        prefix = f"{position + 1}. " if numbered else marker
        lines.append((prefix + _headline(rng), BOILERPLATE, "related_item"))
    return lines


def _bare_headlines(rng: random.Random) -> list[tuple[str, str, str]]:
    """A list of other stories with no header at all."""
    marker = rng.choice(["- ", "• ", "▪ "])
    return [
        (marker + _headline(rng), BOILERPLATE, "headline_item") for _ in range(rng.randint(2, 4))
    ]


SUBSCRIPTION = [
    "Get our free morning briefing delivered to your inbox every weekday",
    "Sign up here",
    "Enjoying this story? Become a member for unlimited reading.",
    "Support independent reporting. Donate today",
    "You have read 3 of 5 free articles this month.",
    "Already registered? Log in",
    "Unlock full access for $1 a week",
    "Subscribe to our weekly climate newsletter",
    "Want more stories like this? Join 40,000 readers who get our evening email.",
    "Create a free account to keep reading",
]
ADVERTS = [
    "Advertisement",
    "ADVERTISEMENT",
    "Ad",
    "Sponsored content",
    "Story continues below",
    "Scroll to continue with content",
    "Advertisement - scroll to continue",
]
SHARES = [
    "Share this article",
    "Share on Facebook",
    "Facebook Twitter LinkedIn Email",
    "Share via WhatsApp",
    "Copy link",
    "Send to a friend",
    "Tweet this",
    "Share | Email | Print",
]
AGENCIES = ["Reuters", "AFP via Getty Images", "AP Photo", "EPA-EFE", "Bloomberg", "Xinhua"]


def _caption(rng: random.Random) -> list[tuple[str, str, str]]:
    person, place = rng.choice(PEOPLE), rng.choice(PLACES)
    scene = rng.choice(
        [
            f"Demonstrators gather outside the council building in {place} {rng.choice(DAYS)}.",
            f"{person} speaks to journalists in {place}.",
            f"Workers inspect the damaged pier in {place}.",
        ]
    )
    photographer = rng.choice(PEOPLE)
    agency = rng.choice(AGENCIES)
    style = rng.randrange(3)
    if style == 0:
        return [(f"{scene} {photographer}/{agency}", BOILERPLATE, "caption")]
    if style == 1:
        return [(f"{scene} (Photo: {photographer}/{agency})", BOILERPLATE, "caption")]
    return [
        (scene, BOILERPLATE, "caption"),
        (f"Photo: {photographer} / {agency}", BOILERPLATE, "credit"),
    ]


def _byline(rng: random.Random) -> list[tuple[str, str, str]]:
    person, other = rng.choice(PEOPLE), rng.choice(PEOPLE)
    day, hour, minute = rng.randint(1, 28), rng.randint(1, 12), rng.randrange(60)
    return [
        rng.choice(
            [
                (f"By {person}", BOILERPLATE, "byline"),
                (f"By {person} and {other}, {rng.choice(AGENCIES)}", BOILERPLATE, "byline"),
                (
                    f"Published {day} March 2024, {hour}:{minute:02} pm",
                    BOILERPLATE,
                    "dateline",
                ),
                (f"Updated {rng.randint(2, 11)} hours ago", BOILERPLATE, "dateline"),
            ]
        )
    ]


def _footer(rng: random.Random) -> list[tuple[str, str, str]]:
    return [
        rng.choice(
            [
                ("© 2024 The Harbour Courier. All rights reserved.", BOILERPLATE, "copyright"),
                ("Copyright 2023 Meridian Media Group", BOILERPLATE, "copyright"),
                ("(c) Northline News Ltd", BOILERPLATE, "copyright"),
            ]
        )
    ]


def _menu(rng: random.Random) -> list[tuple[str, str, str]]:
    if rng.random() < 0.5:
        trail = " > ".join(["Home", rng.choice(["World", "News", "Business"]), rng.choice(PLACES)])
        return [(trail, BOILERPLATE, "breadcrumb")]
    sections = ["World", "Politics", "Business", "Opinion", "Sport", "Culture", "Science", "Travel"]
    return [(section, BOILERPLATE, "menu") for section in rng.sample(sections, rng.randint(4, 7))]


# Reader comments.
HANDLES = [
    "mike_t",
    "Jane R.",
    "truthseeker77",
    "Old Harbour Hand",
    "pdx_reader",
    "Lou",
    "K. Osei",
    "skeptic_in_chief",
    "marta.v",
    "NorthernLights",
    "Bill from Ohio",
]
TIMES = [
    "3 hours ago",
    "2d",
    "Mar 4, 2024 at 9:12 am",
    "5 min ago",
    "1 day ago",
    "12/03/2024 18:40",
    "an hour ago",
    "June 2, 2024",
    "14:05",
]
ACTION_LINES = [
    "Reply",
    "Reply · Report",
    "Like (4)",
    "♥ 12",
    "Respond",
    "👍 3 👎 1",
    "Reply 7 Likes",
]
COMMENT_HEADERS = [
    "Comments",
    "12 Comments",
    "Join the conversation",
    "Reader reactions",
    "What you're saying",
    "Discussion (8)",
    "Have your say",
    "Your views",
    "Talk back",
]


def _comment_text(rng: random.Random) -> str:
    topic, place = rng.choice(TOPICS), rng.choice(PLACES)
    parts = [
        f"I can't believe they are still arguing about {topic}!",
        "You clearly didn't read past the headline.",
        f"This is exactly what I said would happen in {place}",
        "lol as if that will ever work",
        "Who cares what they think?",
        "Great piece, thanks for writing it.",
        f"My uncle lived in {place} for twenty years and he says otherwise.",
        "Totally agree with you",
        "Nonsense.",
        "Wake up people!!!",
        f"Same old story with {topic}, nothing ever changes",
        "Do your research before posting.",
        "I've been saying this for years.",
        "Ha, good luck with that.",
        f"Anyone who has driven through {place} knows the roads are a disgrace.",
        "Well said.",
        "You're missing the point entirely",
        f"Where was all this concern about {topic} last year?",
    ]
    return " ".join(rng.sample(parts, rng.randint(1, 3)))


def _comments(rng: random.Random) -> list[tuple[str, str, str]]:
    style = rng.choice(["meta", "meta", "inline_meta", "numbered", "plain", "header_plain"])
    lines: list[tuple[str, str, str]] = []
    if style in ("meta", "inline_meta", "header_plain") or rng.random() < 0.3:
        lines.append((rng.choice(COMMENT_HEADERS), COMMENTS, "comment_header"))
    for number in range(1, rng.randint(2, 6) + 1):
        handle, time = rng.choice(HANDLES), rng.choice(TIMES)
        if style == "meta":
            lines.append((handle, COMMENTS, "comment_meta"))
            lines.append((time, COMMENTS, "comment_meta"))
        elif style == "inline_meta":
            lines.append((f"{handle} · {time}", COMMENTS, "comment_meta"))
        text = _comment_text(rng)
        if style == "numbered":
            text = f"{number}. {text}"
        lines.append((text, COMMENTS, "comment"))
        if style == "numbered" and rng.random() < 0.4:
            lines.append(("    " + _comment_text(rng), COMMENTS, "comment"))
        if style in ("meta", "inline_meta") and rng.random() < 0.7:
            lines.append((rng.choice(ACTION_LINES), COMMENTS, "comment_meta"))
    return lines


def generate_article(
    rng: random.Random, *, furniture: bool = True, comments: bool = True
) -> GeneratedArticle:
    """One article: title, prose paragraphs, furniture between them, maybe comments after."""
    blocks: list[list[tuple[str, str, str]]] = []
    for _ in range(rng.randint(5, 12)):
        paragraph = " ".join(_body_sentence(rng) for _ in range(rng.randint(1, 4)))
        blocks.append([(paragraph, BODY, "body")])
    if furniture:
        makers = [_related_block, _bare_headlines, _caption, _subscription, _advert, _share]
        for _ in range(rng.randint(1, 4)):
            blocks.insert(rng.randint(1, len(blocks)), rng.choice(makers)(rng))
        if rng.random() < 0.5:
            blocks.insert(0, _byline(rng))
        if rng.random() < 0.2:
            blocks.insert(0, _menu(rng))
    blocks.insert(0, [(_title(rng), BODY, "title")])
    if comments and rng.random() < 0.6:
        blocks.append(_comments(rng))
    if furniture and rng.random() < 0.3:
        blocks.append(_footer(rng))
    return _assemble(blocks, rng)


def _subscription(rng: random.Random) -> list[tuple[str, str, str]]:
    return [
        (line, BOILERPLATE, "subscription") for line in rng.sample(SUBSCRIPTION, rng.randint(1, 2))
    ]


def _advert(rng: random.Random) -> list[tuple[str, str, str]]:
    return [(rng.choice(ADVERTS), BOILERPLATE, "advert")]


def _share(rng: random.Random) -> list[tuple[str, str, str]]:
    return [(rng.choice(SHARES), BOILERPLATE, "share")]


def _assemble(blocks: list[list[tuple[str, str, str]]], rng: random.Random) -> GeneratedArticle:
    """Join blocks with blank lines (or, on some pages, single line breaks) and label."""
    blank = rng.random() < 0.7
    pieces: list[str] = []
    labels: list[tuple[int, int, str, str]] = []  # line start, end, zone, kind
    position = 0
    for block_index, block in enumerate(blocks):
        for line_index, (line, zone, kind) in enumerate(block):
            if block_index or line_index:
                separator = "\n\n" if blank and line_index == 0 else "\n"
                pieces.append(separator)
                position += len(separator)
            pieces.append(line)
            labels.append((position, position + len(line), zone, kind))
            position += len(line)
    text = "".join(pieces) + "\n"
    sentences = split_sentences(text)
    zones, kinds = [], []
    index = 0
    for span in sentences:
        while labels[index][1] <= span.start:
            index += 1
        zones.append(labels[index][2])
        kinds.append(labels[index][3])
    return GeneratedArticle(text, sentences, zones, kinds)
