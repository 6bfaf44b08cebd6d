//! fieldpost-store
