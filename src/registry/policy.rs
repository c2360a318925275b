//! The rules a service provider must meet to be written by the console, the API or the CLI
//! (SPEC 19, 20), beyond the shape `validate` checks: no SP that could never sign anyone in
//! (encryption or signed requests without a certificate), and in production `http` URLs
//! only on the loopback interface.

use super::service_provider::{BlockEncryption, ServiceProvider};
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
    usable(sp)?;
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

/// An SP whose every request would be refused (`no_cert_registered`, `invalid_signature`)
/// is refused here instead, with the fix.
fn usable(sp: &ServiceProvider) -> Result<(), ValidationError> {
    if !sp.certs.is_empty() {
        return Ok(());
    }
    let message = if sp.block_encryption != BlockEncryption::None {
        format!(
            "assertions are encrypted (block_encryption = {}) but no certificate is \
             registered, so every request would be refused: add the SP's certificate \
             (--cert FILE), or set block_encryption = none",
            sp.block_encryption.as_str()
        )
    } else if sp.require_signed_requests {
        "signed requests are required but no certificate is registered, so every request \
         would be refused: add the SP's certificate (--cert FILE), or stop requiring signed \
         requests"
            .to_string()
    } else {
        return Ok(());
    };
    Err(ValidationError {
        field: "certs",
        code: "certificate_needed",
        message,
    })
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
            block_encryption: Some("none".into()),
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

    #[test]
    fn an_sp_that_could_never_sign_anyone_in_is_refused_with_the_fix() {
        let development = Policy { production: false };
        let mut encrypted = sp("https://sp.example.gov/acs", None);
        encrypted.block_encryption = BlockEncryption::Aes256Cbc;
        let err = check(&encrypted, development).expect_err("no certificate");
        assert_eq!((err.field, err.code), ("certs", "certificate_needed"));
        assert!(
            err.message.contains("block_encryption = none"),
            "{}",
            err.message
        );
        let mut signed = sp("https://sp.example.gov/acs", None);
        signed.require_signed_requests = true;
        let err = check(&signed, development).expect_err("no certificate");
        assert!(err.message.contains("signed requests"), "{}", err.message);
        assert_eq!(
            check(&sp("https://sp.example.gov/acs", None), development),
            Ok(())
        );
    }
}
