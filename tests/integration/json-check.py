#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Validate `migrate --format json` output against docs/json.md.

usage: json-check.py DOC SHAPE [FILE] [--with KEY...]

Reads the ```json-shape SHAPE``` block of DOC and checks that FILE (default
stdin) holds exactly one line, one JSON document of that shape: every key
present (keys ending in "?" only when named with --with), no other key, each
leaf of the documented type. Exits 0 when it matches, 1 (with the path of
the first mismatch) when not, 2 on a usage error.
"""
import json
import re
import sys

TYPES = {
    "string": lambda v: isinstance(v, str),
    "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
    "number": lambda v: isinstance(v, (int, float)) and not isinstance(v, bool),
    "bool": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
}


def shapes(doc):
    found = {}
    for m in re.finditer(r"```json-shape (\S+)\n(.*?)```", doc, re.S):
        found[m.group(1)] = json.loads(m.group(2))
    return found


def check(shape, value, path, wanted):
    if isinstance(shape, str):
        kinds = shape.split("|")
        for k in kinds:
            if k not in TYPES:
                raise SystemExit(f"json-check: unknown type '{k}' in the doc at {path}")
        if not any(TYPES[k](value) for k in kinds):
            return f"{path}: expected {shape}, got {json.dumps(value)[:80]}"
        return None
    if isinstance(shape, list):
        if not isinstance(value, list):
            return f"{path}: expected an array, got {json.dumps(value)[:80]}"
        for i, v in enumerate(value):
            err = check(shape[0], v, f"{path}[{i}]", wanted)
            if err:
                return err
        return None
    if not isinstance(value, dict):
        return f"{path}: expected an object, got {json.dumps(value)[:80]}"
    keys = set()
    for k, sub in shape.items():
        optional = k.endswith("?")
        name = k[:-1] if optional else k
        keys.add(name)
        if name not in value:
            if optional and name not in wanted:
                continue
            return f"{path}: key '{name}' missing"
        if optional and name not in wanted:
            return f"{path}: key '{name}' present without --with {name}"
        err = check(sub, value[name], f"{path}.{name}", wanted)
        if err:
            return err
    extra = set(value) - keys
    if extra:
        return f"{path}: undocumented key(s) {sorted(extra)}"
    return None


def main(argv):
    if len(argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    doc_path, shape_name = argv[1], argv[2]
    rest = argv[3:]
    wanted = set()
    if "--with" in rest:
        i = rest.index("--with")
        wanted = set(rest[i + 1:])
        rest = rest[:i]
    with open(doc_path, encoding="utf-8") as f:
        all_shapes = shapes(f.read())
    if shape_name not in all_shapes:
        print(f"json-check: no shape '{shape_name}' in {doc_path}", file=sys.stderr)
        return 2
    text = open(rest[0], encoding="utf-8").read() if rest else sys.stdin.read()
    lines = text.split("\n")
    if len(lines) != 2 or lines[1] != "":
        print(f"json-check: expected one line ending in a newline, got {len(lines) - 1} lines",
              file=sys.stderr)
        return 1
    try:
        value = json.loads(lines[0])
    except ValueError as e:
        print(f"json-check: not JSON: {e}", file=sys.stderr)
        return 1
    err = check(all_shapes[shape_name], value, "$", wanted)
    if err:
        print(f"json-check ({shape_name}): {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
