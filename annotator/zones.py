"""Suggest a zone for every sentence of an article: body, boilerplate or reader comments.

Pure computation: article text and its sentence spans in, one `ZoneSuggestion` per sentence
out, no Django. Scraped pages carry site furniture ("Recommended Stories" and the headlines
listed under it, subscription blurbs, "Advertisement", share prompts, bylines, photo captions
and credits, copyright lines, navigation) and often a run of reader comments after the
article. The importer stores these suggestions; a manager confirms or corrects them.

API::

    suggest_zones(text: str, sentences: Sequence[Span]) -> list[ZoneSuggestion]

`sentences` are the spans `annotator.segmentation` produces (anything with `start`, `end`
and `paragraph`), in reading order and not overlapping. The answer has one
`ZoneSuggestion(zone, rule)` per span, in the same order: `zone` is one of `ZONES` and `rule`
names the rule that decided it (a key of `RULES`, which also holds a one-line description
for people); `"body"` when no rule fired. `ZONE_RULES_VERSION` changes whenever a change
here can move a sentence to another zone, so stored zones can say which rules produced them.

How it decides. Segmentation ends a sentence at every line break, so page furniture arrives
as lines of its own; the rules therefore look at lines (the sentences between two line
breaks) and their shape: length, bullet or number markers, final punctuation, Title Case or
CAPITALS, repetition, the paragraph a line sits in, position after the article's prose,
plus a few header words kept in the one table `KEYWORDS`. Three passes:

1. Each line on its own: advertisement, share prompt, subscription blurb, copyright,
   byline or dateline, photo credit, tag list, breadcrumb, headline in capitals inside the
   article, furniture header ("Related", "Read more: ..."), comments header. Comment
   metadata (a timestamp, or nothing but "Reply"/"Like"-style actions and counts) is noted.
2. Runs of lines: the list under a furniture header, bullet or numbered lists of
   headlines, runs of three or more headlines without full stops, runs of one- to
   three-word lines (menus), the short header above such a list even when its words are
   unknown ("More coverage"), repeated short lines, and the caption above a credit. A list
   introduced by a line ending in ":" is the article's own; the first line (the title)
   never starts a run.
3. Comments, which only ever follow the article's prose: a comments header, a cluster of
   comment metadata, a numbered run 1, 2, 3... of posts that ends the text (WordPress lists
   comments that way), or failing those a tail of lines written by readers ("I", "you",
   "!", slang, doubled words, outside quotation marks) after impersonal prose. The short
   line heading them joins them ("Have your say"). Inside comments the furniture rules that
   name what a line is keep it as boilerplate; the shape rules yield to the comments.

Last, metadata outside any comments is the page's (a dateline), and a short line of
sentences ending in a credit ("... on Monday. Jane Doe/Reuters") is a caption.

The pronoun and slang lists are English; everything else rests on shape and works for any
script (CJK and Arabic text ends sentences with its own stops and is never Title Case).
Work is linear in the text: every line is examined a bounded number of times, each regex is
bounded and free of nested quantifiers, lines over 400 characters skip the rules only short
lines can meet, and the voice of a line is read from at most its first 2,000 characters.
`suggest_zones(..., work=Counter())` counts rule evaluations and characters scanned.
"""

from __future__ import annotations

import operator
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

ZONE_RULES_VERSION = "1"

Zone = Literal["body", "boilerplate", "comments"]
BODY: Zone = "body"
BOILERPLATE: Zone = "boilerplate"
COMMENTS: Zone = "comments"
ZONES: tuple[Zone, ...] = (BODY, BOILERPLATE, COMMENTS)


class Span(Protocol):
    """A sentence: `text[start:end]`, in paragraph `paragraph` (blank-line separated, from 0)."""

    @property
    def start(self) -> int: ...

    @property
    def end(self) -> int: ...

    @property
    def paragraph(self) -> int: ...


@dataclass(frozen=True, slots=True)
class ZoneSuggestion:
    zone: Zone
    rule: str


# rule -> (zone, what it means); the manager console shows the description.
RULES: dict[str, tuple[Zone, str]] = {
    "body": (BODY, "no furniture or comment rule matched"),
    "advertisement": (BOILERPLATE, "an advertisement marker line"),
    "share_prompt": (BOILERPLATE, "a share prompt or list of social networks"),
    "subscription": (BOILERPLATE, "a subscription, newsletter or log-in blurb"),
    "copyright": (BOILERPLATE, "a copyright line"),
    "byline": (BOILERPLATE, "a byline or publication date line"),
    "photo_credit": (BOILERPLATE, "a photo credit"),
    "caption": (BOILERPLATE, "a photo caption (its line ends in a credit)"),
    "tag_list": (BOILERPLATE, "a comma-separated list of tags"),
    "breadcrumb": (BOILERPLATE, "navigation: items joined by > / | separators"),
    "caps_headline": (BOILERPLATE, "a headline in capitals inside the article (a link)"),
    "furniture_header": (BOILERPLATE, "a header such as Recommended, Related, Read more"),
    "after_header": (BOILERPLATE, "list item under a furniture header"),
    "headline_list": (BOILERPLATE, "bullet or numbered list of headlines (no full stops)"),
    "headline_run": (BOILERPLATE, "run of three or more headlines without full stops"),
    "list_header": (BOILERPLATE, "the short line heading a list of headlines"),
    "menu_run": (BOILERPLATE, "run of one- to three-word lines (navigation)"),
    "repeated_line": (BOILERPLATE, "a short line that occurs more than once"),
    "comment_link": (BOILERPLATE, "a comments link before the article's prose"),
    "page_meta": (BOILERPLATE, "a date, time or Like/Share line outside the comments"),
    "comments_header": (COMMENTS, "a comments header"),
    "after_comments_header": (COMMENTS, "after a comments header"),
    "comment_meta": (COMMENTS, "comment metadata: user, timestamp, Reply/Like"),
    "comment_thread": (COMMENTS, "in a thread of comments with metadata"),
    "numbered_posts": (COMMENTS, "numbered run of first-person posts after the article"),
    "informal_tail": (COMMENTS, "tail of posts addressed to readers after the article"),
}


def _table(entries: str) -> frozenset[str]:
    """Entries separated by "|" or line breaks."""
    return frozenset(entry.strip() for entry in entries.replace("\n", "|").split("|")) - {""}


# Every word list the rules use. Entries are compared after `_normalise` (lower case,
# apostrophes straightened, punctuation dropped), and only on short lines: the rules decide
# from the shape of the line, the words only name what kind of furniture it is.
KEYWORDS: dict[str, frozenset[str]] = {
    # A short line that is, or starts with, one of these heads a block of furniture.
    "furniture_header": _table(
        """
        recommended | recommended stories | recommended for you | recommended articles
        related | related stories | related articles | related coverage | related content
        related posts | related topics | read more | read next | read also | also read
        more stories | more news | more from | more on this | more on this story | more in
        editor's picks | editors picks | editor's pick | top stories | top news | most read
        most popular | most viewed | popular | popular stories | trending | trending now
        trending stories | you may also like | you might also like | you may like | see also
        don't miss | must read | latest news | latest stories | in other news | around the web
        from around the web | sponsored stories | promoted stories | further reading
        keep reading | watch | watch now | listen | explore more
        lesen sie auch | mehr zum thema | auch interessant | à lire aussi | lire aussi
        voir aussi | sur le même sujet | leer más | lee también | te puede interesar
        noticias relacionadas | leia também | leggi anche | potrebbe interessarti
        читайте также | 相关阅读 | 推荐阅读 | 相关新闻 | 関連記事 | 관련기사 | اقرأ أيضا
        """
    ),
    # The whole line is one of these.
    "advertisement": _table(
        """
        advertisement | advertisements | advertisment | advertising | ad | ads | sponsored
        sponsored content | paid content | paid post | partner content | story continues below
        story continues below advertisement | article continues below | continue reading below
        continue reading | anzeige | werbung | publicité | publicidad | pubblicità | реклама
        广告 | 広告 | 광고 | إعلان
        """
    ),
    # Words of share bars: a short line mostly made of them is a share prompt.
    "share_network": _table(
        """
        facebook | twitter | x | linkedin | whatsapp | reddit | pinterest | telegram | email
        e mail | mail | print | messenger | flipboard | threads | bluesky | mastodon | tumblr
        copy | link | sms | weibo | wechat | vk | line | share | tweet | pin
        """
    ),
    # A very short line starting with one of these is a share prompt.
    "share_verb": _table(
        """
        share | tweet | email | print | copy link | follow us | click to share | teilen
        partager | compartir | condividi
        """
    ),
    # Phrases (whole words) of subscription and account blurbs.
    "subscription": _table(
        """
        subscribe | subscribed | subscription | subscriptions | subscriber | subscribers
        newsletter | newsletters | sign up | signup | unlimited access | ad free
        delivered to your | log in | login | sign in | create an account
        create a free account | free trial | already a subscriber | per month | a month
        abonnieren | abonnement | abonnez vous | s'abonner | suscríbete | suscripción
        abbonati | assine
        """
    ),
    # A line starting with one of these verbs speaks to the reader (an imperative).
    "reader_verb": _table(
        """
        subscribe | sign | join | get | try | start | register | download | click | become
        support | log | create | unlock | enjoy | read | follow | don't
        """
    ),
    "copyright": _table(
        """
        copyright | all rights reserved | tous droits réservés | alle rechte vorbehalten
        todos los derechos reservados | tutti i diritti riservati
        """
    ),
    # A short line starting with one of these is a byline or a publication date.
    "byline": _table(
        """
        by | posted by | written by | words by | reporting by | story by | von | par | por
        di | auteur | published | updated | last updated | posted | posted on | published on
        updated on | veröffentlicht | aktualisiert | publié | mis à jour | publicado
        actualizado | pubblicato
        """
    ),
    # Words that mark a photo credit.
    "credit": _table(
        """
        photo | photos | photograph | photographer | image | images | picture | pictures
        credit | credits | getty | reuters | afp | ap | epa | shutterstock | illustration
        file | via | foto | bild | courtesy | handout | pool | xinhua | anadolu | efe | dpa
        ansa
        """
    ),
    # Headers of a comment section; counts around them ("12 Comments") are dropped first.
    "comments_header": _table(
        """
        comments | comment | reader comments | readers comments | user comments
        your comments | leave a comment | leave a reply | post a comment | add a comment
        add comment | write a comment | join the conversation | join the discussion
        discussion | responses | replies | show comments | view comments | load comments
        see comments | read comments | conversation | what readers say | kommentare
        kommentar | commentaires | commentaire | comentarios | comentários | commenti
        reacties | komentarze | комментарии | 评论 | 留言 | コメント | 댓글 | التعليقات | תגובות
        """
    ),
    # A line made of nothing but these (and numbers, symbols) is comment metadata.
    "comment_action": _table(
        """
        reply | replies | like | likes | liked | unlike | dislike | dislikes | report | flag
        share | upvote | upvotes | downvote | downvotes | vote | votes | points | point | edit
        edited | delete | permalink | quote | respond | reply to | view replies | hide replies
        show replies | more replies | load more | show more | see more | collapse | expand
        reactions | reaction | abuse | report abuse | antworten | répondre | responder
        rispondi | ответить | 回复 | 返信 | 답글
        """
    ),
    "first_person": _table("i | i'm | i've | i'd | i'll | im | ive | me | my | mine | myself"),
    "second_person": _table(
        """
        you | your | yours | you're | youre | you've | you'll | you'd | yourself | yourselves
        u | ur | ya | y'all
        """
    ),
    "slang": _table(
        """
        lol | lmao | rofl | imo | imho | smh | btw | ty | thx | omg | wtf | idk | tbh | fyi
        pls | plz | haha | hahaha | yep | nope | yeah | gonna | wanna | gotta | dunno
        """
    ),
    # Reporting verbs: a line that attributes a quotation is the article's, not a reader's.
    "attribution": _table(
        """
        said | says | told | according | reported | reports | announced | stated | added
        explained | wrote | noted | insisted | warned | declared
        """
    ),
    # Words left in lower case in Title Case headlines.
    "minor_word": _table(
        """
        a | an | the | of | in | on | at | to | for | and | or | but | nor | with | by | from
        as | vs | via | into | over | up | is | de | la | le | el | der | die | das | und
        """
    ),
    # Words that happen to be doubled in correct English ("that that", "had had").
    "legit_double": _table("that | had | is | do | very | so | no | bye | ha | knock | tut | yes"),
}


def _phrase_re(table: frozenset[str]) -> re.Pattern[str]:
    """Finds any entry as whole words of a normalised key, in one pass."""
    alternatives = "|".join(re.escape(entry) for entry in sorted(table, key=len, reverse=True))
    return re.compile(f"(?:^| )(?:{alternatives})(?= |$)")


_SUBSCRIPTION_RE = _phrase_re(KEYWORDS["subscription"])
_COPYRIGHT_RE = _phrase_re(KEYWORDS["copyright"])

# Lines longer than this are never furniture or metadata; shape rules skip them.
_SHORT_CHARS = 400
# Informal-voice features look at no more than this much of a line.
_VOICE_CHARS = 2000
_LONG = 10**9  # the word count recorded for a line too long to count
_MOST_WORDS = 30  # no line rule takes a line of more words

_LINE_BREAK_RE = re.compile(r"[\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]")
_CLOSERS = "”’\"')]}»›*_"
_STOPS = ".。．｡"
_MARKS = "!?！？…؟‼⁇⁈⁉"
_BULLET_RE = re.compile(r"(?:[-*•·‣◦▪▫■□●○▸►▹→⇒➤➢✓✔☐–—+>]|\(?(\d{1,3})[.)])\s")
_CJK_RE = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af]")
_WORD_RE = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")
_KEY_DROP_RE = re.compile(r"[^\w' ]+")
_QUOTE_RE = re.compile(r"[“”\"«»„]")
_BREADCRUMB_SEPARATOR_RE = re.compile(r"\s(?:>|»|›|/|\||::|→)\s")
_RELATIVE_TIME_RE = re.compile(
    r"\b(?:\d{1,3}|an?|one) ?(?:s|secs?|seconds?|m|mins?|minutes?|h|hrs?|hours?|d|days?|w|wks?"
    r"|weeks?|mo|mos|months?|y|yrs?|years?) ago\b|\bjust now\b|\byesterday\b"
    r"|^\d{1,2} ?[mhdwy]$",
    re.IGNORECASE,
)
_CLOCK_RE = re.compile(r"\b\d{1,2}:\d{2}\b")
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]{0,6}\.?"
_DATE_RE = re.compile(
    r"\b\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4}\b"
    rf"|\b{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{4}}\b"
    rf"|\b\d{{1,2}}(?:st|nd|rd|th)? {_MONTH},? \d{{4}}\b",
    re.IGNORECASE,
)
_YEAR_RE = re.compile(r"\b(?:19|20)\d{2}\b")
_PRICE_RE = re.compile(
    r"[$€£¥₹]\s?\d{1,4}(?:[.,]\d{2})?\s?(?:a|an|per|/)\s?(?:day|week|wk|month|mo|year|yr)\b",
    re.IGNORECASE,
)


@dataclass(slots=True)
class _Line:
    """The sentences between two line breaks, and what the rules learnt about them."""

    first: int  # index of its first sentence
    stop: int  # one past its last sentence
    text: str  # from its first sentence's start to its last sentence's end
    paragraph: int
    words: int = _LONG
    bullet: bool = False
    number: int | None = None
    ending: str = ""  # "stop", "mark", "colon", "comma" or "none"
    key: str = ""  # normalised text, short lines only
    tokens: list[str] = field(default_factory=list)  # the words of `key`
    title_case: bool = False
    capitals: bool = False
    prose: bool = False
    meta: bool = False  # comment metadata
    zone: Zone = BODY
    rule: str = "body"
    voice: _Voice | None = None  # read on demand: few lines ever need it

    def read_voice(self) -> _Voice:
        if self.voice is None:
            self.voice = _read_voice(self.text[:_VOICE_CHARS])
        return self.voice

    @property
    def informal(self) -> bool:
        """Speaks like a reader: "I", "you", "!", slang or a doubled word, and no reporting."""
        return self.read_voice().informal

    @property
    def personal(self) -> bool:
        """Speaks as "I" or to "you" outside quotation marks."""
        return self.read_voice().personal

    @property
    def quoting(self) -> bool:
        """Attributes a quotation ("...," she said)."""
        return self.read_voice().quoting


@dataclass(frozen=True, slots=True)
class _Voice:
    informal: bool
    personal: bool
    quoting: bool
    chars: int  # characters read


def suggest_zones(
    text: str, sentences: Sequence[Span], *, work: Counter[str] | None = None
) -> list[ZoneSuggestion]:
    """One zone suggestion per sentence, in order; see the module docstring.

    Raises ValueError naming the sentence when a span lies outside `text`, is empty or
    overlaps the one before it. `work`, if given, receives counts of rule evaluations
    ("rules") and of characters the rules scanned ("chars").
    """
    tally: Counter[str] = Counter()
    lines = _split_lines(text, sentences)
    for line in lines:
        _describe(line, tally)
    _mark_furniture_lines(lines, tally)
    _mark_furniture_runs(lines, tally)
    _mark_comments(lines, tally)
    for line in lines:
        if line.meta and line.zone == BODY:
            # A date or "Share"/"Like" line outside any comments: the page's own.
            line.zone, line.rule = BOILERPLATE, "page_meta"
    suggestions = []
    for line in lines:
        if line.voice is not None:
            tally["chars"] += line.voice.chars
        suggestion = ZoneSuggestion(line.zone, line.rule)
        suggestions += [suggestion] * (line.stop - line.first)
        if line.zone == BODY and line.stop - line.first > 1:
            _mark_caption(text, sentences, line, suggestions, tally)
    if work is not None:
        work.update(tally)
    return suggestions


# --- lines and their shape ------------------------------------------------------------------


def _split_lines(text: str, sentences: Sequence[Span]) -> list[_Line]:
    """Group the sentences by line; linear: only the gaps between sentences are searched."""
    lines: list[_Line] = []
    previous_end = 0
    line_first = 0
    line_start = 0
    for index, span in enumerate(sentences):
        start, end = span.start, span.end
        if not 0 <= start < end <= len(text) or start < previous_end:
            raise ValueError(
                f"sentence {index}: span {start}..{end} is empty, outside the text "
                f"(length {len(text)}) or overlaps the sentence before it"
            )
        # Gaps are mostly one space; each is read once, so the whole walk is linear.
        gap = text[previous_end:start]
        breaks = gap != " " and _LINE_BREAK_RE.search(gap) is not None
        if index and breaks:
            lines.append(_new_line(text, sentences, line_first, index, line_start))
        if index == 0 or breaks:
            line_first = index
            line_start = start
        previous_end = end
    if sentences:
        lines.append(_new_line(text, sentences, line_first, len(sentences), line_start))
    return lines


def _new_line(text: str, sentences: Sequence[Span], first: int, stop: int, start: int) -> _Line:
    return _Line(
        first=first,
        stop=stop,
        text=text[start : sentences[stop - 1].end],
        paragraph=sentences[first].paragraph,
    )


def _describe(line: _Line, tally: Counter[str]) -> None:
    """Fill in the shape features of one line; every regex here runs once per line."""
    text = line.text
    tally["rules"] += 1
    line.ending = _ending(text)
    marker = _BULLET_RE.match(text)
    if marker:
        line.bullet = marker.group(1) is None
        line.number = int(marker.group(1)) if marker.group(1) else None
    if len(text) > _SHORT_CHARS:
        line.prose = True
        return
    tally["chars"] += 2 * len(text)
    body = text[marker.end() :] if marker else text
    words = body.split()
    line.words = len(words) + (len(_CJK_RE.findall(body)) if _CJK_RE.search(body) else 0)
    line.prose = line.words >= 8 and line.ending in ("stop", "mark")
    if line.ending == "stop" and line.words > _MOST_WORDS:
        return  # a sentence of prose: no furniture or metadata rule can take it
    tally["chars"] += 2 * len(text)
    line.key = _normalise(body)
    line.tokens = line.key.split()
    if line.ending in ("none", "mark"):
        major = [word for word in words if word.lower() not in KEYWORDS["minor_word"]]
        cased = [word for word in major if word[:1].lower() != word[:1].upper()]
        upper_initials = sum(1 for word in cased if word[0].isupper())
        line.title_case = len(cased) >= 2 and upper_initials >= 0.8 * len(cased)
    if line.words >= 6 and line.ending != "stop" and not body.islower():
        uppers = sum(map(str.isupper, body))
        line.capitals = uppers >= 12 and sum(map(str.islower, body)) * 10 <= uppers
    line.meta = _is_comment_meta(line, body)


def _ending(text: str) -> str:
    last = text.rstrip(_CLOSERS + " \t")[-1:]
    if not last:
        return "none"
    if last in _STOPS:
        return "stop"
    if last in _MARKS:
        return "mark"
    if last in ":：":
        return "colon"
    if last in ",;，；、":
        return "comma"
    return "none"


def _normalise(text: str) -> str:
    """Lower case, straight apostrophes, no punctuation, no counts at either end."""
    folded = text.casefold().replace("’", "'").replace("‘", "'")
    tokens = _KEY_DROP_RE.sub(" ", folded).replace(" '", " ").replace("' ", " ").split()
    while tokens and tokens[0].isdigit():
        tokens.pop(0)
    while tokens and tokens[-1].isdigit():
        tokens.pop()
    return " ".join(tokens)


def _read_voice(head: str) -> _Voice:
    """Whether a line speaks like a reader: first or second person, "!", slang, "be be"."""
    outside, quoted = _outside_quotes(head)
    tokens = [token.replace("’", "'") for token in _WORD_RE.findall(outside.casefold())]
    vocabulary = set(tokens)
    personal = bool(vocabulary & KEYWORDS["first_person"] or vocabulary & KEYWORDS["second_person"])
    doubled = any(map(operator.eq, tokens, tokens[1:])) and any(
        left == right and len(left) > 1 and left not in KEYWORDS["legit_double"]
        for left, right in zip(tokens, tokens[1:], strict=False)
    )
    quoting = quoted and bool(vocabulary & KEYWORDS["attribution"])
    informal = not quoting and (
        personal or doubled or "!" in outside or bool(vocabulary & KEYWORDS["slang"])
    )
    return _Voice(informal, personal, quoting, 3 * len(head))


def _outside_quotes(text: str) -> tuple[str, bool]:
    """The text with quotations cut out, and whether there were any; one pass."""
    pieces = []
    position = 0
    inside = False
    quoted = False
    for match in _QUOTE_RE.finditer(text):
        mark = match.group()
        opening = mark in "“«„" or (mark == '"' and not inside)
        if opening and not inside:
            pieces.append(text[position : match.start()])
            inside = quoted = True
        elif not opening and inside:
            inside = False
            position = match.end()
    if not inside:
        pieces.append(text[position:])
    return " ".join(pieces), quoted


def _is_comment_meta(line: _Line, body: str) -> bool:
    """A short line holding a timestamp, or only actions ("Reply", "Like"), counts, symbols."""
    if line.words > 12:
        return False
    if _RELATIVE_TIME_RE.search(body) or (
        line.words <= 10 and (_CLOCK_RE.search(body) or _DATE_RE.search(body))
    ):
        return line.ending != "stop" or body.casefold().endswith(("a.m.", "p.m."))
    tokens = [token for token in line.tokens if not token.isdigit()]
    if not tokens:
        return bool(body) and not any(character.isalpha() for character in body)
    return len(tokens) <= 6 and _all_in(tokens, KEYWORDS["comment_action"])


def _all_in(tokens: list[str], table: frozenset[str]) -> bool:
    """Whether the tokens can be read as a sequence of table entries of one or two words."""
    index = 0
    while index < len(tokens):
        if " ".join(tokens[index : index + 2]) in table:
            index += 2
        elif tokens[index] in table:
            index += 1
        else:
            return False
    return True


def _starts_with(line: _Line, table: frozenset[str]) -> str | None:
    """The longest entry of `table` that the first one to four words of the line spell."""
    tokens = line.tokens
    for count in range(min(len(tokens), 4), 0, -1):
        phrase = " ".join(tokens[:count])
        if phrase in table:
            return phrase
    return None


# --- pass 1: one line at a time -------------------------------------------------------------


def _mark_furniture_lines(lines: list[_Line], tally: Counter[str]) -> None:
    for index, line in enumerate(lines):
        if not line.key:
            continue
        for name, rule in _LINE_RULES:
            tally["rules"] += 1
            if rule(line, index):
                line.zone, line.rule = RULES[name][0], name
                break


def _is_advertisement(line: _Line, index: int) -> bool:
    if line.words > 8 or line.ending == "stop":
        return False
    # "Advertisement", or "Advertisement - scroll to continue".
    phrase = _starts_with(line, KEYWORDS["advertisement"])
    if phrase is None or phrase == line.key:
        return phrase is not None
    # "Ad free experience" is a subscription perk: only a long marker takes a tail.
    return len(phrase) >= 6 and line.words - len(phrase.split()) <= 4


def _is_comments_header(line: _Line, index: int) -> bool:
    if line.words > 6 or line.ending in ("stop", "comma"):
        return False
    key = line.key
    # "Comments (12)", "12 comments", "Show 12 comments": counts were dropped at the ends.
    return key in KEYWORDS["comments_header"] or (
        key.split(" ")[-1] in ("comments", "comment", "replies", "responses") and line.words <= 4
    )


def _is_copyright(line: _Line, index: int) -> bool:
    if line.words > _MOST_WORDS:
        return False
    if "©" in line.text or "(c) " in line.text.casefold()[:4]:
        return True
    return _COPYRIGHT_RE.search(line.key) is not None and bool(
        _YEAR_RE.search(line.text) or "reserved" in line.key or line.ending == "none"
    )


def _is_share_prompt(line: _Line, index: int) -> bool:
    if line.words > 10 or line.ending == "stop":
        return False
    tokens = line.tokens
    if not tokens:
        return False
    networks = sum(token in KEYWORDS["share_network"] for token in tokens)
    if networks >= 2 and networks * 2 >= len(tokens):
        return True
    return line.words <= 6 and _starts_with(line, KEYWORDS["share_verb"]) is not None


def _is_furniture_header(line: _Line, index: int) -> bool:
    if line.words > 10 or line.ending == "stop" or line.bullet:
        return False
    phrase = _starts_with(line, KEYWORDS["furniture_header"])
    if phrase is None:
        return False
    # "Related" alone, "Read more: <headline>", or a short "More from <site>".
    rest = line.key[len(phrase) :]
    return not rest or line.ending != "mark" and (":" in line.text or line.words <= 5)


def _is_subscription(line: _Line, index: int) -> bool:
    if line.words > _MOST_WORDS:
        return False
    first = line.tokens[0] if line.tokens else ""
    if _SUBSCRIPTION_RE.search(line.key) is None:
        # "Unlock full access for $1 a week", "Join today": an imperative to the reader
        # that is not a sentence of the article.
        return bool(_PRICE_RE.search(line.text)) or (
            line.words <= 12
            and first in KEYWORDS["reader_verb"]
            and (line.ending == "none" or line.personal)
        )
    # Speaks to the reader (you, an imperative) or is a bare label; "The paper lost
    # 5,000 subscribers last year." is the article's own sentence.
    return line.ending != "stop" or line.personal or first in KEYWORDS["reader_verb"]


def _is_byline(line: _Line, index: int) -> bool:
    if line.words > 12 or line.ending == "mark":
        return False
    phrase = _starts_with(line, KEYWORDS["byline"])
    if phrase is None or phrase == line.key:
        return False
    if phrase in ("by", "von", "par", "por", "di", "posted by", "written by"):
        # "By Jane Doe, Reuters": names are capitalised.
        rest = line.text.split(None, len(phrase.split()))[-1]
        return rest[:1].isupper() and line.ending != "stop"
    return bool(_DATE_RE.search(line.text) or _CLOCK_RE.search(line.text) or line.meta)


def _is_photo_credit(line: _Line, index: int) -> bool:
    # A line of several sentences ending in a credit is a caption: see `_mark_caption`.
    if line.words > 12 or line.ending == "stop" or line.stop - line.first > 1:
        return False
    tokens = line.tokens
    has_credit_word = any(token in KEYWORDS["credit"] for token in tokens)
    # "Photo: Jane Doe/Reuters", "(AP Photo/Ahn Young-joon)", "Getty Images".
    return has_credit_word and (
        "/" in line.text or ":" in line.text[:20] or line.text.startswith("(") or line.title_case
    )


def _is_tag_list(line: _Line, index: int) -> bool:
    if line.words > 20 or line.ending not in ("none",):
        return False
    items = line.text.split(",")
    return len(items) >= 3 and all(0 < len(item.split()) <= 3 for item in items)


def _is_breadcrumb(line: _Line, index: int) -> bool:
    if line.words > 16 or line.ending != "none":
        return False
    return len(_BREADCRUMB_SEPARATOR_RE.findall(line.text)) >= 2


def _is_caps_headline(line: _Line, index: int) -> bool:
    # The first line may be the article's own title set in capitals.
    return index > 0 and line.capitals and line.words >= 6 and line.ending != "stop"


_LINE_RULES = (
    ("advertisement", _is_advertisement),
    ("comments_header", _is_comments_header),
    ("copyright", _is_copyright),
    ("share_prompt", _is_share_prompt),
    ("furniture_header", _is_furniture_header),
    ("subscription", _is_subscription),
    ("byline", _is_byline),
    ("photo_credit", _is_photo_credit),
    ("tag_list", _is_tag_list),
    ("breadcrumb", _is_breadcrumb),
    ("caps_headline", _is_caps_headline),
)
# Rules that decide from shape alone; the comment rules may take their lines.
_SHAPE = frozenset({"headline_list", "headline_run", "menu_run", "repeated_line", "list_header"})
# Rules that name what the furniture is; they keep their lines even inside comments.
_STRONG = frozenset(
    {
        "advertisement",
        "copyright",
        "share_prompt",
        "furniture_header",
        "after_header",
        "subscription",
    }
)


# --- pass 2: runs of lines ------------------------------------------------------------------


def _mark_furniture_runs(lines: list[_Line], tally: Counter[str]) -> None:
    _mark_after_headers(lines, tally)
    _mark_list_runs(lines, tally)
    _mark_repeated(lines, tally)
    _mark_captions_above_credits(lines, tally)


def _mark_captions_above_credits(lines: list[_Line], tally: Counter[str]) -> None:
    """A credit on a line of its own ("Photo: Jane Doe/AFP") follows its caption: a short line
    in the same paragraph, or a short paragraph of its own."""
    for before, above, line in zip([None, *lines], lines, lines[1:], strict=False):
        tally["rules"] += 1
        if line.rule != "photo_credit" or above.zone != BODY or above.words > 40:
            continue
        alone = before is None or before.paragraph != above.paragraph
        if alone or above.paragraph == line.paragraph:
            above.zone, above.rule = BOILERPLATE, "caption"


def _is_list_item(line: _Line) -> bool:
    """A line that can sit in a list of headlines: marked, or short and not a sentence."""
    if line.bullet or line.number is not None:
        return line.words <= 40
    return line.words <= 6 or (line.words <= 25 and line.ending in ("none", "mark"))


def _mark_after_headers(lines: list[_Line], tally: Counter[str]) -> None:
    in_run = False
    for line in lines:
        tally["rules"] += 1
        if line.rule == "furniture_header":
            in_run = True
        elif line.rule in ("comments_header",) or line.meta:
            in_run = False
        elif in_run and line.zone == BODY:
            # A reader's post ("I can't believe...!") ends the list, whatever its shape.
            if _is_list_item(line) and not line.informal:
                line.zone, line.rule = BOILERPLATE, "after_header"
            else:
                in_run = False


def _mark_list_runs(lines: list[_Line], tally: Counter[str]) -> None:
    """Bullet lists of headlines, Title Case headline runs and menus, each run in one sweep."""
    for name, minimum, member in (
        ("headline_list", 2, _is_bullet_headline),
        ("headline_run", 3, _is_headline),
        ("menu_run", 4, _is_menu_item),
    ):
        first = 1  # index of the run's first line; the article's title never starts a run
        for index, line in enumerate([*lines[1:], None], start=1):
            tally["rules"] += 1
            if line is not None and line.zone == BODY and member(line):
                continue
            # A list introduced by "...:" is the article's own list.
            if index - first >= minimum and lines[first - 1].ending != "colon":
                for item in lines[first:index]:
                    item.zone, item.rule = BOILERPLATE, name
                # The short line above a list of headlines is its header ("More coverage").
                above = lines[first - 1]
                if first > 1 and above.zone == BODY and _is_header_like(above):
                    above.zone, above.rule = BOILERPLATE, "list_header"
            first = index + 1


def _is_bullet_headline(line: _Line) -> bool:
    marked = line.bullet or line.number is not None
    return marked and 3 <= line.words <= 25 and line.ending in ("none", "mark")


def _is_headline(line: _Line) -> bool:
    """A line that reads as a headline: one sentence of a few words, no full stop (a question
    may end it), no timestamp."""
    return (
        3 <= line.words <= 20
        and (line.ending == "none" or line.ending == "mark" and line.title_case)
        and line.stop - line.first == 1
        and not line.meta
    )


def _is_header_like(line: _Line) -> bool:
    marked = line.bullet or line.number is not None
    return 1 <= line.words <= 6 and line.ending in ("none", "colon") and not (marked or line.meta)


def _is_menu_item(line: _Line) -> bool:
    return line.words <= 3 and line.ending == "none" and not line.meta


def _mark_repeated(lines: list[_Line], tally: Counter[str]) -> None:
    # Not one-word lines or "SPEAKER:" labels, which a transcript repeats as its own text.
    counts = Counter(
        line.key for line in lines if 2 <= line.words <= 8 and line.ending == "none" and line.key
    )
    for line in lines:
        tally["rules"] += 1
        if line.zone == BODY and counts.get(line.key, 0) >= 2 and not line.meta:
            line.zone, line.rule = BOILERPLATE, "repeated_line"


# --- pass 3: comments -----------------------------------------------------------------------


def _mark_comments(lines: list[_Line], tally: Counter[str]) -> None:
    """Find where reader comments start, then put every line from there on in comments."""
    prose_seen = 0
    header = None
    for index, line in enumerate(lines):
        tally["rules"] += 1
        if line.rule == "comments_header":
            if prose_seen < 2:
                line.zone, line.rule = BOILERPLATE, "comment_link"
            elif header is None:
                header = index
        elif line.zone == BODY and line.prose:
            prose_seen += 1
    found = [
        (start, rule)
        for start, rule in (
            (header, "after_comments_header"),
            (_thread_start(lines, tally), "comment_thread"),
            (_numbered_posts_start(lines, tally), "numbered_posts"),
        )
        if start is not None
    ]
    if found:
        start, rule = min(found)
    else:
        tail = _informal_tail_start(lines, tally)
        if tail is None:
            return
        start, rule = tail, "informal_tail"
    if rule != "after_comments_header":
        start = _include_header(lines, start, tally)
    for line in lines[start:]:
        tally["rules"] += 1
        if line.zone == BOILERPLATE and line.rule in _STRONG and not line.meta:
            continue
        if line.rule != "comments_header":
            line.zone, line.rule = COMMENTS, ("comment_meta" if line.meta else rule)


def _include_header(lines: list[_Line], start: int, tally: Counter[str]) -> int:
    """Move the start of the comments up to the short line that heads them ("Have your say"),
    over at most two short lines between (posts too plain to be recognised)."""
    for above in range(start - 1, max(start - 4, 1), -1):
        tally["rules"] += 1
        line = lines[above]
        # A plain line that ended a list under a known header may head the comments instead.
        if (_open(line) or line.rule == "after_header") and _is_header_like(line):
            line.zone, line.rule = COMMENTS, "comments_header"
            return above
        if line.zone != BODY or line.words > 15 or line.quoting:
            break
    return start


def _open(line: _Line) -> bool:
    """Whether the comment rules may read this line: body, or furniture by shape alone."""
    return line.zone == BODY or line.rule in _SHAPE


def _prose_before(lines: list[_Line], stop: int, needed: int) -> bool:
    """Whether at least `needed` body prose lines come before line `stop` (early exit)."""
    found = 0
    for line in lines[:stop]:
        found += line.zone == BODY and line.prose
        if found >= needed:
            return True
    return False


def _thread_start(lines: list[_Line], tally: Counter[str]) -> int | None:
    """Start of the last cluster of comment metadata lines (each within 12 lines of the last)
    that has a post in it and follows the article's prose."""
    cluster: list[int] = []
    best: list[int] = []
    prose = 0
    for index, line in enumerate(lines):
        tally["rules"] += 1
        prose += line.zone == BODY and line.prose
        # A dateline under the title is the article's; a thread comes after its prose.
        if not line.meta or line.rule == "byline" or prose < 2:
            continue
        if cluster and index - cluster[-1] > 12:
            if len(cluster) >= 2:
                best = cluster
            cluster = []
        cluster.append(index)
    if len(cluster) >= 2:
        best = cluster
    if not best:
        return None
    start = best[0]
    posts = sum(1 for line in lines[start:] if not line.meta and _open(line) and line.words > 3)
    if not posts:
        return None
    # A user name on the line above the first timestamp belongs to the first comment.
    above = lines[start - 1]
    if _open(above) and above.words <= 4 and above.ending == "none":
        start -= 1
    return start


_POST_LINES = 8  # lines a numbered post may run to (its paragraphs, a reply)


def _numbered_posts_start(lines: list[_Line], tally: Counter[str]) -> int | None:
    """A numbered run 1, 2, 3... of posts that ends the text, where at least half of the
    numbered lines read as a reader's ("I", "you", "!"): comments listed by number."""
    items: list[int] = []
    for index, line in enumerate(lines):
        tally["rules"] += 1
        if line.number is None or not _open(line):
            continue
        if line.number == 1:
            items = [index]
        elif items and line.number == lines[items[-1]].number + 1:  # type: ignore[operator]
            items.append(index)
        else:
            items = []
    if len(items) < 2 or lines[items[0] - 1].ending == "colon":
        return None
    for item, stop in zip(items, [*items[1:], len(lines)], strict=False):
        if sum(1 for line in lines[item:stop] if _open(line)) > _POST_LINES:
            return None  # the article goes on after its own numbered list
    voiced = sum(1 for item in items if lines[item].informal)
    if voiced * 2 < len(items) or not _prose_before(lines, items[0], 2):
        return None
    return items[0]


def _informal_tail_start(lines: list[_Line], tally: Counter[str]) -> int | None:
    """The last lines, when they read as posts by readers after impersonal prose.

    Walking back from the end over body lines: informal lines extend the tail, up to two
    plain lines may sit between informal ones or after the last (if short), a header or a
    line that attributes a quotation stops it. The tail needs two informal lines, one of them
    personal, and must follow prose that is mostly not informal itself (an opinion piece
    written as "I" throughout keeps its last lines).
    """
    start = None
    informal = 0
    personal = False
    plain = 0
    for index in range(len(lines) - 1, -1, -1):
        tally["rules"] += 1
        line = lines[index]
        if line.rule in ("furniture_header", "after_header"):
            break  # a block of furniture ends the posts; a lone advertisement does not
        if not _open(line):
            continue
        if informal and _is_header_like(line) and not (index and lines[index - 1].informal):
            break  # a header between prose and posts ("Talk back"): `_include_header` takes it
        if line.informal:
            informal += 1
            personal = personal or line.personal
            start = index
            plain = 0
        elif not line.quoting and plain < 2 and (informal or line.words <= 15):
            plain += 1
        else:
            break
    if start is None or informal < 2 or not personal:
        return None
    before = [line for line in lines[:start] if _open(line)]
    prose = sum(line.prose for line in before)
    voiced = sum(line.informal for line in before)
    if prose < 2 or voiced * 3 > len(before):
        return None
    return start


# --- sentences inside one line --------------------------------------------------------------


def _mark_caption(
    text: str,
    sentences: Sequence[Span],
    line: _Line,
    suggestions: list[ZoneSuggestion],
    tally: Counter[str],
) -> None:
    """A short line of sentences that ends in a credit ("...in Kyiv on Monday. Jane Doe/Reuters",
    "... (Photo: AFP)") is a caption and its credit."""
    tally["rules"] += 1
    if line.stop - line.first > 4 or line.words > 80:
        return
    last = sentences[line.stop - 1]
    before = sentences[line.stop - 2]
    tally["chars"] += last.end - before.start
    if not _is_credit(text[last.start : last.end]):
        return
    if _ending(text[before.start : before.end]) != "stop":
        return
    caption = ZoneSuggestion(BOILERPLATE, "caption")
    for index in range(line.first, line.stop - 1):
        suggestions[index] = caption
    suggestions[line.stop - 1] = ZoneSuggestion(BOILERPLATE, "photo_credit")


def _is_credit(sentence: str) -> bool:
    """A short name without a full stop ("Korean Central News Agency", "Jane Doe/AFP via
    Getty Images"), or a credit word with its "/" or ":" ("(Photo: Jane Doe/Reuters)")."""
    inner = sentence.strip("()[] ")
    words = inner.split()
    if not 1 <= len(words) <= 8 or _ending(inner) != "none":
        return False
    if ("/" in inner or ":" in inner) and set(_normalise(inner).split()) & KEYWORDS["credit"]:
        return True
    minor = KEYWORDS["minor_word"]
    return len(words) <= 6 and all(word[:1].isupper() or word in minor for word in words)
