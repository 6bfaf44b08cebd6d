//! fieldpost-seal
