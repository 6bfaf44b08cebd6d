#!/usr/bin/env python3
"""FieldPost's form engine against JavaRosa (ODK Collect's engine) on scripted interviews.

A wrong value in a repeat row is a silent data error, so FieldPost's engine must compute what
ODK computes. This script drives the same answers through `fieldpost form run` and through
JavaRosa (scripts/javarosa_run.py, which walks the form as Collect does) and compares what the
two print: every field's relevance and value, and which fields fail a required or constraint
check.

Two sources of interviews:
1. tests/engine/*.json: small forms of our own, one per behaviour that once differed, each with
   the interviews that show it (`{"about", "survey", "choices", "settings", "interviews"}`;
   sheets as lists of rows, the header row first).
2. The real-world questionnaires of ../shared/conformance/real-world (kept outside the
   repository): for each one both engines accept, interviews generated from its survey sheet
   (nothing answered; every question answered with the first choice or a small value, and
   select_multiple ticks given in reverse list order; the same with the last choice and other
   values), with two rows in each repeat whose rows the enumerator adds.

Values that depend on the clock or the device (timestamps, today's date, device ids) are
compared as placeholders, so `start` and a calculation from it must be non-blank in both.

Usage: python3 scripts/check_form_engine.py [--fieldpost BIN] [--only NAME] [--no-real-world] [-v]
Needs a JDK and the engine runner: `cargo build -p fieldpost-form --example form_run` (found in
$CARGO_TARGET_DIR/debug/examples/), or --fieldpost with that runner or the fieldpost CLI.
Exit 0 when every interview agrees, 1 otherwise (each difference printed), 2 when a tool is missing.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import datetime
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assetvenv  # noqa: E402

assetvenv.ensure()

import javarosa_run  # noqa: E402

import openpyxl  # noqa: E402
from pyxform.errors import PyXFormError  # noqa: E402
from pyxform.xls2xform import convert  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
CASES = REPO / "tests" / "engine"
REAL_WORLD = REPO.parent / "shared" / "conformance" / "real-world"

# Types whose value comes from the device, not the form: compared as placeholders.
DEVICE_TYPES = {"deviceid", "imei", "device id", "get device id", "uri:deviceid", "username",
                "uri:username", "phonenumber", "get phone number", "uri:phonenumber", "subscriberid",
                "subscriber id", "get subscriber id", "uri:subscriberid", "simserial", "sim id",
                "get sim id", "uri:simserial", "email", "uri:email", "audit", "start-geopoint",
                "background-geopoint"}
UUID = re.compile(r"\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b")
REF = re.compile(r"\$\{([^}]+)\}")
DATETIME = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?")
CLOCK = re.compile(r"\b\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:?\d\d)")


def fieldpost_bin(arg: str | None) -> Path:
    """The engine runner: crates/form's `form_run` example (or `fieldpost`, which runs the same)."""
    if arg:
        return Path(arg)
    target = Path(os.environ.get("CARGO_TARGET_DIR", REPO / "target"))
    return target / "debug" / "examples" / "form_run"


def write_workbook(case: dict, out: Path) -> None:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for sheet in ("survey", "choices", "settings"):
        rows = case.get(sheet)
        if not rows:
            continue
        ws = wb.create_sheet(sheet)
        for row in rows:
            ws.append([c if c != "" else None for c in row])
    wb.save(out)


def normalise(text: str, device: tuple[set[str], set[str]]) -> list[str]:
    """Lines to compare: clock values as placeholders; failures by path only."""
    device_paths, random_names = device
    # The engines run minutes apart (and the JVM's zone may differ): a day either side is today.
    now = datetime.date.today()
    days = {(now + datetime.timedelta(days=d)).isoformat() for d in (-1, 0, 1)}
    out = []
    for line in text.splitlines():
        parts = line.split("\t")
        if parts[0] == "ERROR" and len(parts) >= 2:
            out.append(f"ERROR\t{parts[1]}")
            continue
        if len(parts) != 3:
            out.append(line)
            continue
        path, relevant, value = parts
        if relevant != "1":
            # A field that is not relevant holds nothing and is not submitted; whether an engine
            # keeps its empty node (JavaRosa keeps a repeat_count group's first row in a
            # group never shown) is no data.
            continue
        generic = re.sub(r"\[\d+\]", "", path)
        if generic in device_paths or path.rsplit("/", 1)[-1] in ("instanceID", "instanceName"):
            value = "<device>"  # the app records these (FieldPost's engine leaves them blank)
        if generic.rsplit("/", 1)[-1] in random_names:
            value = "<random>" if value else ""
        value = UUID.sub("<uuid>", value)
        value = DATETIME.sub("<datetime>", value)
        value = CLOCK.sub("<clock>", value)
        if value in days:
            value = "<today>"
        out.append(f"{path}\t{relevant}\t{value}")
    return out


def run_fieldpost(binary: Path, form: Path, answers: Path) -> tuple[int, str, str]:
    if binary.name == "fieldpost":
        cmd = [str(binary), "form", "run", str(form), "--answers", str(answers)]
    else:
        cmd = [str(binary), str(form), str(answers)]
    p = subprocess.run(cmd, capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def run_javarosa(xform: Path, steps: list, tmp: Path) -> tuple[int, str, str]:
    """FormRun directly (as scripts/javarosa_run.py runs it, without a Python start per run)."""
    tsv = tmp / "steps.tsv"
    tsv.write_text(javarosa_run.steps_tsv(steps) if steps else "", encoding="utf-8")
    p = subprocess.run(
        ["java", "-cp", f"{javarosa_run.JAR}:{javarosa_run.CLASSES}", "FormRun", str(xform), str(tsv)],
        capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def run_javarosa_many(xform: Path, interviews: list[list]) -> list[tuple[int, str, str]]:
    """Several interviews on one form in one JVM (FormRun's batch mode)."""
    with tempfile.TemporaryDirectory() as tmp:
        files = []
        for i, steps in enumerate(interviews):
            f = Path(tmp) / f"steps{i}.tsv"
            f.write_text(javarosa_run.steps_tsv(steps) if steps else "", encoding="utf-8")
            files.append(str(f))
        p = subprocess.run(
            ["java", "-cp", f"{javarosa_run.JAR}:{javarosa_run.CLASSES}", "FormRun", str(xform), *files],
            capture_output=True, text=True)
    results, out, err = [], [], []
    for line in p.stdout.splitlines():
        if line.startswith("==EXIT== "):
            results.append((int(line[9:]), "".join(x + "\n" for x in out), "\n".join(err)))
            out, err = [], []
        elif line.startswith("==MESSAGE== "):
            err.append(line[12:])
        else:
            out.append(line)
    while len(results) < len(interviews):  # the JVM died: every interview left is an error
        results.append((2, "", p.stderr[-2000:] or "FormRun stopped"))
    return results


def survey_rows(form: Path) -> tuple[list[dict], dict[str, list[str]]]:
    """The survey sheet's rows (lower-case headers) and each choice list's names in order."""
    wb = openpyxl.load_workbook(form, read_only=True, data_only=True)

    def sheet(name: str) -> list[dict]:
        ws = next((wb[s] for s in wb.sheetnames if s.strip().lower() == name), None)
        if ws is None:
            return []
        rows = ws.iter_rows(values_only=True)
        header = [str(h).strip().lower() if h is not None else "" for h in next(rows, [])]
        out = []
        for r in rows:
            d = {h: ("" if v is None else str(v).strip()) for h, v in zip(header, r) if h}
            if any(d.values()):
                out.append(d)
        return out

    choices: dict[str, list[str]] = {}
    for r in sheet("choices"):
        if r.get("list_name") and r.get("name"):
            choices.setdefault(r["list_name"], []).append(r["name"])
    return sheet("survey"), choices


def device_paths_of(rows: list[dict]) -> tuple[set[str], set[str]]:
    """Paths of fields the device fills in, and names of fields that follow random()."""
    stack: list[str] = []
    out = set()
    for r in rows:
        typ = re.sub(r"\s+", " ", r.get("type", "").lower())
        name = r.get("name", "")
        if typ.startswith("begin"):
            stack.append(name)
        elif typ.startswith("end"):
            if stack:
                stack.pop()
        elif typ in DEVICE_TYPES:
            out.add("/".join([*stack, name]))
    # random() draws differ between engines: such fields, and fields computed from them, are
    # compared as blank or not.
    logic = {r.get("name", ""): " ".join(r.get(k, "") for k in ("calculation", "default", "choice_filter"))
             for r in rows}
    randoms = {n for n, e in logic.items() if "random(" in e or "randomize" in e}
    grown = True
    while grown:
        grown = False
        for n, e in logic.items():
            if n not in randoms and any(ref in randoms for ref in REF.findall(e)):
                randoms.add(n)
                grown = True
    return out, randoms


def generate(rows: list[dict], choices: dict[str, list[str]], variant: int) -> list[dict]:
    """A scripted interview over a survey sheet (see the module doc); variant 0 or 1."""
    steps: list[dict] = []
    # Each frame: (name, is_repeat, row number or 0, counted) ; answers go under the current path.
    stack: list[list] = []
    skip = 0  # depth inside a repeat we do not enter (repeat_count, or nested beyond one row)

    def path(name: str) -> str:
        segs = [f"{f[0]}[{f[2]}]" if f[1] else f[0] for f in stack]
        return "/".join([*segs, name])

    def value_for(typ: str, words: list[str]):
        base = words[0]
        if base in ("integer", "range"):
            return 3 if variant == 0 else 0
        if base == "decimal":
            return 2.5 if variant == 0 else 0.5
        if base == "text":
            return "abc" if variant == 0 else "x y"
        if base == "date":
            return "2024-03-05" if variant == 0 else "1990-12-31"
        if base in ("select_one", "select_multiple") and len(words) > 1:
            names = choices.get(words[1], [])
            if not names:
                return None
            if base == "select_one":
                return names[0] if variant == 0 else names[-1]
            if variant == 0:
                return list(reversed(names[:3])) if len(names) > 1 else names
            return [names[-1]]
        return None

    # A repeat's rows are added by walking its rows twice: collect the rows of each repeat body.
    def walk(i: int, end: int) -> None:
        nonlocal skip
        while i < end:
            r = rows[i]
            typ = re.sub(r"[\s_]+", " ", r.get("type", "").strip().lower())
            name = r.get("name", "")
            if typ.startswith("begin repeat"):
                close = matching_end(i)
                counted = bool(r.get("repeat_count", "") or r.get("jr:count", ""))
                depth = sum(1 for f in stack if f[1])
                rows_wanted = 0 if counted else (2 if depth == 0 else 1)
                for n in range(1, rows_wanted + 1):
                    steps.append({"add_row": path(name)})
                    stack.append([name, True, n])
                    walk(i + 1, close)
                    stack.pop()
                i = close + 1
                continue
            if typ.startswith("begin group") or typ.startswith("begin"):
                close = matching_end(i)
                stack.append([name, False, 0])
                walk(i + 1, close)
                stack.pop()
                i = close + 1
                continue
            words = typ.split()
            if words and not r.get("calculation") and not r.get("readonly", "").lower() in ("yes", "true", "true()"):
                v = value_for(typ, words)
                if v is not None and name:
                    steps.append({"set": path(name), "value": v})
            i += 1

    def matching_end(i: int) -> int:
        depth = 0
        for j in range(i, len(rows)):
            t = re.sub(r"[\s_]+", " ", rows[j].get("type", "").strip().lower())
            if t.startswith("begin"):
                depth += 1
            elif t.startswith("end"):
                depth -= 1
                if depth == 0:
                    return j
        return len(rows)

    walk(0, len(rows))
    return steps


class Run:
    def __init__(self, binary: Path, verbose: bool):
        self.binary = binary
        self.verbose = verbose
        self.agree = 0
        self.total = 0
        self.problems: list[str] = []
        self.forms: list[str] = []
        self.jobs: list[tuple] = []
        # Forms left out when JavaRosa cannot load them (real-world ones; ours must load).
        self.optional: set[Path] = set()

    def compare(self, label: str, form: Path, xform: Path, steps: list, device: tuple) -> None:
        self.jobs.append((label, form, xform, steps, device))

    def finish(self) -> None:
        """Runs the queued interviews: JavaRosa once per form (a JVM start costs more than an
        interview), two forms at a time."""
        by_form: dict[Path, list[int]] = {}
        for i, job in enumerate(self.jobs):
            by_form.setdefault(job[2], []).append(i)
        reference: dict[int, tuple[int, str, str]] = {}

        def batch(xform: Path) -> None:
            idx = by_form[xform]
            for i, r in zip(idx, run_javarosa_many(xform, [self.jobs[i][3] for i in idx])):
                reference[i] = r

        with concurrent.futures.ThreadPoolExecutor(max_workers=2) as pool:
            list(pool.map(batch, by_form))
            refs = [reference.get(i) for i in range(len(self.jobs))]
            for xform in self.optional:
                loads = reference.get(by_form.get(xform, [-1])[0])
                if loads and loads[0] == 2 and loads[2].startswith("cannot load"):
                    if self.verbose:
                        print(f"skip (JavaRosa cannot run it): {xform.stem}: {loads[2][:200]}")
                    self.forms.remove(xform.stem)
                    keep = [i for i, j in enumerate(self.jobs) if j[2] != xform]
                    self.jobs = [self.jobs[i] for i in keep]
                    refs = [refs[i] for i in keep]
            results = list(pool.map(
                lambda i: compare(self.binary, *self.jobs[i][1:], first=refs[i]),
                range(len(self.jobs))))
        for (label, *_), (verdict, detail) in zip(self.jobs, results):
            self.total += 1
            if verdict == "agree":
                self.agree += 1
                if self.verbose:
                    print(f"agree: {label}")
            else:
                self.problems.append(f"{label}: {detail}")


REFUSED_ROW = re.compile(r"^step (\d+) \(add_row\t([^)]*)\): no new-row prompt", re.M)


def compare(binary: Path, form: Path, xform: Path, steps: list, device: tuple,
            first: tuple[int, str, str] | None = None) -> tuple[str, str]:
    """("agree", "") or ("differ", what differs) for one interview; `first` is JavaRosa's
    result for these steps when already run."""
    for _ in range(200):
        with tempfile.TemporaryDirectory() as tmp:
            answers = Path(tmp) / "answers.json"
            answers.write_text(json.dumps(steps, ensure_ascii=False), encoding="utf-8")
            fp = run_fieldpost(binary, form, answers)
            jr = first if first is not None else run_javarosa(xform, steps, Path(tmp))
            first = None
        refused = REFUSED_ROW.search(jr[2]) if jr[0] == 2 else None
        if not refused:
            break
        # Collect offers no new row in a repeat that is not relevant; a generated interview
        # does not know that beforehand, so that row and the answers in it are left out.
        n, repeat = int(refused.group(1)), refused.group(2)
        inside = re.compile(re.escape(repeat) + r"\[\d+\](/|$)")
        steps = [s for i, s in enumerate(steps, start=1)
                 if i != n and not (i > n and inside.match(s.get("set") or s.get("add_row") or ""))]
    if fp[0] == 2 or jr[0] == 2:
        return "differ", (f"a step is refused (fieldpost exit {fp[0]}: {fp[2].strip()[:300]}; "
                          f"javarosa exit {jr[0]}: {jr[2].strip()[:300]})")
    # JavaRosa appends a new row's inner repeats after the row's other fields; the order of
    # lines is no data, so both sides are compared sorted.
    a, b = sorted(normalise(fp[1], device)), sorted(normalise(jr[1], device))
    # pyxform adds a calculate `REPEAT_count` for a repeat_count expression; FieldPost does the
    # same, under the same name: a JavaRosa line for one FieldPost lacks is a difference too.
    if a == b and fp[0] == jr[0]:
        return "agree", ""
    diff = sorted([(x, "  fieldpost: ") for x in a if x not in b] + [(x, "  javarosa:  ") for x in b if x not in a])
    diff = [who + x for x, who in diff]
    if not diff:
        diff = ["  same lines, another exit code"]
    return "differ", f"differs (exit {fp[0]} vs {jr[0]})\n" + "\n".join(diff[:40])


def xform_of(form: Path, out: Path) -> str | None:
    try:
        out.write_text(convert(xlsform=str(form)).xform, encoding="utf-8")
        return None
    except PyXFormError as e:
        return str(e)
    except Exception as e:  # pyxform fails in many ways on odd workbooks
        return f"{type(e).__name__}: {e}"


def check_cases(run: Run, only: str | None, tmp: Path) -> None:
    for path in sorted(CASES.glob("*.json")):
        if only and only not in path.stem:
            continue
        case = json.loads(path.read_text(encoding="utf-8"))
        form = tmp / f"{path.stem}.xlsx"
        write_workbook(case, form)
        xform = tmp / f"{path.stem}.xml"
        err = xform_of(form, xform)
        if err:
            run.problems.append(f"{path.name}: pyxform rejects the form: {err}")
            continue
        run.forms.append(path.stem)
        rows, _ = survey_rows(form)
        device = device_paths_of(rows)
        for name, steps in case["interviews"].items():
            run.compare(f"{path.stem}/{name}", form, xform, steps, device)


def check_real_world(run: Run, only: str | None, tmp: Path) -> None:
    if not REAL_WORLD.is_dir():
        print(f"note: {REAL_WORLD} is missing; real-world questionnaires skipped")
        return
    for form in sorted(REAL_WORLD.glob("*.xls*")):
        if only and only not in form.stem:
            continue
        empty = tmp / "empty.json"
        empty.write_text("[]", encoding="utf-8")
        code, _, err = run_fieldpost(run.binary, form, empty)
        if code == 2:
            if run.verbose:
                print(f"skip (FieldPost refuses it): {form.name}: {err.strip()[:200]}")
            continue
        xform = tmp / f"{form.stem}.xml"
        if xform_of(form, xform):
            if run.verbose:
                print(f"skip (pyxform refuses it): {form.name}")
            continue
        try:
            rows, choices = survey_rows(form)
        except Exception as e:  # .xls (old format) is not read by openpyxl
            if run.verbose:
                print(f"skip ({type(e).__name__}): {form.name}")
            continue
        run.forms.append(form.stem)
        run.optional.add(xform)
        device = device_paths_of(rows)
        interviews = {"blank": [], "first": generate(rows, choices, 0), "last": generate(rows, choices, 1)}
        for name, steps in interviews.items():
            run.compare(f"{form.stem}/{name}", form, xform, steps, device)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fieldpost", help="the fieldpost binary")
    parser.add_argument("--only", help="only cases and forms whose name contains this")
    parser.add_argument("--no-real-world", action="store_true")
    parser.add_argument("-v", "--verbose", action="store_true")
    args = parser.parse_args()
    binary = fieldpost_bin(args.fieldpost)
    if not binary.exists():
        print(f"check_form_engine: {binary} not found; cargo build -p fieldpost-form --example form_run",
              file=sys.stderr)
        return 2
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            print(f"check_form_engine: {tool} not found; install a JDK", file=sys.stderr)
            return 2
    javarosa_run.compile_runner()
    run = Run(binary, args.verbose)
    with tempfile.TemporaryDirectory() as tmp:
        check_cases(run, args.only, Path(tmp))
        if not args.no_real_world:
            check_real_world(run, args.only, Path(tmp))
        run.finish()
    for p in run.problems:
        print(p)
    print(f"form engine vs JavaRosa: {run.agree} of {run.total} scripted interviews agree "
          f"over {len(run.forms)} forms")
    return 0 if not run.problems else 1


if __name__ == "__main__":
    sys.exit(main())
