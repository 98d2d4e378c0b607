"""Fragmented MP4 after a crash: how much of an unfinished segment is whole.

A segment is written (:class:`~engine.record.muxer.ClipMuxer` with ``fragmented=True``)
as ``ftyp`` and ``moov`` (the stream's parameters, no samples), then one ``moof`` +
``mdat`` pair per fragment. A process killed mid-write leaves a file that ends inside a
fragment, or inside the buffered bytes before it. :func:`complete_fragments_end` walks the
top-level boxes (reading only their 8- or 16-byte headers) and gives the length of the
prefix that ends after the last complete ``mdat`` following a ``moof``: cut there, the
file is a valid fragmented MP4 holding every complete fragment.
"""

from __future__ import annotations

import os
import stat
import struct
from pathlib import Path

_HEADER = struct.Struct(">I4s")
_LARGE = struct.Struct(">Q")


def complete_fragments_end(path: Path) -> int | None:
    """Bytes of ``path`` that hold its ``ftyp``, ``moov`` and every complete fragment, or
    None when it holds no complete fragment (or is not a fragmented MP4, or not a regular
    file: a symlink, FIFO or device is never read). Reads box headers only."""
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            return None
        size = info.st_size  # a regular file of ours: its size is what was written
        offset = 0
        seen_moov = False
        in_fragment = False
        end: int | None = None
        while offset + _HEADER.size <= size:
            header = os.pread(fd, _HEADER.size, offset)
            if len(header) < _HEADER.size:
                break
            length, kind = _HEADER.unpack(header)
            header_size = _HEADER.size
            if length == 1:  # a 64-bit length follows the type
                large = os.pread(fd, _LARGE.size, offset + _HEADER.size)
                if len(large) < _LARGE.size:
                    break
                (length,) = _LARGE.unpack(large)
                header_size += _LARGE.size
            elif length == 0:  # "to the end of the file": only a finished file ends so
                length = size - offset
            if length < header_size or offset + length > size:
                break  # the box runs past what was written: the unfinished part
            if offset == 0 and kind != b"ftyp":
                return None
            if kind == b"moov":
                seen_moov = True
            elif kind == b"moof":
                in_fragment = seen_moov
            elif kind == b"mdat" and in_fragment:
                end, in_fragment = offset + length, False
            offset += length
        return end
    finally:
        os.close(fd)
