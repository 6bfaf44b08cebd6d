//! Store benchmarks: `cargo run --release -p fieldpost-store --example bench`.
//!
//! Prints:
//! - `BENCH store_autosave_p50 <v> ms` / `_p99`: one `set_answer` (its own
//!   transaction, WAL, `synchronous = FULL`, so fsynced) on a real file;
//! - `BENCH store_bytes_per_1000_interviews <v> bytes`: file size growth per
//!   1,000 completed SIPAS-sized interviews (about 120 answers each, paradata
//!   included), after a checkpoint; measured on `FIELDPOST_BENCH_INTERVIEWS`
//!   (default 100, because every answer is an fsynced transaction) and scaled;
//! - `BENCH disk_fdatasync_p50 <v> ms`: the disk's own cost of one
//!   fdatasync, the floor under a durable autosave on this machine;
//! - `BENCH store_pin_guess <v> ms (<m> MiB)`: one Argon2id derivation at the production
//!   parameters, the cost of one PIN guess on one core (`FIELDPOST_BENCH_KDF_SWEEP=1`
//!   adds neighbouring parameters);
//! - `BENCH store_unlock <v> ms`: open + unlock at the production Argon2id
//!   parameters (`Kdf::PRODUCTION`: 64 MiB, 3 passes).
//!
//! Environment: `FIELDPOST_BENCH_DIR` picks the directory of the files (the
//! default is the system temp dir: make sure it is a real disk, not tmpfs,
//! for fsync costs to be meaningful). `FIELDPOST_BENCH_SAVES` (default 2000).

use std::path::{Path, PathBuf};
use std::time::Instant;

use fieldpost_store::{Assignment, AssignmentKind, Personal, Store, StoreError, Unit};
use serde_json::json;
use uuid::Uuid;

const PIN: &str = "2468";
const VERSION: &str = "2025.1";

fn main() -> Result<(), StoreError> {
    let base = std::env::var_os("FIELDPOST_BENCH_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("fieldpost-store-bench-{}", std::process::id()));
    std::fs::create_dir_all(&base)?;
    let result = run(&base);
    let _ = std::fs::remove_dir_all(&base);
    result
}

fn run(base: &Path) -> Result<(), StoreError> {
    let saves: usize = std::env::var("FIELDPOST_BENCH_SAVES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    let interviews: usize = std::env::var("FIELDPOST_BENCH_INTERVIEWS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100);

    // One PIN guess (one Argon2id derivation) at production strength, and with
    // `FIELDPOST_BENCH_KDF_SWEEP=1` at neighbouring parameters (how they were chosen).
    let mut sweep = vec![fieldpost_store::crypto::Kdf::PRODUCTION];
    if std::env::var("FIELDPOST_BENCH_KDF_SWEEP").as_deref() == Ok("1") {
        for (memory_kib, passes) in [
            (65_536, 3),
            (65_536, 8),
            (65_536, 10),
            (131_072, 4),
            (262_144, 2),
        ] {
            sweep.push(fieldpost_store::crypto::Kdf::Argon2id {
                memory_kib,
                passes,
                lanes: 1,
            });
        }
    }
    for kdf in sweep {
        let mut guess = Vec::new();
        for _ in 0..5 {
            let t = Instant::now();
            kdf.derive("000000", &[7u8; 16])?;
            guess.push(t.elapsed().as_secs_f64() * 1e3);
        }
        let label = if kdf == fieldpost_store::crypto::Kdf::PRODUCTION {
            "BENCH store_pin_guess".to_string()
        } else {
            format!("sweep {kdf:?}")
        };
        println!(
            "{label} {:.1} ms ({} MiB)",
            percentile(&mut guess, 0.50),
            kdf.memory_bytes() >> 20
        );
    }

    // Unlock at production strength.
    let path = base.join("unlock.db");
    let mut store = Store::open(&path)?;
    store.set_up_pin(PIN)?;
    drop(store);
    let mut unlock = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        let mut store = Store::open(&path)?;
        store.unlock(PIN)?;
        unlock.push(t.elapsed().as_secs_f64() * 1e3);
    }

    // Autosave latency: SIPAS-like answers on one interview.
    let path = base.join("autosave.db");
    let (mut store, assignments) = seeded(&path, 1)?;
    let i = store.start_or_resume(assignments[0], VERSION, "enum-1")?.id;
    let mut lat = Vec::with_capacity(saves);
    for n in 0..saves {
        // Path k gets a new value every round, like an enumerator's edits.
        let scale = [
            "Rất hài lòng",
            "Hài lòng",
            "Bình thường",
            "Không hài lòng",
            "Rất không hài lòng",
        ];
        let value = json!(scale[(n / 33) % 5]);
        let t = Instant::now();
        store.set_answer(i, &format!("q9_{}", n % 33), &value)?;
        lat.push(t.elapsed().as_secs_f64() * 1e3);
    }
    drop(store);
    println!(
        "BENCH store_autosave_p50 {:.3} ms",
        percentile(&mut lat, 0.50)
    );
    println!(
        "BENCH store_autosave_p99 {:.3} ms",
        percentile(&mut lat, 0.99)
    );

    // The disk's own floor: one 4 KiB write + fdatasync, what FULL pays per commit.
    let probe = base.join("fsync.probe");
    let mut file = std::fs::File::create(&probe)?;
    let mut floor = Vec::new();
    for _ in 0..200 {
        std::io::Write::write_all(&mut file, &[0u8; 4096])?;
        let t = Instant::now();
        file.sync_data()?;
        floor.push(t.elapsed().as_secs_f64() * 1e3);
    }
    println!(
        "BENCH disk_fdatasync_p50 {:.3} ms",
        percentile(&mut floor, 0.50)
    );

    // Size: `interviews` interviews, scaled to 1,000 (growth is linear: one
    // B-tree row per answer and per paradata event).
    let path = base.join("size.db");
    let (mut store, assignments) = seeded(&path, interviews)?;
    store.checkpoint()?;
    let before = file_size(&path);
    for a in &assignments {
        let i = store.start_or_resume(*a, VERSION, "enum-1")?.id;
        sipas_interview(&mut store, i)?;
        store.complete(i)?;
    }
    store.checkpoint()?;
    let after = file_size(&path);

    println!(
        "BENCH store_bytes_per_1000_interviews {} bytes",
        after.saturating_sub(before) * 1000 / interviews as u64
    );
    println!("BENCH store_unlock {:.1} ms", percentile(&mut unlock, 0.50));
    Ok(())
}

/// A store with a questionnaire and `n` official assignments.
fn seeded(path: &Path, n: usize) -> Result<(Store, Vec<Uuid>), StoreError> {
    let mut store = Store::open(path)?;
    // Unlock cost is measured above; here only writes matter.
    store.set_up_pin_with_kdf(PIN, fieldpost_store::crypto::Kdf::FAST_FOR_TESTS)?;
    store.save_questionnaire("sipas", VERSION, r#"{"fields":[]}"#)?;
    let list: Vec<Assignment> = (0..n)
        .map(|k| Assignment {
            id: Uuid::now_v7(),
            kind: AssignmentKind::Official,
            pair_id: None,
            unit: Unit::Household,
            province_code: "01".into(),
            commune_code: "00004".into(),
            village_code: format!("T{:02}", k % 30),
            stratum: "urban".into(),
            enumerator: "enum-1".into(),
            form_id: "sipas".into(),
            due_date: None,
            personal: Personal {
                name: "Nguyễn Văn An".into(),
                phone: Some("0912345678".into()),
                address: "Số 12, tổ 3, phường Hàng Bạc".into(),
            },
        })
        .collect();
    store.import_assignments(&list)?;
    Ok((store, list.iter().map(|a| a.id).collect()))
}

/// About 120 answers: part A, Câu 1-8, 33 satisfaction items, 10 priorities,
/// a household roster of 4, one free-text comment.
fn sipas_interview(store: &mut Store, i: Uuid) -> Result<(), StoreError> {
    let scale = [
        "Rất không hài lòng",
        "Không hài lòng",
        "Bình thường",
        "Hài lòng",
        "Rất hài lòng",
    ];
    for (p, v) in [
        ("a_sex", json!("nu")),
        ("a_age_band", json!("35-49")),
        ("a_ethnicity", json!("kinh")),
        ("a_education", json!("thpt")),
        ("a_occupation", json!("nong_nghiep")),
        ("a_urban", json!("rural")),
    ] {
        store.set_answer(i, p, &v)?;
    }
    for k in 1..=9 {
        store.set_answer(i, &format!("c1_{k}"), &json!(k % 3))?;
    }
    for k in 2..=8 {
        store.set_answer(i, &format!("c{k}"), &json!(["a", "c"]))?;
    }
    for k in 1..=33 {
        store.set_answer(i, &format!("c9_{k}"), &json!(scale[k % 5]))?;
    }
    for k in 1..=10 {
        store.set_answer(i, &format!("c10_{k}"), &json!(k % 3))?;
    }
    for m in 0..4 {
        let row = store.add_repeat_row(i, "members")?;
        for (f, v) in [
            ("age", json!(20 + 10 * m)),
            ("sex", json!("nam")),
            ("rel", json!(m)),
        ] {
            store.set_answer(i, &format!("members[{row}]/{f}"), &v)?;
        }
    }
    store.set_answer(
        i,
        "c10_other",
        &json!("Cán bộ xã làm việc nhanh, nhưng thủ tục đất đai còn chậm."),
    )?;
    Ok(())
}

fn file_size(path: &Path) -> u64 {
    std::fs::metadata(path).map(|m| m.len()).unwrap_or(0)
}

fn percentile(v: &mut [f64], q: f64) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    v.sort_by(f64::total_cmp);
    v[((v.len() - 1) as f64 * q).round() as usize]
}
