//! Expression -> expected value tables. Expected values come from the XPath 1.0 specification
//! (its own examples where it gives them) and ODK's XForms specification and documentation.

use super::*;

/// A household form: a few questions, a group, a three-row repeat, a choice list, a CSV.
struct Fixture {
    ctx: MemoryContext,
    age: usize,
    empty: usize,
    /// member_age in row 2 of repeat `hh`.
    row2_age: usize,
    row2: usize,
}

fn fixture() -> Fixture {
    let mut ctx = MemoryContext::new("data");
    let root = ctx.root_node();
    let age = ctx.add(root, "age", "30");
    ctx.add(root, "name", "Nguyễn Văn An");
    let empty = ctx.add(root, "empty", "");
    ctx.add(root, "fruits", "apple banana cherry");
    ctx.add(root, "d", "2024-01-15");
    ctx.add(root, "dt", "2024-01-15T10:30:00.000+07:00");
    ctx.add(root, "t", "06:00:00.000+07:00");
    ctx.add(root, "province", "01");
    ctx.add(
        root,
        "shape",
        "0 0 0 0; 0 0.001 0 0; 0.001 0.001 0 0; 0.001 0 0 0; 0 0 0 0",
    );
    ctx.add(root, "n2", "2");
    let grp = ctx.add(root, "grp", "");
    ctx.add(grp, "inner", "x");
    let mut row2 = 0;
    let mut row2_age = 0;
    for (i, (a, n)) in [("40", "A"), ("12", "B"), ("", "C")].iter().enumerate() {
        let row = ctx.add_row(root, "hh");
        let ma = ctx.add(row, "member_age", a);
        ctx.add(row, "member_name", n);
        if i == 1 {
            row2 = row;
            row2_age = ma;
        }
    }
    let mut communes = Table::new(["name", "label", "province"]).expect("columns");
    for (n, l, p) in [
        ("c1", "Phúc Xá", "01"),
        ("c2", "Trúc Bạch", "01"),
        ("c3", "Bến Nghé", "79"),
    ] {
        communes.push_row([n, l, p]).expect("row");
    }
    ctx.add_instance("communes", communes);
    let prices = Table::from_csv(b"\xEF\xBB\xBFkey,price\napple,1.5\nbanana,0.25\n").expect("csv");
    ctx.add_instance("prices", prices);
    for (c, l) in [
        ("apple", "Apple"),
        ("banana", "Banana"),
        ("cherry", "Cherry"),
    ] {
        ctx.add_label("fruits", c, l);
    }
    Fixture {
        ctx,
        age,
        empty,
        row2_age,
        row2,
    }
}

fn eval_at(f: &Fixture, src: &str, at: usize) -> String {
    let e = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
    e.eval_string(&f.ctx, at)
        .unwrap_or_else(|err| panic!("{src}: {err}"))
}

fn check(cases: &[(&str, &str)]) {
    let f = fixture();
    let mut failures = Vec::new();
    for (src, want) in cases {
        let got = eval_at(&f, src, f.age);
        if got != *want {
            failures.push(format!("{src}\n    want {want:?}\n    got  {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn arithmetic_and_number_formatting() {
    check(&[
        ("1 + 2", "3"),
        ("2 * 3 + 4", "10"),
        ("2 + 3 * 4", "14"),
        ("10 - 2 - 3", "5"),
        ("16 div 4 div 2", "2"),
        ("-${age}", "-30"),
        ("--3", "3"),
        ("${age}-1", "29"),
        ("2.0", "2"),
        (".5 + 1.", "1.5"),
        ("0.1 + 0.2", "0.30000000000000004"),
        ("1 div 3", "0.3333333333333333"),
        ("1 div 0", "Infinity"),
        ("-1 div 0", "-Infinity"),
        ("0 div 0", "NaN"),
        ("0 * -1", "0"),
        ("1000000 * 1000000", "1000000000000"),
        // XPath 1.0 section 3.5's examples of mod.
        ("5 mod 2", "1"),
        ("5 mod -2", "1"),
        ("-5 mod 2", "-1"),
        ("-5 mod -2", "-1"),
        ("${empty} + 1", "NaN"),
        ("'abc' * 2", "NaN"),
        ("true() + true()", "2"),
        ("(1 + 2) * 3", "9"),
    ]);
}

#[test]
fn coercions() {
    check(&[
        ("number('')", "NaN"),
        ("number(' 12 ')", "12"),
        ("number('-.5')", "-0.5"),
        ("number('1e3')", "NaN"),
        ("number('+1')", "NaN"),
        ("number('1.2.3')", "NaN"),
        ("number(true())", "1"),
        ("number(${age})", "30"),
        ("number('2024-01-02')", "19724"),
        ("string(12.50)", "12.5"),
        ("string(true())", "true"),
        ("string(${age})", "30"),
        ("string(${hh}/member_name)", "A"),
        ("boolean('')", "false"),
        ("boolean('false')", "true"),
        ("boolean(0)", "false"),
        ("boolean(0 div 0)", "false"),
        ("boolean(-1)", "true"),
        // A node-set is true when it has a node, even an empty one (XPath 1.0, 4.3).
        ("boolean(${empty})", "true"),
        ("boolean(/data/nothing)", "false"),
        ("${empty} = ''", "true"),
        ("${empty} > 0", "false"),
        ("${empty} != 5", "true"),
        ("${age} = 30", "true"),
        ("${age} = '30'", "true"),
        ("${age} = '30.0'", "false"),
        ("${age} > '4'", "true"),
        ("'30' > '4'", "true"),
        ("1 = '1.0'", "true"),
        ("'1' = '1.0'", "false"),
        ("true() = 'x'", "true"),
        ("false() = ''", "true"),
        ("${hh}/member_name = 'C'", "true"),
        ("${hh}/member_name != 'C'", "true"),
        ("${hh}/member_age > 39", "true"),
        ("${hh}/member_age = ${age}", "false"),
        ("/data/hh/member_name = /data/grp/inner", "false"),
        ("'a' < 'b'", "false"),
        ("1 < 2 < 3", "true"),
        ("3 > 2 > 1", "false"),
    ]);
}

#[test]
fn logic_and_control() {
    check(&[
        ("true() and false()", "false"),
        ("true() or false()", "true"),
        ("not(false())", "true"),
        ("not(${empty})", "false"),
        ("${age} > 18 and ${age} < 60", "true"),
        ("1 = 1 or 1 = 2 and 1 = 3", "true"),
        ("if(${age} > 18, 'adult', 'child')", "adult"),
        ("if(${empty}, 'yes', 'no')", "yes"),
        ("if(${empty} != '', 'yes', 'no')", "no"),
        ("coalesce(${empty}, 'x')", "x"),
        ("coalesce(${age}, 'x')", "30"),
        ("once('new')", "30"),
        ("boolean-from-string('true')", "true"),
        ("boolean-from-string('1')", "true"),
        ("boolean-from-string('yes')", "false"),
        // The right side of and/or is not evaluated when the left decides it.
        ("false() and regex('a', '(')", "false"),
        ("true() or pulldata('missing', 'a', 'b', 'c')", "true"),
    ]);
}

#[test]
fn selects() {
    check(&[
        ("selected(${fruits}, 'banana')", "true"),
        ("selected(${fruits}, ' banana ')", "true"),
        ("selected(${fruits}, 'ban')", "false"),
        ("selected(${empty}, 'a')", "false"),
        ("is-selected(${fruits}, 'apple')", "true"),
        ("selected-at(${fruits}, 0)", "apple"),
        ("selected-at(${fruits}, 2)", "cherry"),
        ("selected-at(${fruits}, 3)", ""),
        ("selected-at(${fruits}, -1)", ""),
        ("count-selected(${fruits})", "3"),
        ("count-selected(${empty})", "0"),
        ("jr:choice-name('banana', '${fruits}')", "Banana"),
        (
            "jr:choice-name(selected-at(${fruits}, 2), '${fruits}')",
            "Cherry",
        ),
        ("jr:choice-name('durian', '${fruits}')", ""),
        ("jr:choice-name(${empty}, '${fruits}')", ""),
        ("jr:choice-name('apple', '/data/fruits')", "Apple"),
    ]);
}

#[test]
fn strings() {
    check(&[
        ("concat('a', 1, true(), ${age})", "a1true30"),
        ("concat()", ""),
        ("concat(${hh}/member_name)", "ABC"),
        ("join(', ', ${hh}/member_name)", "A, B, C"),
        ("join('-', 'x', ${hh}/member_age, 'y')", "x-40-12--y"),
        ("substr('abcdef', 2)", "cdef"),
        ("substr('abcdef', 1, 3)", "bc"),
        ("substr('abcdef', -2)", "ef"),
        ("substr('abcdef', 4, 2)", ""),
        ("substr('abcdef', 0, 100)", "abcdef"),
        ("substr('Tiếng', 1, 3)", "iế"),
        // XPath 1.0 section 4.2's examples of substring.
        ("substring('12345', 2, 3)", "234"),
        ("substring('12345', 2)", "2345"),
        ("substring('12345', 1.5, 2.6)", "234"),
        ("substring('12345', 0, 3)", "12"),
        ("substring('12345', 0 div 0, 3)", ""),
        ("substring('12345', 1, 0 div 0)", ""),
        ("substring('12345', -42, 1 div 0)", "12345"),
        ("substring('12345', -1 div 0, 1 div 0)", ""),
        ("substring-before('1999/04/01', '/')", "1999"),
        ("substring-after('1999/04/01', '/')", "04/01"),
        ("substring-after('1999/04/01', '19')", "99/04/01"),
        ("substring-before('abc', 'x')", ""),
        ("substring-after('abc', '')", "abc"),
        ("translate('bar', 'abc', 'ABC')", "BAr"),
        ("translate('--aaa--', 'abc-', 'ABC')", "AAA"),
        ("contains('household', 'hold')", "true"),
        ("contains('household', '')", "true"),
        ("starts-with(${name}, 'Nguyễn')", "true"),
        ("ends-with(${name}, 'An')", "true"),
        ("ends-with(${name}, 'an')", "false"),
        ("string-length(${name})", "13"),
        ("string-length('Tiếng Việt')", "10"),
        ("string-length()", "2"),
        ("string-length(${empty})", "0"),
        ("normalize-space('  a \t b\n ')", "a b"),
        ("normalize-space()", "30"),
        ("regex(${age}, '^[0-9]+$')", "true"),
        ("regex('abc', 'b')", "true"),
        ("regex('abc', '^b')", "false"),
        ("regex('0912345678', '^0[0-9]{9}$')", "true"),
        ("regex(${name}, '^[\\p{L} ]+$')", "true"),
        ("regex('aa', '(a)\\1')", "true"),
        ("regex('ab', concat('^', 'a'))", "true"),
    ]);
}

#[test]
fn numbers() {
    check(&[
        ("int(3.7)", "3"),
        ("int(-3.7)", "-3"),
        ("int('12.9')", "12"),
        ("int('')", "NaN"),
        ("round(2.5)", "3"),
        ("round(-2.5)", "-2"),
        ("round(2.4)", "2"),
        ("round(1.005, 2)", "1.01"),
        ("round(1234.5678, 2)", "1234.57"),
        ("round(1234.5678, -2)", "1200"),
        ("round(-1.5, 0)", "-2"),
        ("round(9.99, 1)", "10"),
        ("round(0.004, 2)", "0"),
        ("round(3, 2)", "3"),
        ("round(0 div 0)", "NaN"),
        ("floor(-1.5)", "-2"),
        ("ceiling(1.2)", "2"),
        ("abs(-3)", "3"),
        ("pow(2, 10)", "1024"),
        ("pow(${n2}, 0.5) * pow(${n2}, 0.5) > 1.99", "true"),
        ("sqrt(16)", "4"),
        ("sqrt(-1)", "NaN"),
        ("log(1)", "0"),
        ("log10(1000)", "3"),
        ("exp(0)", "1"),
        ("exp10(2)", "100"),
        ("round(pi(), 4)", "3.1416"),
        ("sin(0)", "0"),
        ("cos(0)", "1"),
        ("round(tan(pi() div 4), 6)", "1"),
        ("round(asin(1), 4)", "1.5708"),
        ("acos(1)", "0"),
        ("atan(0)", "0"),
        ("round(atan2(1, 1), 4)", "0.7854"),
        ("min(3, 7, ${age})", "3"),
        ("max(3, 7, ${age})", "30"),
        ("max(${n2}, '10')", "10"),
        ("max(/data/nothing)", "NaN"),
    ]);
}

#[test]
fn repeats_from_outside() {
    check(&[
        ("count(${hh})", "3"),
        ("count(${member_age})", "3"),
        ("count-non-empty(${member_age})", "2"),
        // An unanswered row counts as 0, as JavaRosa sums it (tests/engine/select_multiple_roster
        // shows it against JavaRosa itself).
        ("sum(${member_age})", "52"),
        ("sum(/data/hh/member_age[. != ''])", "52"),
        (
            "sum(/data/hh[member_name != 'A']/member_age[string-length(.) > 0])",
            "12",
        ),
        ("min(${member_age})", "NaN"),
        ("max(/data/hh/member_age[. != ''])", "40"),
        ("/data/hh[2]/member_name", "B"),
        ("/data/hh[position() = 3]/member_name", "C"),
        ("/data/hh[last()]/member_name", "C"),
        ("count(/data/hh[member_age > 20])", "1"),
        ("indexed-repeat(${member_name}, ${hh}, 3)", "C"),
        ("indexed-repeat(${member_name}, ${hh}, 1 + 1)", "B"),
        ("indexed-repeat(${member_name}, ${hh}, 4)", ""),
        ("indexed-repeat(/data/hh/member_name, /data/hh, 2)", "B"),
        ("position(/data/hh[3])", "3"),
        ("count(${hh}/member_name | ${age})", "4"),
        ("count(${age} | ${age})", "1"),
        ("/data/grp/inner", "x"),
        ("${grp}/inner", "x"),
    ]);
}

#[test]
fn wildcard_is_refused() {
    let err = Expr::parse("count(/data/grp/*)").unwrap_err();
    assert!(err.message.contains("wildcard"), "{err}");
}

#[test]
fn repeats_from_inside_a_row() {
    let f = fixture();
    let cases = [
        ("${member_age}", "12"),
        ("${member_name}", "B"),
        (".", "12"),
        ("../member_name", "B"),
        ("current()/../member_name", "B"),
        ("position(..)", "2"),
        ("position(current()/..)", "2"),
        // Absolute paths are contextualised to the current row, as JavaRosa does.
        ("/data/hh/member_name", "B"),
        ("count(/data/hh/member_name)", "1"),
        ("${age}", "30"),
        (
            "indexed-repeat(${member_name}, ${hh}, position(..) - 1)",
            "A",
        ),
        (
            "indexed-repeat(${member_name}, ${hh}, position(..) + 1)",
            "C",
        ),
        ("count(/data/hh[2]/member_name)", "1"),
        ("/data/hh[1]/member_name", "A"),
        ("string-length()", "2"),
        ("once(5)", "12"),
    ];
    let mut failures = Vec::new();
    for (src, want) in cases {
        let got = eval_at(&f, src, f.row2_age);
        if got != want {
            failures.push(format!("{src}: want {want:?} got {got:?}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // The row node itself.
    assert_eq!(eval_at(&f, "position(.)", f.row2), "2");
    assert_eq!(eval_at(&f, "${member_name}", f.row2), "B");
}

#[test]
fn once_uses_the_argument_when_empty() {
    let f = fixture();
    assert_eq!(eval_at(&f, "once(concat('a', 'b'))", f.empty), "ab");
}

#[test]
fn secondary_instances() {
    check(&[
        (
            "instance('communes')/root/item[name = 'c2']/label",
            "Trúc Bạch",
        ),
        (
            "instance('communes')/root/item[province = ${province}]/label",
            "Phúc Xá",
        ),
        (
            "count(instance('communes')/root/item[province = ${province}])",
            "2",
        ),
        (
            "count(instance('communes')/root/item[${province} = province])",
            "2",
        ),
        (
            "count(instance('communes')/root/item[province = current()/../province])",
            "2",
        ),
        (
            "count(instance('communes')/root/item[province = '79'])",
            "1",
        ),
        ("count(instance('communes')/root/item[province = 79])", "1"),
        ("count(instance('communes')/root/item[nothing = '79'])", "0"),
        (
            "count(instance('communes')/root/item[province = '01' and name != 'c1'])",
            "1",
        ),
        ("count(instance('communes')/root/item)", "3"),
        ("instance('communes')/root/item[3]/name", "c3"),
        (
            "instance('communes')/root/item[label = 'Bến Nghé']/../item[1]/name",
            "c1",
        ),
        ("position(instance('communes')/root/item[name = 'c3'])", "3"),
        ("join(' ', instance('communes')/root/item/name)", "c1 c2 c3"),
        ("pulldata('prices', 'price', 'key', 'apple')", "1.5"),
        ("pulldata('prices', 'price', 'key', 'durian')", ""),
        ("pulldata('prices', 'price', 'key', 'banana') * 4", "1"),
    ]);
}

#[test]
fn choice_filter_per_item() {
    let f = fixture();
    let filter = Expr::parse("province = ${province}").expect("parse");
    let table = f.ctx.instance("communes").expect("communes");
    let kept: Vec<usize> = (0..table.len())
        .filter(|&r| {
            filter
                .eval_bool_for_item(&f.ctx, f.age, table, r)
                .expect("eval")
        })
        .collect();
    assert_eq!(kept, vec![0, 1]);
    let itemset =
        Expr::parse("instance('communes')/root/item[province = ${province}]").expect("parse");
    let nodes = itemset.eval_nodes(&f.ctx, f.age).expect("nodes");
    let names: Vec<&str> = nodes
        .iter()
        .filter_map(|n| match n {
            NodeRef::Item(t, r) => t.column("name").map(|c| t.cell(*r as usize, c)),
            _ => None,
        })
        .collect();
    assert_eq!(names, ["c1", "c2"]);
}

#[test]
fn dates_and_times() {
    check(&[
        ("today()", "2024-01-31"),
        ("now()", "2024-01-31T10:20:30.000+07:00"),
        ("date('2024-01-01')", "2024-01-01"),
        ("date('2024-01-01') + 1", "19724"),
        ("date(date('2024-01-01') + 31)", "2024-02-01"),
        ("date(19723)", "2024-01-01"),
        ("date(19723.9)", "2024-01-01"),
        ("date('')", ""),
        ("date(${dt})", "2024-01-15"),
        ("date(today() - 30)", "2024-01-01"),
        ("today() - ${d}", "16"),
        ("${d} < today()", "true"),
        ("${d} > '2024-01-01'", "true"),
        ("${d} = date('2024-01-15')", "true"),
        ("date('2024-01-15') = ${d}", "true"),
        ("int((today() - date('1990-06-15')) div 365.25)", "33"),
        (
            "format-date('2024-03-05', '%Y/%m/%d %e %n %b %a %y')",
            "2024/03/05 5 3 Mar Tue 24",
        ),
        ("format-date(today(), '%d-%m-%Y')", "31-01-2024"),
        ("format-date('', '%Y')", ""),
        (
            "format-date-time(${dt}, '%H:%M:%S %h.%3')",
            "10:30:00 10.000",
        ),
        (
            "format-date-time(now(), '%Y-%m-%d %H:%M')",
            "2024-01-31 10:20",
        ),
        ("format-date(19723, '%Y-%m-%d')", "2024-01-01"),
        ("decimal-date-time('1970-01-02T12:00:00Z')", "1.5"),
        ("decimal-date-time('1970-01-02T19:00:00+07:00')", "1.5"),
        ("decimal-date-time('1970-01-03')", "2"),
        ("decimal-time('06:00:00')", "0.25"),
        ("decimal-time(${t})", "0.25"),
        ("decimal-time('18:00:00.000-05:00')", "0.75"),
        ("decimal-time('not a time')", "NaN"),
        ("date-time(1.5)", "1970-01-02T19:00:00.000+07:00"),
        (
            "date-time('2024-01-15T10:30:00+02:00')",
            "2024-01-15T10:30:00.000+02:00",
        ),
        ("decimal-date-time(date-time(1.5))", "1.5"),
    ]);
}

#[test]
fn caller_provided_randomness_and_ids() {
    check(&[
        ("string-length(uuid())", "36"),
        ("string-length(uuid(8))", "8"),
        ("random() >= 0 and random() < 1", "true"),
        (
            "regex(uuid(), '^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$')",
            "true",
        ),
    ]);
    let f = fixture();
    assert_ne!(eval_at(&f, "uuid()", f.age), eval_at(&f, "uuid()", f.age));
}

#[test]
fn digests() {
    check(&[
        (
            "digest('abc', 'SHA-256', 'hex')",
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
        ),
        (
            "digest('abc', 'MD5', 'hex')",
            "900150983cd24fb0d6963f7d28e17f72",
        ),
        ("digest('abc', 'SHA-1')", "qZk+NkcGgWq6PiVxeFDCbJzQ2J0="),
        (
            "digest('abc', 'sha-1', 'base64')",
            "qZk+NkcGgWq6PiVxeFDCbJzQ2J0=",
        ),
        ("string-length(digest('abc', 'SHA-384', 'hex'))", "96"),
        ("string-length(digest('abc', 'SHA-512', 'hex'))", "128"),
    ]);
}

#[test]
fn geometry() {
    check(&[
        // One degree of longitude on the WGS84 equator.
        ("round(distance('0 0 0 0; 0 1 0 0'), 2)", "111319.49"),
        ("distance('0 0')", "0"),
        ("round(distance('0 0 0 0', '0 1 0 0'), 2)", "111319.49"),
        // 0.001 degree square at the equator: 110.574 m of latitude by 111.319 m of longitude.
        ("round(area(${shape}))", "12309"),
        ("area('0 0; 0 1')", "0"),
        ("area('')", "0"),
    ]);
}

fn eval_err(src: &str) -> String {
    let f = fixture();
    let e = Expr::parse(src).unwrap_or_else(|err| panic!("{src}: {err}"));
    match e.eval_string(&f.ctx, f.age) {
        Ok(v) => panic!("{src}: expected an error, got {v:?}"),
        Err(err) => err.to_string(),
    }
}

#[test]
fn run_time_errors_are_messages() {
    let cases = [
        ("regex(${age}, '(')", "regex: invalid pattern '('"),
        ("regex('a', concat('(', ''))", "regex: invalid pattern '('"),
        (
            "pulldata('nope', 'a', 'b', 'c')",
            "no attachment 'nope.csv'",
        ),
        (
            "pulldata('prices', 'weight', 'key', 'apple')",
            "has no column 'weight'",
        ),
        (
            "instance('nope')/root/item",
            "no choice list or attachment named 'nope'",
        ),
        ("${ghost} = 1", "${ghost} does not name a question"),
        ("count('abc')", "count: needs a node-set"),
        ("date('31/12/2024')", "'31/12/2024' is not a date"),
        ("digest('a', 'SHA-3')", "unknown algorithm 'SHA-3'"),
        ("digest('a', 'MD5', 'base32')", "unknown encoding 'base32'"),
        ("area('north pole')", "'north pole' is not a point"),
        ("'a' | 'b'", "'|' joins node-sets"),
        ("('a')/b", "not a node-set"),
        ("uuid(-1)", "length must be between"),
    ];
    for (src, want) in cases {
        let got = eval_err(src);
        assert!(got.contains(want), "{src}: {got:?} lacks {want:?}");
    }
    // The failing call is quoted so the designer can find it in a long expression.
    assert!(eval_err("1 + regex(${age}, '(')").contains("(in `regex(${age}, '(')`)"));
}

fn parse_err(src: &str) -> ParseError {
    match Expr::parse(src) {
        Ok(_) => panic!("{src}: expected a parse error"),
        Err(e) => e,
    }
}

#[test]
fn parse_errors_name_the_problem_and_place() {
    let cases: &[(&str, &str, usize)] = &[
        ("foo(1)", "unknown function foo()", 1),
        ("1 + foo(2)", "unknown function foo()", 5),
        (
            "checklist(1, 2, ${a})",
            "function checklist is not supported",
            1,
        ),
        ("randomize(${a})", "function randomize is not supported", 1),
        ("Selected(${a}, 'b')", "lower case: selected", 1),
        (
            "concat('a'",
            "expected ',' or ')' in the arguments of concat()",
            11,
        ),
        ("'abc", "never closed", 1),
        ("${age} = ", "'=' needs something after it", 8),
        ("1 +", "'+' needs something after it", 3),
        ("//a", "'//'", 1),
        ("/data//a", "'//'", 6),
        ("@id", "attributes", 1),
        ("$x", "XPath variables", 1),
        ("${ age }", "not a valid question name", 1),
        ("${}", "empty reference", 1),
        ("${age", "never closed", 1),
        ("${last-saved#age}", "last-saved", 1),
        ("", "empty", 1),
        ("   ", "empty", 4),
        ("if(1, 2)", "if() takes 3 arguments, but 2 were given", 1),
        ("today(1)", "today() takes 0 arguments, but 1 was given", 1),
        ("indexed-repeat(${a}, ${r})", "takes 3 to 7 arguments", 1),
        (
            "indexed-repeat(${a}, ${r}, 1, ${s})",
            "pairs of repeat and position",
            1,
        ),
        ("(1 + 2", "expected ')' to close '('", 7),
        ("1 + 2)", "')' without a matching '('", 6),
        ("a[1", "to close '['", 4),
        ("a[]", "empty predicate", 3),
        ("()", "empty parentheses", 2),
        ("1 2", "expected an operator", 3),
        ("${a} ! ${b}", "'!' must be followed by '='", 6),
        ("${a} = \u{200b}1", "zero-width space", 8),
        ("jr:choice-name(${a}, ${a})", "quoted reference", 1),
        (
            "jr:choice-name(${a}, 'not a path!')",
            "is not a reference to a question",
            1,
        ),
        ("ancestor::a", "the axis ancestor:: is not supported", 11),
        ("/data/text()", "node tests", 7),
        ("‘unclosed", "typographic quote", 1),
    ];
    let mut failures = Vec::new();
    for (src, want, col) in cases {
        let e = parse_err(src);
        if !e.message.contains(want) || e.column != *col {
            failures.push(format!(
                "{src:?}: got {:?} at {}, want {want:?} at {col}",
                e.message, e.column
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    let e = parse_err("${a} + foo(1)");
    assert_eq!(
        e.to_string(),
        "unknown function foo() (at character 8 of `${a} + foo(1)`)"
    );
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    let deep = format!("{}1{}", "(".repeat(10_000), ")".repeat(10_000));
    assert!(parse_err(&deep).message.contains("nested too deeply"));
    let negs = format!("{}1", "-".repeat(10_000));
    assert!(parse_err(&negs).message.contains("nested too deeply"));
    let calls = format!("{}1{}", "abs(".repeat(1000), ")".repeat(1000));
    assert!(parse_err(&calls).message.contains("nested too deeply"));
    // Long flat chains are fine: they do not nest.
    let long_or = vec!["${age} = 1"; 5000].join(" or ");
    let f = fixture();
    assert_eq!(eval_at(&f, &long_or, f.age), "false");
    let long_sum = vec!["1"; 5000].join(" + ");
    assert_eq!(eval_at(&f, &long_sum, f.age), "5000");
}

#[test]
fn typographic_quotes_are_read_with_a_warning() {
    let e = Expr::parse("${age} = ‘30’ or ${age} = “31”").expect("parse");
    assert_eq!(e.warnings().len(), 2);
    assert!(e.warnings()[0].contains("straight quotes"));
    let f = fixture();
    assert!(e.eval_bool(&f.ctx, f.age).expect("eval"));
    // Seen in real forms: a typographic opening quote closed by a straight one, and a
    // no-break space between tokens.
    let e = Expr::parse("selected(${fruits}, ‘apple')").expect("parse");
    assert!(e.eval_bool(&f.ctx, f.age).expect("eval"));
    let e = Expr::parse("${age} <=\u{a0} 30").expect("parse");
    assert_eq!(e.warnings().len(), 1);
    assert!(e.eval_bool(&f.ctx, f.age).expect("eval"));
}

#[test]
fn operator_names_are_names_where_xpath_says_so() {
    let mut ctx = MemoryContext::new("data");
    let root = ctx.root_node();
    let g = ctx.add(root, "div", "");
    ctx.add(g, "and", "4");
    ctx.add(root, "mod", "3");
    let e = Expr::parse("/data/div/and div /data/mod * 3").expect("parse");
    assert_eq!(e.eval_string(&ctx, root).expect("eval"), "4");
    let e = Expr::parse("count(/data/div) * 2").expect("parse");
    assert_eq!(e.eval_string(&ctx, root).expect("eval"), "2");
}

#[test]
fn references_for_the_dependency_graph() {
    let e = Expr::parse(
        "${a} + /data/g/b + ../c + current()/../d + \
         instance('l')/root/item[name = ${e}]/label + pulldata('p', 'x', 'k', ${f})",
    )
    .expect("parse");
    let refs: Vec<String> = e.references().iter().map(ToString::to_string).collect();
    assert_eq!(
        refs,
        [
            "${a}",
            "/data/g/b",
            "../c",
            "current()/../d",
            "instance('l')",
            "${e}",
            "instance('p')",
            "${f}"
        ]
    );
    let e = Expr::parse("sum(/data/rep[age > 5]/name) + count(.) + ${a} + ${a}").expect("parse");
    let refs: Vec<String> = e.references().iter().map(ToString::to_string).collect();
    assert_eq!(refs, ["/data/rep/age", "/data/rep/name", ".", "${a}"]);
    let e = Expr::parse("jr:choice-name(${x}, '${x}') and selected(., 'y')").expect("parse");
    assert_eq!(e.field_names(), ["x"]);
    assert_eq!(e.functions(), ["jr:choice-name", "selected"]);
    assert!(!e.is_volatile());
    assert!(
        Expr::parse("today() - ${dob}")
            .expect("parse")
            .is_volatile()
    );
    let e = Expr::parse("/data/g/../h/./i").expect("parse");
    assert_eq!(e.references()[0].to_string(), "/data/h/i");
}

#[test]
fn binding_fields_reaches_every_reference() {
    let mut e = Expr::parse(
        "${a} + count(instance('l')/root/item[name = ${b}]) + jr:choice-name(${c}, '${c}')",
    )
    .expect("parse");
    let unknown = e.bind_fields(|n| match n {
        "a" => Some(1),
        "b" => Some(2),
        _ => None,
    });
    assert_eq!(unknown, ["c"]);
}

#[test]
fn typed_results() {
    let f = fixture();
    let v = |s: &str| {
        Expr::parse(s)
            .expect("parse")
            .eval(&f.ctx, f.age)
            .expect("eval")
    };
    assert_eq!(v("1 + 1"), Value::Number(2.0));
    assert_eq!(v("1 = 1"), Value::Bool(true));
    assert_eq!(v("${age}"), Value::String("30".into()));
    assert_eq!(
        v("today()"),
        Value::Date(chrono::NaiveDate::from_ymd_opt(2024, 1, 31).expect("date"))
    );
    assert_eq!(v("now()").to_string(), "2024-01-31T10:20:30.000+07:00");
    assert_eq!(v("0 div 0").to_string(), "NaN");
    let n = Expr::parse("${age} div 4").expect("parse");
    assert_eq!(n.eval_number(&f.ctx, f.age).expect("eval"), 7.5);
}

#[test]
fn csv_tables() {
    let t = Table::from_csv(b"name,label\r\na,\"A, with comma\"\nb\n\n").expect("csv");
    assert_eq!(t.len(), 2);
    assert_eq!(t.cell(0, 1), "A, with comma");
    assert_eq!(t.cell(1, 1), "");
    assert_eq!(Table::from_csv(b"").unwrap_err(), TableError::Empty);
    assert_eq!(
        Table::from_csv(b"a,b\n\xff,1").unwrap_err(),
        TableError::NotUtf8
    );
    assert!(matches!(
        Table::from_csv(b"a,a\n1,2").unwrap_err(),
        TableError::DuplicateColumn(_)
    ));
    assert!(matches!(
        Table::from_csv(b"a\n1,2").unwrap_err(),
        TableError::RowLength { .. }
    ));
}

#[test]
fn every_supported_function_is_exercised_here() {
    // Guards the tables above: a function added to the table without a test fails here.
    let src = include_str!("tests.rs");
    let missing: Vec<&str> = supported_functions()
        .filter(|f| !src.contains(&format!("{f}(")))
        .collect();
    assert!(missing.is_empty(), "functions without a test: {missing:?}");
}
