//! fieldpost-server
