"""A typed JSON codec for what the cache keeps: data that cannot run anything when read.

A pickle names the constructors to call, so a crafted cache entry runs code when it is
loaded (issue 15). Here the reader says which type it expects (``Codec(FileResult)``), and
the codec follows that type's field annotations: plain JSON goes in and out, and decoding
builds only the dataclasses, tuples, dicts and frozensets the declared type names, field by
field, after checking each value's JSON type and shape. Nothing in the data names a type,
except that a field declared as a class may hold one of that class's own dataclass
subclasses (``Write`` where ``Access`` is declared), picked from a closed list by name.

Encodings, compact on purpose (facts hold hundreds of thousands of values): a dataclass or a
``Span`` is a list of its fields in order; tuples and lists are lists; a frozenset is a sorted
list (so the encoding is canonical, and digests of it are stable); a dict with string keys is
a JSON object, any other dict a list of ``[key, value]`` pairs.

One object held in two places comes back as one object, as a pickle kept it: the rules ask
whether a write was checked by *this* read (``other.checked_by is check``), and facts decoded
as copies gave other findings than fresh ones. The second time an object is met it is written
``{"@": n}``, its number in the order objects are finished (children first), which decoding
follows; a reference can only name an object already built, of the declared class.
"""

from __future__ import annotations

import dataclasses
import json
import operator
import re
import sys
import threading
import typing
from typing import Any, Callable, Dict, FrozenSet, List, Optional, Tuple

_Coder = Callable[[Any], Any]
_SCALARS = (str, int, float, bool, type(None))
_SURROGATE = re.compile("[\ud800-\udfff]")
_JSON_INT = 2**63  # larger ints (hex literals can be any size) are kept as text: JSON readers differ on them


class CodecError(ValueError):
    """The data does not have the declared type's shape (a foreign, corrupt or crafted entry)."""


class Codec:
    """Encode and decode values of one declared type (``Codec(FileResult)``, ``Codec(Dict[str, str])``)."""

    def __init__(self, schema: Any) -> None:
        self.schema = schema
        self.encode, self.decode = _coders(schema)

    def dumps(self, value: Any) -> bytes:
        """Compact JSON; equal values give equal bytes (a canonical form: sets sorted, dicts in their order)."""
        with _REFERENCES:
            try:
                return json.dumps(self.encode(value), separators=(",", ":")).encode("ascii")
            except (TypeError, ValueError, RecursionError) as exc:
                raise CodecError(f"cannot encode {type(value).__name__}: {exc}") from None
            finally:
                _numbers.clear()

    def loads(self, data: bytes) -> Any:
        with _REFERENCES:
            try:
                return self.decode(json.loads(data))
            except CodecError:
                raise
            except (ValueError, TypeError, KeyError, IndexError, RecursionError) as exc:
                raise CodecError(str(exc)) from None
            finally:
                _objects.clear()


# The objects of the value being encoded (id -> number) or decoded (by number); one at a time.
_REFERENCES = threading.Lock()
_numbers: Dict[int, int] = {}
_objects: List[Any] = []


_built: Dict[Any, Tuple[_Coder, _Coder]] = {}


def _coders(schema: Any) -> Tuple[_Coder, _Coder]:
    """(encoder, decoder) of ``schema``, built once per type."""
    if schema not in _built:
        _built[schema] = _build(schema)
    return _built[schema]


def _fail(expected: str, value: Any) -> CodecError:
    return CodecError(f"expected {expected}, found {type(value).__name__}")


def _build(schema: Any) -> Tuple[_Coder, _Coder]:
    if schema in (str, int, bool, type(None)):  # exactly: a bool is no int here
        return _exact(schema)
    if schema is float:
        return _number()
    if schema in (object, tuple):  # a literal from the source, or a tree of them (model/guards.py conditions)
        return _literal()
    origin = typing.get_origin(schema)
    arguments = typing.get_args(schema)
    if origin is typing.Union:
        return _union(arguments)
    if origin is list:
        return _sequence(arguments[0], list)
    if origin is tuple:
        if len(arguments) == 2 and arguments[1] is Ellipsis:
            return _sequence(arguments[0], tuple)
        return _fixed_tuple(arguments)
    if origin is frozenset:
        return _frozenset(arguments[0])
    if origin is dict:
        return _mapping(*arguments)
    if isinstance(schema, type) and issubclass(schema, tuple) and hasattr(schema, "_fields"):
        return _named_tuple(schema)
    if dataclasses.is_dataclass(schema):
        return _dataclass(schema)
    raise TypeError(f"the cache codec has no encoding for {schema!r}")


def _exact(kind: type) -> Tuple[_Coder, _Coder]:
    def check(value: Any) -> Any:
        if type(value) is not kind:
            raise _fail(kind.__name__, value)
        return value

    return check, check


def _number() -> Tuple[_Coder, _Coder]:
    def check(value: Any) -> Any:
        if type(value) is not float and type(value) is not int:
            raise _fail("float", value)
        return value

    def decode(value: Any) -> Any:
        return float(check(value))

    return check, decode


def _literal() -> Tuple[_Coder, _Coder]:
    """A literal's value (str, int, float, bool, None), or a tuple of them, nested (model/guards.py's
    conditions): ``["tuple", ...]``. Two kinds are kept as tagged text: an int too large for JSON readers,
    and a string holding surrogates (``"\\ud834\\udd20"`` in the source: JSON would read that pair back
    as one character)."""

    def encode(value: Any) -> Any:
        if type(value) is int and not -_JSON_INT < value < _JSON_INT:
            return ["int", format(value, "x")]
        if type(value) is tuple:
            return ["tuple", *map(encode, value)]
        if type(value) is str and not value.isascii() and _SURROGATE.search(value):
            return ["str", value.encode("utf-8", "surrogatepass").hex()]
        if type(value) not in _SCALARS:
            raise _fail("a literal", value)
        return value

    def decode(value: Any) -> Any:
        if type(value) is list:
            if value[:1] == ["tuple"]:
                return tuple(map(decode, value[1:]))
            if len(value) != 2 or value[0] not in ("int", "str") or type(value[1]) is not str:
                raise _fail("a literal", value)
            if value[0] == "str":
                return bytes.fromhex(value[1]).decode("utf-8", "surrogatepass")
            return int(value[1], 16)
        if type(value) not in _SCALARS:
            raise _fail("a literal", value)
        return value

    return encode, decode


def _union(options: Tuple[Any, ...]) -> Tuple[_Coder, _Coder]:
    others = [option for option in options if option is not type(None)]
    if len(others) != 1 or len(options) != 2:
        raise TypeError(f"the cache codec keeps only Optional unions, not Union{list(options)}")
    encode_value, decode_value = _coders(others[0])

    def encode(value: Any) -> Any:
        return None if value is None else encode_value(value)

    def decode(value: Any) -> Any:
        return None if value is None else decode_value(value)

    return encode, decode


def _is_scalar(schema: Any) -> bool:
    return schema in (str, int, bool)


def _sequence(item: Any, kind: type) -> Tuple[_Coder, _Coder]:
    encode_item, decode_item = _coders(item)
    scalar = item if _is_scalar(item) else None

    def encode(value: Any) -> Any:
        if type(value) is not kind:
            raise _fail(kind.__name__, value)
        if scalar is not None:
            return encode_all_scalars(value)
        return [encode_item(element) for element in value]

    def encode_all_scalars(value: Any) -> Any:
        for element in value:
            if type(element) is not scalar:
                raise _fail(scalar.__name__, element)
        return value if kind is list else list(value)

    def decode(value: Any) -> Any:
        if type(value) is not list:
            raise _fail("a list", value)
        if not value:
            return value if kind is list else ()
        if scalar is not None:
            if not {*map(type, value)} <= {scalar}:
                raise _fail(f"a list of {scalar.__name__}", value)
            return value if kind is list else tuple(value)
        decoded = [decode_item(element) for element in value]
        return decoded if kind is list else tuple(decoded)

    return encode, decode


def _fixed_tuple(items: Tuple[Any, ...]) -> Tuple[_Coder, _Coder]:
    coders = [_coders(item) for item in items]

    def encode(value: Any) -> Any:
        if not isinstance(value, tuple) or len(value) != len(coders):
            raise _fail(f"a tuple of {len(coders)}", value)
        return [coder[0](element) for coder, element in zip(coders, value)]

    def decode(value: Any) -> Any:
        if type(value) is not list or len(value) != len(coders):
            raise _fail(f"a list of {len(coders)}", value)
        return tuple(coder[1](element) for coder, element in zip(coders, value))

    return encode, decode


def _frozenset(item: Any) -> Tuple[_Coder, _Coder]:
    encode_list, decode_list = _sequence(item, list)

    def encode(value: Any) -> Any:
        if not isinstance(value, frozenset):
            raise _fail("a frozenset", value)
        return encode_list(sorted(value))

    def decode(value: Any) -> Any:
        return frozenset(decode_list(value))

    return encode, decode


def _mapping(key: Any, item: Any) -> Tuple[_Coder, _Coder]:
    encode_item, decode_item = _coders(item)
    if key is str:

        def encode(value: Any) -> Any:
            if type(value) is not dict:
                raise _fail("a dict", value)
            for name in value:
                if type(name) is not str:
                    raise _fail("a str key", name)
            return {name: encode_item(element) for name, element in value.items()}

        def decode(value: Any) -> Any:
            if type(value) is not dict:
                raise _fail("an object", value)
            return {name: decode_item(element) for name, element in value.items()}

        return encode, decode
    encode_key, decode_key = _coders(key)

    def encode_pairs(value: Any) -> Any:
        if type(value) is not dict:
            raise _fail("a dict", value)
        return [[encode_key(name), encode_item(element)] for name, element in value.items()]

    def decode_pairs(value: Any) -> Any:
        if type(value) is not list:
            raise _fail("a list of pairs", value)
        decoded = {}
        for pair in value:
            if type(pair) is not list or len(pair) != 2:
                raise _fail("a pair", pair)
            decoded[decode_key(pair[0])] = decode_item(pair[1])
        return decoded

    return encode_pairs, decode_pairs


def _named_tuple(schema: type) -> Tuple[_Coder, _Coder]:
    """A NamedTuple of plain ints (``Span``): a list of them; other NamedTuples field by field."""
    hints = typing.get_type_hints(schema)
    kinds = [hints[name] for name in schema._fields]
    width = len(kinds)
    if all(kind is int for kind in kinds):

        def encode(value: Any) -> Any:
            if not isinstance(value, schema):
                raise _fail(schema.__name__, value)
            for element in value:
                if type(element) is not int:
                    raise _fail("int", element)
            return list(value)

        ints = (int,) * width

        def decode(value: Any) -> Any:
            if type(value) is not list or tuple(map(type, value)) != ints:
                raise _fail(f"a list of {width} ints", value)
            return _tuple_new(schema, value)

        return encode, decode
    encode_fields, decode_fields = _fixed_tuple(tuple(kinds))

    def encode_named(value: Any) -> Any:
        if not isinstance(value, schema):
            raise _fail(schema.__name__, value)
        return encode_fields(value)

    def decode_named(value: Any) -> Any:
        return schema._make(decode_fields(value))

    return encode_named, decode_named


def _dataclass(schema: type) -> Tuple[_Coder, _Coder]:
    """A list of the fields in order. Where ``schema`` is declared, one of its own dataclass
    subclasses may stand: ``{"Write": [...]}``, from the closed list of them.

    Fields of a plain type (str, int, bool, or None with one of them) are checked all at once
    (``map`` over the types, no call per field): facts hold hundreds of thousands of such values."""
    names = [f.name for f in dataclasses.fields(schema)]
    width = len(names)
    allowed: list = []  # per field: the JSON types it may hold
    nested: list = []  # (index, encoder, decoder) of the fields that need more than a type check
    variants = {sub.__name__: sub for sub in _dataclass_subclasses(schema)}

    def encode(value: Any) -> Any:
        number = _numbers.get(id(value))
        if number is not None:
            return {"@": number}
        kind = type(value)
        if kind is not schema:
            if kind.__name__ in variants and variants[kind.__name__] is kind:
                return {kind.__name__: _coders(kind)[0](value)}
            raise _fail(schema.__name__, value)
        state = value.__dict__
        encoded = [state[name] for name in names]
        if not all(map(_contains, plain_allowed, map(type, plain_values(encoded)))):
            raise _mismatch(schema, names, allowed, [_json_like(item) for item in encoded])
        for index, encode_field, _ in nested:
            encoded[index] = encode_field(encoded[index])
        _numbers[id(value)] = len(_numbers)  # alive until the encoding ends: ids stay unique
        return encoded

    def decode(value: Any) -> Any:
        if type(value) is not list:
            if type(value) is dict and len(value) == 1:
                ((name, fields),) = value.items()
                if name == "@":
                    return _referenced(schema, fields)
                if name in variants:
                    return _coders(variants[name])[1](fields)
            raise _fail(schema.__name__, value)
        if len(value) != width or not all(map(_contains, allowed, map(type, value))):
            raise _mismatch(schema, names, allowed, value)
        for index, _, decode_field in nested:
            value[index] = decode_field(value[index])
        # the constructor (all fields given, so no default runs): an instance built so shares its
        # attribute names with every other, where one given a __dict__ of its own took 40% more memory
        built = schema(*value)
        _objects.append(built)
        return built

    _built[schema] = (encode, decode)  # before the fields: one of them may hold this class again
    hints = typing.get_type_hints(schema, vars(sys.modules[schema.__module__]))
    for index, name in enumerate(names):
        plain = _plain_types(hints[name])
        if plain is not None:
            allowed.append(plain)
        else:
            allowed.append(_ANY)
            nested.append((index, *_coders(hints[name])))
    plain = [index for index, kinds in enumerate(allowed) if kinds is not _ANY]
    plain_allowed = [allowed[index] for index in plain]
    plain_values = operator.itemgetter(*plain) if len(plain) > 1 else lambda values: [values[i] for i in plain]
    return encode, decode


def _referenced(schema: type, number: Any) -> Any:
    """The object built earlier under ``number``, which must be a ``schema``."""
    if type(number) is not int or not 0 <= number < len(_objects) or not isinstance(_objects[number], schema):
        raise CodecError(f"a reference to no {schema.__name__} built before: {number!r}")
    return _objects[number]


def _json_like(value: Any) -> Any:
    """For the message of a value that does not fit: containers count as lists."""
    return value if type(value) in _SCALARS or type(value) is dict else []


_ANY = frozenset({str, int, float, bool, type(None), list, dict})  # what JSON gives: the field's coder checks it
_contains = operator.contains
_tuple_new = tuple.__new__


def _plain_types(schema: Any) -> Optional[FrozenSet[type]]:
    """The types a value of ``schema`` may have when a type check is all it needs, else None."""
    if schema in (str, int, bool):
        return frozenset({schema})
    options = typing.get_args(schema)
    if typing.get_origin(schema) is typing.Union and type(None) in options and len(options) == 2:
        other = next(option for option in options if option is not type(None))
        if other in (str, int, bool):
            return frozenset({other, type(None)})
    return None


def _mismatch(schema: type, names: List[str], allowed: list, value: list) -> CodecError:
    if len(value) != len(names):
        return CodecError(f"expected {schema.__name__} (a list of {len(names)}), found {len(value)} items")
    for name, kinds, item in zip(names, allowed, value):
        if type(item) not in kinds:
            return CodecError(f"{schema.__name__}.{name}: unexpected {type(item).__name__}")
    return CodecError(f"expected {schema.__name__}")


def _dataclass_subclasses(schema: type) -> list:
    found, pending = [], list(schema.__subclasses__())
    while pending:
        sub = pending.pop()
        if dataclasses.is_dataclass(sub):
            found.append(sub)
        pending.extend(sub.__subclasses__())
    return found
