//! fieldpost-form
