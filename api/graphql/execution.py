"""A graphql-core execution context that completes plain attribute fields without the
per-field machinery.

A timeline page is some 1,000 fields, nearly all read straight off an attribute
(``TimelineEntry.title``, ``ValidTime.start``, ``TimelineEdge.node``...). For each of those,
graphql-core builds a ``Path`` and a resolve info, calls Strawberry's default resolver
wrapper, checks whether the result is awaitable (twice), walks ``complete_value`` through its
non-null, list, leaf and object cases, collects the sub-selection and only then coerces the
scalars: most of the time GraphQL spent on a page went there.

``PlainFieldExecutionContext`` plans each selection once per request (graphql-core already reuses
one grouped field set for every item of a list) and completes its *plain* fields directly:

- a plain field is one Strawberry itself treats as basic (no resolver, no field extensions,
  hence no permission classes, no exception handlers), without arguments, ``@defer`` or
  ``@stream``, and only while no schema extension hooks ``resolve`` (no graphql-core
  middleware);
- a plain leaf (scalar, or list of scalars) is ``getattr`` plus the scalar's own output
  coercion, with an exact-type shortcut for str, bool and 32-bit int;
- a plain object (or list of objects) of a type without ``is_type_of`` is completed the same
  way when every field of its sub-selection is plain, recursively: a page of timeline edges
  is then one loop over attributes.

Everything else goes through graphql-core as before. Any value the shortcut does not take as
is (a null in a non-null field, a value the scalar refuses, an attribute that raises, a list
that is not a list) sends the whole object through graphql-core's own ``execute_fields``, so
data, errors, their paths and null propagation are exactly graphql-core's; what the shortcut
read is only attributes, read again. Authorisation is not involved: it happens in the reader,
before any of these objects exist.
"""

from __future__ import annotations

import weakref
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


class _Plain:
    """What a plain field definition is, whatever the query: the attribute it is read from,
    its wrappers, the scalar coercion (None for an object), and the exact type taken as is."""

    __slots__ = ("attribute", "coerce", "exact", "is_list", "item_non_null", "non_null")

    def __init__(self, field_def: Any, attribute: str) -> None:
        self.attribute = attribute
        named, self.non_null, self.is_list, self.item_non_null = _unwrap(field_def.type)
        self.coerce: Coerce | None = None
        self.exact: type | None = None  # a value of exactly this type is already coerced
        if isinstance(named, GraphQLScalarType):
            self.coerce = _coercer(named)
            if not self.is_list and (named is GraphQLString or named is GraphQLID):
                self.exact = str
            elif not self.is_list and named is GraphQLBoolean:
                self.exact = bool


_PLAIN: weakref.WeakKeyDictionary[GraphQLObjectType, dict[str, _Plain | None]] = (
    weakref.WeakKeyDictionary()
)
"""Plain field definitions by object type and field name, worked out once per schema."""


def _plain_definition(parent_type: GraphQLObjectType, name: str, field_def: Any) -> _Plain | None:
    """The plain form of a field definition; None when code resolves it."""
    known = _PLAIN.get(parent_type)
    if known is None:
        known = _PLAIN.setdefault(parent_type, {})
    if name in known:
        return known[name]
    definition = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    attribute = getattr(definition, "python_name", None)
    plain = None
    if (
        not field_def.args
        and getattr(field_def.resolve, "_is_default", False)  # no resolver, extensions, handlers
        and isinstance(attribute, str)
        and getattr(definition, "default_resolver", None) is getattr
    ):
        plain = _Plain(field_def, attribute)
    known[name] = plain
    return plain


class _Field:
    """One plain field of a selection: its response name, definition and sub-selection."""

    __slots__ = ("name", "plain", "sub")

    def __init__(self, name: str, plain: _Plain, sub: _Plan | None = None) -> None:
        self.name = name
        self.plain = plain
        self.sub = sub


class _Plan:
    """A selection on one object type: its plain fields, and the rest for graphql-core."""

    __slots__ = ("grouped_field_set", "order", "rest", "rows")

    def __init__(self, grouped_field_set: Any, fields: list[_Field], rest: dict[str, Any]) -> None:
        self.grouped_field_set = grouped_field_set  # kept alive: plans are found by its id
        self.rows = [(f.name, f.plain.attribute, f.plain.exact, f) for f in fields]
        self.rest = rest
        self.order = list(grouped_field_set)


def _unwrap(output: Any) -> tuple[Any, bool, bool, bool]:
    """(named type, non-null, is a list, items non-null) of a field's type; lists of lists
    come back as a list whose named type is a list (never plain)."""
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
    return output, non_null, is_list, item_non_null


def _plain_selection(field_details_list: Any) -> bool:
    """Whether this selection of a field asks for nothing but its value: no arguments, no
    @defer, @stream or other directive beyond @skip and @include (applied already)."""
    for item in field_details_list:
        node = item.node
        if node.arguments or item.defer_usage is not None:
            return False
        if item.fragment_variable_values is not None:
            return False
        if node.directives and any(d.name.value not in _PLAIN_DIRECTIVES for d in node.directives):
            return False
    return True


def _value(field: _Field, value: Any) -> Any:
    """``value`` (read off the field's attribute) completed as graphql-core would complete
    it, or ``_SLOW``."""
    plain = field.plain
    if value is None:
        return _SLOW if plain.non_null else None
    coerce = plain.coerce
    if not plain.is_list:
        if coerce is not None:
            return coerce(value)
        return _object(cast(_Plan, field.sub), value)
    if type(value) is not list and type(value) is not tuple:
        return _SLOW
    items: list[Any] = []
    for item in value:
        if item is None:
            if plain.item_non_null:
                return _SLOW
            items.append(None)
            continue
        completed = coerce(item) if coerce is not None else _object(cast(_Plan, field.sub), item)
        if completed is _SLOW:
            return _SLOW
        items.append(completed)
    return items


def _object(plan: _Plan, source: Any) -> Any:
    """A whole object of plain fields, or ``_SLOW``."""
    completed: dict[str, Any] = {}
    try:
        for name, attribute, exact, field in plan.rows:
            value = getattr(source, attribute)
            if type(value) is exact:  # a str for a String, a bool for a Boolean
                completed[name] = value
                continue
            value = _value(field, value)
            if value is _SLOW:
                return _SLOW
            completed[name] = value
    except Exception:  # an attribute that raises: graphql-core reports it
        return _SLOW
    return completed


class PlainFieldExecutionContext(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's execution context, completing plain fields directly (see the module)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._plans: dict[int, _Plan] = {}
        manager = self.middleware_manager
        self._plain = manager is None or not getattr(manager, "middlewares", ())

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: Any) -> _Plan:
        plan = self._plans.get(id(grouped_field_set))
        if plan is not None and plan.grouped_field_set is grouped_field_set:
            return plan
        fields: list[_Field] = []
        rest: dict[str, Any] = {}
        for response_name, field_details_list in grouped_field_set.items():
            field = self._field(parent_type, response_name, field_details_list)
            if field is None:
                rest[response_name] = field_details_list
            else:
                fields.append(field)
        plan = _Plan(grouped_field_set, fields, rest)
        self._plans[id(grouped_field_set)] = plan
        return plan

    def _field(
        self, parent_type: GraphQLObjectType, response_name: str, field_details_list: Any
    ) -> _Field | None:
        """The plan of one selected field when it is plain; None otherwise."""
        name = field_details_list[0].node.name.value
        field_def = parent_type.fields.get(name)
        if field_def is None or not _plain_selection(field_details_list):
            return None
        plain = _plain_definition(parent_type, name, field_def)
        if plain is None:
            return None
        if plain.coerce is not None:
            return _Field(response_name, plain)
        named = _unwrap(field_def.type)[0]
        if not isinstance(named, GraphQLObjectType) or named.is_type_of is not None:
            return None  # enums, interfaces, unions, lists of lists, checked object types
        try:
            grouped, new_defer_usages, _ = self.collect_subfields(named, field_details_list)
        except Exception:  # graphql-core reports it when it completes the field
            return None
        if new_defer_usages:
            return None
        sub = self._plan(named, grouped)
        if sub.rest or not sub.rows:
            return None
        return _Field(response_name, plain, sub)

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: Any,
        position_context: Any,
    ) -> Any:
        plan = self._plan(parent_type, grouped_field_set) if self._plain else None
        if plan is None or not plan.rows:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        done = _object(plan, source_value)
        if done is _SLOW:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        if not plan.rest:
            return done
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
