//! Types exchanged between the UI and the app core over Tauri IPC (or the HTTP bridge in tests).

use serde::{Deserialize, Serialize};

/// What the UI shows about the device's local store on the start screen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoreInfo {
    /// Schema version of the SQLite store after migrations ran.
    pub schema_version: u32,
    /// Absolute path of the store file, so support staff can find it.
    pub path: String,
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
    /// Anything the UI has no specific sentence for yet.
    Internal,
}

impl std::fmt::Display for CommandError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.code, self.detail)
    }
}

impl std::error::Error for CommandError {}

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
}
