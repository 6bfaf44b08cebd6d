//! fieldpost-proto
