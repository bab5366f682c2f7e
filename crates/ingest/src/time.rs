//! Timestamps: CloudTrail's ISO 8601 strings to and from microseconds since the epoch,
//! and the UTC date that names an event's partition.

use std::fmt::Write;

const MICROS_PER_SECOND: i64 = 1_000_000;
const MICROS_PER_DAY: i64 = 86_400 * MICROS_PER_SECOND;

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
pub fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The (year, month, day) of a day number since 1970-01-01.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

fn digits(bytes: &[u8]) -> Option<i64> {
    let mut value = 0i64;
    for &b in bytes {
        if !b.is_ascii_digit() {
            return None;
        }
        value = value * 10 + i64::from(b - b'0');
    }
    Some(value)
}

/// Parses an RFC 3339 timestamp to microseconds since the epoch, UTC.
///
/// CloudTrail writes `eventTime` as `YYYY-MM-DDTHH:MM:SSZ`; that shape takes a fast path,
/// anything else (fractions, offsets) goes through chrono.
pub fn parse_timestamp_micros(text: &str) -> Option<i64> {
    match parse_plain(text.as_bytes()) {
        Plain::Parsed(micros, _) => Some(micros),
        Plain::Invalid => None,
        Plain::OtherShape => parse_rfc3339(text),
    }
}

/// Any RFC 3339 timestamp (fractions, offsets), through chrono.
fn parse_rfc3339(text: &str) -> Option<i64> {
    chrono::DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|t| t.timestamp_micros())
}

/// Parses a timestamp as [`parse_timestamp_micros`] does, and says whether the text is
/// exactly what [`format_timestamp_micros`] writes for it (export can then rebuild it).
/// `scratch` is for the texts that need formatting to tell.
pub fn parse_timestamp_canonical(text: &str, scratch: &mut String) -> Option<(i64, bool)> {
    match parse_plain(text.as_bytes()) {
        Plain::Parsed(micros, canonical) => Some((micros, canonical)),
        Plain::Invalid => None,
        Plain::OtherShape => {
            let micros = parse_rfc3339(text)?;
            scratch.clear();
            format_timestamp_micros(micros, scratch);
            Some((micros, scratch == text))
        }
    }
}

/// What the fast path makes of a timestamp.
enum Plain {
    /// `YYYY-MM-DDTHH:MM:SSZ` (or with a lowercase `t`, `z`, or a leap second): the time,
    /// and whether it is written exactly as [`format_timestamp_micros`] writes it.
    Parsed(i64, bool),
    /// That shape, but no valid time.
    Invalid,
    /// Another shape.
    OtherShape,
}

fn parse_plain(b: &[u8]) -> Plain {
    if !(b.len() == 20
        && b[4] == b'-'
        && b[7] == b'-'
        && (b[10] == b'T' || b[10] == b't')
        && b[13] == b':'
        && b[16] == b':'
        && (b[19] == b'Z' || b[19] == b'z'))
    {
        return Plain::OtherShape;
    }
    let fields = [
        &b[0..4],
        &b[5..7],
        &b[8..10],
        &b[11..13],
        &b[14..16],
        &b[17..19],
    ];
    let [
        Some(year),
        Some(month),
        Some(day),
        Some(hour),
        Some(minute),
        Some(second),
    ] = fields.map(digits)
    else {
        return Plain::Invalid;
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 60
    {
        return Plain::Invalid;
    }
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second;
    // A leap second is read as the next minute's first, and written so.
    let canonical = b[10] == b'T' && b[19] == b'Z' && second < 60;
    Plain::Parsed(seconds * MICROS_PER_SECOND, canonical)
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 31,
    }
}

/// Writes `micros` as CloudTrail writes times: `YYYY-MM-DDTHH:MM:SSZ`, with a fraction
/// (milliseconds, or microseconds when needed) only when the time has one.
pub fn format_timestamp_micros(micros: i64, out: &mut String) {
    let days = micros.div_euclid(MICROS_PER_DAY);
    let in_day = micros.rem_euclid(MICROS_PER_DAY);
    let (year, month, day) = civil_from_days(days);
    let seconds = in_day / MICROS_PER_SECOND;
    let fraction = in_day % MICROS_PER_SECOND;
    // Digits by hand: it runs for every time field of every record (to tell whether the
    // text round-trips), where `write!` showed in the profile (~2%).
    if (0..=9999).contains(&year) {
        push_digits(out, year as u64, 4);
        out.push('-');
        push_digits(out, u64::from(month), 2);
        out.push('-');
        push_digits(out, u64::from(day), 2);
        out.push('T');
        push_digits(out, (seconds / 3600) as u64, 2);
        out.push(':');
        push_digits(out, (seconds / 60 % 60) as u64, 2);
        out.push(':');
        push_digits(out, (seconds % 60) as u64, 2);
    } else {
        let _ = write!(
            out,
            "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}",
            seconds / 3600,
            seconds / 60 % 60,
            seconds % 60
        );
    }
    if fraction != 0 {
        out.push('.');
        if fraction % 1000 == 0 {
            push_digits(out, (fraction / 1000) as u64, 3);
        } else {
            push_digits(out, fraction as u64, 6);
        }
    }
    out.push('Z');
}

/// Appends the last `width` decimal digits of `value`, zero-padded.
fn push_digits(out: &mut String, mut value: u64, width: usize) {
    let mut digits = [b'0'; 8];
    for slot in digits[..width].iter_mut().rev() {
        *slot = b'0' + (value % 10) as u8;
        value /= 10;
    }
    out.push_str(std::str::from_utf8(&digits[..width]).expect("ASCII digits"));
}

/// The day number (since 1970-01-01, UTC) of a timestamp.
pub fn day_of(micros: i64) -> i32 {
    micros.div_euclid(MICROS_PER_DAY) as i32
}

/// The `YYYY-MM-DD` name of a day number.
pub fn date_string(day: i32) -> String {
    let (year, month, day) = civil_from_days(i64::from(day));
    format!("{year:04}-{month:02}-{day:02}")
}

/// The day number of a partition directory (`event_date=YYYY-MM-DD`); `None` for the
/// partition of events without a time (or a name that is not a date).
pub fn day_of_partition(dir: &str) -> Option<i32> {
    let date = dir
        .strip_prefix(crate::schema::PARTITION_COLUMN)?
        .strip_prefix('=')?;
    let mut parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (parts.next()??, parts.next()??, parts.next()??);
    let days = days_from_civil(year, month, day);
    let day = i32::try_from(days).ok()?;
    (date_string(day) == date).then_some(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partition_names_give_their_day() {
        for day in [-1, 0, 20_423, 2_000_000] {
            let dir = format!("event_date={}", date_string(day));
            assert_eq!(day_of_partition(&dir), Some(day), "{dir}");
        }
        for dir in [
            "event_date=__HIVE_DEFAULT_PARTITION__",
            "event_date=2026-02-30",
            "event_date=2026-1-01",
            "other=2026-01-01",
        ] {
            assert_eq!(day_of_partition(dir), None, "{dir}");
        }
    }

    #[test]
    fn parses_cloudtrail_times() {
        assert_eq!(parse_timestamp_micros("1970-01-01T00:00:00Z"), Some(0));
        let t = parse_timestamp_micros("2020-09-14T01:19:40Z").unwrap();
        assert_eq!(t, 1_600_046_380 * MICROS_PER_SECOND);
        assert_eq!(
            parse_timestamp_micros("2020-09-14T01:19:40.707Z"),
            Some(t + 707_000)
        );
        assert_eq!(parse_timestamp_micros("2020-09-14T03:19:40+02:00"), Some(t));
    }

    #[test]
    fn rejects_malformed_times() {
        for bad in [
            "",
            "2021-02-21T23: 46: 28Z",
            "20131102T010628Z",
            "2021-02-30T00:00:00Z",
            "2021-13-01T00:00:00Z",
            "2021-01-01T24:00:00Z",
            "yesterday",
        ] {
            assert_eq!(parse_timestamp_micros(bad), None, "{bad}");
        }
    }

    #[test]
    fn formats_back_to_the_same_text() {
        for text in [
            "2020-09-14T01:19:40Z",
            "1999-12-31T23:59:59Z",
            "2024-02-29T12:00:00Z",
            "2020-09-14T01:19:40.707Z",
            "2020-09-14T01:19:40.000001Z",
            "1960-06-01T00:00:00Z",
        ] {
            let mut out = String::new();
            format_timestamp_micros(parse_timestamp_micros(text).unwrap(), &mut out);
            assert_eq!(out, text);
        }
    }

    #[test]
    fn canonical_means_formatted_back_the_same() {
        let mut scratch = String::new();
        for text in [
            "2020-09-14T01:19:40Z",
            "2020-09-14t01:19:40Z",
            "2020-09-14T01:19:40z",
            "2016-12-31T23:59:60Z",
            "2020-09-14T01:19:40.707Z",
            "2020-09-14T01:19:40.700Z",
            "2020-09-14T01:19:40.7Z",
            "2020-09-14T01:19:40.000Z",
            "2020-09-14T01:19:40+00:00",
            "0001-01-01T00:00:00Z",
        ] {
            let (micros, canonical) = parse_timestamp_canonical(text, &mut scratch).unwrap();
            assert_eq!(Some(micros), parse_timestamp_micros(text), "{text}");
            let mut out = String::new();
            format_timestamp_micros(micros, &mut out);
            assert_eq!(canonical, out == text, "{text}: formatted {out}");
        }
        assert_eq!(
            parse_timestamp_canonical("2020-02-30T00:00:00Z", &mut scratch),
            None
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 1, 59, 365, 11_016, 20_000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, i64::from(m), i64::from(d)), days);
        }
        assert_eq!(
            date_string(day_of(1_600_046_380 * MICROS_PER_SECOND)),
            "2020-09-14"
        );
        assert_eq!(date_string(day_of(-1)), "1969-12-31");
    }
}
