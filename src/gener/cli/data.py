"""Reference data, gene regions, token shards, protein families and labelled tasks: `gener data ...`."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from gener.cli import check_output, console, data_app, err_console, friendly_errors, say, warn
from gener.errors import GenerInputError


@data_app.command("fetch")
@friendly_errors
def data_fetch(
    dest: Optional[Path] = typer.Option(None, "--dest", help="Cache directory (default: $GENER_DATA_DIR or the user cache)."),
    only: Optional[list[str]] = typer.Option(None, "--only", help="Fetch only these dataset names (repeatable)."),
):
    """Download the reference genomes and labelled sets into the cache, verified by sha256."""
    from gener.data import fetch as fetch_mod

    fetch_mod.fetch(dest=dest, names=only, console=err_console)  # progress and log: stderr


@data_app.command("list")
@friendly_errors
def data_list(
    dest: Optional[Path] = typer.Option(None, "--dest", help="Cache directory (default: $GENER_DATA_DIR or the user cache)."),
):
    """Show which reference datasets are cached, where, and their sizes."""
    from gener.data import fetch as fetch_mod

    fetch_mod.print_listing(dest=dest, console=console)


@data_app.command("regions")
@friendly_errors
def data_regions(
    inputs: list[str] = typer.Argument(..., help="GenBank or GFF3 files (plain or compressed), directories, or cached dataset names; FASTA too with --whole."),
    out: Path = typer.Option(..., "--out", "-o", help="Output parquet (written in row groups, renamed into place at the end); - for stdout."),
    group: Optional[str] = typer.Option(None, "--group", help="Taxonomic group for every input (bacteria, archaea, fungi, ... or a token such as <bct>); default: from each file's lineage."),
    flank: int = typer.Option(0, "--flank", min=0, help="Bases added on each side of a gene (clipped at the ends of linear records)."),
    whole: bool = typer.Option(False, "--whole", help="Emit whole sequences in chunks instead of genes (the papers' scheme 2)."),
    chunk: int = typer.Option(98_304, "--chunk", min=1, help="Chunk length in bp for --whole."),
    min_length: int = typer.Option(0, "--min-length", min=0, help="Drop genes (with --whole: chunks) shorter than this, flanks not counted."),
    fasta: Optional[list[Path]] = typer.Option(None, "--fasta", help="Sequences for GFF3 input without ##FASTA (repeatable)."),
):
    """Extract gene regions (every gene with its type, coordinates, strand, group and sequence
    in transcribed orientation) from annotated genomes into a parquet table."""
    from gener.data.regions import curate_regions
    from gener.progress import Progress

    check_output(out)
    with Progress("reading", unit="bp") as bar:
        def advance(record, bases):
            bar.describe(record)
            bar.advance(bases)

        summary = curate_regions(inputs, out, group=group, flank=flank, whole=whole, chunk=chunk,
                                 min_length=min_length, fasta=fasta, progress=advance)
    for source in summary.unlabelled:
        warn(f"{source}: no lineage in the file; group 'unknown' (use --group)")
    rate = summary.input_bases / max(summary.seconds, 1e-9) / 1e6
    say(
        f"[green]{summary.regions:,} {'chunks' if whole else 'regions'}[/], {summary.bases:,} bp from "
        f"{summary.records:,} record(s) ({summary.input_bases:,} bp) in {summary.seconds:.1f} s "
        f"({rate:.1f} Mbp/s) -> {escape(str(out))}"
    )


@data_app.command("stats")
@friendly_errors
def data_stats(
    regions: Path = typer.Argument(..., help="A parquet written by `gener data regions`."),
    out: Optional[Path] = typer.Option(None, "--out", "-o", help="Directory for groups.csv/.md and gene_types.csv/.md."),
):
    """Regions and nucleotides per taxonomic group and per gene type (the papers' corpus tables)."""
    from gener.data.genes import GROUP_TOKENS
    from gener.data.stats import region_stats, save_stats

    if out is not None:
        check_output(out, directory=True)
    tables = region_stats(regions)
    for table in tables:
        view = Table(title=table.title)
        for i, col in enumerate(table.columns):
            view.add_column(col, justify="left" if i == 0 else "right", no_wrap=i == 0)
        for label, n, pn, bp, pbp, mean in table.rows:
            if label == "total":
                view.add_section()
            shown = f"{label} {GROUP_TOKENS[label]}" if label in GROUP_TOKENS else label
            view.add_row(escape(shown), f"{n:,}", f"{pn:.2f}", f"{bp:,}", f"{pbp:.2f}", f"{mean:,.0f}")
        console.print(view)
    if out is not None:
        for path in save_stats(tables, out):
            say(f"[green]saved[/] {escape(str(path))}")


@data_app.command("tokenize")
@friendly_errors
def data_tokenize(
    regions: Path = typer.Argument(..., help="A parquet written by `gener data regions`."),
    tokenizer: str = typer.Option("kmer", "--tokenizer", help="kmer (GENERator, 6-mers) or nucleotide (GENERanno)."),
    out: Path = typer.Option(..., "--out", "-o", help="Shard directory (created; must be empty or hold old shards with --force)."),
    shard_tokens: int = typer.Option(100_000_000, "--shard-tokens", min=1, help="Tokens per shard file, at most (documents are never split)."),
    force: bool = typer.Option(False, "--force", help="Replace the shards already in OUT."),
):
    """Write memory-mapped pre-training shards (nucleotides + document index, read as packed
    token windows by gener.data.shards.ShardDataset), streaming the parquet in batches."""
    from gener.data.shards import write_shards
    from gener.progress import Progress

    check_output(out, directory=True)
    with Progress("writing shards", unit="bp") as bar:
        summary = write_shards(regions, out, tokenizer=tokenizer, shard_tokens=shard_tokens, force=force,
                               progress=bar.advance)
    seconds = max(summary.seconds, 1e-9)
    say(
        f"[green]{summary.documents:,} documents[/], {summary.bases:,} bp, {summary.tokens:,} tokens "
        f"({tokenizer}) in {summary.shards} shard(s), {summary.seconds:.2f} s: "
        f"{summary.bases / seconds / 1e6:.1f} Mbp/s, {summary.tokens / seconds / 1e6:.2f} M tokens/s -> {escape(str(out))}"
    )


@data_app.command("family")
@friendly_errors
def data_family_cmd(
    source: str = typer.Argument("umaydis", help="Annotated genome (GenBank, GFF3 with FASTA, directory) or cached dataset name."),
    out: Path = typer.Option(..., "--out", "-o", help="FASTA of the family's complete CDS; - for stdout."),
    family: str = typer.Option("p450", "--family", help="Named family: p450, histone, all."),
    match: Optional[str] = typer.Option(None, "--match", help="Regular expression on product/note/gene (instead of --family)."),
    exclude: Optional[str] = typer.Option(None, "--exclude", help="Regular expression of products to leave out (with --match)."),
    table: int = typer.Option(1, "--table", min=1, help="Translation table the CDS must be complete ORFs of."),
    max_members: Optional[int] = typer.Option(None, "--max-members", min=1, help="Keep a seeded random subset of this size."),
    max_length: Optional[int] = typer.Option(None, "--max-length", min=1, help="Leave out CDS longer than this (bp)."),
    seed: int = typer.Option(0, "--seed"),
):
    """Write the complete CDS of a protein family from real annotations (for gener dogma)."""
    from gener.tasks.dogma import build_family, write_family

    check_output(out)
    members = build_family(family, source, include=match, exclude=exclude, table=table, max_members=max_members,
                           max_length=max_length, seed=seed)
    write_family(out, members)
    say(f"[green]{len(members)} CDS[/] ({min(len(m.sequence) for m in members)}-"
                  f"{max(len(m.sequence) for m in members)} bp) -> {escape(str(out))}")


@data_app.command("task")
@friendly_errors
def data_task_cmd(
    name: str = typer.Argument(..., help="gene-type, taxonomy, promoter, oct4-mafk or pum2."),
    out: Path = typer.Option(..., "--out", "-o", help="Directory: train/[validation/]test.parquet + task.json (gener finetune classify --data DIR)."),
    seed: Optional[int] = typer.Option(None, "--seed", help="Sampling seed (gene-type, taxonomy, promoter)."),
    length: Optional[int] = typer.Option(None, "--length", min=1, help="Fragment / window length in bp (taxonomy 500, promoter 300)."),
    per_class: Optional[int] = typer.Option(None, "--per-class", min=1, help="gene-type: CDS and intergenic sequences kept per genome (300)."),
    per_genome: Optional[int] = typer.Option(None, "--per-genome", min=1, help="taxonomy: fragments per genome (300)."),
    max_bp: Optional[int] = typer.Option(None, "--max-bp", min=1, help="gene-type: bases kept from each sequence's 5' end (2000)."),
    fetch: bool = typer.Option(False, "--fetch", help="Download the datasets the task needs first, when they are not cached."),
):
    """Build a real labelled task from the cached reference data (see `gener data fetch`)."""
    import inspect

    from gener.data import fetch as fetch_mod
    from gener.data.task_builders import BUILDERS, REQUIRES, build_task
    from gener.data.tasks import save_task

    check_output(out, directory=True)
    if name in REQUIRES:
        missing = fetch_mod.missing_datasets(REQUIRES[name])
        if missing and fetch:
            fetch_mod.fetch(names=missing, console=err_console)
        elif missing:
            raise GenerInputError(f"task {name} needs {len(missing)} dataset(s) not in the cache "
                                  f"{fetch_mod.data_dir()}: {', '.join(missing)}; add --fetch, or run "
                                  f"`gener data fetch --only {' --only '.join(missing)}`")
    options = {k: v for k, v in dict(seed=seed, length=length, per_class=per_class, per_genome=per_genome,
                                     max_bp=max_bp).items() if v is not None}
    if name in BUILDERS:
        accepted = inspect.signature(BUILDERS[name]).parameters
        extra = [k for k in options if k not in accepted]
        if extra:
            raise GenerInputError(f"task {name} takes no --{extra[0].replace('_', '-')}")
    data = build_task(name, **options)
    written = save_task(data, out, extra={"builder": name, "options": options})
    say(escape(data.describe()))
    say("[green]saved[/] " + ", ".join(escape(str(p)) for p in written))
