//! Form engine benchmarks: `cargo run --release -p fieldpost-form --example bench`.
//!
//! Prints `BENCH <name> <value> <unit>` lines: import time of the largest real-world
//! questionnaire and of the SIPAS form, per-answer recompute (median, p99) on both and on a
//! generated 1,000-field form with a 50-row repeat, and adding / deleting a repeat row with 10,
//! 50 and 500 rows present. Workbooks are read from the repository (`assets/forms/`) and from
//! `../shared/conformance/real-world/`; a missing one is reported and skipped.

use chrono::TimeZone;
use fieldpost_form::model::{DataType, NodeKind};
use fieldpost_form::{Answer, FixedEnvironment, Form, Interview, import_xlsform};
use rust_xlsxwriter::Workbook;
use std::collections::HashMap;
use std::path::Path;
use std::time::Instant;

fn env() -> Box<FixedEnvironment> {
    let now = chrono::FixedOffset::east_opt(7 * 3600)
        .and_then(|o| o.with_ymd_and_hms(2026, 11, 23, 10, 0, 0).single());
    Box::new(FixedEnvironment::new(now.expect("valid time"), 7))
}

fn bench(name: &str, value: f64, unit: &str) {
    println!("BENCH {name} {value:.1} {unit}");
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(std::cmp::Ordering::Equal));
    if v.is_empty() {
        return 0.0;
    }
    v[((v.len() - 1) as f64 * p).round() as usize]
}

fn import_ms(bytes: &[u8]) -> (Form, f64) {
    let mut best = f64::MAX;
    let mut form = None;
    for _ in 0..5 {
        let t = Instant::now();
        let f = import_xlsform(bytes).expect("workbook imports").form;
        best = best.min(t.elapsed().as_secs_f64() * 1e3);
        form = Some(f);
    }
    (form.expect("imported"), best)
}

/// Answers every simple question outside repeats (and in the first row of repeats) in turn,
/// timing each `set`.
fn recompute(name: &str, form: Form) {
    let targets: Vec<(String, Answer)> = form
        .nodes
        .iter()
        .filter(|n| {
            n.kind == NodeKind::Field && n.bind.calculation.is_none() && n.metadata.is_none()
        })
        .filter_map(|n| {
            let mut path = String::new();
            let mut plain = String::new();
            for seg in n.path.split('/') {
                if !path.is_empty() {
                    path.push('/');
                    plain.push('/');
                }
                path.push_str(seg);
                plain.push_str(seg);
                if let Some(id) = form.node_by_path(&plain)
                    && form.nodes[id].kind == NodeKind::Repeat
                {
                    path.push_str("[1]");
                }
            }
            let a = match n.data_type {
                DataType::Int | DataType::Decimal => Answer::Number(3.0),
                DataType::String if n.type_word == "text" => Answer::Text("x".into()),
                DataType::SelectOne => Answer::Text(
                    form.choice_list(n.list_name.as_deref()?)?
                        .choices
                        .first()?
                        .name
                        .clone(),
                ),
                _ => return None,
            };
            Some((path, a))
        })
        .collect();
    let Ok(mut iv) = Interview::new(form, env(), &HashMap::new()) else {
        println!("# {name}: the form's logic cannot be evaluated; skipped");
        return;
    };
    let mut times = Vec::new();
    for round in 0..3 {
        for (p, a) in &targets {
            let a = match (a, round) {
                (Answer::Number(n), 1) => Answer::Number(n + 20.0),
                (x, _) => x.clone(),
            };
            let t = Instant::now();
            let ok = iv.set(p, Some(&a)).is_ok();
            let us = t.elapsed().as_secs_f64() * 1e6;
            if ok {
                times.push(us);
            }
        }
    }
    bench(
        &format!("form_recompute_{name}_p50"),
        percentile(&mut times, 0.5),
        "us",
    );
    bench(
        &format!("form_recompute_{name}_p99"),
        percentile(&mut times, 0.99),
        "us",
    );
}

fn workbook(survey: &[Vec<String>]) -> Vec<u8> {
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name("survey").expect("name");
    for (r, row) in survey.iter().enumerate() {
        for (c, cell) in row.iter().enumerate() {
            if !cell.is_empty() {
                ws.write_string(r as u32, c as u16, cell).expect("cell");
            }
        }
    }
    wb.save_to_buffer().expect("xlsx")
}

fn row(
    t: &str,
    name: &str,
    relevant: &str,
    constraint: &str,
    calc: &str,
    count: &str,
) -> Vec<String> {
    [t, name, name, relevant, constraint, calc, count]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

/// 900 top-level fields (chains of calculations, relevance, constraints) and a repeat of 100
/// fields with 50 rows: 1,000 fields, 5,900 field instances.
fn generated_1000() -> Vec<u8> {
    let mut s = vec![header()];
    for i in 0..900 {
        let name = format!("q{i}");
        if i % 5 == 4 {
            s.push(row(
                "calculate",
                &name,
                "",
                "",
                &format!("${{q{}}} + ${{q{}}}", i - 1, i - 2),
                "",
            ));
        } else if i % 7 == 6 {
            s.push(row(
                "integer",
                &name,
                &format!("${{q{}}} > 2", i - 3),
                ". < 1000",
                "",
                "",
            ));
        } else {
            s.push(row("integer", &name, "", ". >= 0", "", ""));
        }
    }
    s.push(row("integer", "n_rows", "", "", "", ""));
    s.push(row("begin repeat", "rows", "", "", "", "${n_rows}"));
    for j in 0..100 {
        let name = format!("r{j}");
        if j % 4 == 3 {
            s.push(row(
                "calculate",
                &name,
                "",
                "",
                &format!("${{r{}}} * 2", j - 1),
                "",
            ));
        } else if j % 6 == 5 {
            s.push(row(
                "integer",
                &name,
                &format!("${{r{}}} > 1", j - 2),
                "",
                "",
                "",
            ));
        } else {
            s.push(row("integer", &name, "", ". < 100", "", ""));
        }
    }
    s.push(row("end repeat", "", "", "", "", ""));
    s.push(row("calculate", "total", "", "", "sum(${r0})", ""));
    workbook(&s)
}

fn recompute_1000() {
    let form = import_xlsform(&generated_1000())
        .expect("generated form")
        .form;
    let mut iv = Interview::new(form, env(), &HashMap::new()).expect("interview");
    iv.set("n_rows", Some(&Answer::Number(50.0))).expect("rows");
    assert_eq!(iv.row_count("rows"), Some(50));
    let mut times = Vec::new();
    let mut k = 1u64;
    for i in 0..6000u64 {
        k = k
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        let path = if i % 2 == 0 {
            let q = (k >> 33) % 900;
            if q % 5 == 4 {
                continue;
            }
            format!("q{q}")
        } else {
            let r = (k >> 33) % 50 + 1;
            let j = (k >> 20) % 100;
            if j % 4 == 3 {
                continue;
            }
            format!("rows[{r}]/r{j}")
        };
        let v = Answer::Number(((k >> 40) % 20) as f64);
        let t = Instant::now();
        let ok = iv.set(&path, Some(&v)).is_ok();
        let us = t.elapsed().as_secs_f64() * 1e6;
        if ok {
            times.push(us);
        }
    }
    bench("form_recompute_1000_p50", percentile(&mut times, 0.5), "us");
    bench(
        "form_recompute_1000_p99",
        percentile(&mut times, 0.99),
        "us",
    );
}

/// A household roster: 10 fields per row with in-row logic.
fn roster() -> Vec<u8> {
    let mut s = vec![header()];
    s.push(row("text", "village", "", "", "", ""));
    s.push(row("begin repeat", "members", "", "", "", ""));
    s.push(row("text", "m_name", "", "", "", ""));
    s.push(row("integer", "m_age", "", ". < 120", "", ""));
    s.push(row("calculate", "m_adult", "", "", "${m_age} >= 18", ""));
    for j in 0..7 {
        s.push(row(
            "integer",
            &format!("m{j}"),
            "${m_age} >= 18",
            "",
            "",
            "",
        ));
    }
    s.push(row("end repeat", "", "", "", "", ""));
    workbook(&s)
}

fn rows_bench() {
    let form = import_xlsform(&roster()).expect("roster").form;
    for n in [10usize, 50, 500] {
        let mut iv = Interview::new(form.clone(), env(), &HashMap::new()).expect("interview");
        while iv.row_count("members").unwrap_or(0) < n {
            iv.add_row("members").expect("add");
        }
        let mut add = Vec::new();
        let mut del = Vec::new();
        for _ in 0..200 {
            let t = Instant::now();
            iv.add_row("members").expect("add");
            add.push(t.elapsed().as_secs_f64() * 1e6);
            let last = format!("members[{}]", n + 1);
            let t = Instant::now();
            iv.remove_row(&last).expect("remove");
            del.push(t.elapsed().as_secs_f64() * 1e6);
        }
        bench(
            &format!("form_add_row_{n}_p50"),
            percentile(&mut add, 0.5),
            "us",
        );
        bench(
            &format!("form_delete_row_{n}_p50"),
            percentile(&mut del, 0.5),
            "us",
        );
    }
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let largest =
        root.join("../shared/conformance/real-world/qlands__FormShare__spanish_english.xlsx");
    match std::fs::read(&largest) {
        Ok(bytes) => {
            let (form, ms) = import_ms(&bytes);
            bench("form_import_largest_realworld", ms, "ms");
            recompute("realworld", form);
        }
        Err(e) => println!("# {}: {e}; skipped", largest.display()),
    }
    let sipas = root.join("assets/forms/sipas-2024.xlsx");
    match std::fs::read(&sipas) {
        Ok(bytes) => {
            let (form, ms) = import_ms(&bytes);
            bench("form_import_sipas", ms, "ms");
            recompute("sipas", form);
        }
        Err(e) => println!("# {}: {e}; skipped", sipas.display()),
    }
    recompute_1000();
    rows_bench();
}

fn header() -> Vec<String> {
    [
        "type",
        "name",
        "label",
        "relevant",
        "constraint",
        "calculation",
        "repeat_count",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect()
}
