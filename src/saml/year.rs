//! `SamlYear`: the four-digit suffix of every SAML endpoint (`/api/saml/auth2026`).

use std::fmt;

/// A year as it appears in an endpoint path: exactly four ASCII digits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SamlYear(u16);

impl SamlYear {
    /// Parses an endpoint suffix. Anything but exactly four ASCII digits (`2026.xml`, `+2026`,
    /// `02026`, `２０２６`) is not a year.
    pub fn parse(suffix: &str) -> Option<Self> {
        if suffix.len() != 4 || !suffix.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        suffix.parse().ok().filter(|y| *y >= 1000).map(SamlYear)
    }

    pub fn new(year: u16) -> Option<Self> {
        (1000..=9999).contains(&year).then_some(SamlYear(year))
    }

    pub fn value(self) -> u16 {
        self.0
    }
}

impl fmt::Display for SamlYear {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::SamlYear;

    #[test]
    fn only_four_ascii_digits_are_a_year() {
        assert_eq!(SamlYear::parse("2026").map(SamlYear::value), Some(2026));
        for bad in [
            "",
            "26",
            "20260",
            "2026.xml",
            "+202",
            "abcd",
            "０２６",
            "0999",
            " 2026",
        ] {
            assert_eq!(SamlYear::parse(bad), None, "{bad:?}");
        }
    }
}
