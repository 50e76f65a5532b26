"""The one exception type for bad user input, so the CLI can print it in one line."""

from __future__ import annotations


class GenerInputError(ValueError):
    """Bad input: names the file, the record and the line (or position) when known."""

    def __init__(self, message: str, *, path=None, record: str | None = None, line: int | None = None):
        self.path = None if path is None else str(path)
        self.record = record
        self.line = line
        where = []
        if self.path is not None:
            where.append(self.path)
        if record is not None:
            where.append(f"record {record!r}")
        if line is not None:
            where.append(f"line {line}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
