"""Split article text into sentence spans with exact character offsets.

Pure computation: text in, `SentenceSpan`s out, no Django. Everything that decides where one
sentence ends and the next begins lives here, so the importer, the API and the tests agree.

Lines end sentences, so headings, captions, list items and boilerplate stay their own segments;
blank lines separate paragraphs. Inside a line we ask sentencex (Wikimedia's rule-based splitter:
maintained, Rust-fast, no model to load, and with more predictable rules on news text than
nupunkt, pysbd or blingfire) and then correct the few things it gets wrong on scraped news.
Change `SEGMENTER_VERSION` whenever a change here can move a boundary.

Time is linear in the length of the text whatever it holds (a 5 MB line without spaces, Chinese,
right-to-left script, emoji, runs of brackets): no step walks back over text an earlier step
read, and sentencex, superlinear on some scripts, only ever reads a bounded window at a time.
tests/test_segmentation.py counts the work on such input; bench/bench_segmentation.py times it.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterator
from itertools import accumulate
from typing import NamedTuple

import sentencex

# 2: lines over `_WINDOW` characters reach sentencex in windows, so a range it skips (a quote,
# say) reaches at most one window: in 76,000 characters of news on one line, version 1 lost
# 46 boundaries that way.
SEGMENTER_VERSION = "2"


class SentenceSpan(NamedTuple):
    """`text[start:end]` is one sentence of paragraph `paragraph` (counted from 0).

    Immutable like a frozen dataclass, and built about four times faster: a hostile line can
    hold a million sentences.
    """

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
# The same for ASCII text, where bytes.translate runs several times faster than str.translate.
_ASCII_SPACES = "".join(c for c in _SPACES if c.isascii()).encode()
_ASCII_VIEW_TABLE = bytes.maketrans(_ASCII_SPACES, b" " * len(_ASCII_SPACES))
_ASCII_HIDDEN = "".join(c for c in _HIDDEN if c.isascii()).encode()

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
    """(start, end) offsets of the sentences in one stripped, non-empty line.

    Linear in the length of the line: every loop moves forward, and what a candidate cut
    checks lies between the previous cut and the next, or a few characters before it.
    """
    if _MAY_SPLIT_RE.search(line.rstrip(_TRAILING)) is None:
        return [(0, len(line))]

    marker = _LIST_MARKER_RE.match(line)
    body_start = marker.end() if marker else 0
    body = line[body_start:]
    if marker and _MAY_SPLIT_RE.search(body.rstrip(_TRAILING)) is None:
        return [(0, len(line))]  # "1. Item": the marker's period ends nothing
    if body.isascii():
        view = body.encode().translate(_ASCII_VIEW_TABLE, _ASCII_HIDDEN).decode()
    else:
        view = body.translate(_VIEW_TABLE)
    # shifts[r] is the view index in front of which the r-th hidden character sat.
    shifts = (
        []
        if len(view) == len(body)
        else [m.start() - r for r, m in enumerate(_HIDDEN_RE.finditer(body))]
    )
    if "…" in view:
        view = _ELLIPSIS_RE.sub(".", view)

    spans = []
    start = 0  # body offset where the current sentence starts
    # The first letter or digit of the current sentence in the view, found once per sentence
    # rather than once per rejected cut, so a long run of punctuation is read once.
    match = _ALNUM_RE.search(view)
    first_alnum = len(view) if match is None else match.start()
    alnum_search = _ALNUM_RE.search
    cuts = _candidate_cuts(view)
    for cut, next_cut in zip(cuts, [*cuts[1:], len(view)], strict=False):
        if first_alnum >= cut:
            continue  # leading "..." joins what follows
        # The first letter or digit of what follows the cut; [^\W_] is str.isalnum().
        if view[cut].isalnum():
            following = cut
        else:
            match = alnum_search(view, cut, next_cut)
            if match is None:
                continue  # trailing "[…]" or emoji joins
            following = match.start()
        sentence_end = cut
        # The view's only whitespace is " " (see _VIEW_TABLE), and first_alnum stops the walk.
        while view[sentence_end - 1] == " ":
            sentence_end -= 1
        if (
            view[sentence_end - 1] == "."
            # Most periods end words no abbreviation ends like; skip the look-up for those.
            and view[sentence_end - 3 : sentence_end - 1] in _ABBREVIATION_ENDINGS
            and _is_abbreviation_inside_sentence(
                _abbreviation_before(view, sentence_end - 1), view[cut]
            )
        ):
            continue
        if shifts:
            last = sentence_end - 1 + bisect_right(shifts, sentence_end - 1)
            limit = cut + bisect_right(shifts, cut)
        else:
            last, limit = sentence_end - 1, cut
        end = last + 1
        # Closing quotes and brackets were hidden from sentencex; they end this sentence.
        while end < limit and body[end] in _CLOSERS:
            end += 1
        if end > last + 1 and view[cut].islower():
            continue  # `“Why?” he asked`: the quote sits inside a longer sentence.
        spans.append((start, end))
        start = limit if end == limit else limit - len(body[end:limit].lstrip())
        first_alnum = following
    spans.append((start, len(body)))
    if body_start:
        spans[0] = (-body_start, spans[0][1])
        return [(left + body_start, right + body_start) for left, right in spans]
    return spans


# sentencex's cost grows with the number of breaks times their offset in its input on some
# scripts (40,000 characters of Chinese take 0.27 s, 80,000 take 0.8 s), so a line longer than
# `_WINDOW` reaches it in overlapping windows of that size, and its work per character stays
# bounded. A break is taken from a window only where sentencex saw at least `_CONTEXT`
# characters on each side of it (or the true start or end of the line), far more than the few
# words it looks at around a break; the windows overlap by that much. Lines up to `_WINDOW`
# characters (every line of the seed articles) are read whole, as before.
_WINDOW = 2_000
_CONTEXT = 200


def _sentencex_cuts(view: str) -> list[int] | None:
    """View indices where sentencex starts a new sentence, reading long views in windows;
    None when sentencex cannot read the text."""
    if len(view) <= _WINDOW:
        return _sentencex_pieces(view, 0)
    cuts: list[int] = []
    start = trusted_from = 0
    while True:
        stop = min(start + _WINDOW, len(view))
        positions = _sentencex_pieces(view[start:stop], start)
        if positions is None:
            return None
        if stop == len(view):
            cuts += [position for position in positions if position > trusted_from]
            return cuts
        trusted_to = stop - _CONTEXT
        kept = [position for position in positions if trusted_from < position <= trusted_to]
        cuts += kept
        if kept and kept[-1] - start > _CONTEXT:
            # Restart where a sentence starts, as sentencex would see it reading the whole line.
            start = trusted_from = kept[-1]
        else:
            # No break far enough on: read on with _CONTEXT characters of what came before.
            trusted_from = trusted_to
            start = trusted_to - _CONTEXT


def _sentencex_pieces(text: str, offset: int) -> list[int] | None:
    """`offset` plus the index of each sentence start sentencex finds inside `text`; None
    when sentencex cannot read it."""
    try:
        pieces = sentencex.segment("en", text)
    except ValueError:
        # Lone surrogates cannot cross into Rust as UTF-8.
        return None
    except BaseException as error:
        # A Rust panic arrives as pyo3's PanicException, a BaseException we cannot import.
        if type(error).__name__ != "PanicException":
            raise
        return None
    if len(pieces) < 2 or "".join(pieces) != text:
        return []  # no break, or offsets that cannot be trusted: our own rule alone decides
    positions = list(accumulate(map(len, pieces[:-1])))
    return [position + offset for position in positions] if offset else positions


def _candidate_cuts(view: str) -> list[int]:
    """View indices where sentencex, or our abbreviation check, starts a new sentence."""
    cuts = _sentencex_pieces(view, 0) if len(view) <= _WINDOW else _sentencex_cuts(view)
    if cuts is None:
        return []  # text sentencex cannot take stays one sentence
    # Every cut so far lies inside the view (sentencex's pieces are never empty).
    added = False
    # The view's only space is " ": without ". " there is nothing for the rule to find.
    if ". " in view:
        from_sentencex = set(cuts)
        for match in _PERIOD_BEFORE_CAPITAL_RE.finditer(view):
            cut = match.end()
            if cut in from_sentencex or not view[cut].isupper():
                continue
            # The period ends its run of non-spaces, so each run is searched and sliced once.
            period = match.start()
            word = view[view.rfind(" ", 0, period) + 1 : period].lstrip(_OPENERS)
            if "." in word or len(word) == 1 or word in _ABBREVIATIONS:
                continue  # U.S., p.m., initials: sentencex's call stands.
            cuts.append(cut)
            added = True
    # sentencex ends a piece after its trailing spaces; a cut always sits on visible text.
    length = len(view)
    moved = False
    for i, cut in enumerate(cuts):
        if view[cut] == " ":
            while cut < length and view[cut] == " ":
                cut += 1
            cuts[i] = cut
            moved = True
    if moved:
        return sorted({cut for cut in cuts if cut < length})
    if added:
        cuts.sort()  # two ascending runs of distinct cuts: a linear-time merge
    return cuts


def _is_abbreviation_inside_sentence(word: str, next_character: str) -> bool:
    """Whether `word.` cannot end a sentence: a title, or "approx." before a number."""
    return word in _NEVER_FINAL or (word in _ABBREVIATIONS and next_character.isdigit())


_LONGEST_ABBREVIATION = max(map(len, _ABBREVIATIONS))
# Every abbreviation's last two characters (each has at least two).
_ABBREVIATION_ENDINGS = frozenset(word[-2:] for word in _ABBREVIATIONS)
assert min(map(len, _ABBREVIATIONS)) >= 2
# No abbreviation holds a space or an opener, so the one a period may end is the period's
# last few characters back to the nearest space or opener.
_ABBREVIATION_RE = re.compile(f"[^ {re.escape(_OPENERS)}]{{1,{_LONGEST_ABBREVIATION}}}\\Z")


def _abbreviation_before(view: str, period: int) -> str:
    """The known abbreviation that `view[period] == "."` ends, or "".

    It is the word from the previous space (minus leading `_OPENERS`) to the period. A line
    without spaces can hold a million periods, so this looks back at most a few characters
    for the word and then over the openers right before it, never to the start of the line.
    """
    match = _ABBREVIATION_RE.search(view, max(0, period - _LONGEST_ABBREVIATION - 1), period)
    if match is None or match.group() not in _ABBREVIATIONS:
        return ""
    before = match.start()
    while before > 0 and view[before - 1] in _OPENERS:
        before -= 1
    return match.group() if before == 0 or view[before - 1] == " " else ""


# --- Correcting a span by hand (annotator/resegmenting.py) -----------------------------------


class SpanError(ValueError):
    """A split that would leave an empty part; the message says why, to a person."""


def split_span(start: int, text: str, position: int) -> tuple[tuple[int, int], tuple[int, int]]:
    """The two spans (start, end) of splitting the sentence `text` (at article offset `start`)
    before its character `position`; the spaces at the cut belong to neither part.

    Raises SpanError when either part would be empty (or only spaces). Reads the sentence
    alone, never the article.
    """
    if not 0 < position < len(text):
        raise SpanError(
            f"Split inside the sentence: a position from 1 to {len(text) - 1}, not {position}."
        )
    head, tail = text[:position], text[position:]
    head_end = len(head.rstrip())
    tail_start = position + len(tail) - len(tail.lstrip())
    if head_end == 0 or tail_start == len(text):
        raise SpanError("Both parts of a split need some text besides spaces.")
    return (start, start + head_end), (start + tail_start, start + len(text))


def split_points(text: str, *, limit: int = 400) -> list[tuple[int, str, str]]:
    """Where a person would split a sentence: before each word that follows a space, as
    (position, text before, text after) shortened for a choice list; at most `limit`, so a
    hostile sentence of a million words costs a bounded page."""
    points = []
    for position in range(1, len(text)):
        if text[position - 1].isspace() and not text[position].isspace():
            points.append(
                (
                    position,
                    text[max(0, position - 30) : position].rstrip(),
                    text[position : position + 30],
                )
            )
            if len(points) >= limit:
                break
    return points
