#!/usr/bin/env python3
"""Convert XLSForm workbooks with pyxform (the reference compiler) and print what FieldPost must
agree with, as one JSON object: for each workbook, either pyxform's error, or the leaf fields of
the primary instance in document order (path without the root, bind type) and the field names
each bind's relevant / constraint / calculate refers to.

Usage: pyxform_reference.py WORKBOOK...   (run with the python of a venv holding pyxform)
"""
import json
import re
import sys
import xml.etree.ElementTree as ET

from pyxform.xls2xform import convert

XF = "{http://www.w3.org/2002/xforms}"
JR = "{http://openrosa.org/javarosa}"
# Paths into the main instance as pyxform writes ${name}: /data/a/b or ../b, ../../a/b, current()/../b
PATH_RE = re.compile(r"(?:current\(\))?((?:\.\./)+|/[A-Za-z_][\w.\-]*/)((?:[^\s/()\[\],=!<>+*|']+/)*[^\s/()\[\],=!<>+*|']+)")


def refs(expr, root):
    out = set()
    if not expr:
        return []
    # Drop string literals so names inside quotes are not taken for paths.
    text = re.sub(r"'[^']*'|\"[^\"]*\"", "''", expr)
    for m in PATH_RE.finditer(text):
        head, tail = m.group(1), m.group(2)
        if head.startswith("/") and head.strip("/") != root:
            continue
        start = m.start()
        # instance('x')/root/item/... is a secondary instance, not a field.
        if text[max(0, start - 1):start] == ")" and not m.group(0).startswith("current()"):
            continue
        out.add(tail.split("/")[-1])
    return sorted(out)


def leaves(elem, prefix, out, seen):
    for child in elem:
        tag = child.tag.split("}")[-1]
        path = f"{prefix}/{tag}" if prefix else tag
        if len(child) == 0:
            if path not in seen:
                seen.add(path)
                out.append(path)
        else:
            leaves(child, path, out, seen)


def one(path):
    try:
        result = convert(xlsform=path, validate=False, pretty_print=False)
    except Exception as e:  # pyxform raises PyXFormError and a few others
        return {"ok": False, "error": str(e)}
    root = ET.fromstring(result.xform)
    model = root.find(f"{{http://www.w3.org/1999/xhtml}}head/{XF}model")
    instance = model.find(f"{XF}instance")
    data = list(instance)[0]
    root_name = data.tag.split("}")[-1]
    fields = []
    leaves(data, "", fields, set())
    binds = {}
    for b in model.findall(f"{XF}bind"):
        ns = b.get("nodeset", "")
        p = ns[len(root_name) + 2:] if ns.startswith(f"/{root_name}/") else ns
        binds[p] = {
            "type": b.get("type", "string"),
            "relevant": refs(b.get("relevant"), root_name),
            "constraint": refs(b.get("constraint"), root_name),
            "calculate": refs(b.get("calculate"), root_name),
        }
    out = []
    for f in fields:
        b = binds.get(f, {"type": "string", "relevant": [], "constraint": [], "calculate": []})
        out.append({"path": f, **b})
    return {"ok": True, "fields": out, "warnings": len(result.warnings or [])}


def main():
    print(json.dumps({p: one(p) for p in sys.argv[1:]}, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
