//! One PIN guess costs at least what `crates/store/README.md` states ("What the file alone
//! gives an attacker"): the parameters are read from a real store file, as an attacker
//! holding the file would read them, and one derivation with them is timed and its memory
//! watched. Alone in its test binary, so no other test's allocations blur the memory peak.
//!
//! Prints `pin-guess: kdf=... memory=... MiB time=... ms; 10^6 guesses on one core = ... h`.

use std::time::Instant;

use fieldpost_store::{Store, StoreError, crypto};

/// What the README promises, as the floor this test holds the store to.
const README_MEMORY_MIB: u64 = 64;
/// The README's floor for one guess on one core of this kind of machine (release build;
/// this test's debug build is slower still, which only makes the floor easier to meet).
const README_MIN_GUESS_MS: f64 = 300.0;

/// The process's resident memory now (Linux `VmRSS`), in KiB.
fn rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Run `f` while a second thread samples the resident memory every 2 ms; returns `f`'s
/// result and how far the memory rose above where it was (KiB), if it can be read.
fn with_memory_watch<T>(f: impl FnOnce() -> T) -> (T, Option<u64>) {
    use std::sync::atomic::{AtomicBool, Ordering};
    let done = AtomicBool::new(false);
    let base = rss_kib();
    std::thread::scope(|s| {
        let watcher = s.spawn(|| {
            let mut peak = 0;
            while !done.load(Ordering::Relaxed) {
                peak = peak.max(rss_kib().unwrap_or(0));
                std::thread::sleep(std::time::Duration::from_millis(2));
            }
            peak
        });
        let out = f();
        done.store(true, Ordering::Relaxed);
        let peak = watcher.join().unwrap_or(0);
        (out, base.map(|b| peak.saturating_sub(b)))
    })
}

#[test]
fn one_pin_guess_costs_at_least_what_the_readme_states() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("device.db");
    let mut store = Store::open(&path).unwrap();
    store.set_up_pin("482916").unwrap();
    drop(store);

    // The attacker's view: the keyring row of the file, read with plain SQL.
    let c = rusqlite::Connection::open(&path).unwrap();
    let (name, iterations, memory_kib, lanes, salt, wrapped): (
        String,
        u32,
        Option<u32>,
        Option<u32>,
        Vec<u8>,
        Vec<u8>,
    ) = c
        .query_row(
            "SELECT kdf, iterations, memory_kib, lanes, salt, wrapped_key FROM keyring",
            [],
            |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            },
        )
        .unwrap();
    drop(c);
    let kdf = crypto::Kdf::from_columns(&name, iterations, memory_kib, lanes).unwrap();
    assert_eq!(name, crypto::ARGON2ID_NAME);
    assert!(
        kdf.memory_bytes() >= README_MEMORY_MIB * 1024 * 1024,
        "{kdf:?} asks less memory than the README states"
    );
    let key = crypto::WrappedKey { kdf, salt, wrapped };

    // One wrong guess, timed; the fastest of three, so load on the machine cannot help.
    let mut fastest = f64::MAX;
    let mut rose_kib = None;
    for guess in ["000000", "123456", "999999"] {
        let t = Instant::now();
        let (result, rose) = with_memory_watch(|| crypto::unwrap_data_key(guess, &key));
        let ms = t.elapsed().as_secs_f64() * 1e3;
        assert!(matches!(result, Err(StoreError::WrongPin)));
        fastest = fastest.min(ms);
        rose_kib = rose_kib.max(rose);
    }
    let hours = fastest * 1e6 / 1e3 / 3600.0;
    println!(
        "pin-guess: kdf={kdf:?} memory={} MiB (resident rose by {} KiB) time={fastest:.0} ms \
         (test build); 10^6 guesses on one core = {hours:.0} h",
        kdf.memory_bytes() / (1024 * 1024),
        rose_kib.map_or("?".to_string(), |k| k.to_string())
    );
    assert!(
        fastest >= README_MIN_GUESS_MS,
        "one guess took {fastest:.0} ms, less than the README's {README_MIN_GUESS_MS} ms"
    );
    // The memory is really touched, not only asked for: resident memory rose by (nearly)
    // the whole 64 MiB during a guess (sampling every 2 ms may miss the last few pages).
    if let Some(rose) = rose_kib {
        assert!(
            rose >= README_MEMORY_MIB * 1024 * 9 / 10,
            "resident memory rose by only {rose} KiB during a guess"
        );
    }
    // And the right PIN still opens it (the guesses were real attempts, not a broken key).
    crypto::unwrap_data_key("482916", &key).unwrap();
}
