//! The rules every incoming request's root element obeys, whatever the message (SPEC 4, 9):
//! `Version="2.0"`, an xs:ID `ID`, an `IssueInstant` that is an xs:dateTime in UTC, and the
//! children in schema order (`saml:Issuer`, then `ds:Signature`, then the rest; saml-core
//! §3.2.1, RequestAbstractType).

use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use libxml::tree::Node;

use thiserror::Error;

use super::ns;
use super::xml_doc::{self, XmlDoc, XmlDocError};

/// What the root of an incoming message is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    AuthnRequest,
    LogoutRequest,
    /// The root is one and the document also holds the other.
    Both,
    Neither,
}

/// A request root (or AuthnRequest attribute) that breaks a rule of saml-core §3.2.1/§3.4.1.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum RequestError {
    #[error(transparent)]
    Xml(#[from] XmlDocError),
    #[error("the root element has no ID")]
    MissingId,
    #[error("the ID attribute must be an xs:ID (an NCName) of at most 256 bytes")]
    BadId,
    #[error("Version must be 2.0")]
    WrongVersion,
    #[error("{attribute} must be true, false, 1 or 0")]
    BadBoolean { attribute: &'static str },
    #[error("the root element has no IssueInstant")]
    MissingIssueInstant,
    #[error("IssueInstant must be an xs:dateTime in UTC (ending in Z or +00:00)")]
    BadIssueInstant,
    #[error("the root's children must be in schema order: saml:Issuer, then ds:Signature, then the rest")]
    ChildOrder,
    #[error(
        "AssertionConsumerServiceIndex and AssertionConsumerServiceURL must not both be present"
    )]
    AcsIndexAndUrl,
}

impl RequestError {
    /// A description in fixed words that names only the rule that failed: safe to show
    /// (SPEC 3). `Display` may say more and belongs in the debug log.
    pub fn public_detail(&self) -> String {
        match self {
            RequestError::Xml(e) => e.public_detail(),
            // The other messages are fixed words (the attribute name is ours, not the
            // request's): listed so a new variant must be looked at.
            RequestError::MissingId
            | RequestError::BadId
            | RequestError::WrongVersion
            | RequestError::BadBoolean { .. }
            | RequestError::MissingIssueInstant
            | RequestError::BadIssueInstant
            | RequestError::ChildOrder
            | RequestError::AcsIndexAndUrl => self.to_string(),
        }
    }
}

/// Classifies a parsed message by its root (and whether it also holds the other kind).
pub fn kind(doc: &XmlDoc) -> MessageKind {
    let Some(root) = doc.root() else {
        return MessageKind::Neither;
    };
    let all = xml_doc::descendants(&root);
    let has = |local: &str| all.iter().skip(1).any(|n| xml_doc::is(n, ns::SAMLP, local));
    match (
        xml_doc::is(&root, ns::SAMLP, "AuthnRequest"),
        xml_doc::is(&root, ns::SAMLP, "LogoutRequest"),
    ) {
        (true, _) if has("LogoutRequest") => MessageKind::Both,
        (_, true) if has("AuthnRequest") => MessageKind::Both,
        (true, _) => MessageKind::AuthnRequest,
        (_, true) => MessageKind::LogoutRequest,
        _ => MessageKind::Neither,
    }
}

/// What the root carries that every message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RootFields {
    pub id: String,
    pub issue_instant: DateTime<Utc>,
}

/// Checks the root's version, ID, IssueInstant and child order.
pub fn check(root: &Node) -> Result<RootFields, RequestError> {
    let id = xml_doc::attr(root, "ID")
        .filter(|v| !v.is_empty())
        .ok_or(RequestError::MissingId)?;
    if !super::xs_id::is_valid_id(&id) {
        return Err(RequestError::BadId);
    }
    if xml_doc::attr(root, "Version").as_deref() != Some("2.0") {
        return Err(RequestError::WrongVersion);
    }
    let issue_instant =
        xml_doc::attr(root, "IssueInstant").ok_or(RequestError::MissingIssueInstant)?;
    let issue_instant = utc_instant(&issue_instant).ok_or(RequestError::BadIssueInstant)?;
    check_child_order(root)?;
    Ok(RootFields { id, issue_instant })
}

/// At most one `saml:Issuer` and one `ds:Signature`, in that order, before every other child.
fn check_child_order(root: &Node) -> Result<(), RequestError> {
    let rank = |n: &Node| {
        if xml_doc::is(n, ns::SAML, "Issuer") {
            0
        } else if xml_doc::is(n, ns::DS, "Signature") {
            1
        } else {
            2
        }
    };
    let ranks: Vec<u8> = root.get_child_elements().iter().map(rank).collect();
    let in_order = ranks
        .windows(2)
        .all(|w| w[0] < w[1] || (w[0] == 2 && w[1] == 2));
    if in_order {
        Ok(())
    } else {
        Err(RequestError::ChildOrder)
    }
}

/// An xs:dateTime in UTC, strictly: `YYYY-MM-DDThh:mm:ss`, optional fraction, then `Z` or
/// `+00:00`. A date or time that does not exist (month 13, hour 99) is refused.
pub fn utc_instant(text: &str) -> Option<DateTime<Utc>> {
    let local = text
        .strip_suffix('Z')
        .or_else(|| text.strip_suffix("+00:00"))?;
    let (date, time) = local.split_once('T')?;
    let (time, fraction) = match time.split_once('.') {
        Some((t, f)) => (t, Some(f)),
        None => (time, None),
    };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    let date_parts: Vec<&str> = date.split('-').collect();
    let time_parts: Vec<&str> = time.split(':').collect();
    let shape = matches!(date_parts.as_slice(), [y, m, d] if digits(y, 4) && digits(m, 2) && digits(d, 2))
        && matches!(time_parts.as_slice(), [h, m, s] if digits(h, 2) && digits(m, 2) && digits(s, 2))
        && fraction.is_none_or(|f| !f.is_empty() && f.len() <= 9 && digits(f, f.len()));
    if !shape {
        return None;
    }
    let number = |s: &str| s.parse::<u32>().ok();
    let day = NaiveDate::from_ymd_opt(
        date_parts[0].parse().ok()?,
        number(date_parts[1])?,
        number(date_parts[2])?,
    )?;
    let nanos = match fraction {
        Some(f) => number(&format!("{f:0<9}"))?,
        None => 0,
    };
    let time = NaiveTime::from_hms_nano_opt(
        number(time_parts[0])?,
        number(time_parts[1])?,
        number(time_parts[2])?,
        nanos,
    )?;
    Some(NaiveDateTime::new(day, time).and_utc())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn utc_instants_are_parsed_strictly() {
        let noon = chrono::TimeZone::with_ymd_and_hms(&Utc, 2026, 3, 15, 12, 0, 0).unwrap();
        for ok in [
            "2026-03-15T12:00:00Z",
            "2026-03-15T12:00:00+00:00",
            "2026-03-15T12:00:00.000Z",
        ] {
            assert_eq!(utc_instant(ok), Some(noon), "{ok}");
        }
        assert!(utc_instant("2026-03-15T12:00:00.5Z").is_some());
        for bad in [
            "",
            "yesterday",
            "2026-13-45T99:00:00Z",
            "2026-02-30T12:00:00Z",
            "2026-03-15T12:00:00",
            "2026-03-15T12:00:00+01:00",
            "2026-03-15 12:00:00Z",
            "2026-03-15t12:00:00Z",
            "2026-03-15T12:00:00z",
            "2026-3-15T12:00:00Z",
            " 2026-03-15T12:00:00Z",
            "2026-03-15T12:00:00.Z",
            "+2026-03-15T12:00:00Z",
            "2026-03-15T24:00:00Z",
        ] {
            assert_eq!(utc_instant(bad), None, "{bad:?}");
        }
    }
}
