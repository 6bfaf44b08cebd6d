//! The assignment list as the UI shows it (place names from the code lists, states, revisits
//! due) and non-response visits.

use crate::device::keys;
use crate::error;
use chrono::Utc;
use fieldpost_proto::app::{
    AssignmentGroup, AssignmentItem, AssignmentList, AssignmentState, CommandError,
    NonResponseCode, NonResponseRequest, NonResponseResult, ProgressCounts,
};
use fieldpost_proto::v1::CodeLists;
use fieldpost_store::{self as store, AssignmentStatus, AssignmentView, Store};
use std::collections::HashMap;

pub fn list(store: &Store) -> Result<AssignmentList, CommandError> {
    let names = place_names(store)?;
    let name = |code: &str| names.get(code).cloned().unwrap_or_else(|| code.to_string());
    let groups = store
        .list_assignments()
        .map_err(error::store)?
        .into_iter()
        .map(|g| AssignmentGroup {
            province_name: name(&g.province_code),
            commune_name: name(&format!("{}/{}", g.province_code, g.commune_code)),
            village: g.village_code.clone(),
            province_code: g.province_code,
            commune_code: g.commune_code,
            assignments: g.assignments.into_iter().map(item).collect(),
        })
        .collect();
    let p = store.progress().map_err(error::store)?;
    Ok(AssignmentList {
        groups,
        progress: ProgressCounts {
            not_started: p.not_started,
            in_progress: p.in_progress,
            completed: p.completed,
            non_response: p.non_response,
            reserve_held: p.reserve_held,
        },
    })
}

/// Province names by code, commune names by `province/commune`.
fn place_names(store: &Store) -> Result<HashMap<String, String>, CommandError> {
    let Some(json) = store.setting(keys::CODELISTS).map_err(error::store)? else {
        return Ok(HashMap::new());
    };
    let lists: CodeLists = serde_json::from_str(&json).map_err(error::internal)?;
    let mut out: HashMap<String, String> = lists
        .provinces
        .into_iter()
        .map(|p| (p.code, p.name))
        .collect();
    for c in lists.communes {
        out.insert(
            format!("{}/{}", c.parent.unwrap_or_default(), c.code),
            c.name,
        );
    }
    Ok(out)
}

pub fn item(v: AssignmentView) -> AssignmentItem {
    let a = v.assignment;
    let (state, interview_id, visits, revisit_at, code) = match v.status {
        AssignmentStatus::NotStarted => (AssignmentState::NotStarted, None, 0, None, None),
        AssignmentStatus::InProgress { interview_id } => (
            AssignmentState::InProgress,
            Some(interview_id),
            0,
            None,
            None,
        ),
        AssignmentStatus::RevisitScheduled {
            interview_id,
            visits,
            revisit_at,
        } => (
            AssignmentState::RevisitScheduled,
            Some(interview_id),
            visits,
            revisit_at,
            None,
        ),
        AssignmentStatus::Completed { interview_id } => (
            AssignmentState::Completed,
            Some(interview_id),
            0,
            None,
            None,
        ),
        AssignmentStatus::NonResponse { interview_id, code } => (
            AssignmentState::NonResponse,
            Some(interview_id),
            0,
            None,
            Some(from_store(code)),
        ),
        AssignmentStatus::ReserveHeld => (AssignmentState::ReserveHeld, None, 0, None, None),
    };
    AssignmentItem {
        id: a.id,
        name: a.personal.name,
        address: a.personal.address,
        reserve: a.kind == store::AssignmentKind::Reserve,
        pair_id: a.pair_id,
        stratum: a.stratum,
        state,
        interview_id,
        visits,
        revisit_due: revisit_at.is_some_and(|t| t.date_naive() <= Utc::now().date_naive()),
        revisit_at,
        non_response: code,
        due_date: a.due_date,
    }
}

fn from_store(c: store::NonResponseCode) -> NonResponseCode {
    match c {
        store::NonResponseCode::Refused => NonResponseCode::Refused,
        store::NonResponseCode::NobodyHome => NonResponseCode::NobodyHome,
        store::NonResponseCode::Moved => NonResponseCode::Moved,
        store::NonResponseCode::Ineligible => NonResponseCode::Ineligible,
        store::NonResponseCode::Other => NonResponseCode::Other,
    }
}

fn to_store(c: NonResponseCode) -> store::NonResponseCode {
    match c {
        NonResponseCode::Refused => store::NonResponseCode::Refused,
        NonResponseCode::NobodyHome => store::NonResponseCode::NobodyHome,
        NonResponseCode::Moved => store::NonResponseCode::Moved,
        NonResponseCode::Ineligible => store::NonResponseCode::Ineligible,
        NonResponseCode::Other => store::NonResponseCode::Other,
    }
}

/// Records a visit without an interview; the survey's rule says whether it is final and
/// whether it releases the official assignment's reserve.
pub fn non_response(
    store: &mut Store,
    req: &NonResponseRequest,
    form_version: &str,
) -> Result<NonResponseResult, CommandError> {
    let enumerator = store
        .setting(keys::ENUMERATOR)
        .map_err(error::store)?
        .unwrap_or_default();
    let iv = store
        .start_or_resume(req.assignment_id, form_version, &enumerator)
        .map_err(error::store)?;
    let outcome = store
        .record_non_response(
            iv.id,
            &store::NonResponse {
                code: to_store(req.code),
                note: req.note.clone().filter(|n| !n.trim().is_empty()),
                revisit_at: req.revisit_at,
            },
        )
        .map_err(error::store)?;
    let list = list(store)?;
    let (is_final, released) = match outcome {
        store::NonResponseOutcome::RevisitScheduled { .. } => (false, None),
        store::NonResponseOutcome::Final { released_reserve } => (true, released_reserve),
    };
    let released_reserve = released.and_then(|id| {
        list.groups
            .iter()
            .flat_map(|g| &g.assignments)
            .find(|a| a.id == id)
            .cloned()
    });
    Ok(NonResponseResult {
        is_final,
        released_reserve,
        list,
    })
}
