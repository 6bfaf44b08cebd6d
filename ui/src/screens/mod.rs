//! One module per screen; `common` holds the pieces several screens draw.

pub mod assignments;
pub mod common;
pub mod enrol;
pub mod geopoint;
pub mod grid;
pub mod interview;
pub mod nonresponse;
pub mod question;
pub mod queue;
pub mod review;
pub mod settings;
pub mod sync;
pub mod unlock;
