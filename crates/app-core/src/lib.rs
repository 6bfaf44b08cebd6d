//! The enumerator app's core: every command the UI can call, as an ordinary Rust function.
//!
//! The Tauri shell (`src-tauri`) registers these functions as IPC commands and does nothing else;
//! tests call them directly; a browser test reaches them through an HTTP bridge. Keeping the
//! commands here, not in the shell, is what lets all three exercise the same code.
//!
//! Commands return [`CommandError`] (a stable code plus technical detail) so the UI can show a
//! sentence in the user's language instead of a Rust error string.

mod assignments;
mod batch;
mod device;
mod error;
pub mod http;
pub mod idle;
mod interview;
pub mod paths;
mod screen;
mod server;
pub mod sync;

use device::keys;
use fieldpost_proto::app::{
    AppStatus, AssignmentList, CommandError, EnrolRequest, ErrorCode, GpsFix, Language,
    NonResponseRequest, NonResponseResult, Review, ScreenView, StoreInfo, SyncProgress, SyncStatus,
};
use fieldpost_store::{KeyProtector, ParadataEvent, Store};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};
use uuid::Uuid;

/// File name of the device store inside the app's data folder.
pub const STORE_FILE: &str = "fieldpost.sqlite";

/// State shared by all commands of one running app. Cheap to clone (one shared state), so the
/// shell can move a handle into a blocking task.
#[derive(Clone)]
pub struct AppCore {
    data_dir: PathBuf,
    /// Offered on the enrol screen before the device has a server of its own.
    default_server: Option<String>,
    state: Arc<Mutex<State>>,
    /// Held for the whole of a sync, so two never run at once. Not `state`: a sync works on a
    /// connection of its own, and the screens must not wait for the network.
    syncing: Arc<Mutex<()>>,
    /// When the enumerator's last command came, to lock the store after the idle time.
    idle: Arc<idle::IdleLock>,
    /// The platform key that also wraps the store's data key (Android Keystore), if the
    /// shell has one; `None`: the PIN alone.
    protector: Option<Arc<dyn KeyProtector>>,
}

/// The open store (one connection for the app's life) and the interview on screen.
#[derive(Default)]
struct State {
    store: Option<Store>,
    open: Option<interview::Open>,
}

impl std::fmt::Debug for AppCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AppCore")
            .field("data_dir", &self.data_dir)
            .finish_non_exhaustive()
    }
}

impl AppCore {
    /// `data_dir` is the platform's app-data folder (Tauri's `app_data_dir`), or a test folder.
    pub fn new(data_dir: impl Into<PathBuf>) -> Self {
        Self {
            data_dir: data_dir.into(),
            default_server: None,
            state: Arc::new(Mutex::new(State::default())),
            syncing: Arc::new(Mutex::new(())),
            idle: Arc::new(idle::IdleLock::new(Arc::new(idle::SystemClock))),
            protector: None,
        }
    }

    /// The clock the idle lock reads (tests pass one they move themselves).
    pub fn with_clock(mut self, clock: Arc<dyn idle::Clock>) -> Self {
        self.idle = Arc::new(idle::IdleLock::new(clock));
        self
    }

    /// The platform key store that also wraps the data key (the Android Keystore plugin);
    /// applied when the store opens, so call it before the first command.
    pub fn with_key_protector(mut self, protector: Arc<dyn KeyProtector>) -> Self {
        self.protector = Some(protector);
        self
    }

    /// The server address the enrol screen offers (from `FIELDPOST_SERVER_URL` in the shell).
    pub fn with_default_server(mut self, url: Option<String>) -> Self {
        self.default_server = url;
        self
    }

    pub fn data_dir(&self) -> &Path {
        &self.data_dir
    }

    /// The state, for a command the enumerator caused: if the idle time passed since the
    /// last one, the store is locked first (so the command finds it locked and the UI asks
    /// for the PIN), and the idle time counts again from now.
    fn lock(&self) -> MutexGuard<'_, State> {
        let mut st = self.state_quietly();
        if self.idle.on_command(idle_limit(&st)) {
            forget_key(&mut st);
        }
        st
    }

    /// The state without counting as use (the idle check itself).
    fn state_quietly(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves the state as the last command left it; the
        // store's transactions make that state consistent, so carry on with it.
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Locks the store if the idle time has passed since the enumerator's last command, and
    /// reports the status; asking is no sign of use. The UI calls it on a timer and shows the
    /// unlock screen when the status says locked.
    pub fn idle_check(&self) -> Result<AppStatus, CommandError> {
        let mut st = self.state_quietly();
        if self.idle.expired(idle_limit(&st)) {
            forget_key(&mut st);
        }
        self.status_of(&mut st)
    }

    /// Sets the idle time (minutes, one of [`idle::AUTO_LOCK_CHOICES`]) after which the store
    /// locks itself.
    pub fn set_auto_lock_minutes(&self, minutes: u32) -> Result<AppStatus, CommandError> {
        if !idle::AUTO_LOCK_CHOICES.contains(&minutes) {
            return Err(CommandError::new(
                ErrorCode::InvalidAnswer,
                format!(
                    "the idle time must be one of {:?} minutes",
                    idle::AUTO_LOCK_CHOICES
                ),
            ));
        }
        let mut st = self.lock();
        self.store(&mut st)?
            .set_setting(idle::SETTING, Some(&minutes.to_string()))
            .map_err(error::store)?;
        self.status_of(&mut st)
    }

    /// Opens the device store (creating the folder and file, and migrating, when needed) and
    /// reports its schema version and location.
    pub fn store_info(&self) -> Result<StoreInfo, CommandError> {
        let mut st = self.lock();
        let store = self.store(&mut st)?;
        Ok(StoreInfo {
            schema_version: store.schema_version().map_err(error::store)?,
            path: store.path().display().to_string(),
        })
    }

    fn store<'a>(&self, st: &'a mut State) -> Result<&'a mut Store, CommandError> {
        if st.store.is_none() {
            std::fs::create_dir_all(&self.data_dir).map_err(|e| {
                CommandError::new(
                    ErrorCode::DataDirUnavailable,
                    format!("{}: {e}", self.data_dir.display()),
                )
            })?;
            let mut store = Store::open(&self.data_dir.join(STORE_FILE)).map_err(error::store)?;
            store.set_key_protector(self.protector.clone());
            st.store = Some(store);
        }
        st.store
            .as_mut()
            .ok_or_else(|| error::internal("the store did not open"))
    }

    /// Which screen the app opens on, and what the header and settings show.
    pub fn app_status(&self) -> Result<AppStatus, CommandError> {
        let mut st = self.lock();
        self.status_of(&mut st)
    }

    fn status_of(&self, st: &mut State) -> Result<AppStatus, CommandError> {
        let store = self.store(st)?;
        let get = |k: &str| store.setting(k).map_err(error::store);
        let enrolled = get(keys::ENUMERATOR)?.is_some();
        Ok(AppStatus {
            enrolled,
            unlocked: store.is_unlocked(),
            server_url: get(keys::SERVER_URL)?.or_else(|| self.default_server.clone()),
            enumerator: get(keys::ENUMERATOR)?,
            survey_title: get(keys::SURVEY_TITLE)?,
            language: match get(keys::LANGUAGE)?.as_deref() {
                Some("en") => Language::En,
                _ => Language::Vi,
            },
            device_id: store.device_id(),
            auto_lock_minutes: idle::minutes_from_setting(get(idle::SETTING)?.as_deref()),
            store: StoreInfo {
                schema_version: store.schema_version().map_err(error::store)?,
                path: store.path().display().to_string(),
            },
        })
    }

    /// Enrols with a server (see [`device::enrol`]); the store is unlocked afterwards.
    pub fn enrol(&self, req: &EnrolRequest) -> Result<AppStatus, CommandError> {
        {
            let mut st = self.lock();
            let store = self.store(&mut st)?;
            block_on(device::enrol(store, req))??;
        }
        self.app_status()
    }

    pub fn unlock(&self, pin: &str) -> Result<AppStatus, CommandError> {
        {
            let mut st = self.lock();
            let store = self.store(&mut st)?;
            store.unlock(pin).map_err(error::store)?;
        }
        self.app_status()
    }

    /// Forgets the data key: no screen can read anything personal until the PIN is given again.
    /// A sync already running keeps its own copy of the key until it ends (at most its three
    /// tries of two minutes each), so that locking the phone does not break an upload.
    pub fn lock_store(&self) -> Result<AppStatus, CommandError> {
        {
            let mut st = self.lock();
            st.open = None;
            self.store(&mut st)?.lock();
        }
        self.app_status()
    }

    pub fn change_pin(&self, old_pin: &str, new_pin: &str) -> Result<AppStatus, CommandError> {
        device::check_pin(new_pin)?;
        {
            let mut st = self.lock();
            self.store(&mut st)?
                .change_pin(old_pin, new_pin)
                .map_err(error::store)?;
        }
        self.app_status()
    }

    pub fn set_language(&self, language: Language) -> Result<AppStatus, CommandError> {
        {
            let mut st = self.lock();
            let tag = language_tag(language);
            self.store(&mut st)?
                .set_setting(keys::LANGUAGE, Some(tag))
                .map_err(error::store)?;
            if let Some(open) = st.open.as_mut() {
                open.engine.set_language(tag);
            }
        }
        self.app_status()
    }

    fn language(store: &Store) -> String {
        store
            .setting(keys::LANGUAGE)
            .ok()
            .flatten()
            .unwrap_or_else(|| "vi".into())
    }

    pub fn assignments(&self) -> Result<AssignmentList, CommandError> {
        let mut st = self.lock();
        assignments::list(self.store(&mut st)?)
    }

    /// Starts or resumes the interview of an assignment, at the screen last seen.
    pub fn open_interview(&self, assignment_id: Uuid) -> Result<ScreenView, CommandError> {
        let mut st = self.lock();
        let store = self.store(&mut st)?;
        let language = Self::language(store);
        let open = interview::open(store, assignment_id, &language)?;
        let view = open.view();
        st.open = Some(open);
        Ok(view)
    }

    /// Runs `f` on the interview `id`, opening it first when another one (or none) is open,
    /// e.g. after the app was restarted on the interview screen.
    fn with_open<T>(
        &self,
        id: Uuid,
        f: impl FnOnce(&mut Store, &mut interview::Open) -> Result<T, CommandError>,
    ) -> Result<T, CommandError> {
        let mut st = self.lock();
        let st = &mut *st;
        if st.open.as_ref().map(|o| o.id) != Some(id) {
            let store = self.store(st)?;
            let assignment = store.interview(id).map_err(error::store)?.assignment_id;
            let language = Self::language(store);
            st.open = Some(interview::open(store, assignment, &language)?);
        }
        let store = st
            .store
            .as_mut()
            .ok_or_else(|| error::internal("the store is not open"))?;
        let open = st
            .open
            .as_mut()
            .ok_or_else(|| error::internal("no interview is open"))?;
        f(store, open)
    }

    pub fn show_screen(
        &self,
        interview_id: Uuid,
        index: usize,
    ) -> Result<ScreenView, CommandError> {
        self.with_open(interview_id, |store, open| {
            interview::show(store, open, index)
        })
    }

    pub fn set_answer(
        &self,
        interview_id: Uuid,
        path: &str,
        value: &serde_json::Value,
    ) -> Result<ScreenView, CommandError> {
        self.with_open(interview_id, |store, open| {
            interview::set_answer(store, open, path, value)
        })
    }

    pub fn add_row(&self, interview_id: Uuid, repeat: &str) -> Result<ScreenView, CommandError> {
        self.with_open(interview_id, |store, open| {
            interview::add_row(store, open, repeat)
        })
    }

    pub fn remove_row(&self, interview_id: Uuid, row: &str) -> Result<ScreenView, CommandError> {
        self.with_open(interview_id, |store, open| {
            interview::remove_row(store, open, row)
        })
    }

    pub fn review(&self, interview_id: Uuid) -> Result<Review, CommandError> {
        self.with_open(interview_id, |_, open| Ok(interview::review(open)))
    }

    /// Completes the interview (refused while the review lists problems).
    pub fn complete(&self, interview_id: Uuid) -> Result<AssignmentList, CommandError> {
        self.with_open(interview_id, interview::complete)?;
        let mut st = self.lock();
        st.open = None;
        assignments::list(self.store(&mut st)?)
    }

    pub fn non_response(
        &self,
        req: &NonResponseRequest,
    ) -> Result<NonResponseResult, CommandError> {
        let mut st = self.lock();
        if st.open.as_ref().map(|o| o.assignment_id) == Some(req.assignment_id) {
            st.open = None;
        }
        let store = self.store(&mut st)?;
        let form_id = store
            .assignment(req.assignment_id)
            .map_err(error::store)?
            .form_id;
        let (version, _) = store
            .latest_questionnaire(&form_id)
            .map_err(error::store)?
            .ok_or_else(|| {
                CommandError::new(ErrorCode::QuestionnaireUnavailable, "no questionnaire")
            })?;
        assignments::non_response(store, req, &version)
    }

    /// Records where the interview took place (platform GPS, or typed in on a desktop).
    pub fn record_gps(&self, interview_id: Uuid, fix: GpsFix) -> Result<(), CommandError> {
        let ok = (-90.0..=90.0).contains(&fix.latitude)
            && (-180.0..=180.0).contains(&fix.longitude)
            && fix.accuracy_m.is_none_or(|a| a >= 0.0 && a.is_finite());
        if !ok {
            return Err(CommandError::new(
                ErrorCode::InvalidAnswer,
                "latitude is -90 to 90 and longitude -180 to 180 degrees",
            ));
        }
        let mut st = self.lock();
        self.store(&mut st)?
            .record_paradata(
                interview_id,
                chrono::Utc::now(),
                &ParadataEvent::GpsFix {
                    latitude: fix.latitude,
                    longitude: fix.longitude,
                    accuracy_m: fix.accuracy_m,
                },
            )
            .map_err(error::store)?;
        Ok(())
    }

    pub fn sync_status(&self) -> Result<SyncStatus, CommandError> {
        let mut st = self.lock();
        sync::run::status(self.store(&mut st)?)
    }

    /// Seals finished interviews, uploads the outbox (reporting progress), then downloads new
    /// assignments. The outcome is remembered for the sync screen; a failure keeps everything
    /// on the device for the next try.
    ///
    /// The sync works on its own connection to the store ([`Store::try_clone`]), taken while
    /// the store is unlocked: every other command goes on while an upload crawls over a weak
    /// link. A second sync waits for the first.
    pub fn sync(&self, progress: impl FnMut(SyncProgress)) -> Result<SyncStatus, CommandError> {
        let _one_at_a_time = self.syncing.lock().unwrap_or_else(|p| p.into_inner());
        let mut store = {
            let mut st = self.lock();
            let store = self.store(&mut st)?;
            if !store.is_unlocked() {
                return Err(error::store(fieldpost_store::StoreError::Locked));
            }
            store.try_clone().map_err(error::store)?
        };
        let outcome = sync::run::run(&mut store, progress);
        let now = chrono::Utc::now().to_rfc3339();
        let remember = match &outcome {
            Ok(()) => store
                .set_setting(keys::LAST_SYNC_OK, Some(&now))
                .and_then(|_| store.set_setting(keys::LAST_SYNC_ERROR, None)),
            Err(e) => store.set_setting(
                keys::LAST_SYNC_ERROR,
                Some(&serde_json::to_string(e).unwrap_or_default()),
            ),
        };
        remember.map_err(error::store)?;
        outcome?;
        sync::run::status(&store)
    }
}

/// The idle time the store's setting asks for (the default before the store is open).
fn idle_limit(st: &State) -> std::time::Duration {
    let chosen = st
        .store
        .as_ref()
        .and_then(|s| s.setting(idle::SETTING).ok().flatten());
    let minutes = idle::minutes_from_setting(chosen.as_deref());
    std::time::Duration::from_secs(60 * u64::from(minutes))
}

/// Drops the data key and the interview on screen: nothing personal stays readable.
fn forget_key(st: &mut State) {
    st.open = None;
    if let Some(store) = st.store.as_mut() {
        store.lock();
    }
}

fn language_tag(l: Language) -> &'static str {
    match l {
        Language::Vi => "vi",
        Language::En => "en",
    }
}

/// Runs an async call to the server from a blocking command.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, CommandError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(error::internal)?;
    Ok(rt.block_on(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_info_creates_the_store_in_the_data_folder() {
        let dir = tempfile::tempdir().expect("temp dir");
        let core = AppCore::new(dir.path().join("nested").join("app"));
        let info = core.store_info().expect("store opens");
        assert!(info.schema_version >= 1);
        assert!(info.path.ends_with(STORE_FILE));
        assert!(
            Path::new(&info.path).is_file(),
            "the SQLite file exists on disk"
        );
        // Opening again is idempotent: same version, same file.
        assert_eq!(core.store_info().expect("reopens"), info);
    }

    /// An app core on a store with a (test-strength) PIN, unlocked, on a clock the test moves.
    fn unlocked_core(dir: &Path) -> (AppCore, Arc<idle::tests::TestClock>) {
        let mut store = Store::open(&dir.join(STORE_FILE)).expect("store");
        store
            .set_up_pin_with_kdf("246810", fieldpost_store::crypto::Kdf::FAST_FOR_TESTS)
            .expect("pin");
        drop(store);
        let clock = idle::tests::TestClock::new();
        let core = AppCore::new(dir).with_clock(clock.clone());
        assert!(core.unlock("246810").expect("unlock").unlocked);
        (core, clock)
    }

    #[test]
    fn the_store_locks_itself_after_the_idle_time_without_a_command() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (core, clock) = unlocked_core(dir.path());
        let minute = std::time::Duration::from_secs(60);
        assert_eq!(
            core.app_status().expect("status").auto_lock_minutes,
            idle::DEFAULT_AUTO_LOCK_MINUTES
        );

        // Each command restarts the count: 4 minutes, a command, 4 more minutes: unlocked.
        clock.advance(4 * minute);
        core.assignments()
            .expect("a command 4 minutes after the last one");
        clock.advance(4 * minute);
        assert!(core.idle_check().expect("check").unlocked);
        // The timer's checks are no use: they do not restart the count.
        clock.advance(minute);
        assert!(
            !core.idle_check().expect("check").unlocked,
            "5 minutes after the last command the store locks"
        );
        let err = core
            .assignments()
            .expect_err("personal data needs the PIN again");
        assert_eq!(err.code, ErrorCode::Locked);
        assert!(core.unlock("246810").expect("unlock").unlocked);
        core.assignments().expect("unlocked again");
    }

    #[test]
    fn a_command_after_the_idle_time_finds_the_store_locked() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (core, clock) = unlocked_core(dir.path());
        clock.advance(std::time::Duration::from_secs(5 * 60));
        let err = core
            .assignments()
            .expect_err("locked before the command ran");
        assert_eq!(err.code, ErrorCode::Locked);
    }

    #[test]
    fn the_enumerator_chooses_the_idle_time() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (core, clock) = unlocked_core(dir.path());
        let minute = std::time::Duration::from_secs(60);
        let err = core
            .set_auto_lock_minutes(0)
            .expect_err("never is no choice");
        assert_eq!(err.code, ErrorCode::InvalidAnswer);
        assert_eq!(
            core.set_auto_lock_minutes(10)
                .expect("10")
                .auto_lock_minutes,
            10
        );
        clock.advance(9 * minute);
        assert!(
            core.idle_check().expect("check").unlocked,
            "9 of 10 minutes"
        );
        clock.advance(minute);
        assert!(!core.idle_check().expect("check").unlocked, "10 of 10");
        // The choice is kept in the store: a restarted app keeps it.
        drop(core);
        let again = AppCore::new(dir.path());
        assert_eq!(again.app_status().expect("status").auto_lock_minutes, 10);
    }

    #[test]
    fn an_unusable_data_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().expect("temp dir");
        let file = dir.path().join("not-a-folder");
        std::fs::write(&file, b"x").expect("write");
        let err = AppCore::new(&file)
            .store_info()
            .expect_err("a file is not a folder");
        assert_eq!(err.code, ErrorCode::DataDirUnavailable);
    }

    #[test]
    fn a_foreign_file_in_place_of_the_store_is_reported_not_overwritten() {
        let dir = tempfile::tempdir().expect("temp dir");
        let junk = b"this is not a SQLite database, and it must survive".repeat(100);
        std::fs::write(dir.path().join(STORE_FILE), &junk).expect("write");
        let err = AppCore::new(dir.path())
            .store_info()
            .expect_err("not a store");
        assert_eq!(err.code, ErrorCode::StoreUnavailable);
        assert_eq!(
            std::fs::read(dir.path().join(STORE_FILE)).expect("read"),
            junk
        );
    }
}
