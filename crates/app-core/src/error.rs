//! From the crates' typed errors to the UI's [`CommandError`]: a stable code the UI turns into a
//! sentence in the user's language, and the technical detail for support staff. Details carry
//! no personal data: store and engine errors name paths and ids, never answers.

use fieldpost_proto::app::{CommandError, ErrorCode};
use fieldpost_store::StoreError;

pub(crate) fn store(e: StoreError) -> CommandError {
    let code = match &e {
        StoreError::StorageFull => ErrorCode::DiskFull,
        StoreError::WrongPin => ErrorCode::WrongPin,
        StoreError::Tampered(_) => ErrorCode::StoreTampered,
        StoreError::Locked | StoreError::NoKey => ErrorCode::Locked,
        StoreError::NotFound { .. } => ErrorCode::NotFound,
        StoreError::InvalidState(_) => ErrorCode::ReadOnly,
        StoreError::InvalidInput(m) if m.to_lowercase().contains("pin") => ErrorCode::WeakPin,
        StoreError::InvalidInput(_) => ErrorCode::InvalidAnswer,
        StoreError::NotAStore { .. }
        | StoreError::NewerSchema { .. }
        | StoreError::Damaged(_)
        | StoreError::Migration(_) => ErrorCode::StoreUnavailable,
        _ => ErrorCode::Internal,
    };
    CommandError::new(code, e.to_string())
}

pub(crate) fn internal(detail: impl std::fmt::Display) -> CommandError {
    CommandError::new(ErrorCode::Internal, detail.to_string())
}

pub(crate) fn not_found(what: impl std::fmt::Display) -> CommandError {
    CommandError::new(ErrorCode::NotFound, what.to_string())
}
