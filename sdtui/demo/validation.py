"""Request parsing and validation with the error shapes of FastAPI + pydantic v1.

The web UI validates request bodies with pydantic v1 models behind FastAPI, so a bad body gets
``422 {"detail": [{"loc": ["body", "steps"], "msg": "...", "type": "..."}]}``. The coercions
are pydantic v1's (an int field takes ``7.9`` as 7, ``"20"`` as 20 and ``true`` as 1; a str
field takes numbers), so clients meet the same leniency and the same errors as on a real server.
"""

from __future__ import annotations

import copy
import email.message
import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

__all__ = [
    "MISSING",
    "BodyParseError",
    "Field",
    "Kind",
    "ValidationFailed",
    "coerce",
    "parse_json_body",
    "validate_model",
]


class _Missing:
    """No body at all (distinct from a JSON ``null`` body, which FastAPI treats alike)."""

    def __repr__(self) -> str:
        return "MISSING"


MISSING: Any = _Missing()


class Kind(Enum):
    STR = "str"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"
    LIST = "list"
    LIST_STR = "list[str]"
    DICT = "dict"


@dataclass(frozen=True)
class Field:
    """One model field. ``nullable`` is pydantic's Optional: false for fields declared with a
    non-None default and a bare type, where ``null`` is "none is not an allowed value"."""

    name: str
    kind: Kind
    default: Any = None
    nullable: bool = True
    required: bool = False


class ValidationFailed(Exception):
    """A 422 with FastAPI's ``{"detail": errors}`` body."""

    def __init__(self, errors: list[dict[str, Any]]) -> None:
        super().__init__(errors)
        self.errors = errors


class BodyParseError(Exception):
    """The body could not be read at all (FastAPI answers 400 for this)."""


class _CoerceError(Exception):
    def __init__(self, msg: str, type_: str) -> None:
        super().__init__(msg)
        self.msg = msg
        self.type = type_


_BOOL_TRUE = {1, "1", "on", "t", "true", "y", "yes"}
_BOOL_FALSE = {0, "0", "off", "f", "false", "n", "no"}
_MAX_STR_INT = 4300  # pydantic v1 refuses longer digit strings (CPython's int() DoS limit)

_ERRORS = {
    Kind.STR: ("str type expected", "type_error.str"),
    Kind.INT: ("value is not a valid integer", "type_error.integer"),
    Kind.FLOAT: ("value is not a valid float", "type_error.float"),
    Kind.BOOL: ("value could not be parsed to a boolean", "type_error.bool"),
    Kind.LIST: ("value is not a valid list", "type_error.list"),
    Kind.LIST_STR: ("value is not a valid list", "type_error.list"),
    Kind.DICT: ("value is not a valid dict", "type_error.dict"),
}


def _fail(kind: Kind) -> _CoerceError:
    return _CoerceError(*_ERRORS[kind])


def _to_str(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, bytes | bytearray):
        return value.decode()
    raise _fail(Kind.STR)


def _to_int(value: Any) -> int:
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str | bytes) and len(value) > _MAX_STR_INT:
        raise _fail(Kind.INT)
    try:
        return int(value)
    except (TypeError, ValueError, OverflowError):
        raise _fail(Kind.INT) from None


def _to_float(value: Any) -> float:
    if isinstance(value, float):
        return value
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        raise _fail(Kind.FLOAT) from None


def _to_bool(value: Any) -> bool:
    if value is True or value is False:
        return bool(value)
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    if isinstance(value, str):
        value = value.lower()
    try:
        if value in _BOOL_TRUE:
            return True
        if value in _BOOL_FALSE:
            return False
    except TypeError:  # unhashable (a list or dict)
        pass
    raise _fail(Kind.BOOL)


def _to_dict(value: Any) -> dict[Any, Any]:
    if isinstance(value, dict):
        return value
    if isinstance(value, str | bytes):
        raise _fail(Kind.DICT)
    try:
        return dict(value)
    except (TypeError, ValueError):
        raise _fail(Kind.DICT) from None


def coerce(kind: Kind, value: Any, loc: Sequence[str | int]) -> tuple[Any, list[dict[str, Any]]]:
    """(value converted as pydantic v1 would, errors) for one non-null value at ``loc``."""
    try:
        if kind is Kind.STR:
            return _to_str(value), []
        if kind is Kind.INT:
            return _to_int(value), []
        if kind is Kind.FLOAT:
            return _to_float(value), []
        if kind is Kind.BOOL:
            return _to_bool(value), []
        if kind is Kind.DICT:
            return _to_dict(value), []
        if not isinstance(value, list | tuple):
            raise _fail(kind)
        if kind is Kind.LIST:
            return list(value), []
        items: list[str] = []
        errors: list[dict[str, Any]] = []
        for index, item in enumerate(value):
            if item is None:
                errors.append(_none_error([*loc, index]))
                continue
            try:
                items.append(_to_str(item))
            except _CoerceError as exc:
                errors.append({"loc": [*loc, index], "msg": exc.msg, "type": exc.type})
        return items, errors
    except _CoerceError as exc:
        return None, [{"loc": list(loc), "msg": exc.msg, "type": exc.type}]


def _none_error(loc: list[str | int]) -> dict[str, Any]:
    return {
        "loc": loc,
        "msg": "none is not an allowed value",
        "type": "type_error.none.not_allowed",
    }


def validate_model(
    body: Any, fields: Sequence[Field], where: str = "body"
) -> tuple[dict[str, Any], set[str]]:
    """Validate a request body (already JSON-decoded) against ``fields``.

    Returns the values in field order (defaults filled in) and the names the client sent.
    Unknown keys are ignored. Raises :class:`ValidationFailed` with every error found.
    """
    if body is MISSING or body is None:
        raise ValidationFailed(
            [{"loc": [where], "msg": "field required", "type": "value_error.missing"}]
        )
    try:
        data = _to_dict(body)
    except _CoerceError as exc:
        raise ValidationFailed([{"loc": [where], "msg": exc.msg, "type": exc.type}]) from None
    values: dict[str, Any] = {}
    sent: set[str] = set()
    errors: list[dict[str, Any]] = []
    for field in fields:
        if field.name not in data:
            if field.required:
                errors.append(
                    {
                        "loc": [where, field.name],
                        "msg": "field required",
                        "type": "value_error.missing",
                    }
                )
            values[field.name] = copy.deepcopy(field.default)
            continue
        sent.add(field.name)
        raw = data[field.name]
        if raw is None:
            if not field.nullable:
                errors.append(_none_error([where, field.name]))
            values[field.name] = None
            continue
        value, field_errors = coerce(field.kind, raw, [where, field.name])
        errors.extend(field_errors)
        values[field.name] = value
    if errors:
        raise ValidationFailed(errors)
    return values, sent


def _is_json_content_type(content_type: str | None) -> bool:
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


def parse_json_body(raw: bytes, content_type: str | None) -> Any:
    """The body as FastAPI 0.94 hands it to validation.

    Empty: :data:`MISSING`. A JSON content type (or none): decoded JSON, a decode error being
    a 422 at ``["body", <char position>]`` with the decoder's message and context. Any other
    content type: the raw bytes (which then fail validation as "not a valid dict").
    Undecodable bytes raise :class:`BodyParseError`.
    """
    if not raw:
        return MISSING
    if not _is_json_content_type(content_type):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        ctx = {
            "msg": exc.msg,
            "doc": exc.doc,
            "pos": exc.pos,
            "lineno": exc.lineno,
            "colno": exc.colno,
        }
        raise ValidationFailed(
            [
                {
                    "loc": ["body", exc.pos],
                    "msg": str(exc),
                    "type": "value_error.jsondecode",
                    "ctx": ctx,
                }
            ]
        ) from None
    except (UnicodeDecodeError, RecursionError, ValueError) as exc:
        raise BodyParseError(str(exc)) from None
