//! Time as the format carries it: whole unix seconds from 1970 to the end of
//! 9999 (FORMAT.md §5.1, §6).

use time::OffsetDateTime;

use crate::error::Error;

/// Latest time the format carries: 9999-12-31T23:59:59Z, in unix seconds.
pub(crate) const MAX_UNIX: i64 = 253_402_300_799;

/// The system clock in unix seconds, without building a calendar date (that
/// took 4% of an open).
pub(crate) fn unix_now() -> Result<i64, Error> {
    let unix = match std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH) {
        Ok(since) => i64::try_from(since.as_secs()).unwrap_or(i64::MAX),
        Err(before) => i64::try_from(before.duration().as_secs()).map_or(i64::MIN, |s| -s),
    };
    in_range(unix)
}

/// Converts the caller's clock to unix seconds within the format's range.
pub(crate) fn unix_seconds(now: OffsetDateTime) -> Result<i64, Error> {
    in_range(now.unix_timestamp())
}

fn in_range(unix: i64) -> Result<i64, Error> {
    if (0..=MAX_UNIX).contains(&unix) {
        Ok(unix)
    } else {
        Err(Error::TimeOutOfRange { unix })
    }
}

/// A time read from authenticated claims, which are always within
/// `0..=MAX_UNIX`, as a date.
pub(crate) fn to_datetime(unix: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp(unix).unwrap_or(OffsetDateTime::UNIX_EPOCH)
}
