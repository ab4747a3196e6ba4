# SPDX-License-Identifier: GPL-2.0
"""kscope's JSON lines against their JSON Schemas (tests/schemas/TOOL.json),
with Debian's python3-jsonschema.

check_report() takes one report line of any tool (a tool's own run, or a
line of `kscope report -j`), check_features() one line of `kscope
features -j`.  A line the schema refuses fails with every offending field
named as a path ("entries[].queue.count"), the tool, and where to add a
new field: the tool's schema and its section of docs/json.md, which
tests/test_schemas.py keeps in agreement.
"""
import json
import pathlib
import sys
import threading
import warnings

try:
    import jsonschema
except ImportError as e:   # a visible failure, not a skip: it is a TEST_DEP
    raise ImportError("python3-jsonschema is missing (Debian package "
                      "python3-jsonschema; `make test-deps` installs it): "
                      f"{e}") from e

SCHEMAS = pathlib.Path(__file__).resolve().parent.parent / "schemas"
TOOLS = ("kmem", "kpages", "slabratetop", "mlock", "mheld", "spinlock",
         "numamove", "workq", "memleak")
# every report line has these; docs/json.md's "Every report line" table
COMMON = ("tool", "time", "interval_s", "mode", "dropped", "note",
          "entries")


def _is_int(_checker, v):
    # a count written as 12.0 is not an integer here (python's json
    # reads it as a float; jsonschema alone would accept it)
    return isinstance(v, int) and not isinstance(v, bool)


_Strict = jsonschema.validators.extend(
    jsonschema.Draft202012Validator,
    type_checker=jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", _is_int))

_cache = {}
# a validator's RefResolver keeps a scope stack: one thread at a time
# (tests/soak.py reads every tool's output in a thread of its own)
_lock = threading.Lock()


def load(name):
    """The schema tests/schemas/NAME.json as a dict."""
    return json.loads((SCHEMAS / f"{name}.json").read_text())


def validator(name):
    """A validator for tests/schemas/NAME.json; its references to
    common.json resolve to the file beside it."""
    if name not in _cache:
        path = SCHEMAS / f"{name}.json"
        schema = load(name)
        jsonschema.Draft202012Validator.check_schema(schema)
        common = SCHEMAS / "common.json"
        store = {common.as_uri(): json.loads(common.read_text())}
        with warnings.catch_warnings():
            # Debian 12's 4.10 has nothing else; newer releases (a pip
            # install on another python3) deprecate it but still have it
            warnings.simplefilter("ignore", DeprecationWarning)
            resolver = jsonschema.RefResolver(path.as_uri(), schema,
                                              store=store)
        _cache[name] = _Strict(schema, resolver=resolver)
    return _cache[name]


def field_path(parts):
    """["entries", 3, "queue", "count"] -> "entries[].queue.count"."""
    out = ""
    for p in parts:
        if isinstance(p, int):
            out += "[]"
        else:
            out += ("." if out else "") + str(p)
    return out or "(the line)"


def _schema_at(parts):
    """/properties/entries/items: the schema object an error is about."""
    parts = list(parts)
    if parts:
        parts = parts[:-1]      # the failing keyword itself
    return "/" + "/".join(str(p) for p in parts)


def _problems(name, obj):
    out = []
    file = f"tests/schemas/{name}.json"
    with _lock:
        errors = sorted(validator(name).iter_errors(obj),
                        key=lambda e: list(map(str, e.absolute_path)))
    for e in errors:
        at = field_path(e.absolute_path)
        if e.validator == "additionalProperties" and \
                isinstance(e.instance, dict):
            known = set(e.schema.get("properties", {}))
            top = at == "(the line)"
            place = "the top level" if top else \
                _schema_at(e.absolute_schema_path)
            for extra in sorted(set(e.instance) - known):
                f = extra if top else f"{at}.{extra}"
                out.append(
                    f"{name}: field '{f}' is not in the schema. A new "
                    f"field: add it to {file} (\"properties\" of {place}) "
                    f"and to the '{name}' section of docs/json.md")
        elif e.validator == "required":
            out.append(f"{name}: {at}: {e.message} ({file}, "
                       f"{_schema_at(e.absolute_schema_path)})")
        else:
            v = json.dumps(e.instance)
            if len(v) > 120:
                v = v[:117] + "..."
            out.append(f"{name}: field '{at}' = {v}: {e.validator} "
                       f"{json.dumps(e.validator_value)[:200]} fails "
                       f"({file}, {_schema_at(e.absolute_schema_path)})")
    # one line per field and reason, not one per entry
    return list(dict.fromkeys(out))


U64_MAX = (1 << 64) - 1


def _hist_problem(h):
    """Why h is not what ks_hist_json() writes (log2 buckets {0,0},
    {1,1}, {2,3}, {4,7}, ... the last open-ended, consecutive, from the
    first used one to the last), or None."""
    if not h:
        return None
    for b in h:
        lo, hi = b["min"], b["max"]
        if not (lo == hi == 0 or (lo & (lo - 1) == 0 and
                                  hi in (2 * lo - 1, U64_MAX))):
            return f"bucket {b} is not a log2 bucket"
    for a, b in zip(h, h[1:]):
        if b["min"] != a["max"] + 1:
            return f"bucket {b} does not follow {a}"
    if h[0]["count"] == 0 or h[-1]["count"] == 0:
        return "an empty bucket at an end (buckets run from the first " \
               "used to the last)"
    return None


def _hists(obj, path=()):
    """(path, value) of every "hist" array in a report line."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            if k == "hist" and isinstance(v, list):
                yield path + (k,), v
            else:
                yield from _hists(v, path + (k,))
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from _hists(v, path + (i,))


def _fail(problems, obj, where):
    line = json.dumps(obj)
    if len(line) > 600:
        line = line[:597] + "..."
    raise AssertionError(
        "kscope JSON does not match its schema"
        + (f" ({where})" if where else "") + ":\n  "
        + "\n  ".join(problems[:20])
        + (f"\n  ... {len(problems) - 20} more" if len(problems) > 20
           else "")
        + f"\nline: {line}")


def check_report(obj, where=""):
    """obj (a parsed report line) matches its tool's schema, or
    AssertionError naming each field that does not."""
    if not isinstance(obj, dict):
        _fail([f"a report line is a JSON object, not {type(obj).__name__}"],
              obj, where)
    tool = obj.get("tool")
    if tool not in TOOLS:
        _fail([f"'tool' is {tool!r}: no schema tests/schemas/{tool}.json "
               f"(tools: {', '.join(TOOLS)})"], obj, where)
    problems = _problems(tool, obj)
    if not problems:
        for path, h in _hists(obj):
            why = _hist_problem(h)
            if why:
                problems.append(f"{tool}: field '{field_path(path)}' is "
                                f"not a log2 histogram: {why}")
        problems = list(dict.fromkeys(problems))
    if problems:
        _fail(problems, obj, where)
    return obj


def check_features(obj, where=""):
    """obj (a parsed `kscope features -j` line) matches features.json."""
    problems = _problems("features", obj)
    if problems:
        _fail(problems, obj, where)
    return obj


def report_lines(text, where=""):
    """Every line of kscope -j output, parsed and checked."""
    out = []
    for i, line in enumerate(text.splitlines()):
        if line.strip():
            out.append(check_report(json.loads(line),
                                    f"{where} line {i + 1}" if where
                                    else f"line {i + 1}"))
    return out


def feature_lines(text, where="kscope features -j"):
    return [check_features(json.loads(l), where)
            for l in text.splitlines() if l.strip()]


def sweep(directory):
    """Every kscope report line in the files under directory (a case's
    output): lines that are JSON objects whose "tool" is a kscope tool.
    Returns how many were checked."""
    n = 0
    for p in sorted(pathlib.Path(directory).rglob("*")):
        if not p.is_file() or p.stat().st_size > 64 << 20:
            continue
        try:
            text = p.read_text()
        except (OSError, UnicodeDecodeError):
            continue
        for i, line in enumerate(text.splitlines()):
            if not line.startswith("{"):
                continue
            try:
                obj = json.loads(line)
            except ValueError:
                continue
            if not isinstance(obj, dict) or obj.get("tool") not in TOOLS:
                continue
            if "kernel" in obj and "modes" in obj:
                check_features(obj, f"{p.name} line {i + 1}")
            else:
                check_report(obj, f"{p.name} line {i + 1}")
            n += 1
    return n


def deref(root, node):
    """node, or what its local "$ref" ("#/$defs/queue") points to in
    root; references to common.json stay as they are."""
    while isinstance(node, dict) and \
            node.get("$ref", "").startswith("#/"):
        target = root
        for part in node["$ref"][2:].split("/"):
            target = target[part]
        node = target
    return node


def fields(name):
    """Every field of tests/schemas/NAME.json as a path ("total_count",
    "dropped.missed", "entries[].queue.count", "modes.*.why"), objects and
    arrays included; the common.json types (a hist's buckets) are leaves.
    What docs/json.md's section for the tool must list."""
    root = load(name)

    def walk(s, prefix, out):
        s = deref(root, s)
        if not isinstance(s, dict):
            return
        for k, sub in s.get("properties", {}).items():
            p = prefix + k
            out.add(p)
            walk(sub, p + ".", out)
        extra = deref(root, s.get("additionalProperties"))
        if isinstance(extra, dict) and "properties" in extra:
            out.add(prefix + "*")
            walk(extra, prefix + "*.", out)
        items = deref(root, s.get("items"))
        if isinstance(items, dict) and "properties" in items:
            walk(items, prefix[:-1] + "[].", out)
    out = set()
    walk(root, "", out)
    return out


def main(argv):
    """python3 tests/cases/_schema.py FILE...: validate kscope -j output
    (report or features lines); exit 1 naming what does not match."""
    bad = 0
    for name in argv or ["/dev/stdin"]:
        text = pathlib.Path(name).read_text()
        try:
            n = 0
            for i, line in enumerate(text.splitlines()):
                if not line.strip():
                    continue
                obj = json.loads(line)
                where = f"{name} line {i + 1}"
                if isinstance(obj, dict) and "kernel" in obj and \
                        "modes" in obj:
                    check_features(obj, where)
                else:
                    check_report(obj, where)
                n += 1
            print(f"{name}: {n} lines match their schemas")
        except (AssertionError, ValueError) as e:
            print(f"{name}: {e}", file=sys.stderr)
            bad += 1
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
