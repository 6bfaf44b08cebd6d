//! fieldpost-app-core
