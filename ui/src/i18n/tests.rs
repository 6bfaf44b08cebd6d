use super::*;

const ALL_CODES: [ErrorCode; 23] = [
    ErrorCode::DataDirUnavailable,
    ErrorCode::StoreUnavailable,
    ErrorCode::DiskFull,
    ErrorCode::WrongPin,
    ErrorCode::WeakPin,
    ErrorCode::Locked,
    ErrorCode::NotEnrolled,
    ErrorCode::EnrolmentRefused,
    ErrorCode::ServerUnreachable,
    ErrorCode::ServerError,
    ErrorCode::DeviceRevoked,
    ErrorCode::InvalidServerUrl,
    ErrorCode::InsecureServerUrl,
    ErrorCode::InvalidAnswer,
    ErrorCode::Incomplete,
    ErrorCode::ReadOnly,
    ErrorCode::NotFound,
    ErrorCode::QuestionnaireUnavailable,
    ErrorCode::StoreTampered,
    ErrorCode::ServerNotTrusted,
    ErrorCode::QuestionnaireUnsupported,
    ErrorCode::InterviewsHeld,
    ErrorCode::Internal,
];

const STATES: [AssignmentState; 6] = [
    AssignmentState::NotStarted,
    AssignmentState::InProgress,
    AssignmentState::RevisitScheduled,
    AssignmentState::Completed,
    AssignmentState::NonResponse,
    AssignmentState::ReserveHeld,
];

const NR_CODES: [NonResponseCode; 5] = [
    NonResponseCode::Refused,
    NonResponseCode::NobodyHome,
    NonResponseCode::Moved,
    NonResponseCode::Ineligible,
    NonResponseCode::Other,
];

fn all_messages() -> Vec<Msg> {
    let mut v = Msg::PLAIN.to_vec();
    v.extend(ALL_CODES.map(Msg::Error));
    v.extend(STATES.map(Msg::State));
    v.extend(NR_CODES.map(Msg::Nr));
    v.extend(Refusal::ALL.iter().copied().map(Msg::Refusal));
    v
}

/// Each refusal code the server can send has its own sentence, which says what to do.
#[test]
fn each_refusal_code_has_its_own_sentence() {
    let codes = [
        "questionnaire_mismatch",
        "invalid_payload",
        "wrong_recipient",
        "malformed_batch",
        "forged_signature",
        "tampered_ciphertext",
        "sequence_conflict",
        "replay_from_another_device",
        "payload_too_large",
    ];
    for c in codes {
        assert_ne!(Refusal::from_code(c), Refusal::Other, "{c}");
        for l in [Lang::Vi, Lang::En] {
            let t = Msg::Refusal(Refusal::from_code(c)).text(l);
            assert!(t.matches(['.', ';', ':']).count() >= 2, "{c} {l:?}: {t}");
        }
    }
    assert_eq!(Refusal::from_code("something_new"), Refusal::Other);
}

#[test]
fn every_message_is_translated_and_differs_between_languages() {
    for m in all_messages() {
        let (vi, en) = (m.text(Lang::Vi), m.text(Lang::En));
        assert!(!vi.trim().is_empty() && !en.trim().is_empty(), "{m:?}");
        assert_ne!(vi, en, "{m:?} is not translated");
    }
}

/// A blank the Vietnamese fills must be filled in English too, or a name goes missing.
#[test]
fn both_languages_have_the_same_blanks() {
    for m in all_messages() {
        for i in 0..3 {
            let blank = format!("{{{i}}}");
            assert_eq!(
                m.text(Lang::Vi).contains(&blank),
                m.text(Lang::En).contains(&blank),
                "{m:?} {blank}"
            );
        }
    }
}

/// Vietnamese text must be NFC-composed: decomposed diacritics render with misplaced marks in
/// some fonts. Combining marks U+0300..U+036F never appear in composed Vietnamese.
#[test]
fn vietnamese_strings_are_composed() {
    for m in all_messages() {
        let vi = m.text(Lang::Vi);
        assert!(
            !vi.chars().any(|c| ('\u{300}'..='\u{36f}').contains(&c)),
            "{m:?} has a decomposed diacritic"
        );
    }
}

/// Every error sentence says what to do, not only what happened: it has at least two clauses.
#[test]
fn error_sentences_say_what_to_do() {
    for c in ALL_CODES {
        for l in [Lang::Vi, Lang::En] {
            let t = Msg::Error(c).text(l);
            assert!(t.matches(['.', ';', ':']).count() >= 2, "{c:?} {l:?}: {t}");
        }
    }
}

#[test]
fn fill_replaces_numbered_blanks() {
    assert_eq!(fill("Dòng {0}/{1}", &["2", "5"]), "Dòng 2/5");
    assert_eq!(fill("no blanks", &["x"]), "no blanks");
}

#[test]
fn language_tags_round_trip() {
    for l in [Lang::Vi, Lang::En] {
        assert_eq!(Lang::from_tag(l.tag()), Some(l));
        assert_eq!(Lang::from_core(l.to_core()), l);
    }
    assert_eq!(Lang::from_tag("fr"), None);
}
