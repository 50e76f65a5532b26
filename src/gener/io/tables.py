"""Tables of sequences (and labels, activities, types): parquet, CSV, TSV or JSON lines,
optionally gzipped, read with pyarrow into plain column lists. The one table reader of
gener: classification tasks, CLM fine-tuning, design and sequence recovery all use it."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from gener.errors import GenerInputError

TABLE_SUFFIXES = (".parquet", ".csv", ".tsv", ".txt", ".jsonl", ".json")


def is_table(path) -> bool:
    return Path(path).name.lower().removesuffix(".gz").endswith(TABLE_SUFFIXES)


def read_table(path, columns: Sequence[str] = ()) -> dict[str, list]:
    """Every column of the table as a list; each name in ``columns`` must be there (else one
    error listing the columns the file has). ``.tsv`` / ``.txt`` are tab-separated."""
    import pyarrow as pa
    import pyarrow.csv as pcsv
    import pyarrow.json as pjson
    import pyarrow.parquet as pq

    path = Path(path)
    if not path.is_file():
        raise GenerInputError("no such file" if not path.exists() else "not a file", path=path)
    name = path.name.lower().removesuffix(".gz")
    try:
        if name.endswith(".parquet"):
            table = pq.read_table(path)
        elif name.endswith((".jsonl", ".json")):
            table = pjson.read_json(path)
        else:
            delimiter = "\t" if name.endswith((".tsv", ".txt")) else ","
            table = pcsv.read_csv(path, parse_options=pcsv.ParseOptions(delimiter=delimiter))
    except (pa.ArrowInvalid, OSError) as exc:
        raise GenerInputError(f"cannot read the table: {exc}".splitlines()[0], path=path) from None
    missing = [c for c in columns if c not in table.column_names]
    if missing:
        raise GenerInputError(f"no column {missing[0]!r} (columns: {', '.join(table.column_names[:12])})", path=path)
    return {c: table.column(c).to_pylist() for c in table.column_names}
