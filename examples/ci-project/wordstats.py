"""Word statistics: the small library that examples/ci-shards.toml lints,
builds and tests in four shards."""

import re
from collections import Counter

_WORD = re.compile(r"[A-Za-z']+")


def words(text):
    """The words of text, lower-cased."""
    return [w.lower() for w in _WORD.findall(text)]


def count(text):
    return len(words(text))


def top(text, n):
    """The n most common words, most common first; ties in alphabetical order."""
    counts = Counter(words(text))
    return sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:n]


def mean_length(text):
    found = words(text)
    return sum(map(len, found)) / len(found) if found else 0.0
