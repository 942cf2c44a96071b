"""JSON Schema of a benchmark record (documented in ``docs/benchmarks.md``) and a small validator.

:func:`validate` uses ``jsonschema`` when it is installed and otherwise the subset validator here
(``type``, ``required``, ``properties``, ``additionalProperties`` (schema or bool), ``items``, ``enum``,
``minimum``, ``oneOf`` of objects distinguished by ``status``), which is all :data:`SCHEMA` uses.
"""

from __future__ import annotations

__all__ = ["SCHEMA", "validate", "BenchRecordError"]

from magnetscreen.datasets.errors import MagnetscreenError


class BenchRecordError(MagnetscreenError, ValueError):
    """A benchmark record that does not follow the documented schema."""


_NUM = {"type": "number"}
_POS = {"type": "number", "minimum": 0}
_RANGE = {"type": "object", "required": ["min", "median", "max"],
          "properties": {"min": _POS, "median": _POS, "max": _POS}}
_STAGE = {
    "type": "object",
    "required": ["n", "repeats", "seconds", "candidates_per_s", "seconds_per_candidate", "memory_method"],
    "properties": {"n": {"type": "integer", "minimum": 1}, "repeats": {"type": "integer", "minimum": 1},
                   "seconds": _RANGE, "candidates_per_s": _RANGE, "seconds_per_candidate": _RANGE,
                   "peak_memory_bytes": {"type": "integer", "minimum": 0},
                   "peak_rss_bytes": {"type": "integer", "minimum": 0},
                   "memory_method": {"type": "string"}, "note": {"type": "string"},
                   "bound": {"type": "object", "required": ["seconds_per_candidate", "bytes_per_candidate", "fraction",
                                                           "method"],
                             "properties": {"seconds_per_candidate": _POS, "bytes_per_candidate": _POS,
                                            "fraction": _POS, "method": {"type": "string"}}}},
}
_SKIPPED = {"type": "object", "required": ["status", "reason"],
            "properties": {"status": {"enum": ["skipped"]}, "reason": {"type": "string"}}}
_BASELINE = {"oneOf": [_SKIPPED, {
    "type": "object", "required": ["status", "library", "n", "seconds", "candidates_per_s", "extrapolated", "ratio"],
    "properties": {"status": {"enum": ["measured"]}, "library": {"type": "string"},
                   "n": {"type": "integer", "minimum": 1}, "seconds": _POS, "candidates_per_s": _POS,
                   "extrapolated": {"type": "boolean"}, "ratio": _POS, "ours_stage": {"type": "string"}}}]}
_STAGES = ("enumerate_encode", "featurize", "predict", "physics", "risk", "rank", "end_to_end")

SCHEMA = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "title": "magnetscreen benchmark record",
    "type": "object",
    "required": ["schema", "schema_version", "created", "machine", "versions", "config", "stages", "baselines",
                 "bandwidth", "scaling"],
    "properties": {
        "schema": {"enum": ["magnetscreen-bench"]},
        "schema_version": {"enum": [1]},
        "created": {"type": "string"},
        "machine": {"type": "object", "required": ["cpu_model", "cores", "memory_bytes", "os", "python"],
                    "properties": {"cpu_model": {"type": "string"}, "cores": {"type": "integer", "minimum": 1},
                                   "memory_bytes": {"type": ["integer", "null"]}, "os": {"type": "string"},
                                   "python": {"type": "string"}, "numba_threads": {"type": "integer"}}},
        "versions": {"type": "object", "required": ["magnetscreen", "numpy", "numba", "scikit-learn", "pymatgen",
                                                    "dask"],
                     "additionalProperties": {"type": ["string", "null"]}},
        "config": {"type": "object", "required": ["size", "n", "stage_n", "chunk_size", "repeats", "workers"],
                   "properties": {"size": {"type": "string"}, "n": {"type": "integer", "minimum": 1},
                                  "stage_n": {"type": "integer", "minimum": 1},
                                  "chunk_size": {"type": "integer", "minimum": 1},
                                  "repeats": {"type": "integer", "minimum": 1},
                                  "workers": {"type": "integer", "minimum": 1},
                                  "scheduler": {"type": ["string", "null"]}}},
        "stages": {"type": "object", "required": list(_STAGES), "additionalProperties": _STAGE},
        "baselines": {"type": "object", "required": ["encode", "featurize", "predict", "end_to_end"],
                      "additionalProperties": _BASELINE},
        "bandwidth": {"type": "object", "required": ["fill_bytes_per_s", "copy_bytes_per_s", "featurizer_bytes_per_s",
                                                     "featurizer_share_of_fill"],
                      "properties": {"fill_bytes_per_s": _POS, "copy_bytes_per_s": _POS,
                                     "featurizer_bytes_per_s": _POS, "featurizer_share_of_fill": _POS}},
        "scaling": {
            "type": "object", "required": ["counts", "workers", "dask"],
            "properties": {
                "counts": {"type": "array", "items": {
                    "type": "object", "required": ["n", "seconds", "candidates_per_s", "seconds_per_candidate",
                                                   "peak_rss_bytes"],
                    "properties": {"n": {"type": "integer", "minimum": 1}, "seconds": _RANGE,
                                   "candidates_per_s": _RANGE, "seconds_per_candidate": _RANGE,
                                   "peak_rss_bytes": {"type": "integer", "minimum": 0}}}},
                "workers": {"type": "array", "items": {
                    "type": "object", "required": ["workers", "backend", "seconds", "candidates_per_s", "speedup",
                                                   "efficiency"],
                    "properties": {"workers": {"type": "integer", "minimum": 1}, "backend": {"enum": ["joblib"]},
                                   "seconds": _RANGE, "candidates_per_s": _RANGE, "speedup": _POS,
                                   "efficiency": _POS}}},
                "dask": {"oneOf": [_SKIPPED, {
                    "type": "object", "required": ["status", "workers", "seconds", "candidates_per_s",
                                                   "joblib_seconds", "overhead_ratio"],
                    "properties": {"status": {"enum": ["measured"]}, "workers": {"type": "integer", "minimum": 1},
                                   "seconds": _RANGE, "candidates_per_s": _RANGE, "joblib_seconds": _RANGE,
                                   "overhead_ratio": _POS}}]},
            }},
        "plots": {"type": "object", "additionalProperties": {"type": ["string", "null"]}},
    },
}

_TYPES = {"object": dict, "array": list, "string": str, "boolean": bool, "null": type(None)}


def _is(value, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, _TYPES[kind])


def _errors(value, schema: dict, path: str):
    if "oneOf" in schema:
        options = [list(_errors(value, s, path)) for s in schema["oneOf"]]
        if sum(not o for o in options) != 1:
            yield f"{path}: matches {sum(not o for o in options)} of the alternatives, expected exactly one " \
                  f"({'; '.join(o[0] for o in options if o)})"
        return
    kinds = schema.get("type")
    if kinds is not None:
        kinds = [kinds] if isinstance(kinds, str) else kinds
        if not any(_is(value, k) for k in kinds):
            yield f"{path}: expected {' or '.join(kinds)}, got {type(value).__name__} {value!r:.60}"
            return
    if "enum" in schema and value not in schema["enum"]:
        yield f"{path}: expected one of {schema['enum']}, got {value!r:.60}"
    if "minimum" in schema and _is(value, "number") and value < schema["minimum"]:
        yield f"{path}: expected >= {schema['minimum']}, got {value!r}"
    if isinstance(value, dict):
        for key in schema.get("required", ()):
            if key not in value:
                yield f"{path}: missing key {key!r}"
        props = schema.get("properties", {})
        extra = schema.get("additionalProperties", True)
        for key, item in value.items():
            if key in props:
                yield from _errors(item, props[key], f"{path}.{key}")
            elif extra is False:
                yield f"{path}: unexpected key {key!r}"
            elif isinstance(extra, dict):
                yield from _errors(item, extra, f"{path}.{key}")
    if isinstance(value, list) and "items" in schema:
        for i, item in enumerate(value):
            yield from _errors(item, schema["items"], f"{path}[{i}]")


def validate(record: dict, source: str = "record") -> None:
    """Check ``record`` against :data:`SCHEMA`.

    Raises
    ------
    BenchRecordError
        Naming ``source``, the key path and the rule broken.
    """
    try:
        import jsonschema
    except ImportError:
        errors = list(_errors(record, SCHEMA, "$"))
        if errors:
            raise BenchRecordError(f"{source}: not a magnetscreen benchmark record: {errors[0]}"
                                   + (f" (and {len(errors) - 1} more)" if len(errors) > 1 else "")) from None
        return
    try:
        jsonschema.validate(record, SCHEMA)
    except jsonschema.ValidationError as exc:
        where = "$" + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in exc.absolute_path)
        raise BenchRecordError(f"{source}: not a magnetscreen benchmark record: {where}: {exc.message}") from None
