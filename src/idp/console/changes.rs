//! Every change to a service provider (SPEC 19): create, update, deactivate, add and remove
//! a certificate. Each is judged by the same rules whoever makes it (the registry's
//! validation, the deployment's policy, the actor's agencies, new certificates in date),
//! written only over the version it was read at, audited with the names of the fields that
//! changed (never a certificate body), and told to the agency's administrators.

use std::path::Path;

use super::{get, Actor, ConsoleError, ConsolePorts};
use crate::accounts::roles::Role;
use crate::accounts::UserStatus;
use crate::mail::Mail;
use crate::registry::{policy, validate, ServiceProvider, SpRecord, ValidationError};
use crate::sessions::{AuditEvent, AuditKind};

/// Record fields that are the store's, not the SP's: never compared or announced.
const STORE_FIELDS: &[&str] = &["created_at", "updated_at"];

/// Registers a new SP from `record` (active unless it says otherwise).
pub fn create(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    mut record: SpRecord,
) -> Result<ServiceProvider, ConsoleError> {
    if record.agency.is_none() {
        record.agency = actor.default_agency().map(str::to_string);
    }
    record.created_at = None;
    record.updated_at = None;
    let sp = judged(p, actor, &record, &[])?;
    p.registry.add(&sp)?;
    let fields = changed_fields(&SpRecord::default(), &SpRecord::from(&sp));
    announce(p, actor, &sp, "created", &fields)?;
    stored(p, &sp.issuer)
}

/// Adds or replaces every SP of `records` by issuer, all or none (`saml-idp sp import`):
/// each judged as [`create`] or [`update`] judge it; each audited and announced. How many
/// were added and updated.
pub fn import_all(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    records: &[SpRecord],
) -> Result<crate::registry::UpsertCounts, ConsoleError> {
    let mut judged_sps = Vec::with_capacity(records.len());
    let mut changes = Vec::with_capacity(records.len());
    for record in records {
        let existing = p.registry.find(&record.issuer)?;
        if let Some(sp) = &existing {
            if !actor.covers(sp.agency.as_deref()) {
                return Err(ConsoleError::NotFound);
            }
        }
        let before = existing.as_ref().map(SpRecord::from).unwrap_or_default();
        let kept = existing.as_ref().map_or(&[][..], |sp| sp.certs.as_slice());
        let sp = judged(p, actor, record, kept).map_err(|e| naming(&record.issuer, e))?;
        let after = SpRecord::from(&sp);
        let verb = if existing.is_some() {
            "updated"
        } else {
            "created"
        };
        changes.push((verb, changed_fields(&before, &after)));
        judged_sps.push(sp);
    }
    let counts = p.registry.upsert_all(&judged_sps)?;
    for (sp, (verb, fields)) in judged_sps.iter().zip(changes) {
        if !fields.is_empty() {
            announce(p, actor, sp, verb, &fields)?;
        }
    }
    Ok(counts)
}

/// A refusal about one SP of several: its message names the SP.
fn naming(issuer: &str, e: ConsoleError) -> ConsoleError {
    let named = |mut v: ValidationError| {
        v.message = format!("service provider {issuer:?}: {}", v.message);
        v
    };
    match e {
        ConsoleError::Invalid(v) => ConsoleError::Invalid(named(v)),
        ConsoleError::Forbidden(v) => ConsoleError::Forbidden(named(v)),
        other => other,
    }
}

/// Deletes the SP (`saml-idp sp remove`; the console and the API deactivate instead).
pub fn remove(p: &ConsolePorts<'_>, actor: &Actor, id: &str) -> Result<(), ConsoleError> {
    let existing = get(p, actor, id)?;
    p.registry.remove(&existing.issuer)?;
    announce(p, actor, &existing, "removed", &[])
}

/// Applies `edit` to the SP with console id `id`, as read at `version` (`None`: the version
/// read now, for changes that cannot conflict, such as adding a certificate).
pub fn update(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
    edit: impl FnOnce(&mut SpRecord) -> Result<(), ConsoleError>,
) -> Result<ServiceProvider, ConsoleError> {
    let existing = get(p, actor, id)?;
    let version = version.unwrap_or(existing.version);
    if version != existing.version {
        return Err(ConsoleError::Stale);
    }
    let before = SpRecord::from(&existing);
    let mut after = before.clone();
    edit(&mut after)?;
    if after.issuer != existing.issuer {
        return Err(ConsoleError::Invalid(ValidationError {
            field: "issuer",
            code: "immutable",
            message: "the issuer of a registered service provider cannot change: register \
                      a new one instead"
                .into(),
        }));
    }
    let mut sp = judged(p, actor, &after, &existing.certs)?;
    let fields = changed_fields(&before, &SpRecord::from(&sp));
    if fields.is_empty() {
        return Ok(existing);
    }
    sp.version = version;
    p.registry.update(&sp)?;
    announce(p, actor, &sp, "updated", &fields)?;
    stored(p, &sp.issuer)
}

/// Takes the SP out of service (its requests are refused as inactive); it stays registered.
pub fn deactivate(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
) -> Result<ServiceProvider, ConsoleError> {
    update(p, actor, id, version, |record| {
        record.active = false;
        Ok(())
    })
}

/// Adds the certificate `pem` (checked as every certificate is, and in date).
pub fn add_certificate(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
    pem: &str,
) -> Result<ServiceProvider, ConsoleError> {
    update(p, actor, id, version, |record| {
        record.certs.push(pem.to_string());
        Ok(())
    })
}

/// Removes the certificate whose SHA-256 fingerprint (hex, any case, colons allowed) is
/// `fingerprint`.
pub fn remove_certificate(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    id: &str,
    version: Option<i64>,
    fingerprint: &str,
) -> Result<ServiceProvider, ConsoleError> {
    let wanted: String = fingerprint
        .chars()
        .filter(|c| *c != ':')
        .flat_map(char::to_lowercase)
        .collect();
    let existing = get(p, actor, id)?;
    let index = existing
        .certs
        .iter()
        .position(|c| c.sha256_fingerprint() == wanted)
        .ok_or(ConsoleError::NoSuchCertificate)?;
    update(p, actor, id, version, move |record| {
        record.certs.remove(index);
        Ok(())
    })
}

/// `record` as an SP the actor may write: valid, within the policy, in one of the actor's
/// agencies, every certificate that is not in `kept` in date.
fn judged(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    record: &SpRecord,
    kept: &[crate::crypto::Certificate],
) -> Result<ServiceProvider, ConsoleError> {
    // Certificates come inline: a path would read the server's files.
    if let Some(n) = record
        .certs
        .iter()
        .position(|c| !c.trim_start().starts_with("-----BEGIN"))
    {
        return Err(ConsoleError::Invalid(ValidationError {
            field: "certs",
            code: "not_pem",
            message: format!(
                "certificate {} is not PEM (-----BEGIN CERTIFICATE-----)",
                n + 1
            ),
        }));
    }
    let sp = validate(record, Path::new("/nonexistent"))?;
    policy::check(&sp, p.policy)?;
    if !actor.covers(sp.agency.as_deref()) {
        return Err(ConsoleError::Forbidden(ValidationError {
            field: "agency",
            code: "not_your_agency",
            message: match &sp.agency {
                Some(agency) => format!("you do not administer the agency {agency:?}"),
                None => "name the agency of the service provider".into(),
            },
        }));
    }
    for (n, cert) in sp.certs.iter().enumerate() {
        let known = kept
            .iter()
            .any(|k| k.sha256_fingerprint() == cert.sha256_fingerprint());
        let expired = cert.not_after().is_none_or(|end| end <= p.now);
        if !known && expired {
            return Err(ConsoleError::Invalid(ValidationError {
                field: "certs",
                code: "expired",
                message: format!("certificate {} has expired", n + 1),
            }));
        }
    }
    Ok(sp)
}

fn stored(p: &ConsolePorts<'_>, issuer: &str) -> Result<ServiceProvider, ConsoleError> {
    p.registry.find(issuer)?.ok_or(ConsoleError::NotFound)
}

/// The record fields whose values differ, in the record's order.
fn changed_fields(before: &SpRecord, after: &SpRecord) -> Vec<String> {
    let (Ok(serde_json::Value::Object(a)), Ok(serde_json::Value::Object(b))) =
        (serde_json::to_value(before), serde_json::to_value(after))
    else {
        return Vec::new();
    };
    b.keys()
        .chain(a.keys().filter(|k| !b.contains_key(*k)))
        .filter(|k| !STORE_FIELDS.contains(&k.as_str()))
        .filter(|k| a.get(*k) != b.get(*k))
        .cloned()
        .collect()
}

/// Audits the change and mails the administrators of the SP's agency.
fn announce(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    sp: &ServiceProvider,
    verb: &str,
    fields: &[String],
) -> Result<(), ConsoleError> {
    let event = AuditEvent {
        event: AuditKind::SpChanged,
        issuer: Some(sp.issuer.clone()),
        user_public_id: actor.public_id().map(str::to_string),
        success: true,
        detail: Some(format!("{verb}:{}", fields.join(","))),
        count: 1,
        binding: None,
        reference: None,
    };
    p.audit
        .record(&event, p.now)
        .map_err(|e| ConsoleError::Storage(e.0))?;
    if let Some(agency) = &sp.agency {
        tell_agency_admins(p, actor, sp, agency, fields);
    }
    Ok(())
}

/// Best effort: the change is made whether or not the notice can be queued (logged).
fn tell_agency_admins(
    p: &ConsolePorts<'_>,
    actor: &Actor,
    sp: &ServiceProvider,
    agency: &str,
    fields: &[String],
) {
    let role = Role::AgencyAdmin {
        agency: agency.to_string(),
    };
    let holders = match p.roles.holders_of(&role) {
        Ok(holders) => holders,
        Err(e) => {
            tracing::warn!(error = %e, "the SP change notice could not find the administrators");
            return;
        }
    };
    let mail = Mail::SpChanged {
        sp: format!("{} ({})", sp.friendly_name, sp.issuer),
        actor: match actor {
            Actor::Operator => "an operator (saml-idp)".into(),
            Actor::User { public_id, .. } => format!("account {public_id}"),
        },
        fields: fields.join(", "),
        link: format!(
            "{}/console/sps/{}",
            p.base_url.trim_end_matches('/'),
            sp.public_id()
        ),
    };
    for user_id in holders {
        let user = match p.accounts.get(user_id) {
            Ok(Some(user)) if user.status == UserStatus::Active => user,
            Ok(_) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "an SP change notice was not queued");
                continue;
            }
        };
        let to = match crate::idp::notice::opened(p.accounts, p.crypto, user.id, None) {
            Ok(to) => to,
            Err(e) => {
                tracing::warn!(error = %e, "an SP change notice was not queued");
                continue;
            }
        };
        if !to.is_empty() {
            if let Err(e) = p.mailer.send(&to, &mail, &user.locale) {
                tracing::warn!(error = %e, "an SP change notice was not queued");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_fields_name_what_differs_and_never_the_store_stamps() {
        let before = SpRecord {
            issuer: "urn:x".into(),
            acs_urls: vec!["https://a/acs".into()],
            created_at: Some("2026-01-01T00:00:00Z".into()),
            ..SpRecord::default()
        };
        let mut after = before.clone();
        after.acs_urls.push("https://b/acs".into());
        after.logout_url = Some("https://a/slo".into());
        after.updated_at = Some("2026-02-01T00:00:00Z".into());
        assert_eq!(changed_fields(&before, &after), ["acs_urls", "logout_url"]);
        assert!(changed_fields(&before, &before).is_empty());
    }
}
