//! Dates as ODK sees them: `YYYY-MM-DD` strings, days since 1970-01-01 as numbers, and
//! date-times as instants with the UTC offset they were recorded in.

use chrono::{Datelike, NaiveDate, NaiveDateTime, NaiveTime, TimeDelta, Timelike};

pub(crate) const MS_PER_DAY: f64 = 86_400_000.0;

fn epoch() -> NaiveDate {
    NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or_default()
}

/// Days since the epoch of a calendar date.
pub(crate) fn days_of(d: NaiveDate) -> i64 {
    d.signed_duration_since(epoch()).num_days()
}

pub(crate) fn date_of_days(days: i64) -> Option<NaiveDate> {
    epoch().checked_add_signed(TimeDelta::try_days(days)?)
}

/// `YYYY-MM-DD`, exactly (four-digit year, two-digit month and day).
pub(crate) fn parse_date(s: &str) -> Option<NaiveDate> {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return None;
    }
    let y: i32 = digits(&s[0..4])?;
    let m: u32 = digits(&s[5..7])?;
    let d: u32 = digits(&s[8..10])?;
    NaiveDate::from_ymd_opt(y, m, d)
}

fn digits<T: std::str::FromStr>(s: &str) -> Option<T> {
    if s.bytes().all(|b| b.is_ascii_digit()) && !s.is_empty() {
        s.parse().ok()
    } else {
        None
    }
}

/// `HH:MM[:SS[.fff]]` followed by an optional `Z` or `±HH[:]MM`. Returns the wall-clock time and
/// the offset in seconds when one was given.
pub(crate) fn parse_time(s: &str) -> Option<(NaiveTime, Option<i32>)> {
    let (clock, offset) = split_offset(s)?;
    let mut parts = clock.splitn(3, ':');
    let h: u32 = digits(parts.next()?)?;
    let m: u32 = digits(parts.next()?)?;
    let (sec, milli) = match parts.next() {
        None => (0, 0),
        Some(sec) => match sec.split_once('.') {
            None => (digits(sec)?, 0),
            Some((whole, frac)) => {
                let frac_digits: String = frac.chars().take(3).collect();
                let scale = 10u32.pow(3 - frac_digits.len() as u32);
                (digits(whole)?, digits::<u32>(&frac_digits)? * scale)
            }
        },
    };
    let t = NaiveTime::from_hms_milli_opt(h, m, sec, milli)?;
    Some((t, offset))
}

fn split_offset(s: &str) -> Option<(&str, Option<i32>)> {
    if let Some(clock) = s.strip_suffix('Z') {
        return Some((clock, Some(0)));
    }
    if let Some(i) = s.rfind(['+', '-']) {
        let (clock, off) = s.split_at(i);
        let sign = if off.starts_with('-') { -1 } else { 1 };
        let off = &off[1..];
        let (h, m) = match off.split_once(':') {
            Some((h, m)) => (h, m),
            None if off.len() == 4 => off.split_at(2),
            None if off.len() == 2 => (off, "00"),
            None => return None,
        };
        let h: i32 = digits(h)?;
        let m: i32 = digits(m)?;
        if h > 23 || m > 59 {
            return None;
        }
        return Some((clock, Some(sign * (h * 3600 + m * 60))));
    }
    Some((s, None))
}

/// A date-time `YYYY-MM-DDTHH:MM[:SS[.fff]][offset]`, or a plain date (midnight). Returns the
/// instant in ms since the epoch and the offset (0 when none was written: read as UTC).
pub(crate) fn parse_datetime(s: &str) -> Option<(i64, i32)> {
    if let Some(d) = parse_date(s) {
        return Some((days_of(d) * 86_400_000, 0));
    }
    let (date, time) = s.split_once('T')?;
    let d = parse_date(date)?;
    let (t, offset) = parse_time(time)?;
    let offset = offset.unwrap_or(0);
    let local = NaiveDateTime::new(d, t).and_utc().timestamp_millis();
    Some((local - i64::from(offset) * 1000, offset))
}

/// ODK's date extension to `number()`: days since the epoch, fractional for a date-time.
pub(crate) fn parse_date_or_datetime(s: &str) -> Option<f64> {
    let b = s.as_bytes();
    // Cheap rejection before any parsing: every date starts with four digits and a dash.
    if b.len() < 10 || b[4] != b'-' || !b[..4].iter().all(u8::is_ascii_digit) {
        return None;
    }
    if let Some(d) = parse_date(s) {
        return Some(days_of(d) as f64);
    }
    parse_datetime(s).map(|(ms, _)| ms as f64 / MS_PER_DAY)
}

pub(crate) fn format_iso_date(days: i64) -> String {
    match date_of_days(days) {
        Some(d) => format!("{:04}-{:02}-{:02}", d.year(), d.month(), d.day()),
        None => String::new(),
    }
}

/// Local wall-clock date and time of an instant shown at an offset.
pub(crate) fn local(ms: i64, offset: i32) -> Option<NaiveDateTime> {
    let shifted = ms.checked_add(i64::from(offset) * 1000)?;
    chrono::DateTime::from_timestamp_millis(shifted).map(|d| d.naive_utc())
}

/// `2024-01-31T10:20:30.000+07:00`, as ODK writes date-times.
pub(crate) fn format_iso_datetime(ms: i64, offset: i32) -> String {
    let Some(t) = local(ms, offset) else {
        return String::new();
    };
    let sign = if offset < 0 { '-' } else { '+' };
    let off = offset.unsigned_abs();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}{sign}{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.and_utc().timestamp_subsec_millis(),
        off / 3600,
        off % 3600 / 60
    )
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];

/// ODK's `format-date` patterns: %Y %y %m %n %b %d %e %H %h %M %S %3 %a; any other character
/// is copied, and an unknown `%x` is copied as written.
pub(crate) fn format_odk(fmt: &str, t: NaiveDateTime) -> String {
    let mut out = String::with_capacity(fmt.len() + 8);
    let mut chars = fmt.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let Some(spec) = chars.next() else {
            out.push('%');
            break;
        };
        let month0 = t.month0() as usize;
        match spec {
            'Y' => out.push_str(&format!("{:04}", t.year())),
            'y' => out.push_str(&format!("{:02}", t.year().rem_euclid(100))),
            'm' => out.push_str(&format!("{:02}", t.month())),
            'n' => out.push_str(&t.month().to_string()),
            'b' => out.push_str(MONTHS.get(month0).copied().unwrap_or("")),
            'd' => out.push_str(&format!("{:02}", t.day())),
            'e' => out.push_str(&t.day().to_string()),
            'H' => out.push_str(&format!("{:02}", t.hour())),
            'h' => out.push_str(&t.hour().to_string()),
            'M' => out.push_str(&format!("{:02}", t.minute())),
            'S' => out.push_str(&format!("{:02}", t.second())),
            '3' => out.push_str(&format!("{:03}", t.and_utc().timestamp_subsec_millis())),
            'a' => out.push_str(
                DAYS.get(t.weekday().num_days_from_monday() as usize)
                    .copied()
                    .unwrap_or(""),
            ),
            '%' => out.push('%'),
            other => {
                out.push('%');
                out.push(other);
            }
        }
    }
    out
}
