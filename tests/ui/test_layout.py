"""Chart geometry without a browser: spans for month and year dates, rows, axes, rating steps."""

from __future__ import annotations

from datetime import date

from api.ui.layout import (
    AXIS_HEIGHT,
    Axis,
    ChartItem,
    Lane,
    RatingPoint,
    is_span,
    lay_out_ratings,
    lay_out_timeline,
    rating_points_in_force,
)
from domain.valid_time import ValidTime


def item(entry_id: str, when: str, lane: str = "a", late: bool = False) -> ChartItem:
    valid = ValidTime.parse(when)
    return ChartItem(entry_id, lane, f"title {entry_id}", valid, valid.end, late, "tone-x", "#")


def test_month_and_year_dates_are_spans_and_days_are_points() -> None:
    assert is_span(item("m", "2019-03"))
    assert is_span(item("y", "2020"))
    assert not is_span(item("d", "2019-03-14"))


def test_a_span_covers_its_whole_period_on_the_axis() -> None:
    axis = Axis(date(2020, 1, 1), date(2020, 12, 31), 100, 366)
    chart = lay_out_timeline([item("y", "2020"), item("m", "2020-02")], [Lane("a", "A")], axis=axis)
    marks = {m.item.entry_id: m for m in chart.marks}
    assert marks["y"].x == 100
    assert marks["y"].width == 366
    assert marks["m"].x == 131
    assert marks["m"].width == 29
    assert marks["y"].span
    assert marks["m"].span


def test_overlapping_marks_in_a_lane_take_separate_rows() -> None:
    chart = lay_out_timeline(
        [item("1", "2019"), item("2", "2019-06"), item("3", "2021-01-01")], [Lane("a", "A")]
    )
    rows = {m.item.entry_id: m.y for m in chart.marks}
    assert rows["1"] != rows["2"]
    assert rows["3"] == rows["1"]
    assert chart.lanes[0].height > chart.lanes[1 - 1].marks[0].y - chart.lanes[0].y


def test_lanes_stack_in_the_order_given_and_unknown_lanes_are_left_out() -> None:
    chart = lay_out_timeline(
        [item("1", "2019", "b"), item("2", "2019", "a"), item("3", "2019", "zzz")],
        [Lane("a", "A"), Lane("b", "B")],
    )
    assert [lane.lane.key for lane in chart.lanes] == ["a", "b"]
    assert chart.lanes[0].y == AXIS_HEIGHT
    assert chart.lanes[1].y == chart.lanes[0].y + chart.lanes[0].height
    assert {m.item.entry_id for m in chart.marks} == {"1", "2"}


def test_axis_ticks_are_years_on_long_axes_and_months_on_short_ones() -> None:
    long_axis = Axis(date(2016, 1, 1), date(2022, 12, 31), 0, 700)
    assert [t.label for t in long_axis.ticks()][:3] == ["2016", "2017", "2018"]
    short_axis = Axis(date(2021, 1, 1), date(2021, 12, 31), 0, 365)
    assert [t.label for t in short_axis.ticks()] == ["2021", "Apr", "Jul", "Oct"]


def test_a_rating_holds_until_the_next_assessment() -> None:
    points = [
        RatingPoint("a1", "first", date(2021, 8, 1), "high", 20, "superseded", "#"),
        RatingPoint("a2", "second", date(2022, 2, 1), "significant", 10, "finalised", "#"),
        RatingPoint("a3", "draft", date(2022, 3, 1), "", None, "draft", "#"),
    ]
    kept = rating_points_in_force(points)
    assert [p.assessment_id for p in kept] == ["a1", "a2"]
    axis = Axis(date(2021, 1, 1), date(2022, 12, 31), 0, 730)
    chart = lay_out_ratings(kept, axis=axis, until=date(2022, 12, 31))
    first, second = chart.steps
    assert first.x + first.width == second.x
    assert first.y < second.y  # high is drawn above significant
    assert second.x + second.width == 730  # the last rating holds to the axis end
