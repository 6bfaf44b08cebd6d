//! fieldpost-form: questionnaires for FieldPost.
//!
//! XLSForm import (the spreadsheet convention of ODK, KoboToolbox and SurveyCTO) into a compiled
//! form, the XPath expression language, and interview state. The crate is pure: it is given bytes
//! and answers, it reads no files, no clock and no random source of its own (callers pass time,
//! randomness and ids in), so the same code runs in the app, the server and WebAssembly.
//!
//! It is not a renderer: screens are the UI's job; this crate says what to show and what is valid.

pub mod error;
pub mod expr;
pub mod import;
pub mod interview;
pub mod model;
#[cfg(feature = "testkit")]
pub mod testkit;
pub mod validate;
pub mod xlsform;

pub use error::{ImportError, Location, Warning};
pub use import::{Imported, import_xlsform};
pub use interview::{Answer, Changes, Environment, FixedEnvironment, Interview, Shown, Step};
pub use model::{Form, Node, NodeId, NodeKind};
