"""A sensing room's latest :class:`~engine.sensing.view.SensingSnapshot` as bytes for a row.

The engine that holds a room's lease stores its latest snapshot in the database so consoles on
other machines can draw it. :func:`encode_snapshot` turns it into bytes and
:func:`decode_snapshot` back. The format is ``MAGIC``, a big-endian ``uint16`` format
version, then one zlib stream of a ``uint32`` length, that many bytes of compact JSON, and
the raw little-endian bytes of every numpy array (the JSON names each array's dtype, shape
and offset). Dataclasses are JSON objects by field name; tuples are lists; ``inf`` and
``nan`` are JSON's ``Infinity`` / ``NaN``.

Decoding never uses pickle and the data never names a type: a generic walker follows the
type hints of :class:`SensingSnapshot` (resolved against their own modules), so untrusted
bytes can only build the dataclasses reachable from it. Bytes that are not a snapshot of
this version (truncated, corrupt, too large, an unknown version, a field of the wrong type)
raise :class:`ValueError` saying what was wrong and where (``blobs[0].identity.score``).
Adding, removing or retyping a field of a view class means a new :data:`FORMAT_VERSION`.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import math
import struct
import types
import typing
import zlib
from typing import Any, Final

import numpy as np

from engine.sensing.view import SensingSnapshot

MAGIC: Final = b"WFSS"
FORMAT_VERSION: Final = 1
# A 200 × 200 × 40 voxel grid is 6.4 MB of float32; anything much larger is not a snapshot.
MAX_DECODED_BYTES: Final = 64 * 1024 * 1024
_HEADER = struct.Struct(">4sH")
_JSON_LENGTH = struct.Struct(">I")
_ZLIB_LEVEL: Final = 6
_SCALARS: Final[dict[object, str]] = {bool: "bool", int: "int", float: "float", str: "str"}


def encode_snapshot(snapshot: SensingSnapshot) -> bytes:
    """``snapshot`` as compressed bytes of the current :data:`FORMAT_VERSION`. Raises
    :class:`ValueError` when a field does not hold its declared type (such as a float64 grid
    where float32 is declared), so what is stored always decodes."""
    arrays: list[bytes] = []
    tree = _encode(snapshot, SensingSnapshot, "snapshot", arrays)
    text = json.dumps(tree, separators=(",", ":"), allow_nan=True).encode()
    body = _JSON_LENGTH.pack(len(text)) + text + b"".join(arrays)
    return _HEADER.pack(MAGIC, FORMAT_VERSION) + zlib.compress(body, _ZLIB_LEVEL)


def decode_snapshot(data: bytes) -> SensingSnapshot:
    """The snapshot :func:`encode_snapshot` made ``data`` from. Raises :class:`ValueError`
    naming the problem for anything else: wrong magic, unknown version, truncated or corrupt
    compressed data, more than :data:`MAX_DECODED_BYTES`, or a field missing, unknown or of
    the wrong type."""
    if len(data) < _HEADER.size:
        raise ValueError(f"not a sensing snapshot: {len(data)} bytes is shorter than the header")
    magic, version = _HEADER.unpack_from(data)
    if magic != MAGIC:
        raise ValueError(f"not a sensing snapshot: starts {magic!r}, expected {MAGIC!r}")
    if version != FORMAT_VERSION:
        raise ValueError(
            f"unknown sensing snapshot format version {version} "
            f"(this engine reads version {FORMAT_VERSION})"
        )
    body = _decompress(data[_HEADER.size :])
    if len(body) < _JSON_LENGTH.size:
        raise ValueError("sensing snapshot is truncated: no JSON length")
    (length,) = _JSON_LENGTH.unpack_from(body)
    end = _JSON_LENGTH.size + length
    if end > len(body):
        raise ValueError(f"sensing snapshot is truncated: JSON of {length} bytes does not fit")
    try:
        tree = json.loads(body[_JSON_LENGTH.size : end])
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as exc:
        raise ValueError(f"sensing snapshot has malformed JSON: {exc}") from None
    snapshot = _decode(tree, SensingSnapshot, "snapshot", memoryview(body)[end:])
    assert isinstance(snapshot, SensingSnapshot)
    return snapshot


def _decompress(compressed: bytes) -> bytes:
    inflater = zlib.decompressobj()
    try:
        body = inflater.decompress(compressed, MAX_DECODED_BYTES)
    except zlib.error as exc:
        raise ValueError(f"sensing snapshot is corrupt: {exc}") from None
    if inflater.unconsumed_tail:
        raise ValueError(f"sensing snapshot is larger than {MAX_DECODED_BYTES} bytes decoded")
    if not inflater.eof:
        raise ValueError("sensing snapshot is truncated: the compressed data ends early")
    if inflater.unused_data:
        raise ValueError("sensing snapshot has trailing bytes after its compressed data")
    return body


# ------------------------------------------------------------------------ the type walker


def _reachable_dataclasses(root: type) -> frozenset[type]:
    """``root`` and every dataclass its field types name, recursively: all decoding builds."""
    found: set[type] = set()

    def visit(hint: object) -> None:
        if isinstance(hint, type) and dataclasses.is_dataclass(hint):
            if hint not in found:
                found.add(hint)
                for _, field_hint, _ in _fields(hint):
                    visit(field_hint)
        elif typing.get_origin(hint) is not np.ndarray:
            for arg in typing.get_args(hint):
                visit(arg)

    visit(root)
    return frozenset(found)


@functools.cache
def _fields(cls: type) -> tuple[tuple[str, object, bool], ...]:
    """(name, resolved type hint, required) of each init field of dataclass ``cls``."""
    hints = typing.get_type_hints(cls)
    return tuple(
        (
            f.name,
            hints[f.name],
            f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING,
        )
        for f in dataclasses.fields(cls)
        if f.init
    )


def _optional_of(hint: object) -> object | None:
    """X for ``X | None`` / ``Optional[X]``, else None (other unions are not supported)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        if len(args) != 1 or len(typing.get_args(hint)) != 2:
            raise TypeError(f"snapshot codec supports only X | None unions, not {hint}")
        inner: object = args[0]
        return inner
    return None


def _declared_dtype(hint: object) -> np.dtype[Any]:
    """The dtype of ``npt.NDArray[np.float32]``-style hints."""
    dtype_hint = typing.get_args(hint)[1]
    dtype: np.dtype[Any] = np.dtype(typing.get_args(dtype_hint)[0])
    return dtype.newbyteorder("<")


def _kind(value: object) -> str:
    return type(value).__name__


def _encode(value: object, hint: object, path: str, arrays: list[bytes]) -> object:
    inner = _optional_of(hint)
    if inner is not None:
        return None if value is None else _encode(value, inner, path, arrays)
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if type(value) is not hint:
            raise ValueError(f"{path}: expected {hint.__name__}, got {_kind(value)}")
        return {
            name: _encode(getattr(value, name), field_hint, f"{path}.{name}", arrays)
            for name, field_hint, _ in _fields(hint)
        }
    if origin is np.ndarray:
        dtype = _declared_dtype(hint)
        if not isinstance(value, np.ndarray) or value.dtype.newbyteorder("<") != dtype:
            got = value.dtype if isinstance(value, np.ndarray) else _kind(value)
            raise ValueError(f"{path}: expected a {dtype} array, got {got}")
        offset = sum(len(a) for a in arrays)
        arrays.append(np.ascontiguousarray(value, dtype=dtype).tobytes())
        return {"dtype": dtype.str, "shape": list(value.shape), "offset": offset}
    if origin is tuple:
        items = _tuple_items(value, hint, path)
        return [_encode(v, h, f"{path}[{i}]", arrays) for i, (v, h) in enumerate(items)]
    if hint is bool and isinstance(value, bool | np.bool_):
        return bool(value)
    if hint is int and isinstance(value, int | np.integer) and not isinstance(value, bool):
        return int(value)
    if (
        hint is float
        and isinstance(value, float | int | np.floating | np.integer)
        and not isinstance(value, bool)
    ):
        return float(value)
    if hint is str and isinstance(value, str):
        return value
    if hint in _SCALARS:
        raise ValueError(f"{path}: expected {_SCALARS[hint]}, got {_kind(value)}")
    raise TypeError(f"{path}: snapshot codec does not support type {hint}")


def _tuple_items(value: object, hint: object, path: str) -> list[tuple[object, object]]:
    """Each item of tuple ``value`` with its hint, for ``tuple[X, ...]`` and fixed tuples."""
    if not isinstance(value, tuple | list):
        raise ValueError(f"{path}: expected a list, got {_kind(value)}")
    args = typing.get_args(hint)
    if len(args) == 2 and args[1] is Ellipsis:
        return [(v, args[0]) for v in value]
    if len(value) != len(args):
        raise ValueError(f"{path}: expected {len(args)} items, got {len(value)}")
    return list(zip(value, args, strict=True))


def _decode(value: object, hint: object, path: str, blob: memoryview) -> object:
    inner = _optional_of(hint)
    if inner is not None:
        return None if value is None else _decode(value, inner, path, blob)
    origin = typing.get_origin(hint)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        if hint not in _ALLOWED:  # the schema only names these; a guard against edits
            raise TypeError(f"{path}: {hint.__name__} is not part of a sensing snapshot")
        if not isinstance(value, dict):
            raise ValueError(f"{path}: expected a {hint.__name__} object, got {_kind(value)}")
        fields = _fields(hint)
        unknown = sorted(set(value) - {name for name, _, _ in fields})
        if unknown:
            raise ValueError(f"{path}: unknown fields for {hint.__name__}: {', '.join(unknown)}")
        kwargs: dict[str, Any] = {}
        for name, field_hint, required in fields:
            if name in value:
                kwargs[name] = _decode(value[name], field_hint, f"{path}.{name}", blob)
            elif required:
                raise ValueError(f"{path}: {hint.__name__} is missing field {name!r}")
        return hint(**kwargs)
    if origin is np.ndarray:
        return _decode_array(value, _declared_dtype(hint), path, blob)
    if origin is tuple:
        items = _tuple_items(value, hint, path)
        return tuple(_decode(v, h, f"{path}[{i}]", blob) for i, (v, h) in enumerate(items))
    if hint is bool and isinstance(value, bool):
        return value
    if hint is int and isinstance(value, int) and not isinstance(value, bool):
        return value
    if hint is float and isinstance(value, float | int) and not isinstance(value, bool):
        return float(value)
    if hint is str and isinstance(value, str):
        return value
    if hint in _SCALARS:
        raise ValueError(f"{path}: expected {_SCALARS[hint]}, got {_kind(value)}")
    raise TypeError(f"{path}: snapshot codec does not support type {hint}")


def _decode_array(value: object, dtype: np.dtype[Any], path: str, blob: memoryview) -> object:
    if not isinstance(value, dict) or set(value) != {"dtype", "shape", "offset"}:
        raise ValueError(f"{path}: expected an array reference (dtype, shape, offset)")
    if value["dtype"] != dtype.str:
        raise ValueError(f"{path}: expected dtype {dtype.str}, got {value['dtype']!r}")
    shape, offset = value["shape"], value["offset"]
    if not isinstance(shape, list) or not all(
        isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape
    ):
        raise ValueError(f"{path}: array shape must be a list of non-negative ints, got {shape}")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValueError(f"{path}: array offset must be a non-negative int, got {offset!r}")
    nbytes = math.prod(shape) * dtype.itemsize
    if offset + nbytes > len(blob):
        raise ValueError(
            f"{path}: array of {nbytes} bytes at offset {offset} runs past the data "
            f"({len(blob)} bytes): truncated or corrupt"
        )
    try:
        array = np.frombuffer(blob[offset : offset + nbytes], dtype=dtype).reshape(shape)
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{path}: array shape {shape} is not valid: {exc}") from None
    return array.astype(dtype.newbyteorder("="), copy=True)


_ALLOWED: Final = _reachable_dataclasses(SensingSnapshot)
