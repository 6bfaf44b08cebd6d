//! Types exchanged between the UI and the app core over Tauri IPC (or the HTTP bridge in tests).
//!
//! Every command of `fieldpost_app_core::AppCore` takes and returns these types; the UI (wasm)
//! depends on this crate only, never on the store or the form engine. Command names and argument
//! names are listed in [`commands`] so the shell, the core and the UI agree on them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The IPC command names (Tauri `invoke` names) and their arguments, in one place.
///
/// Arguments are a JSON object with the camelCase names Tauri expects, e.g.
/// `invoke("set_answer", {interviewId, path, value})`.
pub mod commands {
    /// `() -> StoreInfo`
    pub const STORE_INFO: &str = "store_info";
    /// `() -> AppStatus`
    pub const APP_STATUS: &str = "app_status";
    /// `{request: EnrolRequest} -> AppStatus`
    pub const ENROL: &str = "enrol";
    /// `{pin} -> AppStatus`; a wrong PIN is `ErrorCode::WrongPin`.
    pub const UNLOCK: &str = "unlock";
    /// `() -> AppStatus`
    pub const LOCK: &str = "lock";
    /// `{language: Language} -> AppStatus`
    pub const SET_LANGUAGE: &str = "set_language";
    /// `{oldPin, newPin} -> AppStatus`
    pub const CHANGE_PIN: &str = "change_pin";
    /// `() -> AppStatus`: locks the store if the idle time has passed; no sign of use (the
    /// UI calls it on a timer and shows the unlock screen when `unlocked` is false).
    pub const IDLE_CHECK: &str = "idle_check";
    /// `{minutes} -> AppStatus`: the idle time after which the store locks itself.
    pub const SET_AUTO_LOCK: &str = "set_auto_lock";
    /// `() -> AssignmentList`
    pub const ASSIGNMENTS: &str = "assignments";
    /// `{assignmentId} -> ScreenView`: start or resume, at the screen the enumerator last saw.
    pub const OPEN_INTERVIEW: &str = "open_interview";
    /// `{interviewId, index} -> ScreenView`: go to screen `index` (0-based; back, next, jump).
    pub const SHOW_SCREEN: &str = "show_screen";
    /// `{interviewId, path, value} -> ScreenView`: save one answer (JSON string, number, array
    /// of strings for select_multiple, or null to clear) and return the current screen redrawn.
    pub const SET_ANSWER: &str = "set_answer";
    /// `{interviewId, repeat} -> ScreenView`
    pub const ADD_ROW: &str = "add_row";
    /// `{interviewId, row} -> ScreenView` (`row` like `members[2]`)
    pub const REMOVE_ROW: &str = "remove_row";
    /// `{interviewId} -> Review`
    pub const REVIEW: &str = "review";
    /// `{interviewId} -> AssignmentList`; refused with `ErrorCode::Incomplete` while the review
    /// lists problems.
    pub const COMPLETE: &str = "complete";
    /// `{request: NonResponseRequest} -> NonResponseResult`
    pub const NON_RESPONSE: &str = "non_response";
    /// `{interviewId, fix: GpsFix} -> ()`
    pub const RECORD_GPS: &str = "record_gps";
    /// `() -> SyncStatus`
    pub const SYNC_STATUS: &str = "sync_status";
    /// `() -> SyncStatus`; while it runs the shell emits [`SYNC_PROGRESS_EVENT`] events.
    pub const SYNC: &str = "sync";
    /// Event name carrying a [`super::SyncProgress`] payload.
    pub const SYNC_PROGRESS_EVENT: &str = "sync-progress";
}

/// What the UI shows about the device's local store on the start screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Schema version of the SQLite store after migrations ran.
    pub schema_version: u32,
    /// Absolute path of the store file, so support staff can find it.
    pub path: String,
}

/// The display language. Vietnamese is the default: the enumerators are Vietnamese.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Language {
    #[default]
    Vi,
    En,
}

/// Where the app stands: which screen the UI opens on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppStatus {
    /// The device has enrolled with a server (and so has a PIN).
    pub enrolled: bool,
    /// The store is unlocked in this session (the PIN was given).
    pub unlocked: bool,
    /// The server this device enrolled with (or the default offered on the enrol screen).
    pub server_url: Option<String>,
    /// The enumerator's username, once enrolled.
    pub enumerator: Option<String>,
    /// The survey's title, once enrolled.
    pub survey_title: Option<String>,
    pub language: Language,
    /// This device's id, for support staff.
    pub device_id: Uuid,
    /// Minutes without a command after which the store locks itself (the settings screen
    /// offers 1, 2, 5, 10, 15 or 30).
    #[serde(default)]
    pub auto_lock_minutes: u32,
    pub store: StoreInfo,
}

/// Enrolment: the server address and one-time code from the supervisor, and the PIN the
/// enumerator chooses (at least 6 digits) to protect the data on this device.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnrolRequest {
    pub server_url: String,
    pub code: String,
    /// The server key's fingerprint printed beside the code (`3f2a-9c01-...`; case, spaces and
    /// dashes do not matter): the enrolment reply must be signed by a key with it.
    #[serde(default)]
    pub server_fingerprint: String,
    pub pin: String,
}

/// Where an assignment stands on the enumerator's list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AssignmentState {
    NotStarted,
    InProgress,
    /// Nobody was home; a revisit is planned.
    RevisitScheduled,
    Completed,
    NonResponse,
    /// A reserve not released yet: do not visit.
    ReserveHeld,
}

/// Why an interview did not happen (the survey's codes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum NonResponseCode {
    Refused,
    NobodyHome,
    Moved,
    Ineligible,
    Other,
}

/// One line of the assignment list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentItem {
    pub id: Uuid,
    /// Household or respondent name as the sample gives it.
    pub name: String,
    pub address: String,
    pub reserve: bool,
    /// For an official: its reserve; for a reserve: its official.
    pub pair_id: Option<Uuid>,
    pub stratum: String,
    pub state: AssignmentState,
    pub interview_id: Option<Uuid>,
    /// Non-response visits so far.
    pub visits: u32,
    pub revisit_at: Option<DateTime<Utc>>,
    /// The planned revisit is today or past.
    pub revisit_due: bool,
    pub non_response: Option<NonResponseCode>,
    pub due_date: Option<NaiveDate>,
}

/// Assignments of one village, with the place names the UI shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentGroup {
    pub province_code: String,
    pub province_name: String,
    pub commune_code: String,
    pub commune_name: String,
    pub village: String,
    pub assignments: Vec<AssignmentItem>,
}

/// Assignment counts by state: the enumerator's progress.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressCounts {
    pub not_started: u32,
    pub in_progress: u32,
    pub completed: u32,
    pub non_response: u32,
    pub reserve_held: u32,
}

/// The assignment screen's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssignmentList {
    pub groups: Vec<AssignmentGroup>,
    pub progress: ProgressCounts,
}

/// How a question is answered; the UI picks a widget from it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum QuestionKind {
    Text,
    Integer,
    Decimal,
    Date,
    Time,
    SelectOne,
    SelectMultiple,
    /// Text to read out; no answer.
    Note,
    /// Latitude and longitude (and accuracy): `"lat lon alt acc"`.
    Geopoint,
    /// Anything else the engine knows but the UI shows as text (barcode, ...).
    Other,
}

/// One choice of a select question (already filtered by the question's choice filter).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChoiceView {
    pub value: String,
    pub label: String,
}

/// One question as the UI draws it, in the chosen language.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuestionView {
    /// Field path, e.g. `phan_a/tinh` or `members[2]/age`: what `set_answer` takes.
    pub path: String,
    pub kind: QuestionKind,
    /// Label with `${field}` references filled in; may hold `**bold**` and `*italic*`.
    pub label: String,
    pub hint: Option<String>,
    pub required: bool,
    pub read_only: bool,
    /// XLSForm appearance (`minimal`, `likert`, `multiline`, `autocomplete`, ...).
    pub appearance: Option<String>,
    /// The choice list's name: questions of one screen with the same list form a grid.
    pub list_name: Option<String>,
    pub choices: Vec<ChoiceView>,
    /// The current answer as the engine stores it (select_multiple: values separated by
    /// spaces); empty when unanswered.
    pub value: String,
    /// The constraint or required message to show now, if the answer is invalid.
    pub error: Option<String>,
}

/// A repeat row the screen belongs to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RepeatView {
    /// The repeat's path, for `add_row` (`members`).
    pub repeat: String,
    /// The row's path, for `remove_row` (`members[2]`).
    pub row: String,
    /// 0-based row index and number of rows.
    pub index: usize,
    pub count: usize,
    pub label: String,
    /// Rows are set by a count question (no add or remove).
    pub fixed: bool,
}

/// A section (top-level group) the enumerator can jump to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SectionView {
    pub label: String,
    /// First screen of the section.
    pub screen: usize,
}

/// What the interview screen shows at once: one question, or a field-list group (a grid).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScreenView {
    pub interview_id: Uuid,
    pub assignment_id: Uuid,
    pub assignment_name: String,
    pub form_title: String,
    /// 0-based screen index and the number of relevant screens (both change with skips).
    pub index: usize,
    pub total: usize,
    /// Label of the section (top-level group) this screen is in.
    pub section: Option<String>,
    /// Label and appearance of the field-list group shown as this screen.
    pub group_label: Option<String>,
    pub group_appearance: Option<String>,
    pub questions: Vec<QuestionView>,
    pub repeat: Option<RepeatView>,
    pub sections: Vec<SectionView>,
    /// Completed or ended interviews are shown, not changed.
    pub read_only: bool,
    /// Saved answers so far (for the progress bar), and relevant questions in all.
    pub answered: usize,
    pub questions_total: usize,
}

/// One problem the review lists before completion.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReviewItem {
    pub path: String,
    pub label: String,
    pub message: String,
    /// True when the answer is missing; false when it breaks a constraint.
    pub required: bool,
    /// The screen to go to to fix it.
    pub screen: usize,
}

/// The review screen's content: empty `problems` means the interview can be completed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Review {
    pub interview_id: Uuid,
    pub problems: Vec<ReviewItem>,
    pub answered: usize,
    pub questions_total: usize,
}

/// A visit that ended without an interview.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonResponseRequest {
    pub assignment_id: Uuid,
    pub code: NonResponseCode,
    /// Free text for `other`, or what happened.
    pub note: Option<String>,
    /// When to come back (nobody home). Whether the outcome is final is the survey's rule,
    /// not the enumerator's choice: refused, moved, ineligible and other are final at once;
    /// nobody home becomes final at the rule's number of visits (3 by default).
    pub revisit_at: Option<DateTime<Utc>>,
}

/// What recording a non-response did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NonResponseResult {
    /// The outcome is final (otherwise a revisit is scheduled).
    pub is_final: bool,
    /// The reserve that may now be interviewed, if the rule released one.
    pub released_reserve: Option<AssignmentItem>,
    pub list: AssignmentList,
}

/// A location fix: from the platform's GPS, or typed in on a desktop without one.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GpsFix {
    pub latitude: f64,
    pub longitude: f64,
    pub accuracy_m: Option<f64>,
}

/// The sync screen's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SyncStatus {
    /// Finished interviews not yet acknowledged by the server.
    pub pending_interviews: u32,
    /// Interviews the server has acknowledged.
    pub acknowledged_interviews: u32,
    pub last_success: Option<DateTime<Utc>>,
    /// The last attempt's failure, if it failed.
    pub last_error: Option<CommandError>,
    pub server_url: Option<String>,
    /// Finished interviews the server refused for good, set aside so the rest can go: the
    /// enumerator sees which household and what to do.
    #[serde(default)]
    pub held: Vec<HeldInterview>,
}

/// A finished interview the server refused, and why (the server's refusal code).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HeldInterview {
    pub interview_id: Uuid,
    pub assignment_id: Uuid,
    /// The household as the list shows it (name or code).
    pub household: String,
    /// The server's refusal code (`questionnaire_mismatch`, `invalid_payload`, ...): the UI
    /// has a sentence for each.
    pub reason: String,
    pub since: DateTime<Utc>,
}

/// Progress of a running sync, for the progress bar.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct SyncProgress {
    pub batches_done: usize,
    pub batches_total: usize,
    pub bytes_done: u64,
    pub bytes_total: u64,
}

/// Why a command failed. The UI turns `code` into a sentence in the user's language; `detail` is
/// the technical cause, shown smaller, for support staff.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandError {
    pub code: ErrorCode,
    pub detail: String,
}

/// Stable error codes: the UI has a Vietnamese and an English sentence for each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorCode {
    /// The app's data folder could not be found or created.
    DataDirUnavailable,
    /// The store file exists but could not be opened or migrated.
    StoreUnavailable,
    /// The device is full: nothing was saved; free space and try again.
    DiskFull,
    /// The PIN does not open this device's data.
    WrongPin,
    /// The PIN is too short or not digits.
    WeakPin,
    /// The store is locked: the PIN must be given first.
    Locked,
    /// The device has not enrolled with a server yet.
    NotEnrolled,
    /// The server refused the enrolment code (unknown, used or expired).
    EnrolmentRefused,
    /// The server could not be reached (no signal, wrong address, server down).
    ServerUnreachable,
    /// The server answered with an error.
    ServerError,
    /// This device was revoked by the survey's administrator.
    DeviceRevoked,
    /// The server address is not a valid http(s) URL.
    InvalidServerUrl,
    /// The server address is plain `http://` to another machine (only loopback may be plain):
    /// the enumerator must use the https:// address the supervisor gave.
    InsecureServerUrl,
    /// The answer does not fit the question (wrong type, unknown choice).
    InvalidAnswer,
    /// Required answers are missing or constraints broken (see `review`).
    Incomplete,
    /// The interview is completed or ended and cannot change.
    ReadOnly,
    /// No such assignment, interview or screen.
    NotFound,
    /// The questionnaire could not be read (a broken download or an unsupported form).
    QuestionnaireUnavailable,
    /// Data on the device was changed outside the app (it fails its integrity check): it was
    /// not used. What the server can give again (keys, questionnaire) comes back at the next sync.
    StoreTampered,
    /// A reply did not come from the device's own server (its signature does not verify):
    /// nothing was changed on the device.
    ServerNotTrusted,
    /// The server's questionnaire needs a newer app (its compiled form cannot run here).
    QuestionnaireUnsupported,
    /// The server refused some finished interviews for good; they are set aside (see
    /// `SyncStatus::held`) and the rest went through.
    InterviewsHeld,
    /// Anything the UI has no specific sentence for yet.
    Internal,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.detail)
    }
}

impl std::error::Error for CommandError {}

impl CommandError {
    pub fn new(code: ErrorCode, detail: impl Into<String>) -> Self {
        Self {
            code,
            detail: detail.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The UI matches on these strings; renaming a variant must be a deliberate act.
    #[test]
    fn error_codes_are_snake_case_on_the_wire() {
        let e = CommandError {
            code: ErrorCode::StoreUnavailable,
            detail: "disk".into(),
        };
        let json = serde_json::to_string(&e).expect("serializes");
        assert_eq!(json, r#"{"code":"store_unavailable","detail":"disk"}"#);
        let back: CommandError = serde_json::from_str(&json).expect("parses");
        assert_eq!(back, e);
    }

    #[test]
    fn language_defaults_to_vietnamese() {
        assert_eq!(Language::default(), Language::Vi);
        assert_eq!(
            serde_json::to_string(&Language::En).expect("json"),
            r#""en""#
        );
    }
}
