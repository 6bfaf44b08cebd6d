//! Any text that parses is evaluated against a small household with a repeat, a choice list
//! and a CSV attachment, from outside and from inside a repeat row: errors are fine, panics are
//! not.
#![no_main]

use fieldpost_form::expr::{Expr, MemoryContext, Table};
use libfuzzer_sys::fuzz_target;

fn context() -> (MemoryContext, Vec<usize>) {
    let mut ctx = MemoryContext::new("data");
    let root = ctx.root_node();
    let age = ctx.add(root, "age", "30");
    let fruits = ctx.add(root, "fruits", "apple banana");
    let d = ctx.add(root, "d", "2024-01-15");
    let empty = ctx.add(root, "empty", "");
    let mut at = vec![root, age, fruits, d, empty];
    for (a, n) in [("40", "A"), ("", "B")] {
        let row = ctx.add_row(root, "hh");
        at.push(ctx.add(row, "member_age", a));
        ctx.add(row, "member_name", n);
        at.push(row);
    }
    let mut list = Table::new(["name", "label", "province"]).expect("columns");
    list.push_row(["c1", "One", "01"]).expect("row");
    list.push_row(["c2", "Two", "02"]).expect("row");
    ctx.add_instance("communes", list);
    ctx.add_instance(
        "prices",
        Table::from_csv(b"key,price\napple,1.5\n").expect("csv"),
    );
    ctx.add_label("fruits", "apple", "Apple");
    (ctx, at)
}

fuzz_target!(|data: &[u8]| {
    let Ok(src) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(e) = Expr::parse(src) else {
        return;
    };
    let (ctx, at) = context();
    for node in at {
        let _ = e.eval(&ctx, node);
        let _ = e.eval_bool(&ctx, node);
    }
});
