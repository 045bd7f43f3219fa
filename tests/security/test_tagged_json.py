"""TaggedEncoder writes exactly what the library's JSONTranscoder writes, and refuses what it refuses."""

from __future__ import annotations

import enum
import json
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import pytest
from eventsourcing.application import Application
from eventsourcing.persistence import JSONTranscoder, Transcoding, TranscodingNotRegisteredError
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.engagement import FollowUp
from domain.partner import ActorMapping
from domain.personal_data import PersonalData
from domain.risk_assessment import Mitigation
from domain.transcodings import register_domain_transcodings
from domain.valid_time import ValidTime
from security.tagged_json import TaggedEncoder

DATASET = Path(__file__).resolve().parents[2] / "demo" / "dataset.json"


def library_transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    Application.register_transcodings(Application.__new__(Application), transcoder)
    register_domain_transcodings(transcoder)
    return transcoder


TRANSCODER = library_transcoder()
ENCODER = TaggedEncoder(TRANSCODER)


def same_as_library(value: Any) -> bytes:
    written = ENCODER.encode(value)
    assert written == TRANSCODER.encode(value)
    return written


class Colour(enum.Enum):
    RED = "red"


class Level(enum.IntEnum):
    HIGH = 3


class Label(str):
    pass


zones = st.builds(
    timezone, st.timedeltas(min_value=-timedelta(hours=23), max_value=timedelta(hours=23))
)
atoms = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**63), max_value=2**63 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(),
    st.uuids(),
    st.datetimes(timezones=st.just(UTC)),
    st.datetimes(),
    st.datetimes(timezones=zones),
    st.dates(),
    st.decimals(allow_nan=False, allow_infinity=False),
    st.builds(ValidTime.parse, st.dates().map(date.isoformat)),
)
value_objects = st.one_of(
    st.builds(
        FollowUp, st.uuids(), st.text(min_size=1), st.text(min_size=1), st.none() | st.dates()
    ),
    st.builds(
        Mitigation,
        st.uuids(),
        st.text(min_size=1),
        st.text(min_size=1),
        st.none() | st.dates(),
        st.sampled_from(["planned", "done"]),
    ),
    st.builds(
        ActorMapping,
        st.integers(1, 5),
        st.integers(1, 5),
        st.text(),
        st.lists(st.text(), max_size=3).map(tuple),
    ),
)
trees = st.recursive(
    atoms | value_objects,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.lists(children, max_size=4).map(tuple),
        st.dictionaries(st.text(), children, max_size=4),
    ),
    max_leaves=25,
)


@settings(max_examples=400, deadline=None)
@given(state=st.dictionaries(st.text(), trees, max_size=8))
def test_any_event_state_is_written_as_the_library_writes_it(state: dict[str, Any]) -> None:
    written = ENCODER.encode(state)
    library = TRANSCODER.encode(state)
    # Floats are written by orjson's shortest form (1e16, not 1e+16): the same number.
    assert json.loads(written) == json.loads(library)
    assert TRANSCODER.decode(written) == TRANSCODER.decode(library)
    if not has_float(state):
        assert written == library


def has_float(value: Any) -> bool:
    if isinstance(value, float):
        return True
    if isinstance(value, dict):
        return any(has_float(item) for item in value.values())
    if isinstance(value, (list, tuple)):
        return any(has_float(item) for item in value)
    return False


def test_the_demo_dataset_is_written_byte_for_byte_as_the_library_writes_it() -> None:
    dataset = json.loads(DATASET.read_text())
    assert len(same_as_library(dataset)) > 10_000


def test_values_json_takes_natively_are_written_as_json_writes_them() -> None:
    state = {
        "label": Label("x"),
        "level": Level.HIGH,
        "colour_value": Colour.RED.value,
        "unicode": 'é ☃ \u2028 \x7f \x00 \n "quoted" \\',
        "tuple": (1, (2, 3), []),
        "nested": {"a": [{"b": uuid4()}]},
        "when": datetime(2024, 3, 14, 9, 30, tzinfo=UTC),
        "day": date(2024, 3, 14),
        "amount": Decimal("12.50"),
    }
    written = same_as_library(state)
    assert json.loads(written)["level"] == 3


@pytest.mark.parametrize(
    "value",
    [float("nan"), float("inf"), -float("inf"), 2**64, -(2**70), {1: "a", None: "b", False: 2.5}],
)
def test_what_orjson_refuses_is_written_by_json_as_the_library_does(value: Any) -> None:
    same_as_library({"value": value, "id": UUID(int=7)})


def test_a_key_json_refuses_is_refused() -> None:
    with pytest.raises(TypeError):
        TRANSCODER.encode({UUID(int=1): 1})
    with pytest.raises(TypeError):
        ENCODER.encode({UUID(int=1): 1})


def test_an_unregistered_type_is_refused_as_the_library_refuses_it() -> None:
    for value in (Colour.RED, {1, 2}, b"bytes", object()):
        with pytest.raises(TranscodingNotRegisteredError):
            TRANSCODER.encode({"value": value})
        with pytest.raises(TranscodingNotRegisteredError, match="not serializable"):
            ENCODER.encode({"value": value})


class CountingPersonalData(Transcoding):
    """Stands in for the sealing transcoding: counts how often a person's data is encoded."""

    type = PersonalData
    name = "personal_data"

    def __init__(self) -> None:
        self.calls = 0

    def encode(self, obj: PersonalData) -> dict[str, Any]:
        self.calls += 1
        return {"person_id": obj.person_id.hex, "sealed": f"call {self.calls}"}

    def decode(self, data: dict[str, Any]) -> PersonalData:
        raise NotImplementedError


def test_each_value_is_encoded_once_even_when_json_writes_the_bytes() -> None:
    transcoder = library_transcoder()
    counting = CountingPersonalData()
    transcoder.register(counting)
    encoder = TaggedEncoder(transcoder)
    person = PersonalData(uuid4(), "A. Person")
    written = encoder.encode({"person": person, "big": 2**80})  # orjson refuses; json writes
    assert counting.calls == 1
    assert json.loads(written)["person"]["_data_"]["sealed"] == "call 1"
    assert json.loads(written)["big"] == 2**80


def test_a_transcoding_registered_later_is_used() -> None:
    transcoder = JSONTranscoder()
    encoder = TaggedEncoder(transcoder)
    with pytest.raises(TranscodingNotRegisteredError):
        encoder.encode({"id": UUID(int=5)})
    Application.register_transcodings(Application.__new__(Application), transcoder)
    assert encoder.encode({"id": UUID(int=5)}) == transcoder.encode({"id": UUID(int=5)})
