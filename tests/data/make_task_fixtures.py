"""Rebuild the labelled-task fixtures from the gener data cache (`gener data fetch --only pum2
--only oct4-mafk` first). Called by make_fixtures.py; also runnable on its own.

- pum2_slice.csv: every 40th row of concise's PUM2_train.csv (eCLIP, 101 nt), all columns.
- oct4_slice.fa / mafk_slice.fa: the first 60 records of janggu's sample.fa (Oct4 peaks) and
  sample2.fa (MafK peaks), 200 bp each.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    from gener.data.fetch import dataset_path

    pum2 = dataset_path("pum2") / "PUM2_train.csv"
    lines = pum2.read_text().splitlines()
    kept = [lines[0]] + lines[1::40]
    (HERE / "pum2_slice.csv").write_text("\n".join(kept) + "\n")
    print(f"pum2_slice.csv {len(kept) - 1} rows")
    for source, output in (("sample.fa", "oct4_slice.fa"), ("sample2.fa", "mafk_slice.fa")):
        text = (dataset_path("oct4-mafk") / source).read_text()
        records = text.split(">")[1:61]
        (HERE / output).write_text("".join(">" + r for r in records))
        print(f"{output} {len(records)} records")


if __name__ == "__main__":
    main()
