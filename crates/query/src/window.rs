//! The time window (`--since` / `--until`) that restricts `events` for every query.

use chrono::{DateTime, Duration, NaiveDate, Utc};

/// A half-open window `[since, until)` on `event_time`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeWindow {
    /// Events at or after this instant.
    pub since: Option<DateTime<Utc>>,
    /// Events strictly before this instant.
    pub until: Option<DateTime<Utc>>,
}

/// A bound that could not be read, or a window that is empty.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WindowError {
    /// Neither RFC 3339, a date, nor a relative duration.
    #[error(
        "'{0}' is not a time: use RFC 3339 (2026-10-01T12:00:00Z), a date (2026-10-01) \
         or a time before now (90m, 12h, 7d, 2w)"
    )]
    Unreadable(String),
    /// `since` is not before `until`.
    #[error("the window is empty: --since {since} is not before --until {until}")]
    Empty {
        /// The start, as given.
        since: String,
        /// The end, as given.
        until: String,
    },
}

impl TimeWindow {
    /// Reads `--since` / `--until` values relative to `now` (see [`parse_instant`]).
    pub fn parse(
        since: Option<&str>,
        until: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<Self, WindowError> {
        let window = TimeWindow {
            since: since.map(|s| parse_instant(s, now)).transpose()?,
            until: until.map(|s| parse_instant(s, now)).transpose()?,
        };
        if let (Some(start), Some(end)) = (window.since, window.until)
            && start >= end
        {
            return Err(WindowError::Empty {
                since: since.unwrap_or_default().to_string(),
                until: until.unwrap_or_default().to_string(),
            });
        }
        Ok(window)
    }

    /// Whether both ends are open (no restriction).
    pub fn is_unbounded(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }
}

/// An instant: RFC 3339 (`2026-10-01T12:00:00Z`, any offset), a UTC date (`2026-10-01`,
/// its midnight), or a duration before `now` (`90s`, `30m`, `12h`, `7d`, `2w`).
pub fn parse_instant(text: &str, now: DateTime<Utc>) -> Result<DateTime<Utc>, WindowError> {
    let text = text.trim();
    let unreadable = || WindowError::Unreadable(text.to_string());
    if let Ok(instant) = DateTime::parse_from_rfc3339(text) {
        return Ok(instant.with_timezone(&Utc));
    }
    if let Ok(date) = NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        return Ok(date.and_hms_opt(0, 0, 0).ok_or_else(unreadable)?.and_utc());
    }
    let split = text
        .find(|c: char| !c.is_ascii_digit())
        .ok_or_else(unreadable)?;
    let (digits, unit) = text.split_at(split);
    let amount: i64 = digits.parse().map_err(|_| unreadable())?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        "w" => 7 * 86_400,
        _ => return Err(unreadable()),
    };
    let seconds = amount
        .checked_mul(seconds_per_unit)
        .ok_or_else(unreadable)?;
    let span = Duration::try_seconds(seconds).ok_or_else(unreadable)?;
    now.checked_sub_signed(span).ok_or_else(unreadable)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn now() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-11-28T12:00:00Z")
            .unwrap()
            .with_timezone(&Utc)
    }

    fn at(text: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(text)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn absolute_and_relative_instants() {
        assert_eq!(
            parse_instant("2026-10-01T12:00:00Z", now()),
            Ok(at("2026-10-01T12:00:00Z"))
        );
        assert_eq!(
            parse_instant("2026-10-01T14:00:00+02:00", now()),
            Ok(at("2026-10-01T12:00:00Z"))
        );
        assert_eq!(
            parse_instant("2026-10-01", now()),
            Ok(at("2026-10-01T00:00:00Z"))
        );
        assert_eq!(parse_instant("7d", now()), Ok(at("2026-11-21T12:00:00Z")));
        assert_eq!(parse_instant("12h", now()), Ok(at("2026-11-28T00:00:00Z")));
        assert_eq!(parse_instant("90m", now()), Ok(at("2026-11-28T10:30:00Z")));
        assert_eq!(parse_instant("2w", now()), Ok(at("2026-11-14T12:00:00Z")));
    }

    #[test]
    fn unreadable_instants_and_empty_windows_are_errors() {
        for bad in [
            "",
            "7",
            "d",
            "7y",
            "-7d",
            "yesterday",
            "2026-13-01",
            "99999999999999999999d",
        ] {
            assert!(
                matches!(parse_instant(bad, now()), Err(WindowError::Unreadable(_))),
                "{bad}"
            );
        }
        let empty = TimeWindow::parse(Some("2026-10-02"), Some("2026-10-01"), now());
        assert!(matches!(empty, Err(WindowError::Empty { .. })));
        let open = TimeWindow::parse(None, Some("1d"), now()).unwrap();
        assert_eq!(open.until, Some(at("2026-11-27T12:00:00Z")));
        assert!(!open.is_unbounded());
    }
}
