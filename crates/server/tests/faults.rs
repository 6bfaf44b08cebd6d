//! Faults on purpose, against the real server process on 127.0.0.1, on SQLite and PostgreSQL:
//! connections cut mid-upload and mid-answer, the server killed with SIGKILL mid-ingest and
//! restarted, the same batch delivered many times at once. Afterwards the server must hold
//! exactly the interviews the devices completed: no more, no fewer.

mod common;

use common::process::{CuttingProxy, ServerProcess, free_port};
use common::{Backend, stats};
use fieldpost_app_core::sync::Backoff;
use fieldpost_app_core::sync::simulate::{SimConfig, SimReport, simulate};
use std::path::Path;
use std::time::Duration;

fn sim(
    server: &str,
    upload: Option<String>,
    devices: usize,
    interviews: usize,
    work: &Path,
) -> SimConfig {
    SimConfig {
        server: server.to_string(),
        devices,
        interviews,
        seed: 7,
        work_dir: work.to_path_buf(),
        form_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms/sipas").into(),
        upload_server: upload,
        // Quick retries, and enough of them to outlast a server restart.
        backoff: Some(Backoff {
            base: Duration::from_millis(50),
            max: Duration::from_millis(800),
            max_attempts: 40,
        }),
    }
}

fn assert_exact(db: &str, report: &SimReport, earlier: i64) {
    assert_eq!(
        report.acked, report.completed,
        "every completed interview acknowledged: {report:?}"
    );
    let st = stats(db);
    assert_eq!(
        st["interviews"] - earlier,
        report.completed as i64,
        "server holds exactly the completed interviews: {st:?}"
    );
    assert_eq!(st.get("incidents_sequence_conflict"), None, "{st:?}");
}

fn cut_connections(backend: &Backend, dir: &Path) {
    let db = backend.fresh_db(dir, "cuts");
    let server = ServerProcess::start(&db, &dir.join("cuts.data"), free_port());
    let proxy = CuttingProxy::start(server.port, 0.4, 11);
    let report = simulate(&sim(
        &server.url(),
        Some(proxy.url()),
        3,
        40,
        &dir.join("cuts-devices"),
    ))
    .expect("simulates");
    assert!(
        proxy.cuts.load(std::sync::atomic::Ordering::Relaxed) > 0,
        "the proxy cut something"
    );
    assert!(report.retries > 0, "the devices had to retry: {report:?}");
    assert_exact(&db, &report, 0);
}

fn kill_mid_ingest(backend: &Backend, dir: &Path) {
    let db = backend.fresh_db(dir, "kills");
    let mut server = ServerProcess::start(&db, &dir.join("kills.data"), free_port());
    let cfg = sim(&server.url(), None, 4, 150, &dir.join("kill-devices"));
    let run = std::thread::spawn(move || simulate(&cfg));
    // Kill twice once uploads are under way.
    for _ in 0..2 {
        let deadline = std::time::Instant::now() + Duration::from_secs(300);
        let start = stats(&db).get("batches").copied().unwrap_or(0);
        while stats(&db).get("batches").copied().unwrap_or(0) == start && !run.is_finished() {
            assert!(
                std::time::Instant::now() < deadline,
                "uploads never started"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        server.restart();
    }
    let report = run
        .join()
        .expect("simulation thread")
        .expect("simulates across restarts");
    assert_exact(&db, &report, 0);
}

fn the_same_batch_many_times_at_once(backend: &Backend, dir: &Path) {
    let db = backend.fresh_db(dir, "dups");
    let server = ServerProcess::start(&db, &dir.join("dups.data"), free_port());
    let api = common::Api {
        base: format!("{}/api/v1", server.url()),
        client: reqwest::blocking::Client::new(),
    };
    let admin = api.admin();
    let mut device = common::Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let (bytes, _) = device.batch(5);
    let acks: Vec<_> = std::thread::scope(|s| {
        let handles: Vec<_> = (0..8)
            .map(|_| s.spawn(|| device.upload(&api, bytes.clone())))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("thread"))
            .collect()
    });
    let first = acks[0].clone().expect("acknowledged");
    for a in &acks {
        assert_eq!(a.as_ref().expect("every copy acknowledged"), &first);
    }
    let st = stats(&db);
    assert_eq!((st["batches"], st["interviews"]), (1, 5), "{st:?}");
}

fn run_all(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    the_same_batch_many_times_at_once(&backend, dir.path());
    cut_connections(&backend, dir.path());
    kill_mid_ingest(&backend, dir.path());
}

#[test]
fn faults_on_sqlite() {
    run_all(Backend::Sqlite);
}

#[test]
fn faults_on_postgres() {
    run_all(Backend::Postgres(common::postgres::Postgres::start()));
}
