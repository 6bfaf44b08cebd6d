//! Micro-benchmark of expression evaluation: one parsed expression evaluated many times against
//! an in-memory household (40 questions, a 50-row repeat, the 3,321-commune list).
//!
//! Run: `cargo run --release -p fieldpost-form --example expr_bench`
//! Prints `BENCH expr_eval_<name> <median> ns` per expression (median of 31 batches), and
//! `BENCH expr_parse_<name> <median> ns` for parsing.

use std::hint::black_box;
use std::time::Instant;

use fieldpost_form::expr::{Expr, MemoryContext, Table};

struct Household {
    ctx: MemoryContext,
    /// A question outside the repeat.
    age: usize,
    /// member_age in row 25 of the repeat.
    row_age: usize,
}

fn household() -> Household {
    let mut ctx = MemoryContext::new("data");
    let root = ctx.root_node();
    let age = ctx.add(root, "age", "42");
    ctx.add(root, "income", "");
    ctx.add(root, "phone", "0912345678");
    ctx.add(root, "fruits", "apple banana cherry");
    ctx.add(root, "province", "79");
    for i in 0..35 {
        ctx.add(root, &format!("q{i}"), &i.to_string());
    }
    let mut row_age = 0;
    for r in 0..50 {
        let row = ctx.add_row(root, "hh");
        let a = ctx.add(row, "member_age", &(20 + r % 40).to_string());
        ctx.add(row, "member_name", &format!("Member {r}"));
        if r == 24 {
            row_age = a;
        }
    }
    let mut communes = Table::new(["name", "label", "province"]).expect("columns");
    for i in 0..3321 {
        let province = format!("{:02}", i % 34);
        communes
            .push_row([format!("c{i}"), format!("Commune {i}"), province])
            .expect("row");
    }
    ctx.add_instance("communes", communes);
    Household { ctx, age, row_age }
}

/// Median nanoseconds per call of `f`, over 31 batches sized to take about 2 ms each.
fn measure(mut f: impl FnMut()) -> f64 {
    let mut batch = 1usize;
    loop {
        let t = Instant::now();
        for _ in 0..batch {
            f();
        }
        if t.elapsed().as_micros() >= 2000 || batch >= 1 << 20 {
            break;
        }
        batch *= 2;
    }
    let mut samples: Vec<f64> = (0..31)
        .map(|_| {
            let t = Instant::now();
            for _ in 0..batch {
                f();
            }
            t.elapsed().as_nanos() as f64 / batch as f64
        })
        .collect();
    samples.sort_by(f64::total_cmp);
    samples[samples.len() / 2]
}

fn main() {
    let h = household();
    let cases: &[(&str, &str, bool)] = &[
        ("compare", "${age} > 18", false),
        ("selected", "selected(${fruits}, 'banana')", false),
        (
            "relevant_and_or",
            "${q1} = '1' and ${q2} != '2' or selected(${fruits}, 'cherry')",
            false,
        ),
        (
            "calculate_if",
            "if(${age} > 60, ${age} * 2, coalesce(${income}, 0) div 12)",
            false,
        ),
        ("concat", "concat(${q3}, '-', ${q4}, '-', ${age})", false),
        ("regex", "regex(${phone}, '^0[0-9]{9}$')", false),
        ("sum_repeat_50", "sum(${member_age})", false),
        ("count_repeat_50", "count(${hh})", false),
        (
            "in_row_relative",
            "${member_age} > 15 and position(..) > 1",
            true,
        ),
        (
            "indexed_repeat",
            "indexed-repeat(${member_name}, ${hh}, position(..) - 1)",
            true,
        ),
        (
            "choice_filter_3321",
            "count(instance('communes')/root/item[province = ${province}])",
            false,
        ),
        ("format_date", "format-date(today(), '%d/%m/%Y')", false),
    ];
    for (name, src, in_row) in cases {
        let expr = Expr::parse(src).expect("benchmark expression parses");
        let at = if *in_row { h.row_age } else { h.age };
        // Check it evaluates before timing it.
        expr.eval_string(&h.ctx, at)
            .expect("benchmark expression evaluates");
        let ns = measure(|| {
            black_box(expr.eval_bool(&h.ctx, black_box(at)).ok());
        });
        println!("BENCH expr_eval_{name} {ns:.1} ns");
    }
    let typical = "${q1} = '1' and (selected(${fruits}, 'banana') or ${age} >= 18) and regex(${phone}, '^0[0-9]{9}$')";
    let ns = measure(|| {
        black_box(Expr::parse(black_box(typical)).ok());
    });
    println!("BENCH expr_parse_typical {ns:.1} ns");
}
