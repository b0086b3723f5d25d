"""A starter workspace: what a new Encord account has once its admin has been through the web app
(a cloud integration, an ontology, the training and QA workflow templates, and the production
project graduates join) and nothing of a programme yet: no folder, file, training dataset,
benchmark or training project. The place to rehearse a programme from
scratch (``sandbox init --starter``): register, benchmark, label the gold (``sandbox simulate
--benchmark``), provision, train, evaluate, decide, act.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from annotrain_tui.core.backends.sandbox.backend import SandboxBackend
from annotrain_tui.core.backends.sandbox.demo import ONTOLOGY, TEMPLATE_TITLE
from annotrain_tui.core.models import Provider

STARTER_INTEGRATIONS = ((Provider.AWS, "AWS S3 - training-data"), (Provider.DIRECT, "Direct access (public URLs)"))
STARTER_ONTOLOGY = "Street Scene Objects"
QA_TEMPLATE = "Benchmark QA"
PRODUCTION_TITLE = "Street Scenes Production"


def seed_starter(backend: SandboxBackend) -> dict[str, str]:
    """Fill an empty sandbox with the starter pieces; returns their ids."""
    ids: dict[str, str] = {}
    for provider, title in STARTER_INTEGRATIONS:
        ids[f"integration_{provider.value}"] = backend.add_integration(title, provider).id
    ids["ontology"] = backend.add_ontology(STARTER_ONTOLOGY, [dict(c) for c in ONTOLOGY]).id
    ids["template"] = backend.add_template(TEMPLATE_TITLE, ["Annotate", "Complete"]).id
    ids["qa_template"] = backend.add_template(QA_TEMPLATE, ["Annotate", "Review", "Complete"]).id
    production_data = backend.create_dataset("Production data", description="What the production team labels")
    ids["production"] = backend.create_project(
        PRODUCTION_TITLE, description="Production labelling (graduates join it)", dataset_ids=[production_data.id],
        ontology_id=ids["ontology"], template_id=ids["qa_template"]).id
    return ids


def create_starter_workspace(path: Path, *, replace: bool = False, **_: Any) -> dict[str, str]:
    """A new starter workspace at ``path``, all or nothing (built beside it, then moved into place)."""
    return SandboxBackend.build(path, seed_starter, replace=replace)
