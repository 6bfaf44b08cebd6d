//! `fieldpost serve --demo`: a ready-to-try survey, so the app and the simulator work against a
//! fresh server with no set-up. Never use it for real data: the demo passwords are public.
//!
//! Seeds (once; later starts only print fresh enrolment codes): the SIPAS 2024 questionnaire,
//! the province and commune code lists, a sample in two provinces (Hà Nội 01, Hồ Chí Minh 79)
//! with one reserve per official assignment, an admin, two enumerators, a coordinator per
//! province, a recheck team, and the survey's server and escrow keys.

use crate::auth;
use crate::http::admin_issue_enrolment_code;
use crate::questionnaire::load_questionnaire;
use crate::serve::server_identity_path;
use crate::storage::{NewAssignment, Storage};
use fieldpost_proto::v1::{CodeEntry, RecipientKey, Role};
use fieldpost_seal::Identity;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Code of the demo survey.
pub const DEMO_SURVEY: &str = "sipas-2024-demo";
/// The questionnaire version recorded by interviews; equals `version` in the form's settings.
pub const DEMO_QUESTIONNAIRE_VERSION: &str = "2024.1";
/// Demo admin: public on purpose, so `fieldpost simulate` can set itself up.
pub const DEMO_ADMIN: &str = "admin";
pub const DEMO_ADMIN_PASSWORD: &str = "fieldpost-demo-admin";
/// Demo enumerators' and coordinators' password.
pub const DEMO_PASSWORD: &str = "fieldpost-demo";
/// Provinces of the demo sample, with the enumerator who works in each.
pub const DEMO_PROVINCES: [(&str, &str); 2] = [("01", "enum1"), ("79", "enum2")];
/// Communes per province and official assignments per commune in the demo sample.
const COMMUNES_PER_PROVINCE: usize = 4;
const OFFICIAL_PER_COMMUNE: usize = 10;

/// Where the shipped assets are: as given, `$FIELDPOST_ASSETS`, `./assets`, or the source tree.
pub fn assets_dir(given: Option<&Path>) -> PathBuf {
    if let Some(g) = given {
        return g.to_path_buf();
    }
    if let Ok(env) = std::env::var("FIELDPOST_ASSETS") {
        return PathBuf::from(env);
    }
    let local = PathBuf::from("assets");
    if local.join("codelists").is_dir() {
        return local;
    }
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../assets"))
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

/// A demo server inside `runtime` on a free loopback port, for the tests and benchmarks that
/// want a real HTTP server without a child process: opens `db`, seeds the demo, reopens it with
/// the demo's keys and serves. Returns the base URL (`http://127.0.0.1:PORT`) and what
/// [`seed`] printed (the enrolment codes).
pub fn serve_in(
    runtime: &tokio::runtime::Runtime,
    db: &str,
    data_dir: &Path,
) -> Result<(String, String), String> {
    let ingest = crate::serve::open(db, Some(data_dir), &[]).map_err(|e| e.to_string())?;
    let report = seed(&ingest.storage, data_dir, None)?;
    // Again, now that the data folder holds the server's key.
    let ingest = crate::serve::open(db, Some(data_dir), &[]).map_err(|e| e.to_string())?;
    let identity = std::sync::Arc::new(
        crate::identity::ServerIdentity::load_or_create(data_dir).map_err(|e| e.to_string())?,
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind("127.0.0.1:0"))
        .map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    runtime.spawn(async move {
        // The same accept loop as `fieldpost serve` (peer addresses, header-read timeout).
        let app = crate::http::router(crate::http::AppState { ingest, identity });
        let _ = crate::serve::run_http(listener, None, app, std::future::pending()).await;
    });
    Ok((format!("http://{addr}"), report))
}

/// Seeds the demo when absent and returns what to print (accounts, codes, keys).
pub fn seed(storage: &Storage, data_dir: &Path, assets: Option<&Path>) -> Result<String, String> {
    let e = |e: crate::storage::StorageError| e.to_string();
    let assets = assets_dir(assets);
    let existing = storage
        .surveys()
        .map_err(e)?
        .into_iter()
        .find(|s| s.code == DEMO_SURVEY);
    let survey = match existing {
        Some(s) => s,
        None => {
            let xlsx = read(&assets.join("forms").join("sipas-2024.xlsx"))?;
            let (provinces, communes) = codelists(&assets)?;
            let survey = storage
                .create_survey(DEMO_SURVEY, "SIPAS 2024 (demo: never enter real data)")
                .map_err(e)?;
            storage.put_codelist("province", &provinces).map_err(e)?;
            storage.put_codelist("commune", &communes).map_err(e)?;
            load_questionnaire(storage, survey.id, DEMO_QUESTIONNAIRE_VERSION, &xlsx)
                .map_err(|x| x.to_string())?;
            let admin_hash = auth::hash_password(DEMO_ADMIN_PASSWORD).map_err(|x| x.to_string())?;
            let hash = auth::hash_password(DEMO_PASSWORD).map_err(|x| x.to_string())?;
            storage
                .create_account(DEMO_ADMIN, &admin_hash, Role::Admin, None)
                .map_err(e)?;
            for (province, enumerator) in DEMO_PROVINCES {
                storage
                    .create_account(enumerator, &hash, Role::Enumerator, None)
                    .map_err(e)?;
                let coord = format!("coord{province}");
                storage
                    .create_account(&coord, &hash, Role::Coordinator, Some(province))
                    .map_err(e)?;
            }
            storage
                .create_account("recheck01", &hash, Role::RecheckTeam, Some("01"))
                .map_err(e)?;
            storage
                .insert_assignments(survey.id, &sample(&communes))
                .map_err(e)?;
            for (purpose, file) in [
                ("server", server_identity_path(data_dir)),
                ("escrow", data_dir.join("escrow-identity.txt")),
            ] {
                let id = Identity::generate();
                write_secret(&file, &id)?;
                let public = id.to_public();
                let key = RecipientKey {
                    public_key: public.to_string(),
                    key_id: public.key_id(),
                    purpose: purpose.into(),
                };
                storage.set_recipient(survey.id, &key).map_err(e)?;
            }
            survey
        }
    };
    let mut out = String::new();
    let _ = writeln!(
        out,
        "demo: survey {} id={} (demo data only: these passwords are public)",
        survey.code, survey.id
    );
    let _ = writeln!(
        out,
        "demo: admin username={DEMO_ADMIN} password={DEMO_ADMIN_PASSWORD}"
    );
    let fingerprint = crate::identity::ServerIdentity::load_or_create(data_dir)
        .map_err(|e| e.to_string())?
        .fingerprint();
    let _ = writeln!(
        out,
        "demo: server fingerprint={fingerprint} (the device asks for it with the enrolment code)"
    );
    for (province, enumerator) in DEMO_PROVINCES {
        let code = admin_issue_enrolment_code(storage, survey.id, enumerator, &fingerprint)
            .map_err(|f| f.body.message)?;
        let _ = writeln!(
            out,
            "demo: enumerator username={enumerator} password={DEMO_PASSWORD} province={province} enrolment_code={} server_fingerprint={}",
            code.code, code.server_fingerprint
        );
        let _ = writeln!(
            out,
            "demo: coordinator username=coord{province} password={DEMO_PASSWORD} province={province}"
        );
    }
    let _ = writeln!(
        out,
        "demo: recheck team username=recheck01 password={DEMO_PASSWORD} province=01"
    );
    for r in storage.recipients(survey.id).map_err(e)? {
        let _ = write!(
            out,
            "demo: {} key {} (id {})",
            r.purpose, r.public_key, r.key_id
        );
        if r.purpose == "escrow" {
            let _ = write!(
                out,
                "; its private key is in {}: move it offline",
                data_dir.join("escrow-identity.txt").display()
            );
        }
        out.push('\n');
    }
    Ok(out.trim_end().to_string())
}

/// Writes an age identity file readable only by its owner (0600), as `age-keygen` does.
fn write_secret(path: &Path, id: &Identity) -> Result<(), String> {
    use std::io::Write;
    let text = format!(
        "# FieldPost recipient key, written by `fieldpost serve --demo`\n# public key: {}\n{}\n",
        id.to_public(),
        id.to_secret_string()
    );
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    let mut f = opts
        .open(path)
        .map_err(|e| format!("{}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .and_then(|()| f.sync_all())
        .map_err(|e| format!("{}: {e}", path.display()))
}

fn codelists(assets: &Path) -> Result<(Vec<CodeEntry>, Vec<CodeEntry>), String> {
    let load = |file: &str, code: &str, parent: Option<&str>| -> Result<Vec<CodeEntry>, String> {
        let path = assets.join("codelists").join(file);
        let bytes = read(&path)?;
        let mut rdr = csv::Reader::from_reader(bytes.as_slice());
        let headers = rdr
            .headers()
            .map_err(|e| format!("{}: {e}", path.display()))?
            .clone();
        let col = |name: &str| {
            headers
                .iter()
                .position(|h| h == name)
                .ok_or_else(|| format!("{}: no column {name}", path.display()))
        };
        let (ci, ni) = (col(code)?, col("name")?);
        let pi = parent.map(col).transpose()?;
        let mut out = Vec::new();
        for rec in rdr.records() {
            let rec = rec.map_err(|e| format!("{}: {e}", path.display()))?;
            out.push(CodeEntry {
                code: rec.get(ci).unwrap_or_default().to_string(),
                name: rec.get(ni).unwrap_or_default().to_string(),
                parent: pi.and_then(|i| rec.get(i)).map(str::to_string),
            });
        }
        Ok(out)
    };
    Ok((
        load("provinces.csv", "province_code", None)?,
        load("communes.csv", "commune_code", Some("province_code"))?,
    ))
}

/// The demo sample: in each demo province, the first communes of the code list, one village
/// each, official assignments each paired with one reserve.
fn sample(communes: &[CodeEntry]) -> Vec<NewAssignment> {
    let mut out = Vec::new();
    for (province, enumerator) in DEMO_PROVINCES {
        for c in communes
            .iter()
            .filter(|c| c.parent.as_deref() == Some(province))
            .take(COMMUNES_PER_PROVINCE)
        {
            let stratum = if c.name.starts_with("Phường") {
                "urban"
            } else {
                "rural"
            };
            for i in 1..=OFFICIAL_PER_COMMUNE {
                let official = format!("{}-{i:03}", c.code);
                let base = NewAssignment {
                    code: official.clone(),
                    reserve: false,
                    reserve_for: None,
                    province: province.into(),
                    commune: c.code.clone(),
                    village: "Thôn 1".into(),
                    stratum: stratum.into(),
                    enumerator: enumerator.into(),
                };
                out.push(NewAssignment {
                    code: format!("{official}-R"),
                    reserve: true,
                    reserve_for: Some(official),
                    ..base.clone()
                });
                out.insert(out.len() - 1, base);
            }
        }
    }
    out
}
