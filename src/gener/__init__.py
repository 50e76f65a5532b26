"""gener: a toolkit for the GENERator and GENERanno genomic foundation models.

Main entry points (each module's help() says more):

- ``gener.load(name_or_path)`` -> ``(model, tokenizer)`` for a checkpoint directory, an
  embedded model (``gener models`` lists them) or a hub id.
- ``gener.tasks.annotate.annotator.Annotator`` -> genes of a genome
  (``Annotator().annotate_file("genome.fna")``); ``gener.tasks.annotate.output`` writes
  them as Prodigal does (GFF3, GenBank, SCO, protein / gene FASTA).
- ``gener.tasks.generate.generate``, ``gener.tasks.score.score_sequences``,
  ``gener.tasks.embed.embed_sequences``: GENERator at work.
- ``gener.tokenization.KmerTokenizer`` / ``NucleotideTokenizer``: the models' tokenizers.
- ``gener.io``: streamed FASTA / GenBank / GFF3 readers (plain or compressed), atomic writers.
- The ``gener`` command line (``gener --help``): one verb per workflow, results on stdout
  or ``-o``, errors as one line and exit code 2.
"""

__version__ = "0.1.0"

# Registers the tokenizers with AutoTokenizer once transformers loads it (cheap: no import
# of transformers or torch here), so AutoTokenizer.from_pretrained(saved_dir) works.
import gener.tokenization  # noqa: E402,F401


def load(name_or_path, **kwargs):
    """Return ``(model, tokenizer)`` for a checkpoint directory, hub id or embedded name.

    See :func:`gener.modeling.loading.load` for the resolution order.
    """
    from gener.modeling.loading import load as _load

    return _load(name_or_path, **kwargs)


__all__ = ["__version__", "load"]
