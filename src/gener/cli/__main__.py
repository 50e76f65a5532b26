"""``python -m gener.cli`` (what ``torchrun -m gener.cli pretrain ...`` runs)."""

from gener.cli import app

app()
