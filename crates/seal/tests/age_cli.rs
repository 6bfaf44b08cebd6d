//! The ciphertext inside a batch is a standard age file: the `age` tool (Debian package `age`)
//! opens it, and the escrow script opens a whole batch with coreutils, age and zstd alone.

mod common;

use common::{Fixture, layout};
use std::io::Write;
use std::os::unix::fs::PermissionsExt;
use std::process::{Command, Stdio};

fn have(tool: &str) -> bool {
    Command::new(tool)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

fn skip_loudly(tool: &str) -> bool {
    if have(tool) {
        return false;
    }
    eprintln!(
        "\n!!!!! SKIPPED: the `{tool}` binary is not installed (apt-get install age zstd); the age interoperability check did NOT run !!!!!\n"
    );
    true
}

fn identity_file(dir: &std::path::Path, f: &Fixture) -> std::path::PathBuf {
    let path = dir.join("escrow.key");
    let mut file = std::fs::File::create(&path).expect("create");
    writeln!(
        file,
        "# public key: {}\n{}",
        f.escrow.to_public(),
        f.escrow.to_secret_string()
    )
    .expect("write");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).expect("chmod");
    path
}

#[test]
fn age_tool_decrypts_the_extracted_ciphertext() {
    if skip_loudly("age") {
        return;
    }
    let f = Fixture::new();
    let batch = f.batch();
    let (_, _, start, len) = layout(&batch);
    let dir = tempfile::tempdir().expect("tempdir");
    let cipher = dir.path().join("payload.age");
    std::fs::write(&cipher, &batch[start..start + len]).expect("write");
    let key = identity_file(dir.path(), &f);
    let out = Command::new("age")
        .arg("-d")
        .arg("-i")
        .arg(&key)
        .arg(&cipher)
        .output()
        .expect("run age");
    assert!(
        out.status.success(),
        "age failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    // What age gives is zstd data: a skippable frame (length and SHA-256), then the payload frame.
    assert_eq!(&out.stdout[..4], &[0x50, 0x2A, 0x4D, 0x18]);
    if skip_loudly("zstd") {
        return;
    }
    let mut z = Command::new("zstd")
        .args(["-d", "-q", "-c"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("zstd");
    z.stdin
        .take()
        .expect("stdin")
        .write_all(&out.stdout)
        .expect("pipe");
    let plain = z.wait_with_output().expect("zstd output");
    assert!(plain.status.success());
    assert_eq!(plain.stdout, f.payload);
}

#[test]
fn escrow_script_opens_a_batch_without_fieldpost() {
    if skip_loudly("age") || skip_loudly("zstd") {
        return;
    }
    let f = Fixture::new();
    let dir = tempfile::tempdir().expect("tempdir");
    let batch = dir.path().join("0001.fpb");
    std::fs::write(&batch, f.batch()).expect("write");
    let key = identity_file(dir.path(), &f);
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tools/open-with-age.sh");
    let out = Command::new("sh")
        .arg(script)
        .arg(&batch)
        .arg(&key)
        .output()
        .expect("run script");
    assert!(
        out.status.success(),
        "script failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.stdout, f.payload);
    // A file that is not a batch is refused with a message, not garbage.
    std::fs::write(&batch, b"hello").expect("write");
    let out = Command::new("sh")
        .arg(script)
        .arg(&batch)
        .arg(&key)
        .output()
        .expect("run script");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a FieldPost sealed batch"));
}
