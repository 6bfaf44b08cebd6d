//! `fieldpost keys` and `fieldpost archive open`, run as the real binary on real files.

use fieldpost_seal::{DeviceSigningKey, Identity, InterviewSummary, Recipient, SealInput, seal};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::{Command, Output};

fn fieldpost(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fieldpost"))
        .args(args)
        .output()
        .expect("run fieldpost")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("metadata").permissions().mode() & 0o777
}

fn seal_batch(
    device: &DeviceSigningKey,
    recipients: &[Recipient],
    sequence: u64,
    payload: &[u8],
) -> Vec<u8> {
    let interviews = [InterviewSummary {
        interview_id: uuid::Uuid::now_v7(),
        province: "79".into(),
        commune: "26734".into(),
        stratum: "urban".into(),
        status: "completed".into(),
        enumerator_id: uuid::Uuid::now_v7(),
        questionnaire_version: "sipas-2024.1".into(),
    }];
    let input = SealInput {
        batch_id: uuid::Uuid::now_v7(),
        device_id: uuid::Uuid::now_v7(),
        sequence,
        created_at: chrono::Utc::now(),
        interviews: &interviews,
        payload,
    };
    seal(&input, device, recipients).expect("seal")
}

#[test]
fn keys_new_writes_a_private_file_and_never_overwrites() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("escrow.key");
    let out = fieldpost(&["keys", "new", "--out", key.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let public = text(&out.stdout).trim().to_string();
    assert!(public.starts_with("age1"), "{public}");
    assert_eq!(mode(&key), 0o600);
    let content = std::fs::read_to_string(&key).expect("read");
    let identity = Identity::from_file_text(&content).expect("identity");
    assert_eq!(identity.to_public().to_string(), public);

    let again = fieldpost(&["keys", "new", "--out", key.to_str().expect("path")]);
    assert_eq!(again.status.code(), Some(2));
    assert!(
        text(&again.stderr).contains("already exists"),
        "{}",
        text(&again.stderr)
    );
    assert_eq!(
        std::fs::read_to_string(&key).expect("read"),
        content,
        "the key was not replaced"
    );

    let dev = dir.path().join("device.pk8");
    let out = fieldpost(&["keys", "device-new", "--out", dev.to_str().expect("path")]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(mode(&dev), 0o600);
    let device = DeviceSigningKey::from_pkcs8(&std::fs::read(&dev).expect("read")).expect("pkcs8");
    assert_eq!(device.public_key().to_string(), text(&out.stdout).trim());
}

#[test]
fn archive_open_decrypts_with_the_escrow_key() {
    let dir = tempfile::tempdir().expect("tempdir");
    let key = dir.path().join("escrow.key");
    let out = fieldpost(&["keys", "new", "--out", key.to_str().expect("path")]);
    let escrow: Recipient = text(&out.stdout).trim().parse().expect("public key");
    let server = Identity::generate();
    let device = DeviceSigningKey::generate().expect("device");
    let recipients = [server.to_public(), escrow];
    let (p1, p2) = (br#"{"interviews":[1]}"#, br#"{"interviews":[2]}"#);
    let b1 = dir.path().join("1.fpb");
    let b2 = dir.path().join("2.fpb");
    std::fs::write(&b1, seal_batch(&device, &recipients, 1, p1)).expect("write");
    std::fs::write(&b2, seal_batch(&device, &recipients, 2, p2)).expect("write");
    let (k, f1, f2) = (
        key.to_str().expect("p"),
        b1.to_str().expect("p"),
        b2.to_str().expect("p"),
    );

    // To standard output, signature not checked, and said so.
    let out = fieldpost(&["archive", "open", "--identity", k, f1, f2]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), format!("{}\n{}\n", text(p1), text(p2)));
    assert_eq!(
        text(&out.stderr).matches("signature NOT checked").count(),
        2,
        "{}",
        text(&out.stderr)
    );

    // To a folder, with the device key: verified, files private.
    let opened = dir.path().join("opened");
    let pk = device.public_key().to_string();
    let out = fieldpost(&[
        "archive",
        "open",
        "--identity",
        k,
        "--device-key",
        &pk,
        "--out",
        opened.to_str().expect("p"),
        f1,
    ]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("signature verified"));
    let header = fieldpost_seal::peek_header(&std::fs::read(&b1).expect("read")).expect("header");
    let payload = opened.join(format!("{}.payload", header.batch_id));
    assert_eq!(std::fs::read(&payload).expect("payload"), p1);
    assert_eq!(mode(&payload), 0o600);
    assert!(
        opened
            .join(format!("{}.header.json", header.batch_id))
            .exists()
    );

    // Another device's key: refused with the reason, exit 1.
    let other = DeviceSigningKey::generate()
        .expect("key")
        .public_key()
        .to_string();
    let out = fieldpost(&[
        "archive",
        "open",
        "--identity",
        k,
        "--device-key",
        &other,
        f1,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("signature does not verify"),
        "{}",
        text(&out.stderr)
    );
    assert!(out.stdout.is_empty(), "nothing unverified is printed");

    // A key that is not a recipient: refused, the other batch still opens.
    let stranger = dir.path().join("stranger.key");
    fieldpost(&["keys", "new", "--out", stranger.to_str().expect("p")]);
    let out = fieldpost(&[
        "archive",
        "open",
        "--identity",
        stranger.to_str().expect("p"),
        f1,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("none of the given identities"),
        "{}",
        text(&out.stderr)
    );

    // A missing identity file is a usage error.
    let out = fieldpost(&["archive", "open", "--identity", "/nonexistent.key", f1]);
    assert_eq!(out.status.code(), Some(2));
}
