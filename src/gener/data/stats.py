"""``gener data stats``: the papers' two corpus tables from a regions parquet -- regions and
nucleotides per taxonomic group, and per gene type. Only the small columns are read, in
batches, so a corpus larger than memory is fine. Nucleotides are the regions' sequence
lengths (flanks included): what a model trained on the file sees."""

from __future__ import annotations

import csv
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from gener.data.genes import GENE_TYPES, GROUP_TOKENS
from gener.data.regions import open_regions

HEADER = ("regions", "% regions", "nucleotides", "% nucleotides", "mean length")


@dataclass
class StatsTable:
    title: str
    key: str  # first column's name
    rows: list[tuple]  # (label, regions, % regions, nucleotides, % nucleotides, mean length), total last

    @property
    def columns(self) -> tuple[str, ...]:
        return (self.key, *HEADER)

    def to_csv(self, path) -> None:
        with open(path, "w", newline="", encoding="utf-8") as fh:
            csv.writer(fh).writerows([self.columns, *self.rows])

    def to_markdown(self) -> str:
        lines = [f"| {' | '.join(self.columns)} |", "|" + "---|" + "---:|" * len(HEADER)]
        for label, n, pn, bp, pbp, mean in self.rows:
            lines.append(f"| {label} | {n:,} | {pn:.2f} | {bp:,} | {pbp:.2f} | {mean:,.0f} |")
        return "\n".join(lines) + "\n"


def region_stats(path) -> tuple[StatsTable, StatsTable]:
    """(per taxonomic group, per gene type) tables of a ``gener data regions`` parquet."""
    parquet = open_regions(path, {"group", "gene_type", "length"})
    counts = {"group": defaultdict(lambda: [0, 0]), "gene_type": defaultdict(lambda: [0, 0])}
    for batch in parquet.iter_batches(columns=["group", "gene_type", "length"], batch_size=1 << 16):
        for key, acc in counts.items():
            for label, n, bp in _aggregate(batch, key):
                acc[label][0] += n
                acc[label][1] += bp
    group_order = [*GROUP_TOKENS, "unknown"]
    return (_table("Regions per taxonomic group", "group", counts["group"], group_order),
            _table("Regions per gene type", "gene_type", counts["gene_type"], [*GENE_TYPES, "chunk"]))


def _aggregate(batch, key: str):
    table = pa.Table.from_batches([batch.select([key, "length"])])
    result = table.group_by(key).aggregate([("length", "count"), ("length", "sum")])
    return zip(result[key].to_pylist(), result["length_count"].to_pylist(), result["length_sum"].to_pylist())


def _table(title: str, key: str, acc: dict, order: list[str]) -> StatsTable:
    total_n = sum(n for n, _ in acc.values()) or 1
    total_bp = sum(bp for _, bp in acc.values()) or 1
    labels = sorted(acc, key=lambda k: (order.index(k) if k in order else len(order), k))
    rows = [(label, n, 100 * n / total_n, bp, 100 * bp / total_bp, bp / max(n, 1))
            for label in labels for n, bp in [acc[label]]]
    n, bp = sum(r[1] for r in rows), sum(r[3] for r in rows)
    rows.append(("total", n, 100.0 if n else 0.0, bp, 100.0 if bp else 0.0, bp / max(n, 1)))
    return StatsTable(title, key, rows)


def save_stats(tables, out_dir) -> list[Path]:
    """CSV and markdown of each table into ``out_dir`` (created): groups.*, gene_types.*."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for table, stem in zip(tables, ("groups", "gene_types")):
        table.to_csv(out_dir / f"{stem}.csv")
        (out_dir / f"{stem}.md").write_text(f"### {table.title}\n\n{table.to_markdown()}", encoding="utf-8")
        written += [out_dir / f"{stem}.csv", out_dir / f"{stem}.md"]
    return written
