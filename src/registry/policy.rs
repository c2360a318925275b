//! The rules a service provider must meet to be written by the console, the API or the CLI
//! (SPEC 19), beyond the shape `validate` checks: in production, `http` URLs only on the
//! loopback interface.

use super::service_provider::ServiceProvider;
use super::validate::ValidationError;

/// The deployment a change is judged for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// `mode = "production"`: every URL the IdP sends a browser or a message to is https,
    /// except on loopback (an SP on the same host).
    pub production: bool,
}

/// The first rule `sp` breaks under `policy`, by field.
pub fn check(sp: &ServiceProvider, policy: Policy) -> Result<(), ValidationError> {
    if !policy.production {
        return Ok(());
    }
    let urls = sp
        .acs_urls
        .iter()
        .map(|u| ("acs_urls", u))
        .chain(sp.logout_url.iter().map(|u| ("logout_url", u)))
        .chain(sp.return_to_sp_url.iter().map(|u| ("return_to_sp_url", u)))
        .chain(
            sp.failure_to_proof_url
                .iter()
                .map(|u| ("failure_to_proof_url", u)),
        );
    for (field, url) in urls {
        if !https_or_loopback(url) {
            return Err(ValidationError {
                field,
                code: "http_in_production",
                message: format!(
                    "{url:?} is http: in production only https URLs are accepted \
                     (http only on localhost or 127.0.0.1)"
                ),
            });
        }
    }
    Ok(())
}

fn https_or_loopback(url: &str) -> bool {
    let Ok(parsed) = url::Url::parse(url) else {
        return false;
    };
    match parsed.scheme() {
        "https" => true,
        "http" => match parsed.host() {
            Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
            Some(url::Host::Ipv6(ip)) => ip.is_loopback(),
            None => false,
        },
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::registry::{validate, SpRecord};

    fn sp(acs: &str, logout: Option<&str>) -> ServiceProvider {
        let record = SpRecord {
            issuer: "urn:test:sp".into(),
            acs_urls: vec![acs.into()],
            logout_url: logout.map(str::to_string),
            active: true,
            ..SpRecord::default()
        };
        validate(&record, std::path::Path::new(".")).expect("valid")
    }

    #[test]
    fn production_takes_http_only_on_loopback() {
        let production = Policy { production: true };
        for ok in [
            "https://sp.example.gov/acs",
            "http://localhost:8000/acs",
            "http://127.0.0.1/acs",
            "http://[::1]:9/acs",
        ] {
            assert_eq!(check(&sp(ok, None), production), Ok(()), "{ok}");
        }
        let err = check(&sp("http://sp.example.gov/acs", None), production).expect_err("http");
        assert_eq!(err.field, "acs_urls");
        let err = check(
            &sp(
                "https://sp.example.gov/acs",
                Some("http://127.0.0.2.example/slo"),
            ),
            production,
        )
        .expect_err("http logout");
        assert_eq!(err.field, "logout_url");
        let development = Policy { production: false };
        assert_eq!(
            check(&sp("http://sp.example.gov/acs", None), development),
            Ok(())
        );
    }
}
