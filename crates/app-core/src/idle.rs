//! Locking the store after an idle time: a phone left on a table, unlocked, gives nothing
//! away for longer than the enumerator chose (the `auto_lock_minutes` setting, default
//! [`DEFAULT_AUTO_LOCK_MINUTES`]).
//!
//! Every command the enumerator's taps cause is a sign of use, recorded before the command
//! runs ([`IdleLock::on_command`]); a command that comes after the idle time finds the store
//! locked (the data key dropped) and the UI shows the unlock screen. The UI also asks
//! [`crate::AppCore::idle_check`] on a timer, which is no sign of use, so the key goes at the
//! time chosen even if nobody touches the phone again.
//!
//! Time is a monotonic [`Instant`] from a [`Clock`] the caller passes in: the wall clock
//! can be moved (by the user, by the network), and tests move this one themselves.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Minutes without a command before the store locks itself, unless the enumerator chose.
pub const DEFAULT_AUTO_LOCK_MINUTES: u32 = 5;

/// The store setting that keeps the enumerator's choice.
pub(crate) const SETTING: &str = "auto_lock_minutes";

/// The choices the settings screen offers (and the only values accepted).
pub const AUTO_LOCK_CHOICES: [u32; 6] = [1, 2, 5, 10, 15, 30];

/// Where "now" comes from.
pub trait Clock: Send + Sync {
    /// A monotonic instant.
    fn now(&self) -> Instant;
}

/// The real monotonic clock.
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Instant {
        Instant::now()
    }
}

/// The time of the last command, and the clock to compare it with.
pub(crate) struct IdleLock {
    clock: Arc<dyn Clock>,
    last_command: Mutex<Option<Instant>>,
}

impl IdleLock {
    pub(crate) fn new(clock: Arc<dyn Clock>) -> Self {
        Self {
            clock,
            last_command: Mutex::new(None),
        }
    }

    /// A command from the enumerator: whether the idle time had passed before it (the
    /// caller then locks first); from now on the idle time counts from this command.
    pub(crate) fn on_command(&self, idle_limit: Duration) -> bool {
        let now = self.clock.now();
        let mut last = self.last_command.lock().unwrap_or_else(|p| p.into_inner());
        let expired = last.is_some_and(|t| now.saturating_duration_since(t) >= idle_limit);
        *last = Some(now);
        expired
    }

    /// Whether the idle time has passed, without counting as use.
    pub(crate) fn expired(&self, idle_limit: Duration) -> bool {
        let now = self.clock.now();
        let last = self.last_command.lock().unwrap_or_else(|p| p.into_inner());
        last.is_some_and(|t| now.saturating_duration_since(t) >= idle_limit)
    }
}

/// The stored choice, or the default for a missing or unreadable one.
pub(crate) fn minutes_from_setting(value: Option<&str>) -> u32 {
    value
        .and_then(|v| v.parse().ok())
        .filter(|m| AUTO_LOCK_CHOICES.contains(m))
        .unwrap_or(DEFAULT_AUTO_LOCK_MINUTES)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A clock the test moves by hand.
    pub(crate) struct TestClock(pub Mutex<Instant>);

    impl TestClock {
        pub(crate) fn new() -> Arc<Self> {
            Arc::new(Self(Mutex::new(Instant::now())))
        }
        pub(crate) fn advance(&self, by: Duration) {
            let mut t = self.0.lock().unwrap_or_else(|p| p.into_inner());
            *t += by;
        }
    }

    impl Clock for TestClock {
        fn now(&self) -> Instant {
            *self.0.lock().unwrap_or_else(|p| p.into_inner())
        }
    }

    #[test]
    fn idle_time_counts_from_the_last_command() {
        let clock = TestClock::new();
        let idle = IdleLock::new(clock.clone());
        let limit = Duration::from_secs(300);
        assert!(
            !idle.on_command(limit),
            "the first command never finds it expired"
        );
        clock.advance(Duration::from_secs(299));
        assert!(!idle.expired(limit));
        assert!(!idle.on_command(limit), "4:59 after the last command");
        clock.advance(Duration::from_secs(299));
        assert!(!idle.expired(limit), "a command restarted the count");
        clock.advance(Duration::from_secs(1));
        assert!(idle.expired(limit));
        assert!(idle.expired(limit), "asking does not count as use");
        assert!(idle.on_command(limit));
        assert!(
            !idle.expired(limit),
            "the command after the lock starts a new count"
        );
    }

    #[test]
    fn only_the_offered_choices_are_read_from_the_setting() {
        assert_eq!(minutes_from_setting(None), DEFAULT_AUTO_LOCK_MINUTES);
        assert_eq!(minutes_from_setting(Some("10")), 10);
        assert_eq!(minutes_from_setting(Some("0")), DEFAULT_AUTO_LOCK_MINUTES);
        assert_eq!(minutes_from_setting(Some("x")), DEFAULT_AUTO_LOCK_MINUTES);
    }
}
