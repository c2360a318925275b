//! Times as the database keeps them: UTC without an offset, cut to whole microseconds. Both
//! backends keep exactly that much, so a value read back compares equal to what was written
//! (and SQLite's text compares as PostgreSQL's timestamp does). Every store writes and reads
//! times through these two functions.

use chrono::{DateTime, NaiveDateTime, SubsecRound, Utc};

/// A time as stored: UTC, whole microseconds.
pub(super) fn db_time(t: DateTime<Utc>) -> NaiveDateTime {
    t.naive_utc().trunc_subsecs(6)
}

/// A stored time, as UTC.
pub(super) fn utc(t: NaiveDateTime) -> DateTime<Utc> {
    DateTime::from_naive_utc_and_offset(t, Utc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sub_microseconds_are_cut_and_the_rest_round_trips() {
        let t = DateTime::from_timestamp(1_773_576_000, 123_456_789).unwrap();
        let stored = db_time(t);
        assert_eq!(stored.and_utc().timestamp_subsec_nanos(), 123_456_000);
        assert_eq!(utc(stored), db_time(t).and_utc());
        assert_eq!(db_time(utc(stored)), stored, "stable once stored");
    }
}
