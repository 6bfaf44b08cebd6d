//! The accept loop every server of this crate runs (`serve::run_http`): handlers see the peer's
//! address, HTTPS works with a certificate made now, a client that never finishes its request
//! head is cut off, and `fieldpost-server` refuses half or broken TLS options before it starts.

mod common;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::routing::get;
use fieldpost_server::serve::{HEADER_READ_TIMEOUT, run_http};
use fieldpost_server::tls::TlsFiles;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// A router that answers with the peer address its handler was given.
fn echo_peer() -> Router {
    Router::new().route(
        "/peer",
        get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.to_string() }),
    )
}

/// Serves `app` with `run_http` on 127.0.0.1 in a runtime of its own; returns its address.
fn serve(
    runtime: &tokio::runtime::Runtime,
    tls: Option<std::sync::Arc<rustls::ServerConfig>>,
    app: Router,
) -> SocketAddr {
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .expect("binds");
    let addr = listener.local_addr().expect("address");
    runtime.spawn(run_http(listener, tls, app, std::future::pending()));
    addr
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime")
}

#[test]
fn handlers_see_the_peer_address_over_http_and_https() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let certs = common::certs::make(dir.path(), "listen");
    let tls = TlsFiles {
        cert: certs.cert.clone(),
        key: certs.key.clone(),
    }
    .server_config()
    .expect("the PEM files load");
    let plain = serve(&rt, None, echo_peer());
    let https = serve(&rt, Some(tls), echo_peer());

    // Plain: the body is the address of our own end of the connection.
    let mut stream = TcpStream::connect(plain).expect("connects");
    let ours = stream.local_addr().expect("local address");
    stream
        .write_all(b"GET /peer HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .expect("writes");
    let mut reply = String::new();
    stream.read_to_string(&mut reply).expect("reads");
    assert!(reply.starts_with("HTTP/1.1 200"), "{reply}");
    assert!(reply.ends_with(&ours.to_string()), "{reply}");

    // HTTPS, trusting the test CA only.
    let ca = reqwest::Certificate::from_pem(&std::fs::read(&certs.ca).expect("CA")).expect("CA");
    let client = reqwest::blocking::Client::builder()
        .add_root_certificate(ca)
        .tls_built_in_root_certs(false)
        .build()
        .expect("client");
    let body = client
        .get(format!("https://127.0.0.1:{}/peer", https.port()))
        .send()
        .expect("an HTTPS request")
        .text()
        .expect("body");
    assert!(body.starts_with("127.0.0.1:"), "{body}");
    // Plain HTTP to the HTTPS port gets no HTTP answer.
    let plain_to_tls = reqwest::blocking::get(format!("http://127.0.0.1:{}/peer", https.port()));
    assert!(plain_to_tls.is_err(), "{plain_to_tls:?}");
}

/// How long the server keeps a connection whose request head never ends (a slow loris).
fn held_for(addr: SocketAddr) -> Duration {
    let mut stream = TcpStream::connect(addr).expect("connects");
    stream
        .set_read_timeout(Some(HEADER_READ_TIMEOUT * 3))
        .expect("timeout");
    let started = Instant::now();
    stream
        .write_all(b"GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Slow: ")
        .expect("writes");
    let mut buf = [0u8; 256];
    // The server closes (0 bytes) or answers 408 and closes; a read timeout means it held on.
    loop {
        match stream.read(&mut buf) {
            Ok(0) => return started.elapsed(),
            Ok(_) => continue,
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut =>
            {
                return started.elapsed();
            }
            Err(_) => return started.elapsed(),
        }
    }
}

#[test]
fn a_client_that_never_finishes_its_headers_is_cut_off() {
    let rt = runtime();
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("server.sqlite").display().to_string();
    let (url, _) =
        fieldpost_server::demo::serve_in(&rt, &db, &dir.path().join("data")).expect("demo server");
    let addr: SocketAddr = url
        .trim_start_matches("http://")
        .parse()
        .expect("an address");
    let held = held_for(addr);
    println!(
        "a slow-loris connection was held {:.1} s",
        held.as_secs_f64()
    );
    assert!(
        held >= HEADER_READ_TIMEOUT - Duration::from_secs(1)
            && held < HEADER_READ_TIMEOUT + Duration::from_secs(5),
        "held for {held:?}"
    );
}

#[test]
fn half_or_broken_tls_options_are_refused_before_the_server_starts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = dir.path().join("never.sqlite");
    let junk = dir.path().join("junk.pem");
    std::fs::write(&junk, "not a certificate\n").expect("writes");
    let certs = common::certs::make(dir.path(), "half");
    let run = |extra: &[&std::ffi::OsStr]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_fieldpost-server"))
            .arg("--db")
            .arg(&db)
            .args(["--listen", "127.0.0.1:0"])
            .args(extra)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stderr).to_string(),
        )
    };
    let (code, err) = run(&["--tls-cert".as_ref(), certs.cert.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-key"), "{err}");
    let (code, err) = run(&["--tls-key".as_ref(), certs.key.as_os_str()]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("--tls-cert"), "{err}");
    let (code, err) = run(&[
        "--tls-cert".as_ref(),
        junk.as_os_str(),
        "--tls-key".as_ref(),
        certs.key.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("junk.pem"), "{err}");
    let missing = dir.path().join("missing.key");
    let (code, err) = run(&[
        "--tls-cert".as_ref(),
        certs.cert.as_os_str(),
        "--tls-key".as_ref(),
        missing.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(err.contains("missing.key"), "{err}");
    // A key that is not the certificate's.
    let other = common::certs::make(dir.path(), "other");
    let (code, err) = run(&[
        "--tls-cert".as_ref(),
        certs.cert.as_os_str(),
        "--tls-key".as_ref(),
        other.key.as_os_str(),
    ]);
    assert_eq!(code, Some(2), "{err}");
    assert!(
        !db.exists(),
        "nothing was created before the TLS files were checked"
    );
}
