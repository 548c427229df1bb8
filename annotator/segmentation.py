"""Split article text into sentence spans with exact character offsets.

Pure computation: text in, `SentenceSpan`s out, no Django. Everything that decides where one
sentence ends and the next begins lives here, so the importer, the API and the tests agree.

Lines end sentences, so headings, captions, list items and boilerplate stay their own segments;
blank lines separate paragraphs. Inside a line we ask sentencex (Wikimedia's rule-based splitter:
maintained, Rust-fast, no model to load, and with more predictable rules on news text than
nupunkt, pysbd or blingfire) and then correct the few things it gets wrong on scraped news.
Change `SEGMENTER_VERSION` whenever a change here can move a boundary.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from dataclasses import dataclass

import sentencex

SEGMENTER_VERSION = "1"


@dataclass(frozen=True, slots=True)
class SentenceSpan:
    start: int
    end: int
    paragraph: int


def split_sentences(text: str) -> list[SentenceSpan]:
    """Sentence spans of `text` in reading order; see `iter_sentences`."""
    return list(iter_sentences(text))


def iter_sentences(text: str) -> Iterator[SentenceSpan]:
    """Yield spans such that `text[span.start:span.end]` is one stripped, non-empty sentence.

    Every non-whitespace character lies in exactly one span. `paragraph` counts blocks of lines
    separated by whitespace-only lines, from 0.
    """
    paragraph = 0
    started = False
    after_blank = False
    offset = 0
    # splitlines() knows every Unicode line break (\r\n, \x85, \u2028, ...) and runs in C.
    for line in text.splitlines(keepends=True):
        line_start = offset
        offset += len(line)
        stripped = line.strip()
        if not stripped:
            after_blank = started
            continue
        if after_blank:
            paragraph += 1
            after_blank = False
        started = True
        start = line_start + len(line) - len(line.lstrip())
        for left, right in _split_line(stripped):
            yield SentenceSpan(start + left, start + right, paragraph)


# Every terminator sentencex splits on (Unicode STerm/ATerm plus the ideographic stops) and the
# ellipsis character, so the fast path below never skips a line sentencex would split.
_TERMINATORS = (
    "!.?։؝؞؟۔܀܁܂߹࠷࠹࠽࠾।॥၊။።፧፨᙮᜵᜶᠃᠉᥄᥅᪨᪩᪪᪫᭚᭛᭞᭟᭽᭾᰻᰼᱾᱿․‼‽⁇⁈⁉⸮⸼⹓⹔꓿꘎꘏꛳꛷꡶꡷꣎꣏꤯꧈꧉꩝꩞꩟꫰꫱꯫﹒﹖﹗！．？。｡…"
    "𐩖𐩗𐽕𐽖𐽗𐽘𐽙𐾆𐾇𐾈𐾉𑁇𑁈𑂾𑂿𑃀𑃁𑅁𑅂𑅃𑇅𑇆𑇍𑇞𑇟𑈸𑈹𑈻𑈼𑊩𑑋𑑌𑗂𑗃𑗉𑗊𑗋𑗌𑗍𑗎𑗏𑗐𑗑𑗒𑗓𑗔𑗕𑗖𑗗𑙁𑙂𑜼𑜽𑜾𑥄𑥆𑩂𑩃𑪛𑪜𑱁𑱂𑻷𑻸𑽃𑽄𖩮𖩯𖫵𖬷𖬸𖭄𖺘𛲟𝪈"
)
# A class of astral characters makes re test them one by one (16 M chars/s instead of 200+), so
# the fast path matches the BMP terminators and sends any line with an astral character on.
_BMP_TERMINATORS = re.escape("".join(c for c in _TERMINATORS if c <= "\uffff"))
_MAY_SPLIT_RE = re.compile(f"[{_BMP_TERMINATORS}\U00010000-\U0010ffff]")
# A closing quote or bracket right after the terminator belongs to the sentence it closes:
# `He said “yes.” Then` ends after the quote.
_CLOSERS = "”’\"')]}»›"
_TRAILING = _TERMINATORS + _CLOSERS

# Bullets and "1." / "2)" / "(a)" markers. sentencex would make "1." a sentence of its own, so the
# marker is hidden from it and kept at the front of the line's first sentence.
_LIST_MARKER_RE = re.compile(r"(?:[-*•·‣◦▪–—]|\(?(?:\d{1,3}|[A-Za-z])[.)])\s+")

# sentencex never splits inside quotes or parentheses, which glues whole multi-sentence quotes
# into one segment. It therefore reads the line without these characters; offsets map back.
_HIDDEN = "\"'“”‘’()"
_HIDDEN_RE = re.compile(f"[{re.escape(_HIDDEN)}]")
# sentencex panics on some non-ASCII spaces ("plan A\u00a0. Next"), so it only ever sees " ".
# These are the characters str.isspace() accepts besides " ", "\n" and "\r" (lines are split).
_SPACES = (
    "\t\x0b\x0c\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
    "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)
_VIEW_TABLE = str.maketrans(_SPACES, " " * len(_SPACES), _HIDDEN)

# sentencex ignores "…" but splits after "..."; make "It is here… Really?" behave the same.
_ELLIPSIS_RE = re.compile(r"…(?=\s+[A-Z])")

# A period, then a capitalised word, that sentencex did not split: it took the word before the
# period for an abbreviation. Its list holds ordinary words too ("me", "ill", "no", "May", "LA"),
# so we split unless the word is an abbreviation we know.
_PERIOD_BEFORE_CAPITAL_RE = re.compile(r"\.\s+(?=[^\W\d_])")
_OPENERS = "[{<«‹‚„-–—"
_ALNUM_RE = re.compile(r"[^\W_]")

# Titles and Latin abbreviations that precede more of the same sentence, even when sentencex
# thinks the next word ("Who", "The") starts a new one.
_TITLES_AND_LATIN = """
    Mr Mrs Ms Messrs Dr Prof Gen Sen Sens Rep Reps Gov Lt Col Capt Sgt Cpl Pvt Adm Maj Cmdr Rev
    Hon Pres vs e.g i.e cf viz
"""
_NEVER_FINAL = frozenset(_TITLES_AND_LATIN.split())
# Abbreviations whose period is usually not a sentence end before a capitalised word; for these
# sentencex keeps the final say (it still splits before "The", "He", ...).
_OTHER_ABBREVIATIONS = """
    Jr Sr St Mt Ft Inc Corp Co Ltd Bros No Nos Vol Ave Blvd Rd Dept Univ Supt Atty al fig approx
    Jan Feb Mar Apr Jun Jul Aug Sep Sept Oct Nov Dec
    Ala Ariz Ark Calif Colo Conn Del Fla Ga Ill Ind Kan Ky La Md Mass Mich Minn Miss Mo Mont Neb
    Nev Okla Ore Pa Tenn Tex Va Vt Wash Wis Wyo
"""
_ABBREVIATIONS = _NEVER_FINAL | frozenset(_OTHER_ABBREVIATIONS.split())


def _split_line(line: str) -> list[tuple[int, int]]:
    """(start, end) offsets of the sentences in one stripped, non-empty line."""
    if _MAY_SPLIT_RE.search(line.rstrip(_TRAILING)) is None:
        return [(0, len(line))]

    marker = _LIST_MARKER_RE.match(line)
    body_start = marker.end() if marker else 0
    body = line[body_start:]
    view = body.translate(_VIEW_TABLE)
    # shifts[r] is the view index in front of which the r-th hidden character sat.
    shifts = (
        []
        if len(view) == len(body)
        else [m.start() - r for r, m in enumerate(_HIDDEN_RE.finditer(body))]
    )
    if "…" in view:
        view = _ELLIPSIS_RE.sub(".", view)

    def to_body(index: int) -> int:
        return index + bisect_right(shifts, index)

    spans = []
    start = 0  # body offset where the current sentence starts
    sentence_from = 0  # the same position in the view
    cuts = _candidate_cuts(view)
    for cut, next_cut in zip(cuts, [*cuts[1:], len(view)], strict=False):
        sentence_end = sentence_from + len(view[sentence_from:cut].rstrip())
        if (
            _ALNUM_RE.search(view, sentence_from, cut) is None  # leading "..." joins what follows
            or _ALNUM_RE.search(view, cut, next_cut) is None  # trailing "[…]" or emoji joins
            or _is_abbreviation_inside_sentence(_word_before_period(view, sentence_end), view[cut])
        ):
            continue
        last = to_body(sentence_end - 1)
        limit = to_body(cut)
        end = last + 1
        # Closing quotes and brackets were hidden from sentencex; they end this sentence.
        while end < limit and body[end] in _CLOSERS:
            end += 1
        if end > last + 1 and view[cut].islower():
            continue  # `“Why?” he asked`: the quote sits inside a longer sentence.
        spans.append((start, end))
        start = limit - len(body[end:limit].lstrip())
        sentence_from = cut
    spans.append((start, len(body)))
    if body_start:
        spans[0] = (-body_start, spans[0][1])
    return [(left + body_start, right + body_start) for left, right in spans]


def _candidate_cuts(view: str) -> list[int]:
    """View indices where sentencex, or our abbreviation check, starts a new sentence."""
    try:
        pieces = sentencex.segment("en", view)
    except ValueError:
        # Lone surrogates cannot cross into Rust as UTF-8; such a line stays one sentence.
        return []
    except BaseException as error:
        # A Rust panic arrives as pyo3's PanicException, a BaseException we cannot import.
        if type(error).__name__ != "PanicException":
            raise
        return []
    cuts = set()
    if "".join(pieces) == view:  # otherwise offsets cannot be trusted; use our rule alone
        position = 0
        for piece in pieces[:-1]:
            position += len(piece)
            cuts.add(position)
    for match in _PERIOD_BEFORE_CAPITAL_RE.finditer(view):
        if not view[match.end()].isupper() or match.end() in cuts:
            continue
        token = _word_before_period(view, match.start() + 1)
        if "." in token or len(token) == 1 or token in _ABBREVIATIONS:
            continue  # U.S., p.m., initials: sentencex's call stands.
        cuts.add(match.end())
    # sentencex ends a piece after its trailing spaces; a cut always sits on visible text.
    normalised = set()
    for cut in cuts:
        while cut < len(view) and view[cut].isspace():
            cut += 1
        if 0 < cut < len(view):
            normalised.add(cut)
    return sorted(normalised)


def _is_abbreviation_inside_sentence(word: str, next_character: str) -> bool:
    """Whether `word.` cannot end a sentence: a title, or "approx." before a number."""
    return word in _NEVER_FINAL or (word in _ABBREVIATIONS and next_character.isdigit())


def _word_before_period(text: str, end: int) -> str:
    """The word that `text[:end]` ends with, minus its final period; "" if there is none."""
    if end < 2 or text[end - 1] != ".":
        return ""
    start = end - 1
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    return text[start : end - 1].lstrip(_OPENERS)
