"""``tune.json``: a tune's request, every configuration's capacity with its probes, and the answer;
written whole (atomically) and read strictly, here only.

Format history (the file carries ``schema``):

- 1: ``kind`` (``tune``), ``request`` (``TuneRequest.as_json``), ``space_size``, ``capacities`` (each:
  ``spec``, ``status``, ``lower_rps``, ``upper_rps``, ``note``, ``probes``: ``rate``, ``repeat``,
  ``status``, ``p99_ms``, ``error_rate``, ``throughput_rps``, ``generator_bound``, ``server_mem_mb``,
  ``reason``, ``outcome``, ``why``), ``ranking``, ``contenders``, ``recommendation``, ``folk_default``
  (specs), ``stopped`` (why the search ended), ``elapsed_s``, ``artefacts`` (paths in the folder).

A reader refuses a file without ``schema``, of a newer one, of another ``kind``, with a key it does not
know, or a value of the wrong type, in one line naming the file and the key.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from servingmatrix.errors import UserError
from servingmatrix.inputs import input_files
from servingmatrix.inputs.json_input import read_json_input
from servingmatrix.results.cell import Fields
from servingmatrix.results.folder import write_json_atomic
from servingmatrix.tune.bracket import CAPACITY_STATUSES, ConfigurationCapacity, ProbeRecord
from servingmatrix.tune.probe import OUTCOMES, PROBE_STATUSES, ProbeResult

TUNE_FILE = "tune.json"
TUNE_SCHEMA = 1
KIND = "tune"

_TOP = (
    "schema",
    "kind",
    "request",
    "space_size",
    "capacities",
    "ranking",
    "contenders",
    "recommendation",
    "folk_default",
    "stopped",
    "elapsed_s",
    "artefacts",
)
_CAPACITY = ("spec", "status", "lower_rps", "upper_rps", "note", "probes")
_PROBE = (
    "rate",
    "repeat",
    "status",
    "p99_ms",
    "error_rate",
    "throughput_rps",
    "generator_bound",
    "server_mem_mb",
    "reason",
    "outcome",
    "why",
)


@dataclass(frozen=True)
class TuneResult:
    """A tune as its file holds it."""

    request: dict[str, Any]
    space_size: int
    capacities: tuple[ConfigurationCapacity, ...]
    ranking: tuple[str, ...]
    contenders: tuple[str, ...]
    recommendation: str | None
    folk_default: str | None
    stopped: str
    elapsed_s: float
    artefacts: tuple[str, ...] = ()

    def capacity(self, spec: str | None) -> ConfigurationCapacity | None:
        """The last measurement of ``spec`` with a capacity (or its last measurement at all)."""
        found = [c for c in self.capacities if c.spec == spec]
        ranked = [c for c in found if c.lower_rps is not None and c.status != "pruned"]
        kept = ranked or found
        return kept[-1] if kept else None

    def as_json(self) -> dict[str, Any]:
        return {
            "schema": TUNE_SCHEMA,
            "kind": KIND,
            "request": self.request,
            "space_size": self.space_size,
            "capacities": [capacity_as_json(c) for c in self.capacities],
            "ranking": list(self.ranking),
            "contenders": list(self.contenders),
            "recommendation": self.recommendation,
            "folk_default": self.folk_default,
            "stopped": self.stopped,
            "elapsed_s": self.elapsed_s,
            "artefacts": list(self.artefacts),
        }


def probe_as_json(record: ProbeRecord) -> dict[str, Any]:
    r = record.result
    return {
        "rate": r.rate,
        "repeat": r.repeat,
        "status": r.status,
        "p99_ms": r.p99_ms,
        "error_rate": r.error_rate,
        "throughput_rps": r.throughput_rps,
        "generator_bound": r.generator_bound,
        "server_mem_mb": r.server_mem_mb,
        "reason": r.reason,
        "outcome": record.outcome,
        "why": record.why,
    }


def capacity_as_json(capacity: ConfigurationCapacity) -> dict[str, Any]:
    return {
        "spec": capacity.spec,
        "status": capacity.status,
        "lower_rps": capacity.lower_rps,
        "upper_rps": capacity.upper_rps,
        "note": capacity.note,
        "probes": [probe_as_json(p) for p in capacity.probes],
    }


def _only(f: Fields, keys: tuple[str, ...]) -> None:
    unknown = sorted(set(f.data) - set(keys))
    if unknown:
        raise UserError(
            f"{f.path}: unknown key '{f.where}{unknown[0]}' (allowed: {', '.join(keys)}); not a tune's file"
        )


def _choice(f: Fields, key: str, allowed: tuple[str, ...]) -> str:
    value = f.text(key)
    if value not in allowed:
        raise f.bad(key, f"one of {', '.join(allowed)}")
    return value


def _probe(spec: str, f: Fields) -> ProbeRecord:
    _only(f, _PROBE)
    result = ProbeResult(
        spec,
        f.integer("rate", least=1),
        f.integer("repeat", least=1),
        _choice(f, "status", PROBE_STATUSES),  # type: ignore[arg-type]
        f.optional_number("p99_ms"),
        f.optional_number("error_rate"),
        f.optional_number("throughput_rps"),
        bool(f.boolean("generator_bound")),
        f.optional_number("server_mem_mb"),
        f.optional_text("reason"),
    )
    return ProbeRecord(result, _choice(f, "outcome", OUTCOMES), f.text("why"))  # type: ignore[arg-type]


def capacity_from_fields(f: Fields) -> ConfigurationCapacity:
    """A capacity as ``capacity_as_json`` wrote it, every key checked."""
    _only(f, _CAPACITY)
    spec = f.text("spec")
    lower, upper = f.optional_integer("lower_rps"), f.optional_integer("upper_rps")
    if lower is not None and upper is not None and lower >= upper:
        raise f.bad("upper_rps", "above lower_rps")
    return ConfigurationCapacity(
        spec,
        _choice(f, "status", CAPACITY_STATUSES),  # type: ignore[arg-type]
        lower,
        upper,
        f.text("note"),
        tuple(_probe(spec, p) for p in f.items("probes")),
    )


def capacity_from_json(where: str, data: object) -> ConfigurationCapacity:
    """A capacity kept elsewhere (a study's trial), read as strictly as from the file."""
    if not isinstance(data, dict):
        raise UserError(f"{where}: expected a capacity object")
    return capacity_from_fields(Fields(Path(where), data))


def read_tune(path: Path) -> TuneResult:
    """``tune.json``, every key checked; one line naming the file and the key when anything is wrong."""
    data = read_json_input(path, input_files.TUNE)
    if not isinstance(data, dict):
        raise UserError(f"{path}: expected a JSON object; not a tune's file")
    f = Fields(path, data)
    schema = data.get("schema")
    if isinstance(schema, bool) or not isinstance(schema, int):
        raise UserError(f"{path}: no schema version; not a tune's file")
    if schema > TUNE_SCHEMA:
        raise UserError(f"{path}: schema {schema} is newer than this servingmatrix ({TUNE_SCHEMA}); upgrade")
    if schema < 1:
        raise UserError(f"{path}: schema {schema} is not one servingmatrix ever wrote")
    _only(f, _TOP)
    if data.get("kind") != KIND:
        raise f.bad("kind", f"'{KIND}'")
    request = data.get("request")
    if not isinstance(request, dict):
        raise f.bad("request", "an object")
    capacities = tuple(capacity_from_fields(c) for c in f.items("capacities"))
    specs = {c.spec for c in capacities}
    named = [*f.strings("ranking"), *f.strings("contenders")]
    for key in ("recommendation", "folk_default"):
        if f.optional_text(key) is not None:
            named.append(f.text(key))
    unknown = [spec for spec in named if spec not in specs]
    if unknown:
        raise UserError(
            f"{path}: {unknown[0]} is named in the answer but was not measured; the file is corrupt"
        )
    return TuneResult(
        request,
        f.integer("space_size"),
        capacities,
        f.strings("ranking"),
        f.strings("contenders"),
        f.optional_text("recommendation"),
        f.optional_text("folk_default"),
        f.text("stopped"),
        f.number("elapsed_s"),
        f.strings("artefacts"),
    )


def write_tune(folder: Path, result: TuneResult) -> Path:
    """Write ``tune.json`` into ``folder``, whole."""
    path = folder / TUNE_FILE
    write_json_atomic(path, result.as_json())
    return path
