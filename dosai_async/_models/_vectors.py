"""Embedding vectors off the wire: a JSON array of numbers, or base64 of float32 bytes."""

from __future__ import annotations

import array
import base64
import binascii
import sys
from typing import Any


class BadVector(ValueError):
    """An embedding that is neither a list of numbers nor base64 of float32 values."""


def decode_vector(value: Any) -> list[float]:
    """An embedding: a JSON array of numbers, or base64 of little-endian float32 bytes.

    ``list[float]`` is only the embedding vector in these models. The array check runs in C
    (``array('d', ...)`` refuses anything but numbers), not once per element in Python:
    a batch of 256 vectors of 2560 holds 655,360 of them.
    """
    if value.__class__ is list:
        try:
            return array.array("d", value).tolist()  # also makes a JSON 0 the float 0.0
        except TypeError:
            raise BadVector("expected a list of numbers") from None
    if value.__class__ is not str:
        raise BadVector(f"expected a list of floats or a base64 string, not {type(value).__name__}")
    try:
        packed = base64.b64decode(value, validate=True)
    except binascii.Error:
        raise BadVector("expected base64 of float32 values, got invalid base64") from None
    if len(packed) % 4:
        raise BadVector(f"expected base64 of float32 values, got {len(packed)} bytes")
    floats = array.array("f", packed)
    if sys.byteorder == "big":  # the wire is little-endian
        floats.byteswap()
    return floats.tolist()
