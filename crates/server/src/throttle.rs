//! Failure throttling for sign-in and enrolment: after a few failures from one key (a peer
//! address, an account name) inside a window, further attempts are refused until the oldest
//! failure leaves the window.
//!
//! Pure: the clock is an argument (`now`), so the tests step time by hand. The HTTP layer
//! ([`crate::http`]) keeps one [`Throttle`] per kind of key behind a mutex and answers 429
//! with `Retry-After` when [`Throttle::check`] refuses.
//!
//! Why a sliding log rather than a fixed window: a fixed window lets twice the budget through
//! around its edge, and the log is small (at most `max_failures` instants per key). Only
//! failures are counted, so people who type their password right are never slowed down, and
//! a success clears the budget of the key it was made with only: a success from one address
//! never frees another address that is guessing.

use std::collections::{HashMap, VecDeque};
use std::hash::Hash;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// How many failures a key may have inside `window` before it is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Budget {
    pub max_failures: usize,
    pub window: Duration,
    /// Most keys remembered; beyond it, expired keys are dropped first, then the key whose last
    /// failure is oldest. Bounds the memory an attacker can make us spend by inventing names.
    pub max_keys: usize,
}

/// Failures per key, inside a window.
#[derive(Debug, Clone)]
pub struct Throttle<K> {
    budget: Budget,
    failures: HashMap<K, VecDeque<Instant>>,
}

impl<K: Hash + Eq + Clone> Throttle<K> {
    pub fn new(budget: Budget) -> Self {
        Self {
            budget,
            failures: HashMap::new(),
        }
    }

    /// `Ok` when `key` may try now; otherwise how long until it may.
    pub fn check(&self, key: &K, now: Instant) -> Result<(), Duration> {
        let Some(log) = self.failures.get(key) else {
            return Ok(());
        };
        let in_window: Vec<&Instant> = log
            .iter()
            .filter(|t| now.saturating_duration_since(**t) < self.budget.window)
            .collect();
        if in_window.len() < self.budget.max_failures {
            return Ok(());
        }
        // Free again when enough failures have left the window to leave one try.
        let oldest_blocking = in_window[in_window.len() - self.budget.max_failures];
        let free_at = *oldest_blocking + self.budget.window;
        Err(free_at
            .saturating_duration_since(now)
            .max(Duration::from_secs(1)))
    }

    /// Records a failed attempt by `key`.
    pub fn fail(&mut self, key: &K, now: Instant) {
        if !self.failures.contains_key(key) && self.failures.len() >= self.budget.max_keys {
            self.make_room(now);
        }
        let window = self.budget.window;
        let log = self.failures.entry(key.clone()).or_default();
        while log
            .front()
            .is_some_and(|t| now.saturating_duration_since(*t) >= window)
        {
            log.pop_front();
        }
        log.push_back(now);
        while log.len() > self.budget.max_failures {
            log.pop_front();
        }
    }

    /// A successful attempt by `key`: its own failures are forgotten, nobody else's.
    pub fn succeed(&mut self, key: &K) {
        self.failures.remove(key);
    }

    /// How many keys are remembered (for tests and the memory bound).
    pub fn len(&self) -> usize {
        self.failures.len()
    }

    pub fn is_empty(&self) -> bool {
        self.failures.is_empty()
    }

    fn make_room(&mut self, now: Instant) {
        let window = self.budget.window;
        self.failures.retain(|_, log| {
            log.back()
                .is_some_and(|t| now.saturating_duration_since(*t) < window)
        });
        if self.failures.len() < self.budget.max_keys {
            return;
        }
        let oldest = self
            .failures
            .iter()
            .min_by_key(|(_, log)| log.back().copied())
            .map(|(k, _)| k.clone());
        if let Some(k) = oldest {
            self.failures.remove(&k);
        }
    }
}

/// The key a peer address is throttled under: the address itself for IPv4, its /64 network
/// for IPv6 (one subscriber usually holds a whole /64, so single IPv6 addresses cost an
/// attacker nothing). IPv4-mapped IPv6 addresses count as their IPv4 address.
pub fn address_key(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn budget(max_failures: usize, window_secs: u64) -> Budget {
        Budget {
            max_failures,
            window: Duration::from_secs(window_secs),
            max_keys: 1000,
        }
    }

    #[test]
    fn refuses_after_the_budget_and_frees_up_when_the_window_passes() {
        let t0 = Instant::now();
        let mut t = Throttle::new(budget(3, 60));
        for i in 0..3 {
            assert_eq!(t.check(&"a", t0), Ok(()), "try {i}");
            t.fail(&"a", t0 + Duration::from_secs(i));
        }
        let wait = t
            .check(&"a", t0 + Duration::from_secs(3))
            .expect_err("refused after 3 failures");
        // The first failure (at t0) leaves the window at t0 + 60 s.
        assert_eq!(wait, Duration::from_secs(57));
        assert!(t.check(&"a", t0 + Duration::from_secs(59)).is_err());
        assert_eq!(t.check(&"a", t0 + Duration::from_secs(60)), Ok(()));
        // One more failure then: the budget is full again until the second one leaves.
        t.fail(&"a", t0 + Duration::from_secs(60));
        assert_eq!(
            t.check(&"a", t0 + Duration::from_secs(60)),
            Err(Duration::from_secs(1))
        );
        assert_eq!(t.check(&"a", t0 + Duration::from_secs(61)), Ok(()));
    }

    #[test]
    fn keys_are_counted_apart_and_a_success_frees_only_its_own_key() {
        let t0 = Instant::now();
        let mut t = Throttle::new(budget(2, 60));
        t.fail(&"attacker", t0);
        t.fail(&"attacker", t0);
        t.fail(&"user", t0);
        assert!(t.check(&"attacker", t0).is_err());
        assert_eq!(t.check(&"user", t0), Ok(()));
        t.succeed(&"user");
        assert!(
            t.check(&"attacker", t0).is_err(),
            "another key's success frees nothing"
        );
        t.succeed(&"attacker");
        assert_eq!(t.check(&"attacker", t0), Ok(()));
    }

    #[test]
    fn memory_stays_bounded_under_invented_keys() {
        let t0 = Instant::now();
        let mut t = Throttle::new(Budget {
            max_failures: 3,
            window: Duration::from_secs(60),
            max_keys: 100,
        });
        t.fail(&0u32, t0);
        t.fail(&0u32, t0);
        t.fail(&0u32, t0);
        for k in 1..10_000u32 {
            t.fail(&k, t0 + Duration::from_millis(u64::from(k)));
        }
        assert!(t.len() <= 100);
        // Long after the window, everything is dropped on the next insert.
        t.fail(&7, t0 + Duration::from_secs(3600));
        assert_eq!(t.len(), 1);
    }

    #[test]
    fn ipv6_addresses_share_their_64_and_mapped_ipv4_is_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().expect("ip");
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().expect("ip");
        let c: IpAddr = "2001:db8:1:3::1".parse().expect("ip");
        assert_eq!(address_key(a), address_key(b));
        assert_ne!(address_key(a), address_key(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().expect("ip");
        assert_eq!(
            address_key(mapped),
            "192.0.2.7".parse::<IpAddr>().expect("ip")
        );
    }
}
