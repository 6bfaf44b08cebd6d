#!/usr/bin/env python3
"""Generate the province and commune code lists under assets/codelists/.

Source: the PyPI package `vietnamadminunits` (MIT), which ships the units in force since
1 July 2025 (34 provinces, 3,321 communes, codes per Decision 19/2025/QĐ-TTg). We copy the
codes and names into plain CSV so that the app, the server and the SIPAS form read versioned
data from this repository instead of depending on a Python package at run time.

The script fails (exit 1) when the counts differ from the official ones: a new package
release that changed the units must be looked at by a person, not committed silently.

Usage: python3 scripts/gen_codelists.py [--out assets/codelists]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import hashlib
import sys
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import assetvenv  # noqa: E402

assetvenv.ensure()

import importlib.metadata  # noqa: E402

from vietnamadminunits.database import get_data  # noqa: E402

REPO = Path(__file__).resolve().parent.parent
PACKAGE = "vietnamadminunits"

# Official figures since 1 July 2025 (Resolution 202/2025/QH15 and the commune-level
# resolutions); SIPAS.md, "Administrative units".
EXPECTED_PROVINCES = 34
EXPECTED_PROVINCE_KINDS = {"tỉnh": 28, "thành phố": 6}
EXPECTED_COMMUNES = 3321
EXPECTED_COMMUNE_KINDS = {"xã": 2621, "phường": 687, "đặc khu": 13}

# Name prefix -> (kind as written in Vietnamese, English designation).
PROVINCE_PREFIXES = {"Tỉnh": ("tỉnh", "Province"), "Thành phố": ("thành phố", "City")}
COMMUNE_PREFIXES = {
    "Xã": ("xã", "Commune"),
    "Phường": ("phường", "Ward"),
    "Đặc khu": ("đặc khu", "Special Zone"),
}


class CodeListError(Exception):
    """The package data does not look like the official list; a person must check it."""


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text.strip())


def split_prefix(name: str, prefixes: dict) -> tuple[str, str, str]:
    """Split 'Phường Hồng Hà' into ('phường', 'Ward', 'Hồng Hà')."""
    for prefix, (kind, english) in prefixes.items():
        if name.startswith(prefix + " "):
            return kind, english, name[len(prefix) + 1 :]
    raise CodeListError(f"unit name {name!r} has no known prefix ({', '.join(prefixes)})")


def load_units() -> tuple[list[dict], list[dict], list[str]]:
    """Read the package's 34-province table; return provinces, communes and warnings."""
    rows = get_data(
        fields=["provinceCode", "province", "wardCode", "ward", "wardType"],
        table="admin_units",
    )
    provinces: dict[str, dict] = {}
    communes: dict[str, dict] = {}
    warnings: list[str] = []
    for row in rows:
        pcode, wcode = row["provinceCode"], row["wardCode"]
        if not (len(pcode) == 2 and pcode.isdigit()):
            raise CodeListError(f"province code {pcode!r} is not 2 digits")
        if not (len(wcode) == 5 and wcode.isdigit()):
            raise CodeListError(f"commune code {wcode!r} is not 5 digits")
        pname = nfc(row["province"])
        pkind, pen, pshort = split_prefix(pname, PROVINCE_PREFIXES)
        known = provinces.setdefault(
            pcode,
            {
                "province_code": pcode,
                "name": pname,
                "short_name": pshort,
                "kind": pkind,
                "name_en": f"{pshort} {pen}",
                "commune_count": 0,
            },
        )
        if known["name"] != pname:
            raise CodeListError(f"province {pcode} has two names: {known['name']!r}, {pname!r}")
        if wcode in communes:
            raise CodeListError(f"commune code {wcode} appears twice")
        wname = nfc(row["ward"])
        # The kind comes from the official name ("Phường X"); the package's separate
        # wardType column disagrees with the name for a few units, which we report.
        wkind, wen, wshort = split_prefix(wname, COMMUNE_PREFIXES)
        if nfc(row["wardType"]).lower() != wkind:
            warnings.append(
                f"{wcode} {wname}: package wardType says {row['wardType']!r}, "
                f"the name says {wkind!r}; kept {wkind!r}"
            )
        communes[wcode] = {
            "commune_code": wcode,
            "province_code": pcode,
            "name": wname,
            "short_name": wshort,
            "kind": wkind,
            "name_en": f"{wshort} {wen}",
        }
        known["commune_count"] += 1
    plist = sorted(provinces.values(), key=lambda p: p["province_code"])
    clist = sorted(communes.values(), key=lambda c: (c["province_code"], c["commune_code"]))
    return plist, clist, warnings


def check_counts(provinces: list[dict], communes: list[dict]) -> None:
    def tally(items: list[dict]) -> dict[str, int]:
        out: dict[str, int] = {}
        for item in items:
            out[item["kind"]] = out.get(item["kind"], 0) + 1
        return out

    problems = []
    if len(provinces) != EXPECTED_PROVINCES:
        problems.append(f"{len(provinces)} provinces, expected {EXPECTED_PROVINCES}")
    if len(communes) != EXPECTED_COMMUNES:
        problems.append(f"{len(communes)} communes, expected {EXPECTED_COMMUNES}")
    if tally(provinces) != EXPECTED_PROVINCE_KINDS:
        problems.append(f"province kinds {tally(provinces)}, expected {EXPECTED_PROVINCE_KINDS}")
    if tally(communes) != EXPECTED_COMMUNE_KINDS:
        problems.append(f"commune kinds {tally(communes)}, expected {EXPECTED_COMMUNE_KINDS}")
    if problems:
        raise CodeListError(
            "the package data does not match the official 2025 units: "
            + "; ".join(problems)
            + ". Check the package release notes before changing the expected figures."
        )


def write_csv(path: Path, rows: list[dict]) -> None:
    with path.open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_source(out: Path, version: str, warnings: list[str], provinces, communes) -> None:
    import vietnamadminunits

    db = Path(vietnamadminunits.__file__).parent / "data" / "dataset.db"
    kinds = {}
    for c in communes:
        kinds[c["kind"]] = kinds.get(c["kind"], 0) + 1
    lines = [
        "# Source of the administrative-unit code lists",
        "",
        "Generated by `scripts/gen_codelists.py`; do not edit the CSV files by hand.",
        "",
        "| | |",
        "|---|---|",
        f"| package | `{PACKAGE}` (PyPI) |",
        f"| version | {version} |",
        "| licence | MIT (Copyright (c) 2025 Tran Ngoc Minh Hieu) |",
        "| table | `admin_units` in the package's `data/dataset.db` (the 34-province list in force since 1 July 2025) |",
        f"| dataset.db sha256 | `{sha256(db)}` |",
        f"| date generated | {dt.date.today().isoformat()} |",
        "| command | `python3 scripts/gen_codelists.py` (from the repository root) |",
        "",
        "## Files",
        "",
        f"- `provinces.csv`: {len(provinces)} rows. `province_code` (2 digits), `name` (official, e.g. "
        "`Thành phố Hà Nội`), `short_name`, `kind` (`tỉnh` / `thành phố`), `name_en`, `commune_count`.",
        f"- `communes.csv`: {len(communes)} rows ("
        + ", ".join(f"{n} {k}" for k, n in sorted(kinds.items(), key=lambda kv: -kv[1]))
        + "). `commune_code` (5 digits), `province_code`, `name` (official, e.g. `Phường Hồng Hà`), "
        "`short_name`, `kind` (`xã` / `phường` / `đặc khu`), `name_en`.",
        "",
        "Codes are strings: keep the leading zeros. Names are Unicode NFC. `name_en` follows the "
        "usual English designations (Province, City, Commune, Ward, Special Zone) and keeps the "
        "Vietnamese proper name with its diacritics.",
        "",
        "## Checks the script makes",
        "",
        f"It stops with an error unless there are {EXPECTED_PROVINCES} provinces "
        f"({EXPECTED_PROVINCE_KINDS['tỉnh']} tỉnh, {EXPECTED_PROVINCE_KINDS['thành phố']} thành phố) and "
        f"{EXPECTED_COMMUNES} communes ({EXPECTED_COMMUNE_KINDS['xã']} xã, "
        f"{EXPECTED_COMMUNE_KINDS['phường']} phường, {EXPECTED_COMMUNE_KINDS['đặc khu']} đặc khu), "
        "codes are 2 and 5 digits, no code repeats, and every name starts with its kind.",
        "",
        "## Disagreements inside the package data",
        "",
        "The commune kind is taken from the unit's name (`Xã …`, `Phường …`, `Đặc khu …`). The "
        "package's separate `wardType` column disagrees with the name for the units below; which "
        "of the two is right is unverified (the name is what people see, and the totals by kind "
        "are the official 2,621 / 687 / 13 either way, as the disagreements cancel out):",
        "",
    ]
    lines += [f"- {w}" for w in warnings] or ["- none"]
    lines += [
        "",
        "## Not covered yet",
        "",
        "Unit lists keep changing; a legacy-to-new mapping for surveys before July 2025 "
        "(the package's `admin_units_legacy` table and converter) is not exported here.",
        "",
    ]
    (out / "SOURCE.md").write_text("\n".join(lines), encoding="utf-8")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "assets" / "codelists")
    args = parser.parse_args()
    version = importlib.metadata.version(PACKAGE)
    try:
        provinces, communes, warnings = load_units()
        check_counts(provinces, communes)
    except CodeListError as e:
        print(f"gen_codelists: {e}", file=sys.stderr)
        return 1
    args.out.mkdir(parents=True, exist_ok=True)
    write_csv(args.out / "provinces.csv", provinces)
    write_csv(args.out / "communes.csv", communes)
    write_source(args.out, version, warnings, provinces, communes)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    print(
        f"wrote {len(provinces)} provinces and {len(communes)} communes "
        f"from {PACKAGE} {version} to {args.out}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
