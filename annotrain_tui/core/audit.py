"""The gold audit (issue 16, build 7): where the benchmark itself looks wrong, and where the trainees
disagree most. Pure and headless; the geometry is the engine's (:class:`Evaluator`), nothing new.

How it works
    Each trainee is evaluated against the gold, and every pair of trainees against each other (trainee
    A as the "benchmark" of trainee B), with optimal one-to-one matching whatever the classes and the
    settings' thresholds, shapes and sigmas. Two trainees' objects *agree* when that matching pairs
    them and they carry the same class. Agreeing objects are joined into groups (connected
    components: one group is one object as the trainees drew it, on one item, frame and shape).

    On an item, ``n`` trainees finished it (they have a label row for it); a *majority* is
    ``max(2, n // 2 + 1)`` of them. A group that holds a majority of the trainees is the trainees'
    consensus, and it is checked against the gold:

    * take the gold object most of the group's trainees matched (any class). When the group's
      trainees who did *not* match it are a majority of the item's finishers themselves, the gold
      does not hold the object where the trainees put it: when a gold object of the group's class
      on that item, frame and shape is missed by most trainees (fewer than a majority matched it
      with its class, and no consensus claims it), the nearest one is ``misplaced``; else the gold
      is ``missing`` the object (no benchmark object hash);
    * otherwise, when a majority matched that gold object and it has another class than the
      group's, a ``class`` suspect (that gold object, the trainees' class); else the gold agrees
      (or the evidence is split: nothing is said).

    A video object is one suspect over its frames (``frames``; ``frame`` is the first).

    Inter-trainee agreement of an item: over every pair of trainees who both finished it, the F1 of
    their objects (``2 · agreeing pairs / (A's objects + B's objects)``, 1.0 when neither drew
    anything), averaged; items are ranked lowest first. Items fewer than two trainees finished are
    not ranked (said in a warning).

    The audit looks at every gold item, excluded ones too: an exclusion (``settings.excluded_items``,
    or a programme's record) is marked on the suspects and items it covers, not hidden.

    result = audit(benchmark_rows, {"a@x.com": rows_a, "b@x.com": rows_b}, settings)
    result.suspects, result.items[:10], result.to_json()
    result = audit_programme(backend, prog, settings)    # the programme's gold and current rounds
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from annotrain_tui.core.errors import NotFound, Unusable
from annotrain_tui.core.evaluation.engine import Evaluator
from annotrain_tui.core.evaluation.labels import safe_text
from annotrain_tui.core.evaluation.parse import COMPARED_SHAPES, ObjectTable, parse_label_rows
from annotrain_tui.core.evaluation.results import EvaluationSettings
from annotrain_tui.core.lazy import lazy_module

if TYPE_CHECKING:
    import pandas as pd

    from annotrain_tui.core.backends.base import Backend
    from annotrain_tui.core.programme import Programme
else:
    pd = lazy_module("pandas")

__all__ = ["KINDS", "Suspect", "ItemAgreement", "AuditResult", "audit", "audit_programme", "majority"]

SuspectKind = Literal["missing", "misplaced", "class"]
KINDS: tuple[SuspectKind, ...] = ("missing", "misplaced", "class")
_MATCHED = ("matched", "low_overlap")
_FETCH_CHUNK = 500

Rows = Iterable[Mapping[str, Any]]


def majority(finished: int) -> int:
    """Trainees who must agree on an item ``finished`` trainees finished: a majority, at least 2."""
    return max(2, finished // 2 + 1)


@dataclass(frozen=True)
class Suspect:
    """One benchmark object (or a missing one) the trainees agree against."""

    kind: SuspectKind
    data_hash: str
    data_title: str
    frame: int
    shape: str
    benchmark_object_hash: str | None  # None: the gold lacks the object
    benchmark_class: str | None
    trainee_class: str  # the class the agreeing trainees gave
    agree: int  # trainees who agree
    finished: int  # trainees who finished the item
    explanation: str  # one line, untrusted names already made safe
    #: the trainees' representative object: annotator, object_hash, shape, x, y, w, h (normalised;
    #: None where a shape has no box, a bitmask), theta (rotated boxes)
    geometry: dict[str, Any]
    members: tuple[tuple[str, str], ...] = ()  # (trainee, object hash) of every agreeing object
    frames: tuple[int, ...] = ()
    benchmark_geometry: dict[str, Any] | None = None  # the gold object's box (misplaced, class)
    excluded: str | None = None  # the item is excluded from scoring now: the reason given

    def to_json(self) -> dict[str, Any]:
        return {"kind": self.kind, "data_hash": self.data_hash, "data_title": self.data_title, "frame": self.frame,
                "frames": list(self.frames), "shape": self.shape, "benchmark_object_hash": self.benchmark_object_hash,
                "benchmark_class": self.benchmark_class,
                "trainees": {"class": self.trainee_class, "agree": self.agree, "of": self.finished,
                             "objects": [{"annotator": a, "object_hash": h} for a, h in self.members]},
                "explanation": self.explanation, "geometry": self.geometry,
                "benchmark_geometry": self.benchmark_geometry,
                "excluded": self.excluded is not None, "exclusion_reason": self.excluded}


@dataclass(frozen=True)
class ItemAgreement:
    """How much the trainees agree among themselves on one benchmark item."""

    data_hash: str
    data_title: str
    agreement: float  # mean pairwise F1
    pairs: int  # pairs of trainees who both finished it
    finished: int
    excluded: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"data_hash": self.data_hash, "data_title": self.data_title, "agreement": self.agreement,
                "pairs": self.pairs, "finished": self.finished, "excluded": self.excluded is not None,
                "exclusion_reason": self.excluded}


@dataclass
class AuditResult:
    suspects: list[Suspect]
    items: list[ItemAgreement]  # lowest agreement first
    trainees: list[str]
    benchmark_items: int
    settings: EvaluationSettings
    warnings: list[str] = field(default_factory=list)
    excluded: dict[str, str] = field(default_factory=dict)  # data hash → reason, the exclusions now

    @property
    def audited_items(self) -> int:
        """Items at least two trainees finished (the ones the audit can say anything about)."""
        return len(self.items)

    def least_agreed(self, n: int = 10) -> list[ItemAgreement]:
        return self.items[:n]

    def to_json(self) -> dict[str, Any]:
        s = self.settings
        return {"settings": {"iou_threshold": s.iou_threshold, "class_thresholds": dict(sorted(s.class_thresholds.items())),
                             "shapes": list(s.shapes), "matching": "optimal", "class_matching": "any"},
                "trainees": list(self.trainees), "benchmark_items": self.benchmark_items,
                "audited_items": self.audited_items,
                "suspects": [x.to_json() for x in self.suspects],
                "items": [i.to_json() for i in self.items],
                "excluded": [{"data_hash": h, "reason": r} for h, r in sorted(self.excluded.items())],
                "warnings": list(self.warnings)}


def _audit_settings(settings: EvaluationSettings | None) -> EvaluationSettings:
    """The settings' thresholds, shapes and sigmas, with optimal matching whatever the classes (the
    class is checked apart) and nothing excluded (the audit looks at every gold item)."""
    s = settings or EvaluationSettings()
    return replace(s, matching="optimal", class_matching="any", excluded_items=frozenset())


def _table(rows: Rows | ObjectTable, source: str) -> ObjectTable:
    return rows if isinstance(rows, ObjectTable) else parse_label_rows(rows, source=source)


def _box(x: float, y: float, w: float, h: float, theta: float) -> dict[str, Any]:
    def num(v: float) -> float | None:
        return None if v is None or not math.isfinite(v) else float(v)

    return {"x": num(x), "y": num(y), "w": num(w), "h": num(h), "theta": num(theta)}


def _centre(x: float, y: float, w: float, h: float) -> tuple[float, float]:
    return (x + w / 2, y + h / 2)


def _same_place(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> float:
    """How much two objects' extents (x, y, w, h, as fractions of the image, each padded by
    ``EXTENT_PAD``: a straight line or a point has no area of its own) cover the same place: their
    intersection over the smaller one."""
    p = EXTENT_PAD
    ax, ay, aw, ah = a[0] - p, a[1] - p, a[2] + 2 * p, a[3] + 2 * p
    bx, by, bw, bh = b[0] - p, b[1] - p, b[2] + 2 * p, b[3] + 2 * p
    ix = min(ax + aw, bx + bw) - max(ax, bx)
    iy = min(ay + ah, by + bh) - max(ay, by)
    inter = max(ix, 0.0) * max(iy, 0.0)
    smaller = min(aw * ah, bw * bh)
    return inter / smaller if smaller > 0 and math.isfinite(smaller) else 0.0


#: a line, point or skeleton of the gold whose extent covers the trainees' consensus this much is in
#: the same place, drawn another way (a lane's bends): their similarity is stricter than where the
#: object is, so that is no evidence the gold is misplaced, and it is not reported. Areas (boxes,
#: polygons, masks) are judged by their IoU alone: a gold box too loose for every trainee is a suspect.
SAME_PLACE = 0.5
LINE_SHAPES = frozenset({"polyline", "point", "skeleton"})
EXTENT_PAD = 0.02


def _distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    d = math.hypot(a[0] - b[0], a[1] - b[1])
    return d if math.isfinite(d) else math.inf


_MIX = (np.uint64(0x9E3779B97F4A7C15), np.uint64(0xC2B2AE3D27D4EB4F))


def _key(data_hash: Any, frame: Any, object_hash: Any) -> np.ndarray:
    """One 64-bit key per (data hash, frame, object hash): the place of an annotation, hashed in C
    (a join on three text columns sorts strings; this is a join on integers)."""
    dh = pd.util.hash_array(np.asarray(data_hash, dtype=object), categorize=False)
    oh = pd.util.hash_array(np.asarray(object_hash, dtype=object), categorize=False)
    with np.errstate(over="ignore"):
        return dh * _MIX[0] ^ oh * _MIX[1] ^ np.asarray(frame, dtype=np.int64).astype(np.uint64)


def audit(benchmark: Rows | ObjectTable, training: Mapping[str, Rows | ObjectTable],
          settings: EvaluationSettings | None = None, *, exclusions: Mapping[str, str] | None = None,
          warnings: Iterable[str] = ()) -> AuditResult:
    """Audit the gold against the trainees (see the module doc). ``training``: trainee → label rows
    (or a parsed table), one set per trainee. ``exclusions`` (data hash → reason; default: the
    settings' ``excluded_items``) are marked on what they cover."""
    s = _audit_settings(settings)
    excluded = dict(exclusions) if exclusions is not None else \
        {h: "" for h in (settings.excluded_items if settings else ())}
    said = list(warnings)
    bm = _table(benchmark, "benchmark")
    names = list(training)
    tables = [_table(training[n], n) for n in names]

    # the gold's items: the last row of each data hash (as the engine pairs them)
    last_row = {h: i for i, h in enumerate(bm.rows["data_hash"].tolist())}
    items = list(last_row)
    bm_titles = bm.rows["data_title"]
    titles = {h: "" if bm_titles[i] is None else str(bm_titles[i]) for h, i in last_row.items()}
    item_pos = pd.Index(items, dtype=object)
    n_items = len(items)
    finished = np.zeros((len(names), n_items), dtype=bool)
    for t, table in enumerate(tables):
        pos = item_pos.get_indexer(pd.Index(table.rows["data_hash"], dtype=object))
        finished[t, pos[pos >= 0]] = True
        said.extend(table.warnings)
        if not len(pos):
            said.append(f"{safe_text(names[t], 120)}: no finished work yet (not audited)")
        elif not (pos >= 0).any():
            said.append(f"{safe_text(names[t], 120)}: none of their label rows is a benchmark item (not audited)")
    n_finished = finished.sum(axis=0)
    few = int(((n_finished > 0) & (n_finished < 2)).sum())
    if len(names) < 2:
        said.append("the gold audit needs at least two trainees' work to compare")
    elif few:
        said.append(f"{few} benchmark item(s) were finished by fewer than two trainees: not audited")

    nodes = _gold_matches(bm, s, names, tables, said)
    # agreement between every pair of trainees, and the edges joining their agreeing objects
    node_t = nodes["t"].to_numpy()
    node_key = nodes["key"].to_numpy()
    offsets = np.searchsorted(node_t, np.arange(len(names) + 1))  # nodes come trainee by trainee
    keys = [pd.Index(node_key[offsets[t]:offsets[t + 1]]) for t in range(len(names))]
    f1_sum = np.zeros(n_items)
    pairs = np.zeros(n_items, dtype=np.int64)
    edges_u: list[np.ndarray] = []
    edges_v: list[np.ndarray] = []
    for a in range(len(names) - 1):
        ev = Evaluator(tables[a], s, benchmark_source=names[a], keep_objects=True)
        for b in range(a + 1, len(names)):
            both = finished[a] & finished[b]
            if not both.any():
                continue
            df = ev.add(names[b], tables[b], annotator=names[b], credit_owner=True).objects
            ev.remove(names[b])
            assert df is not None
            outcome = df["outcome"].to_numpy(dtype=object)
            matched = np.isin(outcome, _MATCHED)
            same = matched & (df["feature_hash"].to_numpy(dtype=object)
                              == df["benchmark_feature_hash"].to_numpy(dtype=object))
            dh = df["data_hash"].to_numpy(dtype=object)
            pos = item_pos.get_indexer(dh)
            ok = pos >= 0
            n_b = np.bincount(pos[ok & (outcome != "missed")], minlength=n_items)
            n_a = np.bincount(pos[ok & (matched | (outcome == "missed"))], minlength=n_items)
            agree = np.bincount(pos[ok & same], minlength=n_items)
            total = n_a + n_b
            f1_sum += np.where(both, np.where(total > 0, 2 * agree / np.maximum(total, 1), 1.0), 0.0)
            pairs += both
            if same.any():
                frame = df["frame"].to_numpy()[same]
                u = keys[a].get_indexer(_key(dh[same], frame, df["benchmark_object_hash"].to_numpy(dtype=object)[same]))
                v = keys[b].get_indexer(_key(dh[same], frame, df["object_hash"].to_numpy(dtype=object)[same]))
                keep = (u >= 0) & (v >= 0)
                edges_u.append(u[keep] + offsets[a])
                edges_v.append(v[keep] + offsets[b])

    suspects = _suspects(bm, s, names, nodes, edges_u, edges_v, last_row, item_pos, titles, n_finished, excluded)
    ranked = [ItemAgreement(data_hash=items[i], data_title=titles[items[i]], agreement=float(f1_sum[i] / pairs[i]),
                            pairs=int(pairs[i]), finished=int(n_finished[i]), excluded=excluded.get(items[i]))
              for i in np.flatnonzero(pairs > 0).tolist()]
    ranked.sort(key=lambda r: (r.agreement, r.data_title, r.data_hash))
    return AuditResult(suspects=suspects, items=ranked, trainees=names, benchmark_items=n_items, settings=s,
                       warnings=list(dict.fromkeys(said)),
                       excluded={h: r for h, r in excluded.items() if h in last_row})


_NODE_COLUMNS = ["t", "key", "gold_key", "data_hash", "frame", "object_hash", "shape", "feature_hash", "class",
                 "gold", "gold_same", "x", "y", "w", "h", "theta"]


def _gold_matches(bm: ObjectTable, s: EvaluationSettings, names: list[str], tables: list[ObjectTable],
                  said: list[str]) -> pd.DataFrame:
    """Every trainee object on a benchmark item (one node each, trainee by trainee) with the gold
    object it matched (any class), whether their classes agree, and its box."""
    ev = Evaluator(bm, s, keep_objects=True)
    said.extend(bm.warnings)
    parts = []
    for t, (name, table) in enumerate(zip(names, tables)):
        df = ev.add(name, table, annotator=name, credit_owner=True).objects
        ev.remove(name)
        assert df is not None
        df = df[(df["outcome"] != "missed").to_numpy(dtype=bool)]
        matched = np.isin(df["outcome"].to_numpy(dtype=object), _MATCHED)
        dh, frame = df["data_hash"].to_numpy(dtype=object), df["frame"].to_numpy(dtype=np.int64)
        oh = df["object_hash"].to_numpy(dtype=object)
        gold = np.where(matched, df["benchmark_object_hash"].to_numpy(dtype=object), None)
        node = pd.DataFrame({
            "t": np.full(len(df), t, dtype=np.int64), "key": _key(dh, frame, oh), "gold_key": _key(dh, frame, gold),
            "data_hash": dh, "frame": frame, "object_hash": oh, "shape": df["shape"].to_numpy(dtype=object),
            "feature_hash": df["feature_hash"].to_numpy(dtype=object), "class": df["class"].to_numpy(dtype=object),
            "gold": gold, "gold_same": matched & (df["feature_hash"].to_numpy(dtype=object)
                                                  == df["benchmark_feature_hash"].to_numpy(dtype=object)),
        }).drop_duplicates("key", keep="first")  # a repeated row of one item is one object
        box = _boxes(table).drop_duplicates("key", keep="last")
        parts.append(node.merge(box, on="key", how="left"))
    if not parts:
        return pd.DataFrame({c: [] for c in _NODE_COLUMNS})
    return pd.concat(parts, ignore_index=True)


def _boxes(table: ObjectTable) -> pd.DataFrame:
    """Every annotation's box by its place key."""
    dh = table.rows["data_hash"][table.row] if len(table) else np.empty(0, dtype=object)
    return pd.DataFrame({"key": _key(dh, table.frame, table.object_hash), "x": table.x, "y": table.y, "w": table.w,
                         "h": table.h, "theta": table.theta})


def _gold_objects(bm: ObjectTable, s: EvaluationSettings, last_row: Mapping[str, int]) -> pd.DataFrame:
    """The gold's compared annotations on its items (the last row of each data hash), one per place."""
    codes = np.array([COMPARED_SHAPES.index(x) for x in s.shapes])
    rows = np.fromiter(last_row.values(), dtype=np.int64, count=len(last_row))
    keep = np.isin(bm.row, rows) & np.isin(bm.shape, codes) if len(bm) else np.zeros(0, dtype=bool)
    idx = np.flatnonzero(keep)
    shapes = np.asarray(COMPARED_SHAPES, dtype=object)
    dh = bm.rows["data_hash"][bm.row[idx]] if len(idx) else np.empty(0, dtype=object)
    return pd.DataFrame({
        "key": _key(dh, bm.frame[idx], bm.object_hash[idx]),
        "data_hash": pd.Series(dh, dtype=object), "frame": bm.frame[idx].astype(np.int64),
        "object_hash": pd.Series(bm.object_hash[idx], dtype=object),
        "shape": pd.Series(shapes[bm.shape[idx]], dtype=object),
        "feature_hash": pd.Series(bm.feature_vocab[bm.feature_code[idx]] if len(idx) else [], dtype=object),
        "class": pd.Series(bm.name_vocab[bm.name_code[idx]] if len(idx) else [], dtype=object),
        "x": bm.x[idx], "y": bm.y[idx], "w": bm.w[idx], "h": bm.h[idx], "theta": bm.theta[idx],
    }).drop_duplicates("key", keep="first").reset_index(drop=True)


def _suspects(bm: ObjectTable, s: EvaluationSettings, names: list[str], nodes: pd.DataFrame,
              edges_u: list[np.ndarray], edges_v: list[np.ndarray], last_row: Mapping[str, int], item_pos: pd.Index,
              titles: Mapping[str, str], n_finished: np.ndarray, excluded: Mapping[str, str]) -> list[Suspect]:
    """The groups of agreeing objects a majority holds, checked against the gold."""
    if not sum(len(e) for e in edges_u):
        return []
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    u, v = np.concatenate(edges_u), np.concatenate(edges_v)
    n = len(nodes)
    _, comp = connected_components(coo_matrix((np.ones(len(u)), (u, v)), shape=(n, n)), directed=False)
    size = np.bincount(comp)
    grouped = nodes.assign(comp=comp)[size[comp] >= 2]
    per_trainee = grouped.drop_duplicates(["comp", "t"])  # a trainee with two objects in a group counts once
    # the representative of each group: its first trainee's object (nodes are in trainee order)
    rep = per_trainee.drop_duplicates("comp").set_index("comp")
    rep["trainees"] = per_trainee.groupby("comp").size()
    rep["finished"] = n_finished[item_pos.get_indexer(rep["data_hash"])]
    rep["need"] = np.maximum(2, rep["finished"].to_numpy() // 2 + 1)
    rep = rep[rep["trainees"] >= rep["need"]]  # the consensus groups
    if not len(rep):
        return []
    gold = _gold_objects(bm, s, last_row)
    gold_index = pd.Index(gold["key"].to_numpy())
    # per gold object: the trainees who matched it with its class
    same = nodes[nodes["gold_same"].to_numpy(dtype=bool)].drop_duplicates(["t", "gold_key"])
    same_votes = np.bincount(gold_index.get_indexer(same["gold_key"].to_numpy()) + 1, minlength=len(gold) + 1)[1:]
    # per consensus group: the gold object most of its trainees matched (any class), and how many
    voted = grouped[grouped["comp"].isin(rep.index) & grouped["gold"].notna()]
    top = (voted.drop_duplicates(["comp", "t", "gold_key"]).groupby(["comp", "gold_key"]).size().rename("votes")
           .reset_index().sort_values(["comp", "votes"], ascending=[True, False], kind="stable")
           .drop_duplicates("comp").set_index("comp"))
    votes = top["votes"].reindex(rep.index, fill_value=0).to_numpy(dtype=np.int64)
    need = rep["need"].to_numpy()
    # against the gold: the group's trainees who did not match that gold object are a majority themselves
    against = rep["trainees"].to_numpy() - votes >= need
    on_gold = ~against & (votes > 0)
    g_of = np.full(len(rep), -1, dtype=np.int64)
    if on_gold.any():  # the keys stay 64-bit integers (a reindex with gaps would make them floats)
        g_of[on_gold] = gold_index.get_indexer(top["gold_key"].loc[rep.index[on_gold]].to_numpy(dtype=np.uint64))
    claimed = np.zeros(len(gold), dtype=bool)
    claimed[g_of[g_of >= 0]] = True
    # another class: a majority matched that gold object, all with the group's class
    wrong_class = (g_of >= 0) & (votes >= need) & (gold["feature_hash"].to_numpy(dtype=object)[np.maximum(g_of, 0)]
                                                   != rep["feature_hash"].to_numpy(dtype=object))
    raw: list[dict[str, Any]] = [{"kind": "class", "comp": c, "gold": int(g), "agree": int(k)} for c, g, k in
                                 zip(rep.index[wrong_class], g_of[wrong_class], rep["trainees"].to_numpy()[wrong_class])]
    unresolved = rep[against].sort_values("trainees", ascending=False, kind="stable")
    if len(unresolved):
        by_place = gold.groupby(["data_hash", "frame", "shape", "feature_hash"]).indices
        taken = claimed.copy()
        gx, gy, gw, gh = (gold[c].to_numpy() for c in ("x", "y", "w", "h"))
        for c, r in unresolved.iterrows():
            here = by_place.get((r["data_hash"], int(r["frame"]), r["shape"], r["feature_hash"]), [])
            free = [int(g) for g in here if not taken[g] and same_votes[g] < int(r["need"])]
            if free:
                at = _centre(r["x"], r["y"], r["w"], r["h"])
                g = min(free, key=lambda g: (_distance(at, _centre(gx[g], gy[g], gw[g], gh[g])), g))
                taken[g] = True
                if r["shape"] in LINE_SHAPES and _same_place(
                        (r["x"], r["y"], r["w"], r["h"]), (gx[g], gy[g], gw[g], gh[g])) >= SAME_PLACE:
                    continue  # the gold line is where they agree, drawn otherwise: not a misplaced gold
                raw.append({"kind": "misplaced", "comp": c, "gold": g, "agree": int(r["trainees"])})
            else:
                raw.append({"kind": "missing", "comp": c, "gold": None, "agree": int(r["trainees"])})
    if not raw:
        return []
    chosen = grouped[grouped["comp"].isin([r["comp"] for r in raw])]
    member_of = {c: tuple((names[int(t)], str(h)) for t, h in zip(m["t"], m["object_hash"]))
                 for c, m in chosen.groupby("comp")}
    return _combine(raw, rep, gold, names, member_of, titles, same_votes, excluded)


def _combine(raw: list[dict[str, Any]], rep: pd.DataFrame, gold: pd.DataFrame, names: list[str],
             member_of: Mapping[int, tuple[tuple[str, str], ...]], titles: Mapping[str, str],
             same_votes: np.ndarray, excluded: Mapping[str, str]) -> list[Suspect]:
    """One suspect per object: a video object's frames joined (the same gold object, or, for a
    missing one, the same trainees' objects)."""
    joined: dict[tuple[Any, ...], list[dict[str, Any]]] = {}
    for r in raw:
        g = rep.loc[r["comp"]]
        r["frame"] = int(g["frame"])
        if r["gold"] is None:
            key: tuple[Any, ...] = ("missing", g["data_hash"], g["feature_hash"],
                                    frozenset(h for _t, h in member_of.get(r["comp"], ())))
        else:
            key = (r["kind"], g["data_hash"], gold["object_hash"].iat[r["gold"]], g["feature_hash"])
        joined.setdefault(key, []).append(r)
    out = []
    for parts in joined.values():
        parts.sort(key=lambda r: r["frame"])
        first = parts[0]
        r = rep.loc[first["comp"]]
        dh, n, agree = str(r["data_hash"]), int(r["finished"]), max(p["agree"] for p in parts)
        cls = "" if r["class"] is None else str(r["class"])
        geometry = {"annotator": names[int(r["t"])], "object_hash": str(r["object_hash"]), "shape": str(r["shape"]),
                    **_box(r["x"], r["y"], r["w"], r["h"], r["theta"])}
        g = first["gold"]
        b_hash = b_cls = b_geom = None
        if g is not None:
            b = gold.iloc[g]
            b_hash, b_cls = str(b["object_hash"]), "" if b["class"] is None else str(b["class"])
            b_geom = _box(b["x"], b["y"], b["w"], b["h"], b["theta"])
        them = f"{agree} of {n} trainees"
        if first["kind"] == "missing":
            text = f"{them} drew a {safe_text(cls, 60)} here that the gold lacks"
        elif first["kind"] == "class":
            text = f"{them} matched this object as {safe_text(cls, 60)}; the gold says {safe_text(b_cls, 60)}"
        else:
            b = gold.iloc[g]
            d = _distance(_centre(r["x"], r["y"], r["w"], r["h"]), _centre(b["x"], b["y"], b["w"], b["h"]))
            where = f" ({d:.0%} of the image from the gold's)" if math.isfinite(d) else ""
            text = (f"{them} agree on this {safe_text(cls, 60)} elsewhere{where}; {int(same_votes[g])} of {n} "
                    "matched the gold's")
        out.append(Suspect(kind=first["kind"], data_hash=dh, data_title=titles.get(dh, ""), frame=first["frame"],
                           shape=str(r["shape"]), benchmark_object_hash=b_hash, benchmark_class=b_cls,
                           trainee_class=cls, agree=agree, finished=n, explanation=text, geometry=geometry,
                           members=member_of.get(first["comp"], ()), frames=tuple(p["frame"] for p in parts),
                           benchmark_geometry=b_geom, excluded=excluded.get(dh)))
    out.sort(key=lambda x: (x.data_title, x.data_hash, x.frame, KINDS.index(x.kind), x.benchmark_object_hash or ""))
    return out


# -- a workspace programme ---------------------------------------------------------------------

def _done_rows(backend: Backend, project_id: str, *, done_only: bool) -> list[dict[str, Any]]:
    infos = backend.list_label_rows(project_id, done_only=done_only)
    hashes = [i.data_hash for i in infos if i.done]
    rows: list[dict[str, Any]] = []
    for start in range(0, len(hashes), _FETCH_CHUNK):
        rows.extend(backend.get_label_rows(project_id, hashes[start:start + _FETCH_CHUNK]))
    return rows


def audit_programme(backend: Backend, prog: Programme, settings: EvaluationSettings | None = None) -> AuditResult:
    """The audit of a workspace programme: its benchmark's Complete rows against its trainees'
    current rounds' Complete rows, the programme's current exclusions marked."""
    said: list[str] = []
    bench = parse_label_rows(_done_rows(backend, prog.id, done_only=True), source=prog.title)
    training: dict[str, ObjectTable] = {}
    for email, trainee in prog.trainees.items():
        project = trainee.current.project
        try:  # one project in memory at a time, as rows: only its table is kept
            training[email] = parse_label_rows(_done_rows(backend, project.id, done_only=False),
                                               source=project.title)
        except (Unusable, NotFound) as err:  # one trainee's project unreadable: the others still count
            said.append(f"{safe_text(email, 120)}: left out ({safe_text(str(err), 200)})")
    exclusions = {h: e.reason for h, e in prog.record.exclusions().items()}
    return audit(bench, training, settings, exclusions=exclusions, warnings=said)
