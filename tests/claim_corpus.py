"""Generated labelled corpora for the model-assistance tests and bench: news-like sentences whose
claim type shows in their wording, grouped into articles.

The five samples are too small to learn from, so these corpora are built here. Every sentence is
news prose of realistic length (about 20-30 words, 130-200 characters) made of a frame clause, a
filler clause and, when the corpus has signal, a cue phrase typical of its label: figures and
sources for factual claims, evaluative verbs for opinions, informal address for reader comments,
questions, headings and prompts for "not a claim". `signal` is the share of sentences whose cue
comes from their own label; the others take the cue of a random label, so `signal=0` gives a
corpus whose labels are independent of the text (the model must not beat the baselines there).
Reader comments sit near the end of an article and mostly in the "comments" zone when the corpus
has signal, which is what the zone and position features can learn.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

CLASS_NAMES = ("factual_claim", "opinion", "user_comment", "not_a_claim")
FACTUAL, OPINION, COMMENT, NOT_A_CLAIM = range(4)
DEFAULT_SHARES = (0.4, 0.3, 0.12, 0.18)


@dataclass(frozen=True)
class GeneratedCorpus:
    texts: list[str]
    groups: list[str]  # article key per sentence
    labels: list[int]  # index into CLASS_NAMES
    zones: list[str]
    positions: list[float]  # relative position in the article, 0 first .. 1 last
    class_names: tuple[str, ...] = CLASS_NAMES


PEOPLE = [
    "Ana Ruiz",
    "Tomas Brandt",
    "Mei Lin",
    "Kwame Mensah",
    "Priya Natarajan",
    "Olek Nowak",
    "Sarah O'Connell",
    "Jamal Haddad",
    "Ingrid Solberg",
    "Diego Paredes",
    "Yuki Tanaka",
    "Farah Siddiqui",
    "Lucas Moreau",
    "Aroha Ngata",
]
ROLES = [
    "the finance minister",
    "the city's mayor",
    "a senior diplomat",
    "the company's chief executive",
    "an economist at a regional bank",
    "the opposition leader",
    "a police spokesman",
    "the union's negotiator",
    "a climate researcher",
    "the health ministry",
    "the transport authority",
    "a court official",
]
PLACES = [
    "Lagos",
    "Rotterdam",
    "Busan",
    "Quito",
    "Gdansk",
    "Nairobi",
    "Osaka",
    "Porto",
    "Tbilisi",
    "Winnipeg",
    "Chennai",
    "Hobart",
    "Valparaiso",
    "Tallinn",
]
TOPICS = [
    "the port expansion",
    "fuel subsidies",
    "the new rail line",
    "water rationing",
    "the border agreement",
    "teacher salaries",
    "the wind farm tender",
    "housing permits",
    "the fishing quota",
    "hospital waiting lists",
    "the pension reform",
    "the airport runway",
    "school closures",
    "the minimum wage",
    "the mining licence",
    "bus fares",
]
DAYS = [
    "on Monday",
    "on Tuesday",
    "late on Wednesday",
    "on Thursday",
    "on Friday",
    "last week",
    "over the weekend",
    "earlier this month",
]
FILLERS = [
    "as talks between the regional government and local businesses dragged into a third week",
    "while residents queued outside the council offices for information about the changes",
    "after a series of public meetings that drew hundreds of people from surrounding districts",
    "amid growing pressure from lawmakers who want the budget debated before the summer recess",
    "ahead of a vote that could reshape spending priorities for the next five years",
    "during a visit to the northern districts where construction has been stalled since spring",
    "in a statement that was later circulated to journalists and trade associations",
    "as the central bank weighed another change to interest rates later in the quarter",
    "following an audit of contracts signed under the previous administration",
    "while engineers continued inspections of the bridges and tunnels along the route",
    "as shipping companies warned of delays affecting exporters across the region",
    "after the weather service issued warnings for heavy rain along the coast",
]

# Cue phrases by label: what makes a sentence of that claim type recognisable.
CUES: dict[int, list[str]] = {
    FACTUAL: [
        "according to figures published by the statistics office, costs rose {n} percent",
        "official data show {n},000 households were affected in the first quarter",
        "the report found that spending fell by {n} million dollars compared with last year",
        "records released under freedom of information rules show {n} contracts were awarded",
        "the census counted {n},000 residents in the district, up from the previous survey",
        "budget documents confirm the project has received {n} million euros so far",
        "the agency recorded {n} incidents during the period, its annual review states",
    ],
    OPINION: [
        "this is frankly a disgraceful waste that should never have been approved",
        "the government must abandon this reckless plan before it does more damage",
        "in my view the decision is short-sighted and deeply unfair to young families",
        "it is clear the ministers have failed and ought to apologise",
        "nobody should pretend this shameful policy is anything but a betrayal",
        "the council should be ashamed of such a cynical and misguided choice",
        "we believe the reform is wrong and the public deserves far better leadership",
    ],
    COMMENT: [
        "lol you guys seriously believe this stuff smh",
        "totally agree with u, this made my day haha",
        "omg who even writes this rubbish, cant believe it",
        "first!! great read thanks for sharing mate",
        "ur kidding right?? my uncle works there and says otherwise lmao",
        "so true!!! been saying this for years, nobody listens",
        "yeah right, like anyone upstairs cares about us lol",
    ],
    NOT_A_CLAIM: [
        "click here to read the full timeline of events and watch the video",
        "what happens next remains to be seen, and will the vote go ahead?",
        "sign up for our newsletter to get updates on this story",
        "photo: a view of the harbour at dawn, taken from the ferry terminal",
        "reporting by the regional desk with additional reporting from our correspondents",
        "who will pay for it and when will the work begin?",
        "this article has been updated with a response from the ministry",
    ],
}


def _frame(rng: random.Random) -> str:
    person, role, place = rng.choice(PEOPLE), rng.choice(ROLES), rng.choice(PLACES)
    topic, day = rng.choice(TOPICS), rng.choice(DAYS)
    return rng.choice(
        [
            f"{person}, {role}, spoke about {topic} {day}",
            f"In {place}, {role} discussed {topic} {day}",
            f"Speaking in {place} {day}, {person} addressed {topic}",
            f"The debate over {topic} in {place} continued {day}",
            f"{role.capitalize()} commented on {topic} {day}",
        ]
    )


def _cue(rng: random.Random, label: int) -> str:
    return rng.choice(CUES[label]).format(n=rng.randint(2, 950))


SYLLABLES = ("ka", "lo", "mi", "ren", "sta", "vo", "qui", "dar", "bel", "tus", "nor", "fi")
SYLLABLES += ("gan", "hel", "ost", "pra", "zu", "win", "del", "mar", "eko", "sil", "tam", "bri")


def rare_word(rng: random.Random, vocabulary: int) -> str:
    """A made-up place name, drawn Zipf-like from `vocabulary` names: real text keeps meeting
    words it has never seen, which is what makes a hashed model's vocabulary large."""
    base = len(SYLLABLES)
    index = base + int(vocabulary ** rng.random())  # log-uniform: rank r drawn ~ 1/r, Zipf's law
    syllables = [SYLLABLES[index % base]]
    while index >= base:
        index //= base
        syllables.append(SYLLABLES[index % base])
    return "".join(syllables).capitalize()


def make_sentence(rng: random.Random, cue_label: int | None, rare_words: int = 0) -> str:
    """A news-like sentence carrying the cue of `cue_label` (none when None)."""
    parts = [_frame(rng)]
    if rare_words:
        parts[0] += f" in the {rare_word(rng, rare_words)} district"
    if rng.random() < 0.35:
        parts.append(rng.choice(FILLERS))
    if cue_label is not None:
        cue = _cue(rng, cue_label)
        if rng.random() < 0.5:
            parts.append(cue)
        else:
            parts.insert(0, cue)
    sentence = ", ".join(parts)
    return sentence[0].upper() + sentence[1:] + ("?" if cue_label == NOT_A_CLAIM else ".")


def generate_corpus(
    *,
    n_articles: int,
    sentences_per_article: tuple[int, int] = (20, 40),
    signal: float = 0.85,
    shares: tuple[float, ...] = DEFAULT_SHARES,
    rare_words: int = 0,
    seed: int = 0,
) -> GeneratedCorpus:
    """`n_articles` articles of labelled sentences; see the module docstring for `signal`.
    With `rare_words`, every sentence also names one of that many made-up districts."""
    rng = random.Random(seed)
    texts: list[str] = []
    groups: list[str] = []
    labels: list[int] = []
    zones: list[str] = []
    positions: list[float] = []
    classes = list(range(len(CLASS_NAMES)))
    for article in range(n_articles):
        size = rng.randint(*sentences_per_article)
        article_labels = rng.choices(classes, weights=shares, k=size)
        if signal > 0:
            # Reader comments come after the article: sort them to the end.
            article_labels.sort(key=lambda label: label == COMMENT)
        for index, label in enumerate(article_labels):
            cue_label = label if rng.random() < signal else rng.choice(classes)
            texts.append(make_sentence(rng, cue_label, rare_words))
            groups.append(f"article-{article}")
            labels.append(label)
            if signal > 0:
                commented = label == COMMENT and rng.random() < signal
            else:
                commented = rng.random() < shares[COMMENT]
            zones.append("comments" if commented else "body")
            positions.append(index / max(size - 1, 1))
    return GeneratedCorpus(texts, groups, labels, zones, positions)
