//! Shared fixture: a real store file with a questionnaire and SIPAS-like
//! assignments (two official households with reserve pairs).
#![allow(dead_code)]

use std::path::Path;

use fieldpost_store::{Assignment, AssignmentKind, Personal, Store, Unit};
use uuid::Uuid;

pub const PIN: &str = "2468";
/// Tests reopen stores many times; production strength (`Kdf::PRODUCTION`, 64 MiB,
/// checked in `encryption.rs` and `pin_cost.rs`) would make each unlock cost a second or
/// more in a debug build.
pub const TEST_KDF: fieldpost_store::crypto::Kdf = fieldpost_store::crypto::Kdf::FAST_FOR_TESTS;
pub const FORM: &str = "sipas";
pub const VERSION: &str = "2025.1";

pub struct Fixture {
    pub store: Store,
    pub officials: Vec<Assignment>,
    pub reserves: Vec<Assignment>,
}

pub fn assignment(
    kind: AssignmentKind,
    pair: Option<Uuid>,
    village: &str,
    name: &str,
) -> Assignment {
    Assignment {
        id: Uuid::now_v7(),
        kind,
        pair_id: pair,
        unit: Unit::Household,
        province_code: "01".into(),
        commune_code: "00004".into(),
        village_code: village.into(),
        stratum: "urban".into(),
        enumerator: "enum-7".into(),
        form_id: FORM.into(),
        due_date: chrono::NaiveDate::from_ymd_opt(2026, 12, 1),
        personal: Personal {
            name: name.into(),
            phone: Some("0912 345 678".into()),
            address: format!("{name} street 12"),
        },
    }
}

pub fn fixture(path: &Path) -> Fixture {
    let mut store = Store::open(path).unwrap();
    store.set_up_pin_with_kdf(PIN, TEST_KDF).unwrap();
    store
        .save_questionnaire(FORM, VERSION, r#"{"form_id":"sipas","fields":[]}"#)
        .unwrap();
    let mut officials = Vec::new();
    let mut reserves = Vec::new();
    for (i, village) in ["T01", "T02"].iter().enumerate() {
        let mut official = assignment(
            AssignmentKind::Official,
            None,
            village,
            &format!("Official{i}"),
        );
        let reserve = assignment(
            AssignmentKind::Reserve,
            Some(official.id),
            village,
            &format!("Reserve{i}"),
        );
        official.pair_id = Some(reserve.id);
        officials.push(official);
        reserves.push(reserve);
    }
    let all: Vec<Assignment> = officials.iter().chain(&reserves).cloned().collect();
    store.import_assignments(&all).unwrap();
    Fixture {
        store,
        officials,
        reserves,
    }
}
