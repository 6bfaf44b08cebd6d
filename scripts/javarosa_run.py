#!/usr/bin/env python3
"""Run a scripted interview in JavaRosa (ODK Collect's engine) as a reference for `fieldpost form run`.

Takes the same arguments and answers file as `fieldpost form run FILE --answers ANSWERS.json`
and prints the same lines, so a difference between the two engines shows up in a plain diff:

    python3 scripts/javarosa_run.py assets/forms/sipas-2024.xlsx \
        --answers assets/forms/sipas/sample-answers.json

The workbook is converted with pyxform, FormRun.java is compiled (once, into
target/javarosa/) against the JavaRosa classes in pyxform's bundled ODK_Validate.jar, and run
with `java`. Needs a JDK (javac and java). Exit codes as FormRun: 0 complete, 1 not, 2 error.
Repeat rows are added and removed (add_row, remove_row) as Collect does; see FormRun.java.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assetvenv  # noqa: E402

assetvenv.ensure()

import pyxform  # noqa: E402
from pyxform.errors import PyXFormError  # noqa: E402
from pyxform.xls2xform import convert  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
SOURCE = REPO / "scripts" / "javarosa" / "FormRun.java"
CLASSES = REPO / "target" / "javarosa"
JAR = Path(pyxform.__file__).parent / "validators" / "odk_validate" / "bin" / "ODK_Validate.jar"


def compile_runner() -> None:
    target = CLASSES / "FormRun.class"
    if target.exists() and target.stat().st_mtime >= SOURCE.stat().st_mtime:
        return
    CLASSES.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["javac", "-nowarn", "-cp", str(JAR), "-d", str(CLASSES), str(SOURCE)], check=True
    )


def steps_tsv(steps: list) -> str:
    lines = []
    for i, step in enumerate(steps):
        if "set" in step:
            value = step.get("value")
            if value is None:
                lines.append(f"clear\t{step['set']}")
                continue
            if isinstance(value, list):
                value = " ".join(value)
            elif isinstance(value, bool):
                value = "true" if value else "false"
            text = str(value)
            if "\t" in text or "\n" in text:
                raise ValueError(f"step {i}: tabs and newlines are not supported in values")
            lines.append(f"set\t{step['set']}\t{text}")
        elif "add_row" in step:
            lines.append(f"add_row\t{step['add_row']}")
        elif "remove_row" in step:
            lines.append(f"remove_row\t{step['remove_row']}")
        else:
            raise ValueError(f"step {i}: expected set, add_row or remove_row: {step}")
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("form", type=Path, help="XLSForm workbook (.xlsx) or XForm (.xml)")
    parser.add_argument("--answers", type=Path, required=True)
    args = parser.parse_args()
    for tool in ("java", "javac"):
        if shutil.which(tool) is None:
            print(f"javarosa_run: {tool} not found; install a JDK (apt-get install default-jdk-headless)",
                  file=sys.stderr)
            return 2
    try:
        steps = json.loads(args.answers.read_text(encoding="utf-8"))
        tsv = steps_tsv(steps)
    except (OSError, ValueError) as e:
        print(f"javarosa_run: {args.answers}: {e}", file=sys.stderr)
        return 2
    compile_runner()
    with tempfile.TemporaryDirectory() as tmp:
        xform = Path(tmp) / "form.xml"
        if args.form.suffix.lower() == ".xml":
            shutil.copy(args.form, xform)
        else:
            try:
                xform.write_text(convert(xlsform=str(args.form)).xform, encoding="utf-8")
            except PyXFormError as e:
                print(f"javarosa_run: pyxform rejects {args.form}: {e}", file=sys.stderr)
                return 2
        steps_file = Path(tmp) / "steps.tsv"
        steps_file.write_text(tsv, encoding="utf-8")
        run = subprocess.run(
            ["java", "-cp", f"{JAR}:{CLASSES}", "FormRun", str(xform), str(steps_file)]
        )
        return run.returncode


if __name__ == "__main__":
    sys.exit(main())
