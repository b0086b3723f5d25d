"""One training programme, run with the real CLI on either backend (issue 12, section 4).

A *world* is a workspace plus what only a test can do to it: make a URL unreachable, let an
annotator label a task, move a task to another stage. :class:`EncordWorld` drives the fake of
Encord's API (tests/fake_encord) that the real SDK talks to over HTTP; :class:`SandboxWorld` drives
an embedded sandbox file. :func:`run_programme` runs the same commands on both, so a test can
compare what they print.
"""

from __future__ import annotations

import contextlib
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from annotrain_tui.cli import main
from tests.fake_encord.server import FakeEncord

MANIFESTS = Path(__file__).resolve().parents[1] / "fixtures" / "manifests"
INTEGRATION = "Street Scenes S3"
ONTOLOGY = "Street Objects"
TEMPLATE = "Annotator Training"
FOLDER = "/Training Data/Batch 1"
DATASET = "Annotator Training Set"
BENCHMARK = "Street Benchmark"
GOLD = "gold.expert@example.com"
BUCKET = "https://encord-integration.s3.eu-west-2.amazonaws.com"
# fails the first time it is registered (the sandbox's rule for "flaky"; the fake: ws.unreachable_urls)
FLAKY = f"{BUCKET}/images/flaky_0.jpg"
TRAINEES = [("Ana Lima", "ana@example.com"), ("Bo Chen", "bo@example.com"), ("Cy Diaz", "cy@example.com")]


@dataclass
class Ran:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        return json.loads(self.out)


def cli(*argv: Any) -> Ran:
    """``annotrain ARGV`` in this process (the real entry point), stdout and stderr captured."""
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return Ran(code, out.getvalue(), err.getvalue())


def programme_manifest(path: Path) -> Path:
    """Every section (images, videos, audio, pdfs, text, nifti, image_groups with and without
    createVideo, dicom_series) from the fixture, plus two images of which one is flaky."""
    data = json.loads((MANIFESTS / "valid_all_types.json").read_text(encoding="utf-8"))
    data["images"] += [{"objectUrl": FLAKY}, {"objectUrl": f"{BUCKET}/images/b.jpg"}]
    path.write_text(json.dumps(data, indent=2), encoding="utf-8")
    return path


def roster(path: Path) -> Path:
    path.write_text("name,email\n" + "".join(f"{n},{e}\n" for n, e in TRAINEES), encoding="utf-8")
    return path


def box(x: float, y: float = 0.1, w: float = 0.2, h: float = 0.3) -> dict[str, float]:
    return {"x": x, "y": y, "w": w, "h": h}


# What everyone draws, by the file's URL. Only kinds with an image plane get objects; the gold
# labels of audio, PDFs and text are empty (Complete with nothing to find).
GOLD_BOXES: dict[str, list[tuple[str, dict[str, float]]]] = {
    f"{BUCKET}/images/a.jpg": [("Car", box(0.1)), ("Truck", box(0.5))],
    f"{BUCKET}/images/b.jpg": [("Car", box(0.2))],
    f"{BUCKET}/videos/a.mp4": [("Truck", box(0.3))],
    f"{BUCKET}/images/g0.jpg": [("Car", box(0.4))],  # the image group
    f"{BUCKET}/dicom/s1-1.dcm": [("Car", box(0.6))],  # the DICOM series
}
# per trainee: the files they label and what they draw there (a perfect one, a sloppy one, one
# who confuses classes and misses an object)
TRAINEE_BOXES: dict[str, dict[str, list[tuple[str, dict[str, float]]]]] = {
    "ana@example.com": {f"{BUCKET}/images/a.jpg": [("Car", box(0.1)), ("Truck", box(0.5))],
                        f"{BUCKET}/images/b.jpg": [("Car", box(0.2))],
                        f"{BUCKET}/videos/a.mp4": [("Truck", box(0.3))]},
    "bo@example.com": {f"{BUCKET}/images/a.jpg": [("Car", box(0.13)), ("Truck", box(0.56))],
                       f"{BUCKET}/images/g0.jpg": [("Car", box(0.4)), ("Truck", box(0.7, 0.6))]},
    "cy@example.com": {f"{BUCKET}/images/a.jpg": [("Truck", box(0.1))],
                       f"{BUCKET}/dicom/s1-1.dcm": [("Truck", box(0.6))]},
}


class World:
    """What the programme needs from a backend, beyond the CLI."""

    name: str

    def args(self) -> list[str]:
        raise NotImplementedError

    def setup(self) -> None:
        """An integration, the ontology (Car, Truck) and the training template."""
        raise NotImplementedError

    def unreachable(self, urls: set[str]) -> None:
        """Make these URLs fail their next registration (the sandbox fails 'flaky' URLs once by itself)."""

    def reachable(self) -> None:
        pass

    def label(self, project: str, url: str, boxes: list[tuple[str, dict[str, float]]], *, by: str,
              stage: str) -> None:
        raise NotImplementedError

    def move(self, project: str, url: str, stage: str) -> None:
        """A stage move without a label edit where the backend has one."""
        raise NotImplementedError

    def assignees(self, project: str) -> dict[str, str | None]:
        """The Annotate-stage tasks of a project: file URL → assignee."""
        raise NotImplementedError


class EncordWorld(World):
    """The fake of Encord's API. Labels carry their annotator as ``createdBy`` (``ws.label(by=)``)."""

    name = "encord"

    def __init__(self, fake: FakeEncord, key: Path) -> None:
        self.fake, self.ws, self.key = fake, fake.ws, key

    def args(self) -> list[str]:
        return ["--backend", "encord", "--ssh-key", str(self.key), "--domain", self.fake.url]

    def setup(self) -> None:
        self.ws.add_integration(INTEGRATION)
        self.ws.add_ontology(ONTOLOGY, [("Car", "bounding_box"), ("Truck", "bounding_box")])
        template = self.ws.add_template()  # Annotate (ANNOTATION), Review (REVIEW), Complete (DONE)
        # Encord has no call that lists templates: the CLI knows them by title from its config
        assert cli("config", "set", f"workflow_templates.{TEMPLATE}", template).code == 0
        assert cli("config", "set", "retry_base_delay", "0").code == 0

    def unreachable(self, urls: set[str]) -> None:
        self.ws.unreachable_urls |= set(urls)

    def reachable(self) -> None:
        self.ws.unreachable_urls.clear()

    def item(self, project: str, url: str) -> str:
        p = self.ws.projects[project]
        for h in p.rows:
            item = self.ws.item_of(h)
            if item.url == url or url in item.files:
                return h
        raise KeyError(url)

    def label(self, project, url, boxes, *, by, stage):
        self.ws.label(project, self.item(project, url), boxes=boxes, stage=stage, by=by)

    def move(self, project, url, stage):
        self.ws.move(project, self.item(project, url), stage)

    def assignees(self, project):
        p = self.ws.projects[project]
        return {self.ws.item_of(h).url: row.assignee for h, row in p.rows.items()
                if self.ws.stage(p, row.stage_uuid).stage_type == "ANNOTATION"}


class SandboxWorld(World):
    """An embedded sandbox file (``--sandbox PATH``), labelled with ``save_labels`` as the simulator does."""

    name = "sandbox"

    def __init__(self, path: Path) -> None:
        self.path = path

    def args(self) -> list[str]:
        return ["--sandbox", str(self.path)]

    def backend(self):
        from annotrain_tui.core.backends.sandbox import SandboxBackend

        return SandboxBackend(self.path, create=False)

    def setup(self) -> None:
        assert cli(*self.args(), "sandbox", "init", "--json").code == 0
        b = self.backend()
        try:
            b.add_integration(INTEGRATION, "aws")
            b.add_ontology(ONTOLOGY, [{"name": "Car", "shape": "bounding_box"},
                                      {"name": "Truck", "shape": "bounding_box"}])
            b.add_template(TEMPLATE, ["Annotate", "Review", "Complete"])
        finally:
            b.close()

    def _hash(self, b: Any, project: str, url: str) -> str:
        """The data hash of a file in a project (the sandbox's data units are their items)."""
        for d in b.get_project(project).dataset_ids:
            for r in b.list_data_rows(d):
                if r.file_link == url:
                    return r.data_hash
        raise KeyError(url)

    def label(self, project, url, boxes, *, by, stage):
        from annotrain_tui.core.backends.sandbox.labels import object_entry

        b = self.backend()
        try:
            classes = {o["name"]: o for o in b.ontology_structure(b.get_project(project).ontology_id)["objects"]}
            objects = [object_entry(object_hash=f"{n:08x}", ontology_object=classes[name], coordinates=coords,
                                    frame=0, created_by=by) for n, (name, coords) in enumerate(boxes)]
            b.save_labels(project, self._hash(b, project, url), objects, stage=stage)
        finally:
            b.close()

    def move(self, project, url, stage):
        # the sandbox has no move without an edit: save the same objects in the new stage
        b = self.backend()
        try:
            h = self._hash(b, project, url)
            (row,) = b.get_label_rows(project, [h])
            from annotrain_tui.core.backends.sandbox.labels import objects_of

            b.save_labels(project, h, objects_of(row), stage=stage)
        finally:
            b.close()

    def assignees(self, project):
        b = self.backend()
        try:
            who = b.task_assignees(project)
            urls = {r.data_hash: r.file_link for d in b.get_project(project).dataset_ids for r in b.list_data_rows(d)}
            return {urls[r.data_hash]: who.get(r.data_hash) for r in b.list_label_rows(project)
                    if r.stage == "Annotate"}
        finally:
            b.close()


@dataclass
class Programme:
    """What the CLI printed along the way (the JSON documents), for assertions and comparison."""

    manifest: Path
    register: dict[str, Any] = field(default_factory=dict)
    retry: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)
    verify_before_link: dict[str, Any] = field(default_factory=dict)
    link: dict[str, Any] = field(default_factory=dict)
    link_again: dict[str, Any] = field(default_factory=dict)
    verify: dict[str, Any] = field(default_factory=dict)
    benchmark: dict[str, Any] = field(default_factory=dict)
    status: dict[str, Any] = field(default_factory=dict)
    provision: dict[str, Any] = field(default_factory=dict)
    projects: dict[str, str] = field(default_factory=dict)  # trainee email → training project id


def set_up_benchmark(world: World, tmp: Path) -> Programme:
    """Register (one file fails, then its retry), the dataset from the folder, files registered
    later linked into it, the benchmark made and labelled Complete by the expert."""
    a = world.args()
    world.setup()
    prog = Programme(manifest=programme_manifest(tmp / "batch1.json"))
    valid = cli("manifest", "validate", prog.manifest)
    assert valid.code == 0, valid.out + valid.err
    world.unreachable({FLAKY})
    reg = cli(*a, "register", prog.manifest, "--integration", INTEGRATION, "--folder", FOLDER, "--create-folder",
              "--wait", "--json")
    assert reg.code == 1, reg.err  # done, with a unit error: exit 1 says some files failed
    prog.register = reg.json
    # the dataset before the retry: the folder gains the retried file afterwards
    ds = cli(*a, "benchmark", "create-dataset", "--folder", FOLDER, "--title", DATASET, "--json")
    assert ds.code == 0, ds.err
    prog.dataset = ds.json
    world.reachable()
    retry = cli(*a, "jobs", "--retry", prog.register["id"][:8], "--watch", "--json")
    assert retry.code == 0, retry.err
    prog.retry = retry.json
    before = cli(*a, "benchmark", "verify", DATASET, "--folder", FOLDER, "--json")
    assert before.code == 1, before.err
    prog.verify_before_link = before.json
    link = cli(*a, "benchmark", "link-folder", DATASET, "--folder", FOLDER, "--json")
    assert link.code == 0, link.err
    prog.link = link.json
    again = cli(*a, "benchmark", "link-folder", DATASET, "--folder", FOLDER, "--json")
    assert again.code == 0, again.err
    prog.link_again = again.json
    verify = cli(*a, "benchmark", "verify", DATASET, "--folder", FOLDER, "--json")
    assert verify.code == 0, verify.err
    prog.verify = verify.json
    bench = cli(*a, "benchmark", "create", "--title", BENCHMARK, "--dataset", DATASET, "--ontology", ONTOLOGY,
                "--template", TEMPLATE, "--json")
    assert bench.code == 0, bench.err
    prog.benchmark = bench.json
    bid = prog.benchmark["project_id"]
    for url in all_files(prog.manifest):
        world.label(bid, url, GOLD_BOXES.get(url, []), by=GOLD, stage="Complete")
    status = cli(*a, "benchmark", "status", bid, "--json")
    assert status.code == 0, status.err
    prog.status = status.json
    return prog


def all_files(manifest: Path) -> list[str]:
    """The first URL of every entry (the URL of the item it becomes)."""
    from annotrain_tui.core.manifest.models import entry_urls, manifest_entries

    data = json.loads(manifest.read_text(encoding="utf-8"))
    return [entry_urls(e)[0] for _, e in manifest_entries(data)]


def provision(world: World, prog: Programme, tmp: Path) -> Ran:
    ran = cli(*world.args(), "provision", "--roster", roster(tmp / "roster.csv"), "--benchmark", BENCHMARK,
              "--yes", "--json")
    if ran.code == 0:
        prog.provision = ran.json
        prog.projects = {a["email"]: a["project_id"] for a in prog.provision["annotators"]}
    return ran


def trainees_label(world: World, prog: Programme, *, only: set[str] | None = None) -> None:
    """Each trainee labels their files, submits (Review), and a reviewer approves (Complete: a
    stage move without an edit)."""
    for email, files in TRAINEE_BOXES.items():
        for url, boxes in files.items():
            if only is not None and url not in only:
                continue
            world.label(prog.projects[email], url, boxes, by=email, stage="Review")
            world.move(prog.projects[email], url, "Complete")


def scores(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The per-annotator numbers of an evaluation JSON, rounded (both backends must agree on them)."""
    keys = ("objects", "benchmark_objects", "matched", "missed", "extra", "precision", "recall", "f1",
            "mean_iou", "class_accuracy", "low_overlap", "status")
    return {who: {k: round(v, 6) if isinstance(v, float) else v for k, v in a.items() if k in keys}
            for who, a in doc["annotators"].items()}


def check_counts(check: dict[str, Any]) -> dict[str, Any]:
    return {k: check[k] if k in ("expected", "linked", "ok", "linked_now") else len(check[k])
            for k in ("expected", "linked", "missing", "extra", "ok", "linked_now") if k in check}
