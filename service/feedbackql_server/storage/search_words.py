"""The words a record's text search matches: what is indexed, and how a search is read.

A search is the AND of whole words, case- and accent-insensitive: ``text: "Python generators"``
finds the records whose field texts contain both the word ``python`` and the word ``generators``,
in any order and place. Texts and searches are folded alike (``fold``): case folded, compatibility
forms unified (NFKD: ``ﬁ`` is ``fi``, a full-width A is an A), nonspacing marks dropped
(accents, Hebrew and Arabic vowel points: ``Zoë`` typed precomposed or decomposed, and ``Zoe``,
are one word; pointed and plain Hebrew too), then recomposed (NFC). A word is then a run of
Unicode letters, digits, underscores and the marks left (spacing marks, such as Devanagari vowel
signs, stay inside their word); punctuation separates words and is not searched. Scripts written
without spaces (Chinese, Japanese) therefore index a whole run as one word.

Each record keeps its distinct words in ``search_tokens``, and a search looks records up by
equality on one word (``storage/records.py``): a substring search was a scan of the dataset
(25 s at 20,000 records), which FerretDB 1.24 cannot serve any other way (no ``$text``, no
index for ``$regex``). Words longer than ``MAX_WORD`` characters are cut to that length, at
indexing and at search alike, and a record indexes its first ``MAX_WORDS_PER_RECORD``
distinct words: words past that point of a very long text are not found.
"""

from __future__ import annotations

import unicodedata

import regex

from feedbackql_server.errors import Invalid

MAX_WORD = 64
MAX_WORDS_PER_RECORD = 5_000
MAX_SEARCH_WORDS = 16
WORDS_VERSION = 2
"""How words are read: 1 was ``\\w+`` after case folding alone (a decomposed accent split a word,
and ``Zoë`` typed one way did not find it typed the other); 2 folds as described above. Stored
words of an earlier version are read again at start-up (``domain/search_index.py``)."""
WORD = regex.compile(r"[\w\p{M}]+")
NONSPACING_MARKS = regex.compile(r"\p{Mn}+")


def fold(text: str) -> str:
    """``text`` as words are compared: case folded, compatibility forms unified, nonspacing
    marks dropped, recomposed. Case folding comes first: it can itself add a mark (``İ``)."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return unicodedata.normalize("NFC", NONSPACING_MARKS.sub("", decomposed))


def words(text: str, limit: int = MAX_WORDS_PER_RECORD) -> list[str]:
    """The distinct words of ``text`` in order of first appearance, at most ``limit``."""
    found: dict[str, None] = {}
    for match in WORD.finditer(fold(text)):
        found.setdefault(match.group()[:MAX_WORD], None)
        if len(found) >= limit:
            break
    return list(found)


def search_words(text: str) -> list[str]:
    """The words a search asks for, longest first (a longer word tends to select fewer
    records, and the first one is the one looked up by index)."""
    asked = words(text, MAX_SEARCH_WORDS + 1)
    if not asked:
        raise Invalid("a text search needs at least one word (letters or digits)", ["filter", "text"])
    if len(asked) > MAX_SEARCH_WORDS:
        raise Invalid(f"a text search takes at most {MAX_SEARCH_WORDS} words", ["filter", "text"])
    return sorted(asked, key=len, reverse=True)
