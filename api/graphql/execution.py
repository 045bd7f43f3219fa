"""A graphql-core execution context that completes plain attribute fields without the
per-field machinery.

A timeline page is some 1,000 fields, 85% of them leaves read straight off an attribute
(``TimelineEntry.title``, ``ValidTime.start``...). For each of those, graphql-core builds a
``Path`` and a resolve info, calls Strawberry's default resolver wrapper, checks whether the
result is awaitable (twice), walks ``complete_value`` through non-null, list and leaf checks,
and only then coerces the scalar: most of the time GraphQL spent on a page went there.

``FastLeafExecutionContext`` plans each selection once per request (graphql-core already reuses
one grouped field set for every item of a list) and reads the plain leaf fields directly:
``getattr`` and the scalar's own output coercion, with an exact-type shortcut for str, bool and
32-bit int. Only fields Strawberry itself treats as "basic" qualify (no resolver, no field
extensions, hence no permission classes, no exception handlers), without arguments, and only
when no schema extension hooks ``resolve`` (no graphql-core middleware). Everything else, and
any value the shortcut does not accept as is (a null in a non-null field, a value the scalar
refuses, an attribute that raises), goes through graphql-core's own ``execute_fields`` for
that object, so errors, their paths and null propagation are exactly graphql-core's.
Authorisation is not involved: it happens in the reader, before any of these objects exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from graphql import (
    GraphQLBoolean,
    GraphQLID,
    GraphQLInt,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLScalarType,
    GraphQLString,
    Undefined,
)
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter

_SLOW = object()
"""A value the shortcut does not complete; graphql-core completes the object instead."""

Coerce = Callable[[Any], Any]
_INT_MIN, _INT_MAX = -(2**31), 2**31 - 1
_PLAIN_DIRECTIVES = frozenset({"skip", "include"})  # already applied when fields are collected


def _coercer(scalar: GraphQLScalarType) -> Coerce:
    """The scalar's output coercion, or ``_SLOW`` where graphql-core would raise or give null."""
    coerce_output = scalar.coerce_output_value

    def coerce(value: Any) -> Any:
        try:
            coerced = coerce_output(value)
        except Exception:  # graphql-core reports it, with the field's path
            return _SLOW
        return _SLOW if coerced is None or coerced is Undefined else coerced

    if scalar is GraphQLString or scalar is GraphQLID:
        return lambda value: value if type(value) is str else coerce(value)
    if scalar is GraphQLBoolean:
        return lambda value: value if type(value) is bool else coerce(value)
    if scalar is GraphQLInt:
        return lambda value: (
            value if type(value) is int and _INT_MIN <= value <= _INT_MAX else coerce(value)
        )
    return coerce


class _Leaf:
    """One plain leaf of a selection: response name, attribute, coercion and nullability."""

    __slots__ = ("attribute", "coerce", "is_list", "item_non_null", "name", "non_null")

    def __init__(
        self,
        name: str,
        attribute: str,
        coerce: Coerce,
        non_null: bool,
        is_list: bool,
        item_non_null: bool,
    ) -> None:
        self.name = name
        self.attribute = attribute
        self.coerce = coerce
        self.non_null = non_null
        self.is_list = is_list
        self.item_non_null = item_non_null


class _Plan:
    """A selection on one object type: its plain leaves, and the rest for graphql-core."""

    __slots__ = ("grouped_field_set", "leaves", "order", "rest")

    def __init__(self, grouped_field_set: Any, leaves: list[_Leaf], rest: dict[str, Any]) -> None:
        self.grouped_field_set = grouped_field_set  # kept alive: plans are found by its id
        self.leaves = leaves
        self.rest = rest
        self.order = list(grouped_field_set)


def _leaf(
    parent_type: GraphQLObjectType, response_name: str, field_details_list: Any
) -> _Leaf | None:
    """The plan of one selected field when it is a plain leaf; None otherwise."""
    details = field_details_list[0]
    node = details.node
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or field_def.args or node.arguments:
        return None
    if not getattr(field_def.resolve, "_is_default", False):  # a resolver, extensions, handlers
        return None
    for item in field_details_list:
        if item.defer_usage is not None or item.fragment_variable_values is not None:
            return None
        if any(d.name.value not in _PLAIN_DIRECTIVES for d in item.node.directives or ()):
            return None
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    attribute = getattr(definition, "python_name", None)
    if (
        not isinstance(attribute, str)
        or getattr(definition, "default_resolver", None) is not getattr
    ):
        return None
    output = field_def.type
    non_null = isinstance(output, GraphQLNonNull)
    if non_null:
        output = output.of_type
    is_list = isinstance(output, GraphQLList)
    item_non_null = False
    if is_list:
        output = output.of_type
        item_non_null = isinstance(output, GraphQLNonNull)
        if item_non_null:
            output = output.of_type
    if not isinstance(output, GraphQLScalarType):  # objects, enums, nested lists
        return None
    return _Leaf(response_name, attribute, _coercer(output), non_null, is_list, item_non_null)


def _completed(leaf: _Leaf, value: Any) -> Any:
    """``value`` completed as graphql-core would, or ``_SLOW``."""
    if value is None:
        return _SLOW if leaf.non_null else None
    if not leaf.is_list:
        return leaf.coerce(value)
    if type(value) is not list and type(value) is not tuple:
        return _SLOW
    coerce = leaf.coerce
    items: list[Any] = []
    for item in value:
        if item is None:
            if leaf.item_non_null:
                return _SLOW
            items.append(None)
            continue
        coerced = coerce(item)
        if coerced is _SLOW:
            return _SLOW
        items.append(coerced)
    return items


class FastLeafExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, completing plain leaf fields directly (see module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, _Plan] = {}
        manager = self.middleware_manager
        self._plain = manager is None or not getattr(manager, "middlewares", ())

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        plan = self._plans.get(id(grouped_field_set))
        if plan is not None and plan.grouped_field_set is grouped_field_set:
            return plan
        leaves: list[_Leaf] = []
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            leaf = _leaf(parent_type, response_name, field_details_list)
            if leaf is None:
                rest[response_name] = field_details_list
            else:
                leaves.append(leaf)
        plan = _Plan(grouped_field_set, leaves, rest)
        self._plans[id(grouped_field_set)] = plan
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if self._plain else None
        if plan is None or not plan.leaves:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        done: dict[str, Any] = {}
        for leaf in plan.leaves:
            try:
                value = getattr(source_value, leaf.attribute)
            except Exception:  # graphql-core reports it
                value = _SLOW
            else:
                value = _completed(leaf, value)
            if value is _SLOW:
                return super().execute_fields(
                    parent_type, source_value, path, grouped_field_set, position_context
                )
            done[leaf.name] = value
        if not plan.rest:
            return done if len(done) == len(plan.order) else _ordered(plan.order, done, {})
        others = super().execute_fields(
            parent_type, source_value, path, plan.rest, position_context
        )
        if self.is_awaitable(others):

            async def merged() -> dict[str, Any]:
                return _ordered(plan.order, done, await others)

            return merged()
        return _ordered(plan.order, done, cast(dict[str, Any], others))


def _ordered(order: list[str], done: dict[str, Any], others: dict[str, Any]) -> dict[str, Any]:
    """Both parts of an object's result, in the order the query selected its fields."""
    merged: dict[str, Any] = {}
    for name in order:
        if name in done:
            merged[name] = done[name]
        elif name in others:
            merged[name] = others[name]
    return merged
