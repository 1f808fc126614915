"""Pinyin search keys for people's names.

Officers search for residents by typing pinyin on a phone keyboard: the full
spelling without tones (``zhangwei``) or the initials (``zw``). A name is
indexed under every plausible reading, because many characters have several
(heteronyms) and pypinyin reads surnames as ordinary words (曾 ceng, 单 dan).
The app stores ``search_text()`` in a column and matches it with LIKE.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from functools import lru_cache


__all__ = ["MAX_COMBINATIONS", "SURNAME_READINGS", "search_keys", "search_text"]

# A name of three characters with three readings each already has 27
# spellings; 16 keeps the column short while covering the likely ones,
# which are enumerated first (see _ranked_combinations).
MAX_COMBINATIONS = 16

# How a surname is read when it is one, one reading per character. These are
# tried first for the start of a name; the ordinary readings still follow,
# in case the officer typed what pypinyin (or a non-native speaker) would.
SURNAME_READINGS: dict[str, tuple[str, ...]] = {
    "尉迟": ("yu", "chi"),
    "万俟": ("mo", "qi"),
    "澹台": ("tan", "tai"),
    "曾": ("zeng",),
    "单": ("shan",),
    "解": ("xie",),
    "仇": ("qiu",),
    "朴": ("piao",),
    "区": ("ou",),
    "查": ("zha",),
    "覃": ("qin",),
    "盖": ("ge",),
    "乐": ("yue",),
    "翟": ("zhai",),
    "召": ("shao",),
    "繁": ("po",),
    "缪": ("miao",),
    "秘": ("bi",),
    "种": ("chong",),
    "牟": ("mu",),
    "黑": ("he",),
}

# CJK unified ideographs (basic block, extension A, compatibility block and
# the supplementary planes' extensions) plus 〇, the ideographic zero.
_HAN = re.compile(
    "[\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f]"
)

# A reading of one token: (full spelling, what it contributes to initials).
_Reading = tuple[str, str]


def search_keys(name: str) -> list[str]:
    """Return the pinyin search keys of ``name``, most likely reading first.

    Full spellings come first, then initials: 曾小明 gives ``zengxiaoming``,
    ``cengxiaoming``, ``zxm``, ``cxm``. Letters that are not Chinese are
    kept lower-cased as one run (``John Smith`` gives ``johnsmith``);
    digits, spaces and punctuation such as the middle dot in 阿依古丽·买买提
    are dropped. Returns an empty list when nothing is left.
    """
    tokens = _tokens(name)
    if not tokens:
        return []
    combinations = _ranked_combinations(tokens, MAX_COMBINATIONS)
    full = ["".join(spelling for spelling, _ in combo) for combo in combinations]
    initials = ["".join(initial for _, initial in combo) for combo in combinations]
    return list(dict.fromkeys(full + initials))


def search_text(name: str) -> str:
    """Return the search keys of ``name`` joined by spaces, for a LIKE column."""
    return " ".join(search_keys(name))


def _tokens(name: str) -> list[list[_Reading]]:
    """Split a name into tokens, each with its readings in order of likelihood.

    A Chinese character is one token; a run of other letters is one token
    with one reading, which is also its own "initial" so that a mixed name
    such as 李Mary is found by ``lmary`` as well as ``limary``.
    """
    # NFKC turns full-width letters (Chinese input mode) into ASCII ones.
    text = unicodedata.normalize("NFKC", name)
    tokens: list[list[_Reading]] = []
    han: list[str] = []  # the Chinese characters behind the tokens so far
    run: list[str] = []

    def end_run() -> None:
        if run:
            word = "".join(run)
            tokens.append([(word, word)])
            han.append("")
            run.clear()

    for char in text:
        if _HAN.fullmatch(char):
            end_run()
            readings = _readings(char)
            if readings:  # a character pypinyin does not know is skipped
                tokens.append([(r, r[0]) for r in readings])
                han.append(char)
        elif char.isalpha():
            run.append(char.lower())
        else:
            end_run()
    end_run()
    _prefer_surname(tokens, han)
    return tokens


def _prefer_surname(tokens: list[list[_Reading]], han: list[str]) -> None:
    """Put the surname reading first for the leading character(s), in place."""
    for length in (2, 1):  # compound surnames (尉迟) before single ones
        surname = "".join(han[:length])
        readings = SURNAME_READINGS.get(surname) if len(surname) == length else None
        if readings:
            for i, reading in enumerate(readings):
                ordinary = [r for r in tokens[i] if r[0] != reading]
                tokens[i] = [(reading, reading[0]), *ordinary]
            return


@lru_cache(maxsize=4096)
def _readings(char: str) -> tuple[str, ...]:
    """Return every toneless reading of one Chinese character, commonest first."""
    # Imported on first use: pypinyin's dictionaries cost ~58 MB per process, and most requests
    # (check-ins, pages) never build a search key.
    from pypinyin import Style, pinyin

    result = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    readings = result[0] if result else []
    # Readings are ASCII letters (ü is spelt v, as on phone keyboards);
    # anything else would be noise in the index.
    return tuple(r for r in readings if r.isascii() and r.isalpha())


def _ranked_combinations(
    tokens: list[list[_Reading]], limit: int
) -> list[tuple[_Reading, ...]]:
    """Return up to ``limit`` combinations, fewest unlikely readings first.

    The cost of a combination is the sum of its readings' ranks, so the
    commonest reading of every character comes first and the cap drops only
    the least likely spellings, instead of whatever a plain product would
    reach last. A best-first walk avoids building the full product, which
    grows exponentially with the length of the name.
    """
    start = (0,) * len(tokens)
    heap = [(0, start)]
    seen = {start}
    result = []
    while heap and len(result) < limit:
        cost, index = heapq.heappop(heap)
        result.append(tuple(options[i] for options, i in zip(tokens, index)))
        for pos, options in enumerate(tokens):
            if index[pos] + 1 < len(options):
                following = index[:pos] + (index[pos] + 1,) + index[pos + 1 :]
                if following not in seen:
                    seen.add(following)
                    heapq.heappush(heap, (cost + 1, following))
    return result
