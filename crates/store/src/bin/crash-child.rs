//! The child process of the crash test (`tests/crash.rs`): autosaves answers
//! into an existing store as fast as it can and reports each one on stdout
//! only AFTER `set_answer` returned, i.e. after the commit is on disk. The
//! test kills it with SIGKILL at random moments and checks that every
//! reported answer survived.
//!
//! Usage: `crash-child <store path> <pin> <run number>`
//!
//! Lines printed (one `write` each, flushed):
//! - `UNLOCKED <ms>`: store opened and unlocked, with the time it took;
//! - `SAVED <interview> <path> <counter>`: the answer `"c<counter>"` is committed;
//! - `REMOVED <interview> members 0`: the first household member row is removed;
//! - `COMPLETED <interview>`: the interview is marked completed;
//! - `DONE`: no assignment left to interview.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use fieldpost_store::{
    AssignmentKind, AssignmentStatus, InterviewStatus, ParadataEvent, Store, StoreError,
};

/// Answers per interview before it is completed.
const ANSWERS_PER_INTERVIEW: u64 = 120;
/// Distinct question paths: later answers overwrite earlier ones, like edits.
const QUESTIONS: u64 = 30;
/// Every this many saves, a repeat row is added and answered.
const REPEAT_EVERY: u64 = 10;
/// Every this many saves, the first repeat row is removed (the rest move up).
const REMOVE_EVERY: u64 = 25;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().collect();
    let [_, path, pin, run] = args.as_slice() else {
        eprintln!("usage: crash-child <store path> <pin> <run number>");
        return ExitCode::from(2);
    };
    let Ok(run) = run.parse::<u64>() else {
        eprintln!("run number must be an integer");
        return ExitCode::from(2);
    };
    match work(PathBuf::from(path), pin, run) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("crash-child: {e}");
            ExitCode::FAILURE
        }
    }
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    // One write of the whole line, then flush: the parent sees whole lines.
    let _ = out.write_all(format!("{line}\n").as_bytes());
    let _ = out.flush();
}

fn work(path: PathBuf, pin: &str, run: u64) -> Result<(), StoreError> {
    let started = Instant::now();
    let mut store = Store::open(&path)?;
    store.unlock(pin)?;
    say(&format!(
        "UNLOCKED {:.1}",
        started.elapsed().as_secs_f64() * 1e3
    ));
    let form_version = store
        .latest_questionnaire("sipas")?
        .map(|(v, _)| v)
        .ok_or_else(|| StoreError::InvalidState("no questionnaire in the store".into()))?;
    // Counters are unique across runs: run r uses r * 10^6 + n.
    let mut counter = run * 1_000_000;
    loop {
        let Some(interview) = next_interview(&mut store, &form_version)? else {
            say("DONE");
            return Ok(());
        };
        // Saves already made on this interview (each left one paradata event).
        let saved = store
            .paradata(interview)?
            .iter()
            .filter(|r| matches!(r.event, ParadataEvent::AnswerChanged { .. }))
            .count() as u64;
        let mut n = saved + 1;
        while n <= ANSWERS_PER_INTERVIEW {
            if n.is_multiple_of(REMOVE_EVERY)
                && store
                    .repeat_rows(interview)?
                    .get("members")
                    .copied()
                    .unwrap_or(0)
                    >= 2
            {
                // The biggest transaction: delete a row, renumber the rest.
                store.remove_repeat_row(interview, "members", 0)?;
                say(&format!("REMOVED {interview} members 0"));
            }
            counter += 1;
            let path = if n.is_multiple_of(REPEAT_EVERY) {
                let row = store.add_repeat_row(interview, "members")?;
                format!("members[{row}]/name")
            } else {
                format!("q{}", counter % QUESTIONS)
            };
            store.set_answer(interview, &path, &serde_json::json!(format!("c{counter}")))?;
            say(&format!("SAVED {interview} {path} {counter}"));
            n += 1;
        }
        store.complete(interview)?;
        say(&format!("COMPLETED {interview}"));
    }
}

/// The draft interview to continue, or a new one for the next official
/// assignment not started yet.
fn next_interview(store: &mut Store, form_version: &str) -> Result<Option<uuid::Uuid>, StoreError> {
    if let Some(draft) = store
        .interviews()?
        .into_iter()
        .find(|i| i.status == InterviewStatus::Draft)
    {
        return Ok(Some(draft.id));
    }
    let next = store
        .list_assignments()?
        .into_iter()
        .flat_map(|g| g.assignments)
        .find(|v| {
            v.assignment.kind == AssignmentKind::Official
                && v.status == AssignmentStatus::NotStarted
        });
    match next {
        Some(view) => Ok(Some(
            store
                .start_or_resume(view.assignment.id, form_version, "enum-crash")?
                .id,
        )),
        None => Ok(None),
    }
}
