# SPDX-License-Identifier: GPL-2.0
"""An independent reader of kscope's pprof profiles: gzip by Python's gzip
module, the wire format by Debian's python3-protobuf (the C++ or Python
runtime, not kscope's encoder), with the message types of pprof's
profile.proto described here field by field (numbers and types from
github.com/google/pprof proto/profile.proto), then checked the way pprof
checks a profile (ids, string indexes, values per sample type).

As a program, `pprof_decode.py FILE` prints the profile in a canonical
text form (the cmocka unit test compares it), and `--raw` runs Debian's
`protoc --decode_raw` on the decompressed bytes as a second decoder that
knows no schema at all."""
import gzip
import subprocess
import sys

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

F = descriptor_pb2.FieldDescriptorProto
I64, U64, BOOL, STR, MSG = (F.TYPE_INT64, F.TYPE_UINT64, F.TYPE_BOOL,
                            F.TYPE_STRING, F.TYPE_MESSAGE)
REP, OPT = F.LABEL_REPEATED, F.LABEL_OPTIONAL

# message: [(name, number, type, repeated, message type)]
SCHEMA = {
    "Profile": [("sample_type", 1, MSG, True, "ValueType"),
                ("sample", 2, MSG, True, "Sample"),
                ("mapping", 3, MSG, True, "Mapping"),
                ("location", 4, MSG, True, "Location"),
                ("function", 5, MSG, True, "Function"),
                ("string_table", 6, STR, True, None),
                ("drop_frames", 7, I64, False, None),
                ("keep_frames", 8, I64, False, None),
                ("time_nanos", 9, I64, False, None),
                ("duration_nanos", 10, I64, False, None),
                ("period_type", 11, MSG, False, "ValueType"),
                ("period", 12, I64, False, None),
                ("comment", 13, I64, True, None),
                ("default_sample_type", 14, I64, False, None)],
    "ValueType": [("type", 1, I64, False, None),
                  ("unit", 2, I64, False, None)],
    "Sample": [("location_id", 1, U64, True, None),
               ("value", 2, I64, True, None),
               ("label", 3, MSG, True, "Label")],
    "Label": [("key", 1, I64, False, None), ("str", 2, I64, False, None),
              ("num", 3, I64, False, None),
              ("num_unit", 4, I64, False, None)],
    "Mapping": [("id", 1, U64, False, None),
                ("memory_start", 2, U64, False, None),
                ("memory_limit", 3, U64, False, None),
                ("file_offset", 4, U64, False, None),
                ("filename", 5, I64, False, None),
                ("build_id", 6, I64, False, None),
                ("has_functions", 7, BOOL, False, None),
                ("has_filenames", 8, BOOL, False, None),
                ("has_line_numbers", 9, BOOL, False, None),
                ("has_inline_frames", 10, BOOL, False, None)],
    "Location": [("id", 1, U64, False, None),
                 ("mapping_id", 2, U64, False, None),
                 ("address", 3, U64, False, None),
                 ("line", 4, MSG, True, "Line"),
                 ("is_folded", 5, BOOL, False, None)],
    "Line": [("function_id", 1, U64, False, None),
             ("line", 2, I64, False, None),
             ("column", 3, I64, False, None)],
    "Function": [("id", 1, U64, False, None),
                 ("name", 2, I64, False, None),
                 ("system_name", 3, I64, False, None),
                 ("filename", 4, I64, False, None),
                 ("start_line", 5, I64, False, None)],
}
PKG = "kscope.test.pprof"


def _profile_class():
    fd = descriptor_pb2.FileDescriptorProto(name="kscope_test_pprof.proto",
                                            package=PKG, syntax="proto3")
    for name, fields in SCHEMA.items():
        m = fd.message_type.add(name=name)
        for fname, num, typ, rep, sub in fields:
            f = m.field.add(name=fname, number=num, type=typ,
                            label=REP if rep else OPT)
            if sub:
                f.type_name = f".{PKG}.{sub}"
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fd)
    desc = pool.FindMessageTypeByName(f"{PKG}.Profile")
    if hasattr(message_factory, "GetMessageClass"):
        return message_factory.GetMessageClass(desc)
    return message_factory.MessageFactory(pool).GetPrototype(desc)


Profile = _profile_class()


def decode(data):
    """gzipped bytes -> a checked dict of the profile"""
    raw = gzip.decompress(data)
    p = Profile()
    p.ParseFromString(raw)
    st = list(p.string_table)
    assert st and st[0] == "", "string_table[0] must be empty"

    def s(i):
        assert 0 <= i < len(st), f"string index {i} of {len(st)}"
        return st[i]

    maps, funcs, locs = {}, {}, {}
    for m in p.mapping:
        assert m.id and m.id not in maps, f"mapping id {m.id}"
        assert m.memory_start < m.memory_limit, m
        maps[m.id] = {"file": s(m.filename), "start": m.memory_start,
                      "limit": m.memory_limit, "offset": m.file_offset,
                      "has_functions": m.has_functions,
                      "has_filenames": m.has_filenames,
                      "has_line_numbers": m.has_line_numbers}
    for f in p.function:
        assert f.id and f.id not in funcs, f"function id {f.id}"
        funcs[f.id] = {"name": s(f.name), "system_name": s(f.system_name),
                       "file": s(f.filename)}
    for l in p.location:
        assert l.id and l.id not in locs, f"location id {l.id}"
        m = None
        if l.mapping_id:
            m = maps[l.mapping_id]
            assert m["start"] <= l.address < m["limit"], (l, m)
        lines = []
        for ln in l.line:
            f = funcs[ln.function_id]
            lines.append({"function": f["name"], "file": f["file"],
                          "line": ln.line})
        locs[l.id] = {"address": l.address, "mapping": m, "lines": lines}
    types = [(s(t.type), s(t.unit)) for t in p.sample_type]
    samples = []
    for x in p.sample:
        assert len(x.value) == len(types), "values per sample type"
        assert x.location_id, "a sample without locations"
        labels = {}
        for lb in x.label:
            assert s(lb.key) not in labels, "a label twice"
            labels[s(lb.key)] = s(lb.str) if lb.str else lb.num
        samples.append({"values": list(x.value), "labels": labels,
                        "locations": [locs[i] for i in x.location_id]})
    return {"types": types, "samples": samples,
            "default": s(p.default_sample_type),
            "period_type": (s(p.period_type.type), s(p.period_type.unit)),
            "period": p.period, "time_nanos": p.time_nanos,
            "duration_nanos": p.duration_nanos,
            "comments": [s(c) for c in p.comment],
            "mappings": list(maps.values())}


def frame(loc):
    m = loc["mapping"]
    where = m["file"].rsplit("/", 1)[-1] if m else "-"
    if not loc["lines"]:
        return f"{loc['address']:#x}@{where}"
    out = []
    for ln in loc["lines"]:
        src = ""
        if ln["file"]:
            src = f"({ln['file'].rsplit('/', 1)[-1]}:{ln['line']})"
        out.append(f"{ln['function']}{src}@{where}")
    return "+".join(out)


def dump(p):
    """canonical text: types, then samples leaf first, sorted"""
    lines = ["types " + " ".join(f"{t}/{u}" for t, u in p["types"]),
             f"default {p['default']}",
             f"period {p['period_type'][0]}/{p['period_type'][1]} "
             f"{p['period']}",
             f"time {p['time_nanos']} duration {p['duration_nanos']}"]
    lines += [f"comment {c}" for c in p["comments"]]
    lines += sorted(f"mapping {m['file']}"
                    f"{' functions' if m['has_functions'] else ''}"
                    f"{' lines' if m['has_line_numbers'] else ''}"
                    for m in p["mappings"])
    for x in sorted(p["samples"], key=lambda x: (
            [frame(l) for l in x["locations"]], sorted(x["labels"].items()))):
        labels = " ".join(f"{k}={v}" for k, v in sorted(x["labels"].items()))
        lines.append("sample " + " ".join(map(str, x["values"])) +
                     (f" {labels}" if labels else "") + " : " +
                     " ".join(frame(l) for l in x["locations"]))
    return "\n".join(lines) + "\n"


def decode_raw(data):
    """protoc --decode_raw's text of the decompressed profile"""
    r = subprocess.run(["protoc", "--decode_raw"],
                       input=gzip.decompress(data), capture_output=True)
    assert r.returncode == 0, r.stderr.decode(errors="replace")
    return r.stdout.decode(errors="replace")


def main(argv):
    if len(argv) == 3 and argv[1] == "--raw":
        with open(argv[2], "rb") as f:
            sys.stdout.write(decode_raw(f.read()))
        return 0
    if len(argv) != 2:
        print("usage: pprof_decode.py [--raw] FILE", file=sys.stderr)
        return 2
    with open(argv[1], "rb") as f:
        sys.stdout.write(dump(decode(f.read())))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
