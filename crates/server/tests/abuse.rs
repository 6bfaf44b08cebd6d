//! A server that holds under abuse (issue 12, part 7): body limits per route, a cap on the
//! decompressed payload, a limit on requests in flight, sign-in throttling, the same sign-in
//! work for unknown and known names, and the account life cycle (sign-out, disabled accounts,
//! password changes, expired sessions) on SQLite and PostgreSQL.
//!
//! Where memory is measured the server is a real process (`fieldpost-server`), and its peak
//! resident size is read from `/proc/PID/status` (VmHWM).

mod common;

use common::process::{ServerProcess, free_port};
use common::{Answer, Api, Backend, Device, TestServer, interview};
use fieldpost_proto::v1::*;
use fieldpost_server::demo::{DEMO_ADMIN, DEMO_ADMIN_PASSWORD, DEMO_PASSWORD};
use fieldpost_server::http::guard::{BATCH_BODY_BYTES, MAX_HEAVY, MAX_IN_FLIGHT};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{IpAddr, Ipv4Addr, Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// A real server process on a fresh SQLite database, seeded with the demo.
/// The tests of this file run one at a time: each loads the machine in its own way (memory,
/// hundreds of connections, timing), and the timing test must not measure the others.
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

fn process(dir: &Path, name: &str) -> ServerProcess {
    let db = dir.join(format!("{name}.sqlite")).display().to_string();
    ServerProcess::start(&db, &dir.join(format!("{name}.data")), free_port())
}

fn api_for(base: &str) -> Api {
    Api {
        base: format!("{base}/api/v1"),
        client: reqwest::blocking::Client::new(),
    }
}

/// A client whose connections come from `source` (any 127.x.y.z is loopback on Linux), so one
/// test can be several peer addresses.
fn api_from(base: &str, source: Ipv4Addr) -> Api {
    Api {
        base: base.to_string(),
        client: reqwest::blocking::Client::builder()
            .local_address(IpAddr::V4(source))
            .build()
            .expect("client"),
    }
}

/// A kibibyte figure from /proc/PID/status (`VmHWM`: peak resident size; `VmRSS`: now).
fn proc_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field))
        .and_then(|v| v.trim_start_matches(':').trim().split_whitespace().next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no {field} in /proc/{pid}/status"))
}

/// The status line and headers of an HTTP/1.1 answer read from `stream`, and its body.
fn read_answer(stream: &mut TcpStream) -> std::io::Result<(u16, String, Vec<u8>)> {
    let mut reader = BufReader::new(stream);
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                format!("closed after {head:?}"),
            ));
        }
        if line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let status = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    let len = head
        .lines()
        .find_map(|l| {
            let (k, v) = l.split_once(':')?;
            k.eq_ignore_ascii_case("content-length")
                .then(|| v.trim().parse::<usize>().ok())?
        })
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body)?;
    Ok((status, head.to_lowercase(), body))
}

/// One upload of `total` bytes of junk, declared with `Content-Length` or sent chunked, written
/// on its own thread while the answer is read (a server may answer before the body is in).
fn oversized_upload(port: u16, token: &str, total: usize, chunked: bool) -> (u16, Vec<u8>) {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("connects");
    stream
        .set_read_timeout(Some(Duration::from_secs(120)))
        .expect("timeout");
    let framing = if chunked {
        "Transfer-Encoding: chunked".to_string()
    } else {
        format!("Content-Length: {total}")
    };
    let head = format!(
        "POST /api/v1/device/batches HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\n\
         Content-Type: application/octet-stream\r\n{framing}\r\n\r\n"
    );
    stream.write_all(head.as_bytes()).expect("head");
    let mut writer = stream.try_clone().expect("clone");
    let sender = std::thread::spawn(move || {
        let chunk = vec![0x5au8; 64 << 10];
        let mut sent = 0;
        while sent < total {
            let n = chunk.len().min(total - sent);
            let ok = if chunked {
                writer
                    .write_all(format!("{n:x}\r\n").as_bytes())
                    .and_then(|()| writer.write_all(&chunk[..n]))
                    .and_then(|()| writer.write_all(b"\r\n"))
            } else {
                writer.write_all(&chunk[..n])
            };
            if ok.is_err() {
                return; // the server stopped reading: what a refusal looks like
            }
            sent += n;
        }
        if chunked {
            let _ = writer.write_all(b"0\r\n\r\n");
        }
    });
    let answer = read_answer(&mut stream);
    let _ = stream.shutdown(Shutdown::Both);
    let _ = sender.join();
    match answer {
        Ok((status, _, body)) => (status, body),
        Err(e) => panic!("no answer to an oversized upload: {e}"),
    }
}

/// 32 devices upload 48 MiB each at once (half declared with Content-Length, half chunked):
/// every one is refused with 413 and a `payload_too_large` error, and the server's peak
/// memory stays under 1 GiB. Before per-route limits, the 64 MiB limit let each body be
/// buffered whole (1.5 GiB for the lot) and then failed ingest instead.
#[test]
fn parallel_oversized_uploads_are_refused_without_filling_memory() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = process(dir.path(), "oversized");
    let api = api_for(&server.url());
    let admin = api.admin();
    let device = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let before = proc_kib(server.pid(), "VmHWM");
    let size = 48 << 20;
    let port = server.port;
    let uploads: Vec<_> = (0..32)
        .map(|i| {
            let token = device.token.clone();
            std::thread::spawn(move || oversized_upload(port, &token, size, i % 2 == 1))
        })
        .collect();
    let answers: Vec<(u16, Vec<u8>)> = uploads
        .into_iter()
        .map(|t| t.join().expect("upload thread"))
        .collect();
    let peak_kib = proc_kib(server.pid(), "VmHWM");
    println!(
        "oversized uploads: 32 x {} MiB; server peak RSS {} MiB (before {} MiB, now {} MiB)",
        size >> 20,
        peak_kib >> 10,
        before >> 10,
        proc_kib(server.pid(), "VmRSS") >> 10
    );
    for (i, (status, body)) in answers.iter().enumerate() {
        assert_eq!(
            *status,
            413,
            "upload {i}: {}",
            String::from_utf8_lossy(body)
        );
        let err: ApiError = serde_json::from_slice(body)
            .unwrap_or_else(|e| panic!("upload {i}: not an ApiError ({e})"));
        assert_eq!(err.code, ErrorCode::PayloadTooLarge);
    }
    assert!(
        peak_kib < 1 << 20,
        "the server's peak memory reached {} MiB",
        peak_kib >> 10
    );
    // A batch of ordinary size still goes through afterwards.
    let mut device = device;
    let (bytes, _) = device.batch(3);
    assert!(bytes.len() < BATCH_BODY_BYTES);
    device
        .upload(&api, bytes)
        .expect("an ordinary batch is acknowledged");
}

/// 500 wrong sign-ins from one address: refused with 429 and `Retry-After` after a few, and
/// from then on without the server hashing anything. Another address is not affected, and its
/// success does not free the first. Guesses at one account from many addresses lock that
/// account (for its window) too.
#[test]
fn wrong_sign_ins_are_throttled_per_address_and_per_account() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = process(dir.path(), "throttle");
    let base = format!("{}/api/v1", server.url());
    let guesser = api_from(&base, Ipv4Addr::new(127, 0, 0, 1));
    let started = Instant::now();
    let mut first_429 = None;
    for i in 0..500 {
        let resp = guesser
            .client
            .post(format!("{base}/sessions"))
            .json(&LoginRequest {
                username: format!("guess{i}"),
                password: "wrong password".into(),
            })
            .send()
            .expect("sends");
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        let err: ApiError = resp.json().expect("ApiError");
        match (status, first_429) {
            (401, None) => assert_eq!(err.code, ErrorCode::Unauthenticated),
            (429, _) => {
                assert_eq!(err.code, ErrorCode::TooManyRequests);
                assert!(retry_after.is_some_and(|s| s > 0), "429 with Retry-After");
                first_429.get_or_insert(i);
            }
            other => panic!("attempt {i}: unexpected {other:?}: {err}"),
        }
    }
    let first = first_429.expect("throttled at some point");
    println!(
        "sign-in throttle: 429 from attempt {} of 500 on (one address); 500 attempts took {:.1} s",
        first + 1,
        started.elapsed().as_secs_f64()
    );
    assert!(first <= 10, "429 after a few failures, not {first}");

    // Another address signs in; the guesser stays throttled.
    let office = api_from(&base, Ipv4Addr::new(127, 0, 0, 2));
    office.login(DEMO_ADMIN, DEMO_ADMIN_PASSWORD);
    let again: Answer<LoginResponse> = guesser.post(
        "/sessions",
        None,
        &LoginRequest {
            username: DEMO_ADMIN.into(),
            password: DEMO_ADMIN_PASSWORD.into(),
        },
    );
    assert_eq!(again.expect_err("still throttled").0, 429);

    // Five wrong passwords for coord01, each from its own address: the account is locked, even
    // for its owner with the right password, until the window passes.
    for k in 0..5 {
        let from = api_from(&base, Ipv4Addr::new(127, 0, 1, k + 1));
        let r: Answer<LoginResponse> = from.post(
            "/sessions",
            None,
            &LoginRequest {
                username: "coord01".into(),
                password: format!("wrong {k}"),
            },
        );
        assert_eq!(r.expect_err("wrong").0, 401, "attempt {k}");
    }
    let owner = api_from(&base, Ipv4Addr::new(127, 0, 2, 1));
    let r: Answer<LoginResponse> = owner.post(
        "/sessions",
        None,
        &LoginRequest {
            username: "coord01".into(),
            password: DEMO_PASSWORD.into(),
        },
    );
    let (status, err) = r.expect_err("the account is throttled");
    assert_eq!((status, err.code), (429, ErrorCode::TooManyRequests));
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// An unknown user name and a known one with a wrong password take the same time to refuse:
/// both cost one Argon2 verification. 32 rounds of two tries of each kind, interleaved; each
/// round comes from a fresh address and known names are spread over accounts, so the
/// throttles never cut in. Before the dummy hash, an unknown name was answered without
/// hashing, many times faster.
#[test]
fn unknown_and_known_names_take_the_same_time_to_refuse() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(
        dir.path().join("timing.sqlite").display().to_string(),
        dir.path().join("timing.data"),
    );
    let api = server.api();
    let admin = api.admin();
    let rounds: usize = 34; // two warm-up rounds, then 32 rounds of two tries of each kind
    let per_account: usize = 4; // under the per-account budget of 5
    let accounts: Vec<String> = (0..(2 * rounds).div_ceil(per_account))
        .map(|i| {
            let name = format!("timing{i}");
            let _: Account = api
                .post(
                    "/accounts",
                    Some(&admin),
                    &NewAccount {
                        username: name.clone(),
                        password: "the right password".into(),
                        role: Role::Admin,
                        province: None,
                    },
                )
                .expect("creates");
            name
        })
        .collect();
    let time = |api: &Api, username: &str| {
        let started = Instant::now();
        let r: Answer<LoginResponse> = api.post(
            "/sessions",
            None,
            &LoginRequest {
                username: username.into(),
                password: "a wrong password".into(),
            },
        );
        let took = started.elapsed();
        assert_eq!(r.expect_err("refused").0, 401, "{username}");
        took
    };
    let (mut unknown, mut known, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..rounds {
        // Four failures per address, under its budget of 10.
        let from = api_from(&server.base, Ipv4Addr::new(127, 0, 3, (i + 1) as u8));
        // Connect first, so no timed try pays for the new connection.
        let _ = from
            .client
            .get(format!("{}/openapi.json", server.base))
            .send()
            .and_then(|r| r.bytes());
        // Unknown, known, known, unknown, then the other way round in the next round: a load
        // that rises or falls during a round, and any cost of a place in the round, weigh on
        // both kinds alike.
        let (unknown_name, known_name) = (format!("nobody{i}"), &accounts[2 * i / per_account]);
        let (unknown_name2, known_name2) =
            (format!("nobody{i}b"), &accounts[(2 * i + 1) / per_account]);
        let (u, k, k2, u2) = if i % 2 == 0 {
            let u = time(&from, &unknown_name);
            let k = time(&from, known_name);
            let k2 = time(&from, known_name2);
            (u, k, k2, time(&from, &unknown_name2))
        } else {
            let k = time(&from, known_name);
            let u = time(&from, &unknown_name);
            let u2 = time(&from, &unknown_name2);
            (u, k, time(&from, known_name2), u2)
        };
        if i >= 2 {
            // The first two rounds warm connections and caches up.
            unknown.extend([u, u2]);
            known.extend([k, k2]);
            ratios.push(((u + u2).as_secs_f64(), (k + k2).as_secs_f64()));
        }
    }
    let (u, k) = (median(unknown), median(known));
    let gap = (u.as_secs_f64() - k.as_secs_f64()).abs() / u.as_secs_f64().max(k.as_secs_f64());
    // Also a paired view: each two rounds (one of each order) compared on their own, so the
    // load of the moment cancels out; printed for the record.
    let mut paired: Vec<f64> = ratios
        .chunks(2)
        .map(|c| c.iter().map(|r| r.0).sum::<f64>() / c.iter().map(|r| r.1).sum::<f64>())
        .collect();
    paired.sort_by(f64::total_cmp);
    let paired = paired[paired.len() / 2];
    println!(
        "sign-in timing: unknown name median {:.1} ms, known name with a wrong password {:.1} ms \
         ({:.1} % apart); median ratio unknown/known over pairs of rounds {paired:.3}",
        u.as_secs_f64() * 1e3,
        k.as_secs_f64() * 1e3,
        gap * 100.0
    );
    assert!(
        gap < 0.10,
        "unknown {u:?} and known {k:?} medians differ by {:.0} %",
        gap * 100.0
    );
}

/// More requests in flight than the server takes: the extra ones are answered 503 with
/// `Retry-After` at once (not queued), and the server serves again when the load is gone.
/// Uploads have their own, smaller limit.
#[test]
fn requests_beyond_the_in_flight_limit_get_503_at_once() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = process(dir.path(), "in_flight");
    let api = api_for(&server.url());
    let admin = api.admin();
    let device = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let port = server.port;

    // Slow requests: a head that promises a body which never comes.
    let slow = |path: &str, token: Option<&str>| {
        let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connects");
        // Short: the busy answers are already there when they are read; a held request
        // answers nothing until its 15 s timeout.
        s.set_read_timeout(Some(Duration::from_millis(20)))
            .expect("timeout");
        let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
        let head = format!(
            "POST /api/v1{path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}\
             Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{{"
        );
        s.write_all(head.as_bytes()).expect("head");
        s
    };
    let busy_answers = |conns: &mut Vec<TcpStream>| {
        let mut busy = 0;
        for c in conns.iter_mut() {
            if let Ok((status, head, _)) = read_answer(c) {
                assert_eq!(status, 503, "only busy answers come early");
                assert!(head.contains("retry-after:"), "503 with Retry-After");
                busy += 1;
            }
        }
        busy
    };

    let extra = 20;
    let mut held: Vec<TcpStream> = (0..MAX_IN_FLIGHT + extra)
        .map(|_| slow("/sessions", None))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let busy = busy_answers(&mut held);
    println!(
        "in-flight limit: {} slow sign-ins held, {busy} answered 503 at once",
        MAX_IN_FLIGHT + extra
    );
    assert!(busy >= extra / 2, "{busy} busy answers");
    let resp =
        reqwest::blocking::get(format!("{}/api/v1/openapi.json", server.url())).expect("answers");
    assert_eq!(resp.status().as_u16(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    drop(held);

    // Uploads: their own limit, well below the total.
    std::thread::sleep(Duration::from_millis(500));
    let mut uploads: Vec<TcpStream> = (0..MAX_HEAVY + extra)
        .map(|_| slow("/device/batches", Some(&device.token)))
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    let busy = busy_answers(&mut uploads);
    println!(
        "upload limit: {} slow uploads held, {busy} answered 503 at once",
        MAX_HEAVY + extra
    );
    assert!(busy >= extra / 2, "{busy} busy answers to uploads");
    drop(uploads);

    // The load is gone: the server answers again.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let status = reqwest::blocking::get(format!("{}/api/v1/openapi.json", server.url()))
            .expect("answers")
            .status()
            .as_u16();
        if status == 200 {
            break;
        }
        assert!(Instant::now() < deadline, "still {status} after the load");
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sign-in and enrolment bodies are small: 16 KiB at most, refused by their declared size.
#[test]
fn small_calls_refuse_big_bodies() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(
        dir.path().join("small.sqlite").display().to_string(),
        dir.path().join("small.data"),
    );
    let client = reqwest::blocking::Client::new();
    for path in ["/sessions", "/enrol"] {
        let big = serde_json::json!({ "username": "x".repeat(100 << 10), "password": "y" });
        let resp = client
            .post(format!("{}{path}", server.base))
            .json(&big)
            .send()
            .expect("answers");
        assert_eq!(resp.status().as_u16(), 413, "{path}");
        let err: ApiError = resp.json().expect("ApiError");
        assert_eq!(err.code, ErrorCode::PayloadTooLarge, "{path}");
    }
}

/// A zstd bomb: a small signed batch whose payload decompresses to 48 MiB. Ingest opens
/// batches with a 16 MiB cap and refuses it for good (`payload_too_large`); before, the seal
/// crate's general 64 MiB let it decompress whole.
#[test]
fn a_compression_bomb_is_refused() {
    let _serial = one_at_a_time();
    let dir = tempfile::tempdir().expect("temp dir");
    let server = TestServer::start(
        dir.path().join("bomb.sqlite").display().to_string(),
        dir.path().join("bomb.data"),
    );
    let api = server.api();
    let admin = api.admin();
    let device = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));
    let (_, summary) = interview(&device.assignments[0], device.enumerator.id);
    let payload = vec![b' '; 48 << 20];
    let input = fieldpost_seal::SealInput {
        batch_id: uuid::Uuid::now_v7(),
        device_id: device.id,
        sequence: 1,
        created_at: chrono::Utc::now(),
        interviews: std::slice::from_ref(&summary),
        payload: &payload,
    };
    let bomb = fieldpost_seal::seal_with_limits(
        &input,
        &device.key,
        &device.recipients,
        &fieldpost_seal::Limits {
            max_payload_bytes: 64 << 20,
        },
    )
    .expect("seals");
    println!(
        "compression bomb: {} bytes sealed, {} MiB inside",
        bomb.len(),
        payload.len() >> 20
    );
    assert!(bomb.len() < 1 << 20);
    let (status, err) = device.upload(&api, bomb).expect_err("refused");
    assert_eq!(status, 413);
    assert_eq!(err.code, ErrorCode::PayloadTooLarge);
}

/// The figures behind the batch limits, measured: one device completes 200 SIPAS interviews
/// through the app's own store, sealing and sync (paradata included), and each archived batch
/// is opened to see its size sealed and decompressed. The largest batch a device seals holds
/// 200 interviews; scaled to that, it must fit the body limit and ingest's payload cap at
/// least four times over.
#[test]
fn a_full_batch_fits_the_limits_with_room_to_spare() {
    let _serial = one_at_a_time();
    use fieldpost_app_core::sync::simulate::{SimConfig, simulate};
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("measure.data");
    let server = TestServer::start(
        dir.path().join("measure.sqlite").display().to_string(),
        data_dir.clone(),
    );
    let url = server.base.trim_end_matches("/api/v1").to_string();
    let report = simulate(&SimConfig {
        server: url,
        devices: 1,
        interviews: 200,
        seed: 3,
        work_dir: dir.path().join("devices"),
        form_dir: concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets/forms/sipas").into(),
        upload_server: None,
        backoff: None,
    })
    .expect("simulates");
    assert_eq!(report.acked, report.completed);
    let identity = fieldpost_seal::Identity::from_file_text(
        &std::fs::read_to_string(fieldpost_server::serve::server_identity_path(&data_dir))
            .expect("server identity"),
    )
    .expect("identity");
    let archive =
        fieldpost_server::archive::Archive::open(&fieldpost_server::serve::archive_dir(&data_dir))
            .expect("archive");
    let (mut sealed_per, mut payload_per, mut largest) = (0f64, 0f64, 0usize);
    for path in archive.batches().expect("batches") {
        let bytes = std::fs::read(&path).expect("batch");
        let opened = fieldpost_seal::open_unverified(
            &bytes,
            std::slice::from_ref(&identity),
            &fieldpost_seal::Limits::default(),
        )
        .expect("opens");
        let n = opened.header.interviews.len().max(1) as f64;
        largest = largest.max(opened.header.interviews.len());
        sealed_per = sealed_per.max(bytes.len() as f64 / n);
        payload_per = payload_per.max(opened.payload.len() as f64 / n);
    }
    let (sealed_200, payload_200) = (sealed_per * 200.0, payload_per * 200.0);
    println!(
        "batch size: largest batch {largest} interviews; per interview at most {sealed_per:.0} bytes \
         sealed, {payload_per:.0} bytes of payload JSON; a 200-interview batch: about {:.0} KiB \
         sealed (limit {} KiB), {:.0} KiB decompressed (cap {} KiB)",
        sealed_200 / 1024.0,
        BATCH_BODY_BYTES >> 10,
        payload_200 / 1024.0,
        fieldpost_server::ingest::MAX_PAYLOAD_BYTES >> 10
    );
    assert!(sealed_200 * 4.0 < BATCH_BODY_BYTES as f64);
    assert!(payload_200 * 4.0 < fieldpost_server::ingest::MAX_PAYLOAD_BYTES as f64);
}

// ---- The account life cycle, on both backends ----

type Case = fn(&TestServer);

const ACCOUNT_CASES: &[(&str, Case)] = &[
    ("sign_out_ends_the_session", sign_out_ends_the_session),
    (
        "a_disabled_account_cannot_sign_in",
        a_disabled_account_cannot_sign_in,
    ),
    (
        "passwords_are_changed_and_reset",
        passwords_are_changed_and_reset,
    ),
    ("expired_sessions_are_removed", expired_sessions_are_removed),
];

fn run_account_cases(backend: Backend) {
    let dir = tempfile::tempdir().expect("temp dir");
    for (name, case) in ACCOUNT_CASES {
        let db = backend.fresh_db(dir.path(), name);
        let server = TestServer::start(db, dir.path().join(format!("{name}.data")));
        eprintln!("case {name}");
        case(&server);
    }
}

#[test]
fn accounts_on_sqlite() {
    let _serial = one_at_a_time();
    run_account_cases(Backend::Sqlite);
}

#[test]
fn accounts_on_postgres() {
    let _serial = one_at_a_time();
    run_account_cases(Backend::Postgres(common::postgres::Postgres::start()));
}

fn delete(api: &Api, path: &str, token: &str) -> u16 {
    api.client
        .delete(format!("{}{path}", api.base))
        .bearer_auth(token)
        .send()
        .expect("sends")
        .status()
        .as_u16()
}

fn put<B: serde::Serialize, T: serde::de::DeserializeOwned>(
    api: &Api,
    path: &str,
    token: &str,
    body: &B,
) -> Answer<T> {
    let resp = api
        .client
        .put(format!("{}{path}", api.base))
        .bearer_auth(token)
        .json(body)
        .send()
        .expect("sends");
    let status = resp.status().as_u16();
    let bytes = resp.bytes().expect("body");
    if status == 200 {
        Ok(serde_json::from_slice(&bytes).expect("reply"))
    } else {
        Err((status, serde_json::from_slice(&bytes).expect("ApiError")))
    }
}

fn try_login(api: &Api, username: &str, password: &str) -> Answer<LoginResponse> {
    api.post(
        "/sessions",
        None,
        &LoginRequest {
            username: username.into(),
            password: password.into(),
        },
    )
}

fn surveys(api: &Api, token: &str) -> u16 {
    match api.get::<Vec<Survey>>("/surveys", Some(token)) {
        Ok(_) => 200,
        Err((status, _)) => status,
    }
}

fn new_coordinator(api: &Api, admin: &str, name: &str, password: &str) -> Account {
    api.post(
        "/accounts",
        Some(admin),
        &NewAccount {
            username: name.into(),
            password: password.into(),
            role: Role::Coordinator,
            province: Some("01".into()),
        },
    )
    .expect("creates")
}

fn sign_out_ends_the_session(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    new_coordinator(&api, &admin, "leaver", "first password");
    let a = api.login("leaver", "first password");
    let b = api.login("leaver", "first password");
    assert_eq!(surveys(&api, &a), 200);
    assert_eq!(delete(&api, "/sessions", &a), 200);
    assert_eq!(surveys(&api, &a), 401, "the signed-out token is dead");
    assert_eq!(surveys(&api, &b), 200, "other sessions go on");
    assert_eq!(delete(&api, "/sessions", &a), 401, "signing out twice");
}

fn a_disabled_account_cannot_sign_in(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let acc = new_coordinator(&api, &admin, "paused", "the password");
    let token = api.login("paused", "the password");
    // Its enumerator colleague's device, to see device tokens after disabling enum1.
    let device = Device::enrol(&api, &api.enrolment_code(&admin, "enum1"));

    let info: AccountInfo = api
        .post(&format!("/accounts/{}/disable", acc.id), Some(&admin), &())
        .expect("disables");
    assert!(info.disabled_at.is_some());
    assert_eq!(surveys(&api, &token), 401, "its sessions stop working");
    let (status, err) = try_login(&api, "paused", "the password").expect_err("refused");
    assert_eq!((status, err.code), (403, ErrorCode::Forbidden));
    let (status, _) = try_login(&api, "paused", "a wrong one").expect_err("refused");
    assert_eq!(status, 401, "a wrong password tells nothing more");
    let listed: Vec<AccountInfo> = api.get("/accounts", Some(&admin)).expect("lists");
    let row = listed
        .iter()
        .find(|a| a.account.id == acc.id)
        .expect("listed");
    assert!(row.disabled_at.is_some());

    // Only an admin disables; an admin not themself.
    let (status, _) = api
        .post::<_, AccountInfo>(&format!("/accounts/{}/enable", acc.id), Some(&token), &())
        .expect_err("not with a dead session");
    assert_eq!(status, 401);
    let me = listed
        .iter()
        .find(|a| a.account.username == DEMO_ADMIN)
        .expect("admin");
    let (status, _) = api
        .post::<_, AccountInfo>(
            &format!("/accounts/{}/disable", me.account.id),
            Some(&admin),
            &(),
        )
        .expect_err("not oneself");
    assert_eq!(status, 409);

    let _: AccountInfo = api
        .post(&format!("/accounts/{}/enable", acc.id), Some(&admin), &())
        .expect("enables");
    let token = api.login("paused", "the password");
    assert_eq!(surveys(&api, &token), 200);
    let coordinator_tries: Answer<AccountInfo> =
        api.post(&format!("/accounts/{}/disable", acc.id), Some(&token), &());
    assert_eq!(coordinator_tries.expect_err("admins only").0, 403);

    // A disabled enumerator's device keeps uploading what it holds (chosen: its outbox holds
    // interviews already done; revoke the device to stop it).
    let enum1 = listed
        .iter()
        .find(|a| a.account.username == "enum1")
        .expect("enum1");
    let _: AccountInfo = api
        .post(
            &format!("/accounts/{}/disable", enum1.account.id),
            Some(&admin),
            &(),
        )
        .expect("disables enum1");
    let mut device = device;
    let (bytes, _) = device.batch(1);
    device
        .upload(&api, bytes)
        .expect("a disabled enumerator's device still uploads");
    // ... but the account gets no new device.
    let survey_id = api.survey_id(&admin);
    let refused: Answer<EnrolmentCode> = api.post(
        "/enrolment-codes",
        Some(&admin),
        &NewEnrolmentCode {
            survey_id,
            enumerator: "enum1".into(),
        },
    );
    assert_eq!(refused.expect_err("no code for a disabled account").0, 409);
}

fn passwords_are_changed_and_reset(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let acc = new_coordinator(&api, &admin, "changer", "old password");
    let here = api.login("changer", "old password");
    let elsewhere = api.login("changer", "old password");

    let wrong: Answer<serde_json::Value> = put(
        &api,
        "/account/password",
        &here,
        &PasswordChange {
            old_password: "not it".into(),
            new_password: "new password".into(),
        },
    );
    assert_eq!(wrong.expect_err("old password checked").0, 401);
    let short: Answer<serde_json::Value> = put(
        &api,
        "/account/password",
        &here,
        &PasswordChange {
            old_password: "old password".into(),
            new_password: "short".into(),
        },
    );
    assert_eq!(short.expect_err("too short").0, 400);
    let _: serde_json::Value = put(
        &api,
        "/account/password",
        &here,
        &PasswordChange {
            old_password: "old password".into(),
            new_password: "new password".into(),
        },
    )
    .expect("changes");
    assert_eq!(surveys(&api, &here), 200, "this session stays");
    assert_eq!(surveys(&api, &elsewhere), 401, "other sessions end");
    assert_eq!(
        try_login(&api, "changer", "old password")
            .expect_err("old")
            .0,
        401
    );
    let current = api.login("changer", "new password");

    // The admin resets it (a forgotten password): every session of the account ends.
    let _: AccountInfo = put(
        &api,
        &format!("/accounts/{}/password", acc.id),
        &admin,
        &PasswordReset {
            new_password: "from the admin".into(),
        },
    )
    .expect("resets");
    assert_eq!(surveys(&api, &current), 401);
    api.login("changer", "from the admin");
    let not_admin: Answer<AccountInfo> = put(
        &api,
        &format!("/accounts/{}/password", acc.id),
        &api.login("changer", "from the admin"),
        &PasswordReset {
            new_password: "self-service".into(),
        },
    );
    assert_eq!(not_admin.expect_err("admins only").0, 403);
}

fn expired_sessions_are_removed(s: &TestServer) {
    let api = s.api();
    let admin = api.admin();
    let acc = new_coordinator(&api, &admin, "sleeper", "the password");
    let storage = fieldpost_server::storage::Storage::open(&s.db).expect("opens");
    let expired = "fps_expired-session-token";
    let hash = fieldpost_server::auth::token_hash(expired);
    storage
        .create_session(
            &hash,
            acc.id,
            chrono::Utc::now() - chrono::Duration::hours(1),
        )
        .expect("an old session");
    assert_eq!(surveys(&api, expired), 401, "an expired session is refused");
    assert_eq!(storage.session_count(acc.id).expect("count"), 1);
    // Any sign-in sweeps expired sessions away.
    api.login(DEMO_ADMIN, DEMO_ADMIN_PASSWORD);
    assert_eq!(
        storage.session_count(acc.id).expect("count"),
        0,
        "the expired session's row is gone"
    );
}
