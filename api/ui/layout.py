"""Geometry of the timeline and risk charts: pure functions from entries to SVG coordinates.

Nothing here renders markup (the Jinja2 templates do, with autoescaping); everything here is
numbers and words, so it is tested without a browser or a database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from domain.valid_time import DAY, ValidTime

RATINGS = ("low", "medium", "significant", "high")
"""Risk ratings from lowest to highest (DOMAIN.md: score bands 1-4, 5-9, 10-15, 16-25)."""

CHART_WIDTH = 960
LANE_ROW = 24
"""Height of one row of marks inside a lane (a lane grows a row per overlap)."""
AXIS_HEIGHT = 34
MIN_SPAN = 4.0
"""A month drawn on a decade axis is still wide enough to see and to click."""
POINT_RADIUS = 6.0
MARK_HEIGHT = 12
"""Height of a span; points are circles of POINT_RADIUS centred on the same line."""


@dataclass(frozen=True)
class Lane:
    key: str
    label: str
    href: str | None = None


@dataclass(frozen=True)
class ChartItem:
    """One timeline entry as the chart needs it; ``tone`` is a CSS class (kind or rating)."""

    entry_id: str
    lane: str
    title: str
    valid_time: ValidTime
    valid_end: date
    recorded_late: bool
    tone: str
    href: str
    recorded_on: str = ""


@dataclass(frozen=True)
class Tick:
    x: float
    label: str
    major: bool


@dataclass(frozen=True)
class Axis:
    """Maps days to x between ``x0`` and ``x0 + width`` (``last`` is inclusive)."""

    first: date
    last: date
    x0: float
    width: float

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def x(self, day: date) -> float:
        """Left edge of ``day``; the day after ``last`` maps to the right edge."""
        return self.x0 + self.width * (day - self.first).days / self.days

    def ticks(self) -> list[Tick]:
        """Year ticks on long axes; months (labelled by quarter) when it spans two years or less."""
        found: list[Tick] = []
        if self.days > 2 * 366:
            step = max(1, (self.last.year - self.first.year + 1) // 12)
            for year in range(self.first.year, self.last.year + 1):
                day = date(year, 1, 1)
                if day >= self.first and (year - self.first.year) % step == 0:
                    found.append(Tick(round(self.x(day), 1), str(year), True))
            return found
        month = date(self.first.year, self.first.month, 1)
        while month <= self.last:
            if month >= self.first:
                major = month.month == 1
                label = str(month.year) if major else f"{month:%b}"
                if major or month.month % 3 == 1:
                    found.append(Tick(round(self.x(month), 1), label, major))
            month = _next_month(month)
        return found


@dataclass(frozen=True)
class Mark:
    """An entry placed on the chart: a span (month/year precision or a period) or a point."""

    item: ChartItem
    x: float
    y: float
    width: float
    span: bool

    @property
    def cx(self) -> float:
        return round(self.x + self.width / 2, 1)

    @property
    def cy(self) -> float:
        return self.y + MARK_HEIGHT / 2


@dataclass(frozen=True)
class PlacedLane:
    lane: Lane
    y: float
    height: float
    marks: tuple[Mark, ...]


@dataclass(frozen=True)
class TimelineChart:
    axis: Axis
    lanes: tuple[PlacedLane, ...]
    width: float
    height: float
    label_width: float

    @property
    def ticks(self) -> list[Tick]:
        return self.axis.ticks()

    @property
    def marks(self) -> list[Mark]:
        return [m for lane in self.lanes for m in lane.marks]


def is_span(item: ChartItem) -> bool:
    """Month- and year-precision dates, and periods of more than a day, are drawn as spans."""
    return item.valid_time.precision != DAY or item.valid_end > item.valid_time.start


def axis_for(items: Sequence[ChartItem], x0: float, width: float) -> Axis:
    """Whole years around every entry (at least one year, so a single entry has room)."""
    if not items:
        this_year = date.today().year
        return Axis(date(this_year, 1, 1), date(this_year, 12, 31), x0, width)
    first = min(i.valid_time.start for i in items)
    last = max(max(i.valid_end, i.valid_time.end) for i in items)
    return Axis(date(first.year, 1, 1), date(last.year, 12, 31), x0, width)


def lay_out_timeline(
    items: Sequence[ChartItem],
    lanes: Sequence[Lane],
    *,
    width: float = CHART_WIDTH,
    label_width: float = 150,
    axis: Axis | None = None,
) -> TimelineChart:
    """Lanes top to bottom, each packed into as few rows as keep its marks from overlapping.

    Items whose lane is not in ``lanes`` are left out (the caller decides what is shown).
    """
    axis = axis or axis_for(items, label_width + 8, width - label_width - 16)
    by_lane: dict[str, list[ChartItem]] = {lane.key: [] for lane in lanes}
    for item in items:
        if item.lane in by_lane:
            by_lane[item.lane].append(item)
    placed: list[PlacedLane] = []
    y = float(AXIS_HEIGHT)
    for lane in lanes:
        row_ends: list[float] = []
        marks: list[Mark] = []
        for item in sorted(by_lane[lane.key], key=lambda i: (i.valid_time.start, i.entry_id)):
            span = is_span(item)
            left = axis.x(item.valid_time.start)
            if span:
                right = axis.x(max(item.valid_end, item.valid_time.end) + timedelta(days=1))
                mark_width = max(MIN_SPAN, right - left)
            else:
                left, mark_width = left - POINT_RADIUS, 2 * POINT_RADIUS
            row = _free_row(row_ends, left)
            row_ends[row] = left + mark_width + 2
            marks.append(
                Mark(item, round(left, 1), y + 8 + row * LANE_ROW, round(mark_width, 1), span)
            )
        height = max(1, len(row_ends)) * LANE_ROW + 8
        placed.append(PlacedLane(lane, y, height, tuple(marks)))
        y += height
    return TimelineChart(axis, tuple(placed), width, y + 8, label_width)


def _free_row(row_ends: list[float], left: float) -> int:
    for index, end in enumerate(row_ends):
        if end <= left:
            return index
    row_ends.append(0.0)
    return len(row_ends) - 1


def _next_month(day: date) -> date:
    return date(day.year + day.month // 12, day.month % 12 + 1, 1)


# ---- risk rating over time ---------------------------------------------------------------


@dataclass(frozen=True)
class RatingPoint:
    """A finalised assessment's rating from the day it was finalised."""

    assessment_id: str
    title: str
    on: date
    rating: str
    score: int | None
    status: str
    href: str


@dataclass(frozen=True)
class RatingStep:
    """The rating in force from ``x`` for ``width`` (until the next assessment or the axis end)."""

    point: RatingPoint
    x: float
    y: float
    width: float


@dataclass(frozen=True)
class RatingChart:
    axis: Axis
    steps: tuple[RatingStep, ...]
    levels: tuple[tuple[str, float], ...]
    width: float
    height: float
    label_width: float

    @property
    def ticks(self) -> list[Tick]:
        return self.axis.ticks()


RATING_ROW = 30


def lay_out_ratings(
    points: Sequence[RatingPoint],
    *,
    width: float = CHART_WIDTH,
    label_width: float = 150,
    until: date | None = None,
    axis: Axis | None = None,
) -> RatingChart:
    """A step chart: each rating holds until the next finalised assessment (or ``until``)."""
    ordered = sorted(points, key=lambda p: (p.on, RATINGS.index(p.rating)))
    end = until or date.today()
    if axis is None:
        first = ordered[0].on if ordered else end
        last = max(end, ordered[-1].on) if ordered else end
        axis = Axis(
            date(first.year, 1, 1), date(last.year, 12, 31), label_width + 8,
            width - label_width - 16,
        )  # fmt: skip
    levels = tuple(
        (rating, float(AXIS_HEIGHT + (len(RATINGS) - 1 - i) * RATING_ROW + RATING_ROW / 2))
        for i, rating in enumerate(RATINGS)
    )
    level_y = dict(levels)
    steps = []
    for index, point in enumerate(ordered):
        following = ordered[index + 1].on if index + 1 < len(ordered) else end + timedelta(days=1)
        following = min(following, axis.last + timedelta(days=1))
        x = axis.x(point.on)
        steps.append(
            RatingStep(
                point, round(x, 1), level_y[point.rating], round(max(0.0, axis.x(following) - x), 1)
            )
        )
    height = AXIS_HEIGHT + len(RATINGS) * RATING_ROW + 12
    return RatingChart(axis, tuple(steps), levels, width, height, label_width)


def rating_points_in_force(points: Sequence[RatingPoint]) -> list[RatingPoint]:
    """Finalised and later superseded assessments carry a rating; drafts and withdrawn do not."""
    return [p for p in points if p.rating in RATINGS and p.status in ("finalised", "superseded")]
