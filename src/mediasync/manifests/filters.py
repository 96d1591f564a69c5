"""What a listing keeps: ``--include``/``--exclude`` globs, sizes, dates, storage classes.

One definition, three evaluations, as manifests.sync_plan's RULES:

- in memory, object by object (``inventory``, ``run --source``): :meth:`ObjectFilter.left_out_by`;
- as SQL (``plan`` in DuckDB, Athena on AWS): :meth:`ObjectFilter.sql`, the same gates
  rendered as one expression; tests/unit/test_filters.py runs both on Hypothesis-drawn
  objects and globs;
- as S3 Batch Operations' ``ManifestGenerator`` filter where it can say the same
  (``submit --source``): :func:`generator_filter`, which names what it cannot say.

Patterns follow the aws CLI (``aws s3 cp/sync --exclude/--include``, its
``customizations/s3/filters.py``): every object starts included, the patterns are
tried in the order given and the last one that matches decides; a pattern is
``fnmatch``'s (``*`` any characters, ``/`` included; ``?`` one; ``[seq]``, ``[!seq]``;
case-sensitive) matched against the key less the source prefix (the CLI's "root": the
prefix, with a ``/`` added when it has none). A key outside that root (``s3://b/pre``
lists ``pre-x/a`` too) matches no pattern, as in the CLI. Not followed: the CLI also
matches each pattern under the destination's root, which only matters to ``--delete``;
and it includes every parent "folder" of an include pattern so that it can walk local
directories, which S3 keys do not have.

An object leaves the listing at the first gate that refuses it (the patterns, then
sizes, dates, storage classes), so each left-out object is counted once, by the flag
that left it out. A value the listing does not give (a report without sizes) is never
a reason to leave an object out.
"""

from __future__ import annotations

import datetime
import fnmatch
import functools
import operator
import re
import shlex
from dataclasses import dataclass, field, replace
from typing import Any, Protocol

from mediasync.core.times import iso_text, iso_time

INCLUDE, EXCLUDE = "include", "exclude"
# The decision a sync plan records for an object a filter left out (its reason: the flag).
FILTERED = "filtered"
# What S3 lists for an object stored in STANDARD may omit its class (HeadObject does).
DEFAULT_STORAGE_CLASS = "STANDARD"
# The classes a listing reports for a general purpose bucket's objects
# (ListObjectsV2 ObjectStorageClass, less the Outposts, Snow, FSx and directory ones).
LISTED_STORAGE_CLASSES = ("STANDARD", "REDUCED_REDUNDANCY", "STANDARD_IA", "ONEZONE_IA", "INTELLIGENT_TIERING",
                          "GLACIER", "DEEP_ARCHIVE", "GLACIER_IR")
# JobManifestGeneratorFilter.MatchAnyStorageClass's values (botocore's s3control model, S3StorageClass).
GENERATOR_STORAGE_CLASSES = ("STANDARD", "STANDARD_IA", "ONEZONE_IA", "GLACIER", "INTELLIGENT_TIERING",
                             "DEEP_ARCHIVE", "GLACIER_IR")
# KeyNameConstraint's strings: "an array of strings with a length of 1 string", each 1-1024 characters.
GENERATOR_STRING_LIMIT = 1024


class FilterError(ValueError):
    """A filter that cannot be used as given: the message names it and the form it takes."""


class Filtered(Protocol):
    """What a filter reads of an object (manifests.listing.Listed has it all)."""

    key: str
    size: int | None
    last_modified: datetime.datetime | None
    storage_class: str


# -- globs ---------------------------------------------------------------------------------------
#
# fnmatch decides in memory; SQL engines get a regular expression written in the subset
# RE2 (DuckDB), Java and Joni (Athena's Trino) read alike: no '.', no '$', no escapes but
# a backslash before ASCII punctuation inside a class. The parse below follows
# fnmatch.translate step by step, so a class means what it means to fnmatch.


@dataclass(frozen=True)
class _Token:
    kind: str  # "star", "any", "char", "class", "never"
    char: str = ""
    negated: bool = False
    ranges: tuple[tuple[str, str], ...] = ()


_STAR, _ANY, _NEVER = _Token("star"), _Token("any"), _Token("never")
_CLASS_SPECIALS = set("\\]^-[&~|")


def _class_items(stuff: str) -> tuple[bool, tuple[tuple[str, str], ...]]:
    """The set a class body means, read as Python's re reads ``[stuff]``."""
    negated = stuff.startswith("^")
    position = 1 if negated else 0
    items: list[tuple[str, str]] = []

    def next_char() -> str:
        nonlocal position
        char = stuff[position]
        position += 2 if char == "\\" else 1
        return stuff[position - 1]

    while position < len(stuff):
        low = next_char()
        if position < len(stuff) - 1 and stuff[position] == "-":
            position += 1
            items.append((low, next_char()))
        elif position == len(stuff) - 1 and stuff[position] == "-":  # "a-" at the end: both literal
            position += 1
            items += [(low, low), ("-", "-")]
        else:
            items.append((low, low))
    return negated, tuple(items)


def _tokens(pattern: str) -> tuple[_Token, ...]:
    """fnmatch.translate's reading of ``pattern``, as tokens."""
    tokens: list[_Token] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        i += 1
        if c == "*":
            if not tokens or tokens[-1] is not _STAR:
                tokens.append(_STAR)
        elif c == "?":
            tokens.append(_ANY)
        elif c == "[":
            j = i
            if j < n and pattern[j] == "!":
                j += 1
            if j < n and pattern[j] == "]":
                j += 1
            while j < n and pattern[j] != "]":
                j += 1
            if j >= n:
                tokens.append(_Token("char", "["))
                continue
            stuff = pattern[i:j]
            if "-" not in stuff:
                stuff = stuff.replace("\\", r"\\")
            else:
                chunks = []
                k = i + 2 if pattern[i] == "!" else i + 1
                while True:
                    k = pattern.find("-", k, j)
                    if k < 0:
                        break
                    chunks.append(pattern[i:k])
                    i = k + 1
                    k = k + 3
                chunk = pattern[i:j]
                if chunk:
                    chunks.append(chunk)
                else:
                    chunks[-1] += "-"
                for k in range(len(chunks) - 1, 0, -1):  # empty ranges go, as fnmatch drops them
                    if chunks[k - 1][-1] > chunks[k][0]:
                        chunks[k - 1] = chunks[k - 1][:-1] + chunks[k][1:]
                        del chunks[k]
                stuff = "-".join(s.replace("\\", r"\\").replace("-", r"\-") for s in chunks)
            stuff = re.sub(r"([&~|])", r"\\\1", stuff)
            i = j + 1
            if not stuff:
                tokens.append(_NEVER)
            elif stuff == "!":
                tokens.append(_ANY)
            else:
                if stuff[0] == "!":
                    stuff = "^" + stuff[1:]
                elif stuff[0] in ("^", "["):
                    stuff = "\\" + stuff
                negated, ranges = _class_items(stuff)
                tokens.append(_Token("class", negated=negated, ranges=ranges))
        else:
            tokens.append(_Token("char", c))
    return tuple(tokens)


def _class_char(char: str) -> str:
    return "\\" + char if char in _CLASS_SPECIALS else char


def _regex_of(token: _Token) -> str:
    if token.kind == "star":
        return r"[\s\S]*"
    if token.kind == "any":
        return r"[\s\S]"
    if token.kind == "never":
        return r"[^\s\S]"
    if token.kind == "char":
        return token.char if token.char.isascii() and token.char.isalnum() else f"[{_class_char(token.char)}]"
    body = "".join(_class_char(low) if low == high else f"{_class_char(low)}-{_class_char(high)}"
                   for low, high in token.ranges)
    return f"[{'^' if token.negated else ''}{body}]"


@dataclass(frozen=True)
class Glob:
    pattern: str
    tokens: tuple[_Token, ...] = field(init=False, repr=False, compare=False)
    # fnmatch.fnmatchcase's own regular expression, compiled once.
    _match: Any = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "tokens", _tokens(self.pattern))
        object.__setattr__(self, "_match", re.compile(fnmatch.translate(self.pattern)).match)

    def matches(self, text: str) -> bool:
        return self._match(text) is not None

    def regex(self) -> str:
        r"""The whole-string regular expression, for SQL ``regexp_like`` (``\A`` ... ``\z``)."""
        return r"\A" + "".join(_regex_of(token) for token in self.tokens) + r"\z"

    def literal_between_stars(self) -> tuple[bool, str, bool] | None:
        """``(star before, literal, star after)`` when the pattern is a literal with at most
        a ``*`` on either side (the shapes a KeyNameConstraint can say); else None."""
        tokens = list(self.tokens)
        before = bool(tokens) and tokens[0] is _STAR
        after = len(tokens) > int(before) and tokens[-1] is _STAR
        middle = tokens[int(before):len(tokens) - int(after)]
        if not all(token.kind == "char" for token in middle):
            return None
        return before, "".join(token.char for token in middle), after


def filter_root(prefix: str) -> str:
    """What patterns are matched below: the prefix, ending in ``/`` (the aws CLI's root)."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def relative_key(key: str, root: str) -> str | None:
    return key[len(root):] if key.startswith(root) else None


# -- the gates ---------------------------------------------------------------------------------


def literal(text: str) -> str:
    """A SQL string literal (DuckDB and Athena alike: quotes doubled, any other character as it is)."""
    return "'" + text.replace("'", "''") + "'"


def _reason_sql(flag: str, keeps: str) -> str:
    """The flag when ``keeps`` is false; NULL when it holds or is unknown (NULL)."""
    return f"CASE WHEN NOT ({keeps}) THEN {literal(flag)} END"


@dataclass(frozen=True)
class Pattern:
    kind: str  # INCLUDE or EXCLUDE
    glob: Glob

    @property
    def flag(self) -> str:
        return f"--{self.kind} {shlex.quote(self.glob.pattern)}"


@dataclass(frozen=True)
class _Patterns:
    patterns: tuple[Pattern, ...]
    root: str

    def refusal(self, item: Filtered) -> str | None:
        relative = relative_key(item.key, self.root)
        if relative is None:
            return None
        for pattern in reversed(self.patterns):  # the last match decides
            if pattern.glob.matches(relative):
                return pattern.flag if pattern.kind == EXCLUDE else None
        return None

    def sql(self) -> str:
        relative = (f'CASE WHEN starts_with("key", {literal(self.root)}) '
                    f'THEN substr("key", {len(self.root) + 1}) END')
        branches = " ".join(
            f"WHEN regexp_like({relative}, {literal(pattern.glob.regex())}) "
            f"THEN {literal(pattern.flag) if pattern.kind == EXCLUDE else 'NULL'}"
            for pattern in reversed(self.patterns))
        return f"CASE {branches} END"


_COMPARISONS = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}


@dataclass(frozen=True)
class _Compare:
    """A column against a bound: ``size >= 1024`` (None, unknown, always passes)."""

    flag: str
    column: str
    operator: str  # ">=", "<=", ">", "<"
    bound: Any

    def refusal(self, item: Filtered) -> str | None:
        value = getattr(item, self.column)
        if value is None:
            return None
        return None if _COMPARISONS[self.operator](value, self.bound) else self.flag

    def sql(self) -> str:
        bound = (f"from_iso8601_timestamp({literal(iso_text(self.bound))})"
                 if isinstance(self.bound, datetime.datetime) else str(int(self.bound)))
        return _reason_sql(self.flag, f'"{self.column}" {self.operator} {bound}')


@dataclass(frozen=True)
class _StorageClasses:
    flag: str
    classes: tuple[str, ...]

    def refusal(self, item: Filtered) -> str | None:
        return None if (item.storage_class or DEFAULT_STORAGE_CLASS) in self.classes else self.flag

    def sql(self) -> str:
        listed = ", ".join(literal(name) for name in self.classes)
        return _reason_sql(self.flag, f"coalesce(nullif(\"storage_class\", ''), {literal(DEFAULT_STORAGE_CLASS)}) "
                                      f"IN ({listed})")


@dataclass(frozen=True)
class ObjectFilter:
    """The filters of one command line; ``root`` is set by :meth:`under` for the listed prefix."""

    patterns: tuple[Pattern, ...] = ()
    min_size: int | None = None
    max_size: int | None = None
    modified_after: datetime.datetime | None = None
    modified_before: datetime.datetime | None = None
    storage_classes: tuple[str, ...] = ()
    root: str = ""

    def __post_init__(self) -> None:
        if self.min_size is not None and self.max_size is not None and self.min_size > self.max_size:
            raise FilterError(f"--min-size {self.min_size} is above --max-size {self.max_size}: nothing would be "
                              "kept; give --min-size at most --max-size")
        if self.modified_after and self.modified_before and self.modified_after >= self.modified_before:
            raise FilterError(f"--modified-after {iso_text(self.modified_after)} is not before --modified-before "
                              f"{iso_text(self.modified_before)}: nothing would be kept")

    def under(self, prefix: str) -> "ObjectFilter":
        return replace(self, root=filter_root(prefix))

    @property
    def active(self) -> bool:
        return bool(self.gates())

    def gates(self) -> tuple[Any, ...]:
        return self._gates

    @functools.cached_property
    def _gates(self) -> tuple[Any, ...]:
        """Built once: left_out_by walks them for every object listed."""
        gates: list[Any] = [_Patterns(self.patterns, self.root)] if self.patterns else []
        if self.min_size is not None:
            gates.append(_Compare(f"--min-size {self.min_size}", "size", ">=", self.min_size))
        if self.max_size is not None:
            gates.append(_Compare(f"--max-size {self.max_size}", "size", "<=", self.max_size))
        if self.modified_after is not None:
            gates.append(_Compare(f"--modified-after {iso_text(self.modified_after)}", "last_modified", ">",
                                  self.modified_after))
        if self.modified_before is not None:
            gates.append(_Compare(f"--modified-before {iso_text(self.modified_before)}", "last_modified", "<",
                                  self.modified_before))
        if self.storage_classes:
            gates.append(_StorageClasses(" ".join(f"--match-storage-class {name}" for name in self.storage_classes),
                                         self.storage_classes))
        return tuple(gates)

    def flags(self) -> list[str]:
        """The command-line flags this filter was made of, in their order of evaluation."""
        flags = [pattern.flag for pattern in self.patterns]
        return flags + [gate.flag for gate in self.gates() if not isinstance(gate, _Patterns)]

    def left_out_by(self, item: Filtered) -> str | None:
        """The flag that leaves ``item`` out (first gate that refuses it), or None: kept."""
        for gate in self.gates():
            reason = gate.refusal(item)
            if reason is not None:
                return reason
        return None

    def sql(self) -> str:
        """``left_out_by`` as one SQL expression over a row's ``key``, ``size``,
        ``last_modified`` and ``storage_class``: the flag, or NULL when kept."""
        gates = [gate.sql() for gate in self.gates()]
        if not gates:
            return "CAST(NULL AS varchar)"
        return gates[0] if len(gates) == 1 else f"coalesce({', '.join(gates)})"

    def needs(self) -> set[str]:
        """The columns the filters read beyond the key."""
        columns = set()
        if self.min_size is not None or self.max_size is not None:
            columns.add("size")
        if self.modified_after is not None or self.modified_before is not None:
            columns.add("last_modified_date")
        if self.storage_classes:
            columns.add("storage_class")
        return columns


NO_FILTER = ObjectFilter()


# -- parsing command-line values -----------------------------------------------------------------


def parse_pattern(kind: str, text: str) -> Pattern:
    if text.startswith("/"):
        raise FilterError(f"--{kind} {text!r}: patterns match the key after the source prefix, which never starts "
                          "with '/' here; write it without the leading '/' (e.g. --exclude 'tmp/*')")
    if "\x00" in text:
        raise FilterError(f"--{kind}: a pattern cannot hold a NUL character")
    return Pattern(kind, Glob(text))


def parse_time(flag: str, text: str) -> datetime.datetime:
    """ISO 8601, a date or a date and time; without a zone, UTC; at most milliseconds."""
    try:
        when = iso_time(text)
    except ValueError:
        raise FilterError(f"{flag} {text!r} is not a time: give ISO 8601, e.g. 2026-01-31 or "
                          "2026-01-31T18:00:00Z (no zone: UTC)") from None
    if when.microsecond % 1000:
        raise FilterError(f"{flag} {text!r}: S3 keeps times to the millisecond; give at most three decimals")
    return when


# -- S3 Batch Operations' manifest generator ------------------------------------------------------


@dataclass(frozen=True)
class GeneratorFilter:
    """A ``JobManifestGeneratorFilter`` (None: the generator cannot say it, and ``reason`` says why)."""

    document: dict[str, Any] | None
    reason: str = ""


def _patterns_as_constraint(patterns: tuple[Pattern, ...], root: str) -> tuple[dict[str, str], str]:
    """The key constraint the ordered patterns mean, below ``root``: ({"prefix"|"suffix"|"substring": text}, "")
    or ({}, why not)."""
    rest = list(patterns)
    while rest and rest[0].kind == INCLUDE:  # nothing is excluded yet: an include changes nothing
        rest.pop(0)
    if not rest:
        return {}, ""
    shape = None
    if len(rest) == 2 and rest[0].kind == EXCLUDE and rest[1].kind == INCLUDE:
        everything = rest[0].glob.literal_between_stars()
        if everything is not None and everything[1] == "" and (everything[0] or everything[2]):
            shape = rest[1].glob.literal_between_stars()
    flags = " ".join(pattern.flag for pattern in patterns)
    if shape is None:
        return {}, (f"{flags}: S3 Batch's manifest generator matches one prefix, suffix or substring, so it can "
                    "say --exclude '*' followed by one --include 'LITERAL*', '*LITERAL' or '*LITERAL*', not this")
    before, text, after = shape
    if root and not root.endswith("/"):
        raise AssertionError("roots end with '/'")
    if not before:  # LITERAL* (or an exact key, which the generator cannot say alone)
        if not after:
            return {}, f"{flags}: the generator has no exact-key match; list these keys in a manifest instead"
        return {"prefix": root + text}, ""
    if not text:
        return {}, ""  # '*': everything below the root
    # A suffix or substring is matched against the whole key: the root must not hold it.
    spans = any(text.startswith(root[start:]) or (after and root[start:].startswith(text))
                for start in range(len(root)))
    if spans:
        return {}, f"{flags}: {text!r} can occur in the prefix {root!r} itself, so the generator would match more"
    return ({"substring": text} if after else {"suffix": text}), ""


def generator_filter(selected: ObjectFilter, prefix: str) -> GeneratorFilter:
    """``selected`` below ``prefix`` as S3 Batch's ``JobManifestGeneratorFilter`` (CreateJob API:
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_control_JobManifestGeneratorFilter.html).

    Created-after/before and size greater/less than are strict, as named; MediaSync's
    sizes are inclusive, so they move by one byte. The generator sees every object;
    a listing here never leaves out what it cannot read, which the generator does not
    do either (it reads every object's metadata)."""
    constraint: dict[str, str] = {}
    root = filter_root(prefix)
    if selected.patterns:
        if prefix != root:
            return GeneratorFilter(None, f"the patterns are matched below {root!r} while {prefix!r} also lists keys "
                                         "beside it; end the prefix with '/'")
        found, reason = _patterns_as_constraint(selected.patterns, root)
        if reason:
            return GeneratorFilter(None, reason)
        constraint = found
    if prefix and "prefix" not in constraint:
        constraint["prefix"] = prefix
    too_long = [text for text in constraint.values() if len(text) > GENERATOR_STRING_LIMIT]
    if too_long:
        return GeneratorFilter(None, f"the generator's key constraints hold at most {GENERATOR_STRING_LIMIT} "
                                     "characters")
    document: dict[str, Any] = {}
    names = {"prefix": "MatchAnyPrefix", "suffix": "MatchAnySuffix", "substring": "MatchAnySubstring"}
    if constraint:
        document["KeyNameConstraint"] = {names[kind]: [text] for kind, text in constraint.items()}
    if selected.modified_after is not None:
        document["CreatedAfter"] = selected.modified_after
    if selected.modified_before is not None:
        document["CreatedBefore"] = selected.modified_before
    if selected.min_size:
        document["ObjectSizeGreaterThanBytes"] = selected.min_size - 1
    if selected.max_size is not None:
        document["ObjectSizeLessThanBytes"] = selected.max_size + 1
    if selected.storage_classes:
        unknown = [name for name in selected.storage_classes if name not in GENERATOR_STORAGE_CLASSES]
        if unknown:
            return GeneratorFilter(None, f"the generator cannot match the storage class {', '.join(unknown)} "
                                         f"(it knows {', '.join(GENERATOR_STORAGE_CLASSES)})")
        document["MatchAnyStorageClass"] = list(selected.storage_classes)
    return GeneratorFilter(document)


# -- what the filters left out, as the commands and the report say it -----------------------------


@dataclass
class LeftOut:
    """Objects (and bytes) the filters left out, by the flag that left each out."""

    objects: dict[str, int] = field(default_factory=dict)
    bytes: dict[str, int] = field(default_factory=dict)

    def add(self, flag: str, size: int | None, count: int = 1) -> None:
        self.objects[flag] = self.objects.get(flag, 0) + count
        self.bytes[flag] = self.bytes.get(flag, 0) + (size or 0)

    @property
    def total(self) -> int:
        return sum(self.objects.values())

    @property
    def total_bytes(self) -> int:
        return sum(self.bytes.values())

    def lines(self) -> list[str]:
        """One line per flag: ``--exclude '*.tmp': 3 objects (1.2 KiB)``."""
        from mediasync.core.settings import format_size

        return [f"{flag}: {count:,} object{'' if count == 1 else 's'} ({format_size(self.bytes.get(flag, 0))})"
                for flag, count in self.objects.items() if count]

    def to_json(self) -> dict[str, Any]:
        return {"left_out": [{"flag": flag, "objects": count, "bytes": self.bytes.get(flag, 0)}
                             for flag, count in self.objects.items()]}

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> "LeftOut":
        left_out = cls()
        for item in document.get("left_out") or []:
            left_out.add(str(item["flag"]), int(item.get("bytes") or 0), int(item["objects"]))
        return left_out
