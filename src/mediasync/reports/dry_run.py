"""What a run would do, told before doing any of it (``run --dry-run``).

Objects are sorted into what the run would do with each, a :class:`Category` apiece,
in the order a user reads them: copied, checked at the destination first, left out
(already there, or by a filter). Each keeps its count, its bytes and its first rows;
nothing else is held, so a dry run of millions of objects takes the memory of a few
rows. With ``--move``, every object the run copies or checks (those the listings show
already there included: their tasks prove them and delete the source) is counted once
more, under "moved": what the run then does with its source.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from mediasync.core.settings import CopyOptions, format_size
from mediasync.manifests.filters import FILTERED, LeftOut, ObjectFilter
from mediasync.manifests.listing import Listed, list_bucket
from mediasync.manifests.s3batch_csv import ManifestRow
from mediasync.manifests.sync_plan import CHECK, COPY, SAME, Decision, Destination, DestinationNotListed, plan_sync

INVALID = "invalid"  # a manifest row no task can use
MOVED = "moved"  # with --move: the sources deleted once their copies are proved
SHOWN = 5  # rows shown of each category


@dataclass
class Category:
    label: str  # what the run would do with these objects
    objects: int = 0
    bytes: int = 0
    unsized: int = 0  # objects whose size the manifest does not give
    rows: list[str] = field(default_factory=list)  # the first SHOWN, as shown

    def add(self, name: str, size: int | None, why: str = "") -> None:
        self.objects += 1
        if size is None:
            self.unsized += 1
        else:
            self.bytes += size
        if len(self.rows) < SHOWN:
            shown = name + (f" ({format_size(size)})" if size is not None else "")
            self.rows.append(shown + (f": {why}" if why else ""))


def _categories() -> dict[str, Category]:
    return {
        COPY: Category("would be copied"),
        CHECK: Category("would be checked at the destination, and copied unless already there"),
        SAME: Category("left out: the listings show the destination already holds them"),
        FILTERED: Category("left out by the filters"),
        INVALID: Category("would fail: the manifest row cannot be read"),
        MOVED: Category("then moved: each source deleted once its copy is proved by its content (kept, and the "
                        "report says why, when only its size proves it, when it is locked or changed since)"),
    }


# What the SAME category says with --move: those objects are not left out, their tasks prove them.
SAME_MOVED = "at the destination already, the listings show: checked there, and the source moved once proved"


@dataclass
class DryRun:
    """Objects by what the run would do with them; ``left_out`` counts FILTERED by flag."""

    categories: dict[str, Category] = field(default_factory=_categories)
    left_out: LeftOut = field(default_factory=LeftOut)
    notes: list[str] = field(default_factory=list)  # what changed the way it was decided

    def add(self, category: str, name: str, size: int | None, why: str = "") -> None:
        self.categories[category].add(name, size, why)
        if category == FILTERED:
            self.left_out.add(why, size)

    @property
    def objects(self) -> int:
        """The objects looked at (moved ones are counted already, as copied or checked)."""
        return sum(category.objects for name, category in self.categories.items() if name != MOVED)

    def moving(self) -> None:
        """The run moves: what the listings show already copied is checked and moved, not left out."""
        self.categories[SAME].label = SAME_MOVED

    def add_decided(self, category: str, name: str, size: int | None, why: str, *, move: bool) -> None:
        """An object the run copies, checks or leaves out; with ``move``, moved after."""
        self.add(category, name, size, why)
        if move and category in (COPY, CHECK, SAME):
            self.add(MOVED, name, size)

    def lines(self) -> list[str]:
        lines = [f"note: {note}" for note in self.notes]
        lines += [f"dry run of {self.objects:,} objects: nothing was copied, and nothing written to either bucket"]
        for category in self.categories.values():
            if not category.objects:
                continue
            size = format_size(category.bytes)
            if category.unsized:
                size += f" and {category.unsized:,} of unknown size (the manifest gives none; estimate sizes them)"
            lines.append(f"{category.label}: {category.objects:,} object{'' if category.objects == 1 else 's'}, {size}")
            if category is self.categories[FILTERED]:
                lines += [f"  by {line}" for line in self.left_out.lines()]
            lines += [f"  {row}" for row in category.rows]
            if category.objects > len(category.rows):
                lines.append(f"  ... and {category.objects - len(category.rows):,} more")
        return lines


def _name(item: Listed) -> str:
    return f"s3://{item.bucket}/{item.key}"


def preview_source(s3: Any, bucket: str, prefix: str, options: CopyOptions, selected: ObjectFilter, *,
                   sync_plan: bool) -> DryRun:
    """What ``run --source`` would do with ``s3://bucket/prefix``: listed as the run lists
    it (with ``sync_plan``, the destination too, and each object decided as the run
    decides it); nothing is written."""
    preview = DryRun()
    if options.move:
        preview.moving()
    # Without a plan a task decides at the destination: checked first unless --no-skip-existing.
    each = CHECK if options.skip_existing else COPY

    def decided(item: Listed, decision: Decision) -> None:
        preview.add_decided(decision.action, _name(item), item.size, decision.reason, move=options.move)

    def left_out(item: Listed, flag: str) -> None:
        preview.add(FILTERED, _name(item), item.size, flag)

    if sync_plan:
        destination = Destination(options.destination_bucket, options.destination_prefix, options.strip_prefix)
        try:
            plan_sync(s3, bucket, prefix, destination, decided, requester_pays=options.requester_pays,
                      selected=selected, on_left_out=left_out)
            return preview
        except DestinationNotListed as err:
            preview.notes.append(f"could not list the destination, so each object would be checked there before "
                                 f"its copy: {err}")
    list_bucket(s3, bucket, prefix, emit=lambda item: preview.add_decided(each, _name(item), item.size, "",
                                                                          move=options.move),
                requester_pays=options.requester_pays, selected=selected, on_left_out=left_out)
    return preview


def preview_manifest(rows: Iterable[ManifestRow], options: CopyOptions) -> DryRun:
    """What ``run --manifest`` would do with each row (a manifest gives no sizes)."""
    preview = DryRun()
    each = CHECK if options.skip_existing else COPY
    for row in rows:
        preview.add_decided(INVALID if row.error else each, f"s3://{row.bucket}/{row.key}", None, row.error or "",
                            move=options.move)
    return preview
