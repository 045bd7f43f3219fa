"""Invariants that hold for every input: ratings, valid times, and the overall rating."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest
from hypothesis import given
from hypothesis import strategies as st

from domain.errors import ValidationError
from domain.risk_assessment import RATINGS, Risk, overall, rating_for, rating_rank
from domain.valid_time import DAY, MONTH, PRECISIONS, YEAR, ValidTime

scales = st.integers(min_value=1, max_value=5)
dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 12, 31))
valid_times = st.builds(ValidTime, dates, st.sampled_from(PRECISIONS))


def risk(likelihood: int, impact: int) -> Risk:
    return Risk(uuid4(), "fraud or diversion", likelihood, impact, "described")


@given(scales, scales)
def test_a_rating_follows_the_score_thresholds(likelihood: int, impact: int) -> None:
    score = likelihood * impact
    expected = (
        "low"
        if score <= 4
        else "medium"
        if score <= 9
        else "significant"
        if score <= 15
        else "high"
    )
    assert risk(likelihood, impact).rating == rating_for(score) == expected


@given(st.integers(min_value=1, max_value=24))
def test_a_higher_score_never_has_a_lower_rating(score: int) -> None:
    assert rating_rank(rating_for(score + 1)) >= rating_rank(rating_for(score))


@given(st.lists(st.tuples(scales, scales), min_size=1, max_size=20))
def test_the_overall_rating_is_that_of_the_highest_score(pairs: list[tuple[int, int]]) -> None:
    risks = [risk(likelihood, impact) for likelihood, impact in pairs]
    found = overall(risks)
    assert found is not None
    top = max(likelihood * impact for likelihood, impact in pairs)
    assert found == (top, rating_for(top))
    assert all(rating_rank(found[1]) >= rating_rank(r.rating) for r in risks)


def test_no_risks_means_no_rating() -> None:
    assert overall([]) is None
    assert RATINGS == ("low", "medium", "significant", "high")


@given(st.integers().filter(lambda n: not 1 <= n <= 5), scales)
def test_likelihood_outside_1_to_5_is_refused(likelihood: int, impact: int) -> None:
    with pytest.raises(ValidationError) as caught:
        risk(likelihood, impact).checked()
    assert (caught.value.field, caught.value.rule) == ("likelihood", "range_1_5")


@given(valid_times)
def test_a_valid_time_reads_back_from_its_text(when: ValidTime) -> None:
    assert ValidTime.parse(str(when)) == when
    assert ValidTime.parse(str(when), precision=when.precision) == when


@given(valid_times)
def test_a_valid_time_covers_its_whole_period(when: ValidTime) -> None:
    assert when.start <= when.end
    assert when.overlaps(when.start, when.start)
    assert when.overlaps(when.end, when.end)
    if when.precision == YEAR:
        assert (when.start, when.end) == (
            date(when.start.year, 1, 1),
            date(when.start.year, 12, 31),
        )
    if when.precision == MONTH:
        assert when.start.day == 1
        assert when.end.month == when.start.month
    if when.precision == DAY:
        assert when.start == when.end


@given(valid_times, valid_times)
def test_valid_times_sort_by_their_first_day(a: ValidTime, b: ValidTime) -> None:
    if a.start < b.start:
        assert a < b
    if a < b:
        assert a.start <= b.start


@given(dates)
def test_a_year_sorts_with_its_first_day_and_contains_each_of_its_days(day: date) -> None:
    year = ValidTime(day, YEAR)
    assert str(year) == f"{day.year:04d}"
    assert year.overlaps(day, day)
    assert year.start <= day <= year.end
