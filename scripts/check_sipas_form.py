#!/usr/bin/env python3
"""Check the SIPAS questionnaire: source, workbook, reference conversion, sample answers.

What it checks, and why:
1. assets/forms/sipas-2024.xlsx is what scripts/build_sipas_form.py makes from the CSV source
   (a stale workbook would mean enumerators run something nobody reviewed).
2. The CSV source is NFC Unicode, and every labelled row and every choice carries both
   languages; hints, required and constraint messages come in both or neither.
3. pyxform, the reference XLSForm compiler, converts the workbook with no error and no
   warning; with Java present, ODK Validate (JavaRosa, shipped inside pyxform) parses the
   result too. The XForm is written to target/sipas/sipas_household.xml.
4. The sample interviews name real fields with values the question accepts (a commune
   inside the chosen province); sample-answers.json answers every question of the form (all
   are relevant for that respondent); sample-answers-invalid.json differs from it in exactly
   one step; sample-answers-no-procedure.json takes the other branches (no specify texts,
   no Câu 4, no service rows).
5. With a JDK present, JavaRosa (ODK Collect's engine) runs the three sample interviews
   (scripts/javarosa_run.py): the full one and the no-procedure one complete, the invalid one
   fails on exactly the age-group constraint (phan_a/nhom_tuoi); in the no-procedure one the
   service rows 15-33 are not relevant.

Usage: python3 scripts/check_sipas_form.py [--no-odk-validate]
Exit 0 when everything holds, 1 otherwise (each problem on its own line).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import shutil
import subprocess
import sys
import tempfile
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assetvenv  # noqa: E402

assetvenv.ensure()

import build_sipas_form  # noqa: E402
from pyxform.errors import PyXFormError  # noqa: E402
from pyxform.xls2xform import convert  # noqa: E402

REPO = build_sipas_form.REPO
SOURCE = build_sipas_form.SOURCE
WORKBOOK = build_sipas_form.DEFAULT_OUT
XFORM_OUT = REPO / "target" / "sipas" / "sipas_household.xml"
LANGS = ("Tiếng Việt (vi)", "English (en)")
PAIRED = ("label", "hint", "required_message", "constraint_message")
# Types that hold no answer a respondent gives.
# Sample interview -> (JavaRosa exit code, paths failing, path prefixes that must not be relevant).
SAMPLES = {
    "sample-answers.json": (0, [], []),
    "sample-answers-invalid.json": (1, ["phan_a/nhom_tuoi"], []),
    "sample-answers-no-procedure.json": (
        0, [], ["phan_b/c9/c9_dich_vu/", "phan_b/c4", "phan_a/dan_toc_khac", "phan_b/c2_khac"],
    ),
}
NOT_ANSWERED = {"note", "calculate", "start", "end", "today", "deviceid", "username",
                "phonenumber", "audit", "hidden"}


def read(name: str) -> list[dict[str, str]]:
    text = (SOURCE / name).read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


def check_workbook_fresh(problems: list[str]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "sipas.xlsx"
        build_sipas_form.build(fresh)
        if not WORKBOOK.exists():
            problems.append(f"{WORKBOOK} is missing: run python3 scripts/build_sipas_form.py")
        elif fresh.read_bytes() != WORKBOOK.read_bytes():
            problems.append(
                f"{WORKBOOK.name} is stale: it differs from what the CSV source builds; "
                "run python3 scripts/build_sipas_form.py and commit the result"
            )


def check_languages(problems: list[str]) -> None:
    for name in ("survey.csv", "choices.csv", "settings.csv"):
        text = (SOURCE / name).read_text(encoding="utf-8")
        if text != unicodedata.normalize("NFC", text):
            problems.append(f"{name}: not NFC")
    for sheet in ("survey.csv", "choices.csv"):
        for lineno, row in enumerate(read(sheet), start=2):
            for col in PAIRED:
                present = [bool(row.get(f"{col}::{lang}", "").strip()) for lang in LANGS]
                if any(present) and not all(present):
                    problems.append(f"{sheet}:{lineno}: {col} is given in one language only")
            if sheet == "choices.csv" and not row.get(f"label::{LANGS[0]}"):
                problems.append(f"{sheet}:{lineno}: choice without a label")
            if sheet == "survey.csv":
                typ = row["type"].split()[0] if row["type"] else ""
                needs_label = typ == "note" or (typ not in NOT_ANSWERED and not typ.startswith("end"))
                if needs_label:
                    if not row.get(f"label::{LANGS[0]}"):
                        problems.append(f"{sheet}:{lineno}: {row['name']} has no label")
                if row.get("required") == "yes" and not row.get(f"required_message::{LANGS[0]}"):
                    problems.append(f"{sheet}:{lineno}: {row['name']} is required without a message")
                if row.get("constraint") and not row.get(f"constraint_message::{LANGS[0]}"):
                    problems.append(f"{sheet}:{lineno}: {row['name']} has a constraint without a message")


def check_pyxform(problems: list[str], odk_validate: bool) -> None:
    warnings: list[str] = []
    validate = odk_validate and shutil.which("java") is not None
    try:
        result = convert(xlsform=str(WORKBOOK), warnings=warnings, validate=validate)
    except PyXFormError as e:
        problems.append(f"pyxform rejects the workbook: {e}")
        return
    for w in warnings:
        problems.append(f"pyxform warning: {w}")
    XFORM_OUT.parent.mkdir(parents=True, exist_ok=True)
    XFORM_OUT.write_text(result.xform, encoding="utf-8")
    how = "pyxform + ODK Validate" if validate else "pyxform (ODK Validate skipped)"
    print(f"{how}: converted to {XFORM_OUT.relative_to(REPO)}")


def form_fields() -> dict[str, dict[str, str]]:
    """PATH -> survey row for every field, paths as `fieldpost form` prints them."""
    stack: list[str] = []
    fields = {}
    for row in read("survey.csv"):
        typ = row["type"].strip()
        if typ.startswith("begin"):
            stack.append(row["name"])
        elif typ.startswith("end ") or typ in ("end_group", "end_repeat"):
            stack.pop()
        elif typ:
            fields["/".join([*stack, row["name"]])] = row
    return fields


def choice_lists() -> dict[str, dict[str, dict[str, str]]]:
    lists: dict[str, dict[str, dict[str, str]]] = {}
    for row in read("choices.csv"):
        lists.setdefault(row["list_name"], {})[row["name"]] = row
    codes = REPO / "assets" / "codelists"
    with (codes / "provinces.csv").open(encoding="utf-8") as f:
        lists["province"] = {r["province_code"]: r for r in csv.DictReader(f)}
    with (codes / "communes.csv").open(encoding="utf-8") as f:
        lists["commune"] = {r["commune_code"]: r for r in csv.DictReader(f)}
    return lists


def check_answers(problems: list[str]) -> None:
    fields = form_fields()
    lists = choice_lists()
    files = {}
    for name in SAMPLES:
        try:
            steps = json.loads((SOURCE / name).read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as e:
            problems.append(f"{name}: cannot read: {e}")
            return
        files[name] = steps
        answers = {}
        for i, step in enumerate(steps):
            path, value = step.get("set"), step.get("value")
            if path not in fields:
                problems.append(f"{name} step {i}: no field {path!r} in the form")
                continue
            answers[path] = value
            typ = fields[path]["type"].split()
            bad = value_problem(typ, value, lists, answers)
            if bad:
                problems.append(f"{name} step {i} ({path}): {bad}")
        if name == "sample-answers.json":
            for path, row in fields.items():
                if row["type"].split()[0] not in NOT_ANSWERED and path not in answers:
                    problems.append(f"{name}: question {path} is not answered")
    valid, invalid = files["sample-answers.json"], files["sample-answers-invalid.json"]
    differing = [i for i, (a, b) in enumerate(zip(valid, invalid)) if a != b]
    if len(valid) != len(invalid) or len(differing) != 1:
        problems.append("sample-answers-invalid.json must differ from sample-answers.json in exactly one step")


def value_problem(typ: list[str], value, lists, answers) -> str | None:
    kind = typ[0]
    if kind in ("select_one", "select_multiple"):
        options = lists.get(typ[1], {})
        values = [value] if kind == "select_one" else value
        if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            return f"expected {'a string' if kind == 'select_one' else 'a list of strings'}"
        for v in values:
            if v not in options:
                return f"{v!r} is not a choice of list {typ[1]}"
        if typ[1] == "commune":
            province = answers.get("phan_a/tinh")
            if options[value]["province_code"] != province:
                return f"commune {value} is not in province {province}"
    elif kind == "integer" and not (isinstance(value, int) and not isinstance(value, bool)):
        return "expected a JSON integer"
    elif kind in ("text", "date") and not isinstance(value, str):
        return "expected a string"
    return None


def check_javarosa(problems: list[str]) -> bool:
    """Returns False when it could not run (no JDK), so the summary counts it as skipped."""
    if shutil.which("java") is None or shutil.which("javac") is None or not XFORM_OUT.exists():
        print("JavaRosa run skipped (no JDK, or no XForm)")
        return False
    runner = Path(__file__).resolve().parent / "javarosa_run.py"
    for name, (code, failing, hidden) in SAMPLES.items():
        run = subprocess.run(
            [sys.executable, str(runner), str(XFORM_OUT), "--answers", str(SOURCE / name)],
            capture_output=True, text=True,
        )
        lines = [line.split("\t") for line in run.stdout.splitlines()]
        errors = [cells[1] for cells in lines if cells[0] == "ERROR"]
        shown = {cells[0] for cells in lines if cells[0] != "ERROR" and cells[1] == "1"}
        wrongly_shown = sorted(p for p in shown if any(p.startswith(h) for h in hidden))
        if run.returncode != code or errors != failing or wrongly_shown:
            problems.append(
                f"JavaRosa on {name}: exit {run.returncode}, failing {errors}, relevant {wrongly_shown}; "
                f"expected exit {code}, failing {failing}, none relevant under {hidden}. "
                f"{run.stderr.strip()}"
            )
        else:
            print(f"JavaRosa on {name}: exit {code} as expected")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-odk-validate", action="store_true",
                        help="skip ODK Validate (Java); pyxform's own checks still run")
    args = parser.parse_args()
    checks = [
        ("workbook is fresh", check_workbook_fresh),
        ("source is NFC and bilingual", check_languages),
        ("pyxform converts without warnings",
         lambda problems: check_pyxform(problems, odk_validate=not args.no_odk_validate)),
        ("sample answers fit the form", check_answers),
        ("JavaRosa runs the sample interviews", check_javarosa),
    ]
    failed = skipped = 0
    for name, check in checks:
        problems: list[str] = []
        ran = check(problems) is not False
        for p in problems:
            print(f"problem: {p}", file=sys.stderr)
        print(f"{'FAIL' if problems else 'ok  ' if ran else 'skip'} {name}")
        failed += bool(problems)
        skipped += not ran and not problems
    fields = form_fields()
    questions = sum(1 for r in fields.values() if r["type"].split()[0] not in NOT_ANSWERED)
    print(f"form: {len(fields)} fields, {questions} questions")
    # The closing line in the plain "N passed, N failed" form that CI reads.
    print(f"sipas: {len(checks) - failed - skipped} passed, {failed} failed, {skipped} skipped")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
