//! HTTP dates (RFC 9110 §5.6.7): formatting IMF-fixdate, parsing all three formats.

use std::cell::Cell;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const DAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

/// Formats `time` as an IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), the form
/// `Date` and `Last-Modified` use. Sub-second parts are dropped; times before 1970
/// format as the epoch.
///
/// ```
/// use std::time::{Duration, UNIX_EPOCH};
/// use seine_codec::http::format_http_date;
/// assert_eq!(format_http_date(UNIX_EPOCH + Duration::from_secs(784111777)), "Sun, 06 Nov 1994 08:49:37 GMT");
/// ```
pub fn format_http_date(time: SystemTime) -> String {
    // ASCII by construction, so the conversion cannot fail.
    String::from_utf8(imf_fixdate(secs(time)).to_vec()).unwrap_or_default()
}

fn secs(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH).map_or(0, |d| d.as_secs())
}

/// The last second IMF-fixdate can write (four-digit years).
const MAX_SECS: u64 = 253_402_300_799; // Fri, 31 Dec 9999 23:59:59 GMT

/// `Sun, 06 Nov 1994 08:49:37 GMT`, written byte by byte (this runs for every
/// `Last-Modified`; `format!` cost a few thousand instructions). Times past the
/// year 9999 format as its last second.
fn imf_fixdate(secs: u64) -> [u8; 29] {
    let secs = secs.min(MAX_SECS);
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    let wd = (days + 4).rem_euclid(7) as usize;
    let mut out = *b"Thu, 01 Jan 1970 00:00:00 GMT";
    out[..3].copy_from_slice(DAYS[wd].as_bytes());
    put_digits(&mut out[5..7], u64::from(d));
    out[8..11].copy_from_slice(MONTHS[m as usize - 1].as_bytes());
    put_digits(&mut out[12..16], y as u64);
    put_digits(&mut out[17..19], rem / 3600);
    put_digits(&mut out[20..22], rem / 60 % 60);
    put_digits(&mut out[23..25], rem % 60);
    out
}

/// Writes `n` in decimal, zero-padded to `dst.len()` digits (the low ones).
fn put_digits(dst: &mut [u8], mut n: u64) {
    for b in dst.iter_mut().rev() {
        *b = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

thread_local! {
    static CACHED: Cell<(u64, [u8; 29])> = const { Cell::new((u64::MAX, [0; 29])) };
}

/// The current time as an IMF-fixdate, formatted at most once per second per thread.
pub(crate) fn now_imf_fixdate() -> [u8; 29] {
    let now = secs(SystemTime::now());
    CACHED.with(|c| {
        let (at, text) = c.get();
        if at == now {
            return text;
        }
        let text = imf_fixdate(now);
        c.set((now, text));
        text
    })
}

/// Parses an HTTP date in any of the three formats recipients must accept:
/// IMF-fixdate (`Sun, 06 Nov 1994 08:49:37 GMT`), RFC 850
/// (`Sunday, 06-Nov-94 08:49:37 GMT`) and asctime (`Sun Nov  6 08:49:37 1994`).
/// `None` if it is none of them.
///
/// ```
/// use seine_codec::http::{format_http_date, parse_http_date};
/// let t = parse_http_date("Sunday, 06-Nov-94 08:49:37 GMT").unwrap();
/// assert_eq!(parse_http_date("Sun Nov  6 08:49:37 1994"), Some(t));
/// assert_eq!(format_http_date(t), "Sun, 06 Nov 1994 08:49:37 GMT");
/// assert_eq!(parse_http_date("yesterday"), None);
/// ```
pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    let s = s.trim();
    let (day, month, year, time) = if let Some((_, rest)) = s.split_once(',') {
        let mut t = rest.split_ascii_whitespace();
        let first = t.next()?;
        if first.contains('-') {
            // RFC 850: 06-Nov-94 08:49:37 GMT
            let mut dmy = first.split('-');
            let (d, m, y) = (dmy.next()?, dmy.next()?, dmy.next()?);
            let y: i64 = number(y, 2)?;
            let y = if y < 70 { 2000 + y } else { 1900 + y };
            let time = t.next()?;
            if t.next()? != "GMT" || t.next().is_some() || dmy.next().is_some() {
                return None;
            }
            (number(d, 2)?, m, y, time)
        } else {
            // IMF-fixdate: 06 Nov 1994 08:49:37 GMT
            let (m, y, time) = (t.next()?, t.next()?, t.next()?);
            if t.next()? != "GMT" || t.next().is_some() {
                return None;
            }
            (number(first, 2)?, m, number(y, 4)?, time)
        }
    } else {
        // asctime: Sun Nov  6 08:49:37 1994
        let mut t = s.split_ascii_whitespace();
        let (_, m, d, time, y) = (t.next()?, t.next()?, t.next()?, t.next()?, t.next()?);
        if t.next().is_some() || d.is_empty() || d.len() > 2 {
            return None;
        }
        (d.parse().ok()?, m, number(y, 4)?, time)
    };
    let month = MONTHS.iter().position(|&m| m == month)? as u32 + 1;
    let mut hms = time.split(':');
    let (h, mi, se): (u64, u64, u64) = (
        number(hms.next()?, 2)? as u64,
        number(hms.next()?, 2)? as u64,
        number(hms.next()?, 2)? as u64,
    );
    if hms.next().is_some() || !(1..=31).contains(&day) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(year, month, day as u32);
    if days < 0 {
        return None;
    }
    let secs = days as u64 * 86_400 + h * 3600 + mi * 60 + se;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// Exactly `width` ASCII digits.
fn number(s: &str, width: usize) -> Option<i64> {
    (s.len() == width && s.bytes().all(|b| b.is_ascii_digit()))
        .then(|| s.parse().ok())
        .flatten()
}

/// (year, month 1-12, day 1-31) of a day count since 1970-01-01 (H. Hinnant).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// Days since 1970-01-01 of a civil date (H. Hinnant).
fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = i64::from(if m > 2 { m - 3 } else { m + 9 });
    let doy = (153 * mp + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_over_the_years() {
        for secs in (0..4_102_444_800u64).step_by(86_400 * 37 + 3_601) {
            let t = UNIX_EPOCH + Duration::from_secs(secs);
            let s = format_http_date(t);
            assert_eq!(s.len(), 29, "{s}");
            assert_eq!(parse_http_date(&s), Some(t), "{s}");
        }
    }

    #[test]
    fn known_dates() {
        assert_eq!(
            format_http_date(UNIX_EPOCH),
            "Thu, 01 Jan 1970 00:00:00 GMT"
        );
        assert_eq!(
            format_http_date(UNIX_EPOCH + Duration::from_secs(951_782_400)),
            "Tue, 29 Feb 2000 00:00:00 GMT"
        );
        for bad in [
            "",
            "Sun, 06 Nov 1994 08:49:37 UTC",
            "Sun, 6 Nov 1994 08:49:37 GMT",
            "Sun, 06 Foo 1994 08:49:37 GMT",
            "Sun, 06 Nov 1994 24:00:00 GMT",
            "Sun Nov  6 08:49:37 1994 extra",
        ] {
            assert_eq!(parse_http_date(bad), None, "{bad:?}");
        }
        assert_eq!(now_imf_fixdate().len(), 29);
    }

    #[test]
    fn the_far_future_is_the_last_second_of_9999() {
        let last = UNIX_EPOCH + Duration::from_secs(MAX_SECS);
        assert_eq!(format_http_date(last), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(parse_http_date("Fri, 31 Dec 9999 23:59:59 GMT"), Some(last));
        let later = UNIX_EPOCH + Duration::from_secs(MAX_SECS * 4);
        assert_eq!(format_http_date(later), "Fri, 31 Dec 9999 23:59:59 GMT");
    }
}
