# SPDX-License-Identifier: GPL-2.0
"""The JSON Schemas of tests/schemas/ themselves: valid draft 2020-12
schemas, in agreement with docs/json.md (every field and its type) and with
`kscope features` (the modes each tool offers), and strict enough to refuse
what kscope must never print (checked on real lines in
tests/schemas/examples/, mutated).  The report lines of the integration
tests are validated against them in tests/cases/_check.py."""
import copy
import json
import pathlib
import re
import subprocess
import sys

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "cases"))
import _schema  # noqa: E402

KSCOPE = ROOT / "build" / "kscope"
DOC = ROOT / "docs" / "json.md"
EXAMPLES = ROOT / "tests" / "schemas" / "examples"
NAMES = _schema.TOOLS + ("features",)


def test_schemas_are_valid():
    """Every file in tests/schemas is a valid schema, one per tool."""
    files = {p.stem for p in (ROOT / "tests" / "schemas").glob("*.json")}
    assert files == set(NAMES) | {"common"}, files
    for name in NAMES:
        _schema.validator(name)


# ---- docs/json.md agrees with the schemas --------------------------------

ROW = re.compile(r"^\| `([^`]+)` \| ([^|]+?) \|")


def doc_tables():
    """{section: {field: type}} from docs/json.md: "## Every report line",
    each "### TOOL" of "## Fields per tool", and "## kscope features -j"
    (as "features")."""
    out, cur = {}, None
    for line in DOC.read_text().splitlines():
        if line.startswith("## ") or line.startswith("### "):
            title = line.lstrip("#").strip()
            cur = {"Every report line": "common",
                   "kscope features -j": "features"}.get(title, title)
            if line.startswith("## ") and cur == "Fields per tool":
                cur = None
            continue
        m = ROW.match(line)
        if m and cur:
            fields = out.setdefault(cur, {})
            assert m.group(1) not in fields, \
                f"docs/json.md section {cur}: {m.group(1)} listed twice"
            fields[m.group(1)] = m.group(2).strip()
    return out


def schema_type(name, field):
    """A field's type as docs/json.md writes it."""
    root = _schema.load(name)
    node = root
    parts = re.findall(r"[^.\[\]]+|\[\]", field)
    for p in parts:
        node = _schema.deref(root, node)
        if p == "[]":
            node = node["items"]
        elif p == "*":
            node = node["additionalProperties"]
        else:
            node = node["properties"][p]
    return _type_of(root, node)


COMMON_TYPES = {"u64": "integer", "i64": "integer", "f64": "number",
                "interval_s": "number", "time": "string", "note": "string",
                "comm": "string", "symbol": "string", "stack": "stack",
                "hist": "hist"}


def _type_of(root, node):
    node = _schema.deref(root, node)
    ref = node.get("$ref", "")
    if ref.startswith("common.json#/$defs/"):
        return COMMON_TYPES[ref.rsplit("/", 1)[1]]
    if "oneOf" in node:
        return " or ".join(_type_of(root, n) for n in node["oneOf"])
    if "const" in node:
        return {str: "string", int: "integer"}[type(node["const"])]
    if "enum" in node:
        types = {type(v) for v in node["enum"]}
        assert len(types) == 1, node
        return {str: "string", int: "integer"}[types.pop()]
    return node["type"]


def test_doc_fields_match_schemas():
    """docs/json.md lists exactly each schema's fields, with their types:
    the common ones once, each tool's own in its section."""
    doc = doc_tables()
    problems = []
    common = set(_schema.COMMON)
    assert set(doc.get("common", {})) == common, (
        "docs/json.md 'Every report line' must list exactly "
        f"{sorted(common)}, lists {sorted(doc.get('common', {}))}")
    for name in NAMES:
        fields = _schema.fields(name)
        if name != "features":
            fields -= common
            for f in common:
                if f not in _schema.load(name)["properties"]:
                    problems.append(f"tests/schemas/{name}.json: no "
                                    f"common field '{f}'")
        listed = doc.get(name, {})
        for f in sorted(fields - set(listed)):
            problems.append(f"{name}: field '{f}' is in tests/schemas/"
                            f"{name}.json but not in docs/json.md's "
                            f"'{name}' table")
        for f in sorted(set(listed) - fields):
            problems.append(f"{name}: docs/json.md's '{name}' table lists "
                            f"'{f}', which tests/schemas/{name}.json does "
                            "not have")
        for f in sorted(fields & set(listed)):
            t = schema_type(name, f)
            if t != listed[f]:
                problems.append(f"{name}: '{f}' is {t} in tests/schemas/"
                                f"{name}.json, {listed[f]} in docs/json.md")
    for name in doc:
        if name not in NAMES and name != "common":
            problems.append(f"docs/json.md has a section '{name}' that is "
                            "no tool")
    for f in _schema.COMMON:
        t = {_type_of(_schema.load(n), _schema.load(n)["properties"][f])
             for n in _schema.TOOLS}
        if f not in ("mode", "tool") and t != {doc["common"][f]}:
            problems.append(f"common field '{f}': docs say "
                            f"{doc['common'][f]}, schemas {sorted(t)}")
    assert not problems, "\n".join(problems)


def test_doc_examples_valid():
    """Every ```json example in docs/ and the README is a line kscope
    could print: it parses and its schema accepts it (an example that
    lost a drop reason or kept a renamed field fails here)."""
    blocks = 0
    for p in sorted((ROOT / "docs").glob("*.md")) + [ROOT / "README.md"]:
        for m in re.finditer(r"```json\n(.*?)```", p.read_text(), re.S):
            blocks += 1
            where = f"{p.relative_to(ROOT)}, example at offset {m.start()}"
            try:
                obj = json.loads(m.group(1))
            except ValueError as e:
                pytest.fail(f"{where} is not JSON ({e}); no '...' in "
                            "examples: cut rows instead")
            if "kernel" in obj and "modes" in obj:
                _schema.check_features(obj, where)
            else:
                _schema.check_report(obj, where)
    assert blocks >= 4


def test_common_fields_required():
    """Every tool's line has the contract's keys (note is optional)."""
    for name in _schema.TOOLS:
        s = _schema.load(name)
        assert s.get("additionalProperties") is False, name
        missing = set(_schema.COMMON) - {"note"} - set(s["required"])
        assert not missing, f"tests/schemas/{name}.json: {missing} " \
            "not required"
        assert "note" not in s["required"], name


# ---- the modes each schema allows are those kscope offers ----------------

# modes a line may have only with an option that features (which probes
# with the default options) does not use
OPTION_MODES = {"spinlock": {"kprobe"}}     # --calls


def test_modes_match_features():
    """Each tool's schema allows exactly the modes `kscope features`
    says the tool implements ("supported"), on any kernel, and those
    its options add (OPTION_MODES)."""
    if not KSCOPE.exists():
        pytest.fail(f"{KSCOPE} is not built (make)")
    out = subprocess.run([str(KSCOPE), "features", "-j"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    seen = set()
    for f in _schema.feature_lines(out.stdout):
        seen.add(f["tool"])
        supported = {m for m, d in f["modes"].items() if d["supported"]}
        supported |= OPTION_MODES.get(f["tool"], set())
        allowed = set(_schema.load(f["tool"])["properties"]["mode"]["enum"])
        assert allowed == supported, (
            f"tests/schemas/{f['tool']}.json allows modes {sorted(allowed)}"
            f", kscope features says {f['tool']} implements "
            f"{sorted(supported)}")
    assert seen == set(_schema.TOOLS), seen


# ---- strict: real lines pass, wrong ones fail, saying what and where -----

def examples():
    out = []
    for p in sorted(EXAMPLES.glob("*.jsonl")):
        for i, line in enumerate(p.read_text().splitlines()):
            if line.strip():
                out.append(pytest.param(json.loads(line),
                                        id=f"{p.stem}-{i + 1}"))
    return out


def test_examples_cover_every_tool():
    tools = {p.values[0]["tool"] for p in examples()
             if "entries" in p.values[0]}
    assert tools == set(_schema.TOOLS), sorted(set(_schema.TOOLS) - tools)


def _check(obj):
    if "kernel" in obj and "modes" in obj:
        return _schema.check_features(obj, "example")
    return _schema.check_report(obj, "example")


def _refused(obj):
    with pytest.raises(AssertionError) as e:
        _check(obj)
    return str(e.value)


def _first_entry(obj):
    for k, v in obj.items():
        if isinstance(v, list) and v and isinstance(v[0], dict):
            return k, v[0]
    return None, None


@pytest.mark.parametrize("line", examples())
def test_example_valid_and_strict(line):
    _check(line)
    name = line["tool"] if "entries" in line else "features"
    bad = copy.deepcopy(line)
    bad["bogus_field"] = 1
    msg = _refused(bad)
    assert f"{name}: field 'bogus_field' is not in the schema" in msg, msg
    assert f"tests/schemas/{name}.json" in msg and "docs/json.md" in msg
    if name == "features":
        bad = copy.deepcopy(line)
        bad["modes"]["kprobe"]["bogus"] = True
        assert "field 'modes.kprobe.bogus'" in _refused(bad)
        bad = copy.deepcopy(line)
        del bad["modes"]["uprobe"]
        assert "'uprobe' is a required property" in _refused(bad)
        return
    table, entry = _first_entry(line)
    if entry is not None:
        bad = copy.deepcopy(line)
        bad[table][0]["bogus_key"] = "x"
        msg = _refused(bad)
        assert f"field '{table}[].bogus_key' is not in the schema" in msg
        for k, v in entry.items():
            if isinstance(v, int):
                # a count with a fraction, or negative
                bad = copy.deepcopy(line)
                bad[table][0][k] = v + 0.5
                assert f"field '{table}[].{k}'" in _refused(bad)
                bad[table][0][k] = float(v)
                assert f"field '{table}[].{k}'" in _refused(bad)
                bad[table][0][k] = -1
                assert f"field '{table}[].{k}'" in _refused(bad)
            required = k in ("count", "bytes", "cache", "function",
                             "migrations", "lock", "comm")
            if required:
                bad = copy.deepcopy(line)
                del bad[table][0][k]
                assert f"'{k}' is a required property" in _refused(bad)
    # histograms as ks_hist_json() writes them
    for k, v in entry.items() if entry else ():
        if k == "hist" and v:
            bad = copy.deepcopy(line)
            bad[table][0][k] = v + [{"min": v[-1]["max"] + 1,
                                     "max": 2 * v[-1]["max"] + 1,
                                     "count": 0}]
            assert "is not a log2 histogram: an empty bucket" in \
                _refused(bad)
            bad[table][0][k] = [{"min": 3, "max": 5, "count": 1}]
            assert f"field '{table}[].hist' is not a log2 histogram" in \
                _refused(bad)
            bad[table][0][k] = [{"min": 1, "max": 1, "count": 1},
                                {"min": 4, "max": 7, "count": 1}]
            assert "does not follow" in _refused(bad)
    # the tool's exact drop reasons: none missing, none extra
    reason = sorted(line["dropped"])[-1]
    bad = copy.deepcopy(line)
    del bad["dropped"][reason]
    assert f"'{reason}' is a required property" in _refused(bad)
    bad = copy.deepcopy(line)
    bad["dropped"]["made_up"] = 0
    assert "field 'dropped.made_up' is not in the schema" in _refused(bad)
    bad = copy.deepcopy(line)
    bad["dropped"][reason] = 1.0
    assert f"field 'dropped.{reason}'" in _refused(bad)
    # the contract's keys and values
    for k in ("time", "interval_s", "mode", "dropped", "entries"):
        bad = copy.deepcopy(line)
        del bad[k]
        assert f"'{k}' is a required property" in _refused(bad)
    for k, v in (("time", "2026-12-03 06:00:00"), ("mode", "auto"),
                 ("interval_s", "1.0"), ("note", ""), ("note", 3),
                 ("tool", "kmem2")):
        bad = copy.deepcopy(line)
        bad[k] = v
        _refused(bad)


# ---- the C source writes no key the schemas lack -------------------------

SRC = ROOT / "src" / "tools"
# files that build report lines for tools other than their own name
SHARED = {"locks_common.c": ("mlock", "mheld", "spinlock")}
C_TYPES = {"KS_CT_STR": "string", "KS_CT_COMM": "string",
           "KS_CT_U64": "integer", "KS_CT_I64": "integer",
           "KS_CT_NS": "integer", "KS_CT_F64": "number",
           "KS_CT_HIST": "hist", "KS_CT_STACK": "stack"}
V_TYPES = {"u64": "integer", "i64": "integer", "f64": "number",
           "str": "string", "null": "null", "f64s": "array"}
COL = re.compile(r'\{\s*"([a-z][a-z0-9_.]*)"\s*,\s*(?:"[^"]*"|NULL)\s*,'
                 r'\s*(KS_CT_\w+)')
VALUE = re.compile(r'\bks_report_(u64|i64|f64|str|null|f64s)\(\s*\w+\s*,'
                   r'\s*"([^"]+)"')
TOOL_DEF = re.compile(r'\.name = "(\w+)",(?:(?!\n\};).)*?'
                      r'(?:\.drop_names = (\w+)|\n\};)', re.S)
FEATURE_KEY = re.compile(r'\bks_json_k(?:ey|str|double|u64)\(&j,\s*"(\w+)"')
MACRO = re.compile(r'^#define\s+(\w+)\((\w+)[,)]((?:.*\\\n)*.*)$', re.M)


def source_keys(text):
    """[(key, type)] of the JSON keys a tool's C source writes: struct
    ks_col initializers (also through a macro taking the key as its first
    argument, like workq's US_COL), and ks_report_*() values."""
    out = [(k, C_TYPES[t]) for k, t in COL.findall(text) if t in C_TYPES]
    for name, param, body in MACRO.findall(text):
        m = re.search(r'\{\s*' + param + r'\s*,\s*\w+\s*,\s*(KS_CT_\w+)',
                      body)
        if m and m.group(1) in C_TYPES:
            for k in re.findall(r'\b' + name + r'\(\s*"([a-z][a-z0-9_.]*)"',
                                text):
                out.append((k, C_TYPES[m.group(1)]))
    out += [(k, V_TYPES[t]) for t, k in VALUE.findall(text)]
    return out


def test_source_keys_in_schemas():
    """Every JSON key src/tools/*.c writes (columns, report values, drop
    reasons) is in its tool's schema with a type that fits: a field added
    in C without its schema fails here, before any test runs the option
    that prints it."""
    problems = []
    for path in sorted(SRC.glob("*.c")):
        text = path.read_text()
        tools = SHARED.get(path.name, (path.stem,))
        keys = source_keys(text)
        if path.name == "features.c":
            tools = ("features",)
            keys = [(k, None) for k in FEATURE_KEY.findall(text)]
        if not keys:
            continue
        if not all(t in NAMES for t in tools):
            problems.append(f"src/tools/{path.name} writes JSON keys "
                            f"{sorted({k for k, _ in keys})} for no known "
                            "tool: name its tools in SHARED in "
                            "tests/test_schemas.py")
            continue
        for key, ctype in keys:
            found = []
            for t in tools:
                for f in _schema.fields(t):
                    if f == key or f.endswith("." + key):
                        found.append((t, f))
            if not found:
                problems.append(
                    f"{'/'.join(tools)}: src/tools/{path.name} writes "
                    f"'{key}'" + (f" ({ctype})" if ctype else "") +
                    ", not in tests/schemas/"
                    f"{tools[0]}.json: add it there and to docs/json.md's "
                    f"'{tools[0]}' table")
                continue
            if ctype and not any(
                    ctype in schema_type(t, f).split(" or ")
                    for t, f in found):
                problems.append(
                    f"{'/'.join(tools)}: src/tools/{path.name} writes "
                    f"'{key}' as {ctype}; the schema has " + ", ".join(
                        f"{f}: {schema_type(t, f)} ({t}.json)"
                        for t, f in found))
    assert not problems, "\n".join(problems)


def test_drop_reasons_in_schemas():
    """dropped in each tool's schema has exactly map_full, stack,
    no_memory, recursion and the names of its struct ks_tool's .drop_names array."""
    text = "\n".join(p.read_text() for p in sorted(SRC.glob("*.c")))
    problems, seen = [], set()
    for tool, arr in TOOL_DEF.findall(text):
        seen.add(tool)
        drops = []
        if arr:
            m = re.search(r'\b' + arr + r'\[\]\s*=\s*\{([^}]*)\}', text)
            assert m, f"{tool}: no definition of .drop_names {arr}"
            drops = re.findall(r'"([^"]+)"', m.group(1))
        want = {"map_full", "stack", "no_memory", "recursion", *drops}
        have = set(_schema.load(tool)["properties"]["dropped"]["properties"])
        if want != have:
            problems.append(
                f"{tool}: its drop reasons (src/tools, .drop_names "
                f"{arr or 'none'}, with map_full, stack, no_memory and recursion) are "
                f"{sorted(want)}; tests/schemas/{tool}.json's dropped has "
                f"{sorted(have)}")
    assert seen == set(_schema.TOOLS), sorted(seen)
    assert not problems, "\n".join(problems)
