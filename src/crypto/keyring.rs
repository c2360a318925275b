//! The key ring: for every live year its signing certificate and private key, loaded and
//! checked once at start (SPEC 2). Nothing else in the process reads key files.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use std::sync::Mutex;

use openssl::error::ErrorStack;
use openssl::hash::{hash, MessageDigest};
use openssl::md::Md;
use openssl::pkey::{PKey, Private};
use openssl::pkey_ctx::PkeyCtx;
use openssl::rsa::Padding;
use thiserror::Error;

use super::cert::{first_reason, Certificate, CertificateError};
use crate::config::SigningKeyConfig;
use crate::saml::SamlYear;

#[derive(Debug, Error)]
pub enum KeyRingError {
    #[error("signing certificate for {year} ({path}) is missing")]
    CertificateMissing { year: SamlYear, path: PathBuf },
    #[error("private key for {year} ({path}) is missing")]
    KeyMissing { year: SamlYear, path: PathBuf },
    #[error("cannot read {path}: {source}")]
    Unreadable {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("signing certificate for {year} ({path}) is unusable: {source}")]
    BadCertificate {
        year: SamlYear,
        path: PathBuf,
        source: CertificateError,
    },
    #[error("private key for {year} ({path}) cannot be read: {detail}")]
    BadKey {
        year: SamlYear,
        path: PathBuf,
        detail: String,
    },
    #[error(
        "private key for {year} ({path}) is encrypted and environment variable {var} is not set"
    )]
    PassphraseMissing {
        year: SamlYear,
        path: PathBuf,
        var: String,
    },
    #[error("private key {key} does not match certificate {certificate} (year {year})")]
    Mismatch {
        year: SamlYear,
        key: PathBuf,
        certificate: PathBuf,
    },
    #[error("no signing keys configured")]
    Empty,
}

/// One live year's signing material.
pub struct SigningKey {
    year: SamlYear,
    certificate: Certificate,
    certificate_b64: String,
    private_key: PKey<Private>,
    /// Signing contexts already set up for RSA-SHA256 with this key, lent out one per
    /// signature (see [`SigningKey::sign_rsa_sha256`]).
    contexts: Mutex<Vec<PkeyCtx<Private>>>,
}

/// At most this many idle signing contexts are kept per key: one per thread that signs at
/// the same moment is enough (HTTP workers and blocking threads); more are dropped.
const IDLE_CONTEXTS: usize = 16;

impl SigningKey {
    pub fn year(&self) -> SamlYear {
        self.year
    }
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }
    /// The `ds:X509Certificate` text, computed once.
    pub fn certificate_b64(&self) -> &str {
        &self.certificate_b64
    }
    pub fn private_key(&self) -> &PKey<Private> {
        &self.private_key
    }

    /// The RSA-SHA256 signature (PKCS #1 v1.5 over the SHA-256 of `data`) that xmldsig's
    /// `rsa-sha256` and the Redirect binding's `SigAlg` name. The same bytes as
    /// `openssl::sign::Signer`, without setting up a signing context per signature: that
    /// (`EVP_DigestSignInit`: fetching the algorithm, binding the key) was a cost of its own
    /// on every Response (issue 23). A context is taken from this key's pool, or set up
    /// when the pool is empty, and goes back after a successful signature; `openssl speed`
    /// signs the same way, once set up.
    pub fn sign_rsa_sha256(&self, data: &[u8]) -> Result<Vec<u8>, ErrorStack> {
        let digest = hash(MessageDigest::sha256(), data)?;
        let idle = self.contexts.lock().ok().and_then(|mut idle| idle.pop());
        let mut context = match idle {
            Some(context) => context,
            None => self.signing_context()?,
        };
        let mut signature = Vec::with_capacity(self.private_key.size());
        context.sign_to_vec(&digest, &mut signature)?;
        if let Ok(mut idle) = self.contexts.lock() {
            if idle.len() < IDLE_CONTEXTS {
                idle.push(context);
            }
        }
        Ok(signature)
    }

    fn signing_context(&self) -> Result<PkeyCtx<Private>, ErrorStack> {
        let mut context = PkeyCtx::new(&self.private_key)?;
        context.sign_init()?;
        context.set_rsa_padding(Padding::PKCS1)?;
        context.set_signature_md(Md::sha256())?;
        Ok(context)
    }

    /// Builds a key from material already in memory, checking that key and certificate match.
    pub fn new(
        year: SamlYear,
        certificate: Certificate,
        private_key: PKey<Private>,
    ) -> Option<Self> {
        if !certificate.public_key().public_eq(&private_key) {
            return None;
        }
        let certificate_b64 = certificate.der_base64();
        Some(SigningKey {
            year,
            certificate,
            certificate_b64,
            private_key,
            contexts: Mutex::new(Vec::new()),
        })
    }
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SigningKey({}, {:?})", self.year, self.certificate)
    }
}

/// Every live year, in ascending order.
#[derive(Debug)]
pub struct KeyRing {
    keys: BTreeMap<SamlYear, SigningKey>,
}

impl KeyRing {
    /// Loads and checks every configured year; the first problem stops start-up.
    pub fn load(configs: &[SigningKeyConfig]) -> Result<KeyRing, KeyRingError> {
        Self::load_with_env(configs, |var| std::env::var(var).ok())
    }

    /// As `load`, with the environment injected (tests).
    pub fn load_with_env(
        configs: &[SigningKeyConfig],
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<KeyRing, KeyRingError> {
        if configs.is_empty() {
            return Err(KeyRingError::Empty);
        }
        let mut keys = BTreeMap::new();
        for config in configs {
            keys.insert(config.year, load_one(config, &env)?);
        }
        Ok(KeyRing { keys })
    }

    pub fn from_keys(keys: impl IntoIterator<Item = SigningKey>) -> KeyRing {
        KeyRing {
            keys: keys.into_iter().map(|k| (k.year, k)).collect(),
        }
    }

    pub fn get(&self, year: SamlYear) -> Option<&SigningKey> {
        self.keys.get(&year)
    }

    pub fn years(&self) -> impl Iterator<Item = SamlYear> + '_ {
        self.keys.keys().copied()
    }
}

fn read(path: &Path, missing: KeyRingError) -> Result<Vec<u8>, KeyRingError> {
    match std::fs::read(path) {
        Ok(bytes) => Ok(bytes),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(missing),
        Err(source) => Err(KeyRingError::Unreadable {
            path: path.to_path_buf(),
            source,
        }),
    }
}

fn load_one(
    config: &SigningKeyConfig,
    env: &impl Fn(&str) -> Option<String>,
) -> Result<SigningKey, KeyRingError> {
    let year = config.year;
    let cert_path = config.certificate.clone();
    let key_path = config.private_key.clone();
    let cert_pem = read(
        &cert_path,
        KeyRingError::CertificateMissing {
            year,
            path: cert_path.clone(),
        },
    )?;
    let certificate =
        Certificate::from_pem(&cert_pem).map_err(|source| KeyRingError::BadCertificate {
            year,
            path: cert_path.clone(),
            source,
        })?;
    let key_pem = read(
        &key_path,
        KeyRingError::KeyMissing {
            year,
            path: key_path.clone(),
        },
    )?;
    let private_key = parse_key(config, &key_pem, env)?;
    SigningKey::new(year, certificate, private_key).ok_or(KeyRingError::Mismatch {
        year,
        key: key_path,
        certificate: cert_path,
    })
}

fn parse_key(
    config: &SigningKeyConfig,
    pem: &[u8],
    env: &impl Fn(&str) -> Option<String>,
) -> Result<PKey<Private>, KeyRingError> {
    let bad = |detail: String| KeyRingError::BadKey {
        year: config.year,
        path: config.private_key.clone(),
        detail,
    };
    let encrypted = pem.windows(9).any(|w| w == b"ENCRYPTED");
    let key = match (&config.passphrase_env, encrypted) {
        (_, false) => PKey::private_key_from_pem(pem),
        (Some(var), true) => {
            let pass = env(var).ok_or_else(|| KeyRingError::PassphraseMissing {
                year: config.year,
                path: config.private_key.clone(),
                var: var.clone(),
            })?;
            PKey::private_key_from_pem_passphrase(pem, pass.as_bytes())
        }
        (None, true) => {
            return Err(bad(
                "the key is encrypted; set passphrase_env for this year".into(),
            ))
        }
    }
    .map_err(|e| bad(first_reason(&e)))?;
    if key.rsa().is_err() {
        return Err(bad("not an RSA key".into()));
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::test_fixtures::fixture_path;

    fn config(year: u16, cert: &str, key: &str, pass: Option<&str>) -> SigningKeyConfig {
        SigningKeyConfig {
            year: SamlYear::new(year).expect("year"),
            certificate: fixture_path(cert),
            private_key: fixture_path(key),
            passphrase_env: pass.map(str::to_string),
        }
    }

    fn no_env(_: &str) -> Option<String> {
        None
    }

    #[test]
    fn loads_two_years() {
        let ring = KeyRing::load_with_env(
            &[
                config(
                    2025,
                    "idp-2025-test-only.crt",
                    "idp-2025-test-only.key",
                    None,
                ),
                config(
                    2026,
                    "idp-2026-test-only.crt",
                    "idp-2026-test-only.key",
                    None,
                ),
            ],
            no_env,
        )
        .expect("ring");
        assert_eq!(
            ring.years().map(SamlYear::value).collect::<Vec<_>>(),
            vec![2025, 2026]
        );
    }

    /// The pooled context signs exactly as a fresh `Signer` does, every time it is reused,
    /// and the signature verifies with the certificate's public key.
    #[test]
    fn pooled_rsa_sha256_matches_a_fresh_signer() {
        use openssl::sign::{Signer, Verifier};
        let c = config(
            2026,
            "idp-2026-test-only.crt",
            "idp-2026-test-only.key",
            None,
        );
        let ring = KeyRing::load_with_env(std::slice::from_ref(&c), no_env).expect("ring");
        let key = ring.get(c.year).expect("key");
        for message in [&b"first"[..], b"", b"<ds:SignedInfo>third</ds:SignedInfo>"] {
            let pooled = key.sign_rsa_sha256(message).expect("pooled");
            let mut fresh = Signer::new(MessageDigest::sha256(), key.private_key()).unwrap();
            fresh.update(message).unwrap();
            assert_eq!(pooled, fresh.sign_to_vec().unwrap());
            let public = key.certificate().public_key();
            let mut verifier = Verifier::new(MessageDigest::sha256(), public).unwrap();
            verifier.update(message).unwrap();
            assert!(verifier.verify(&pooled).unwrap());
        }
        assert_eq!(key.contexts.lock().unwrap().len(), 1, "one context, reused");
    }

    #[test]
    fn encrypted_key_needs_its_passphrase() {
        let c = config(
            2026,
            "idp-2026-test-only.crt",
            "idp-2026-encrypted-test-only.key",
            Some("PASS"),
        );
        let err =
            KeyRing::load_with_env(std::slice::from_ref(&c), no_env).expect_err("no passphrase");
        assert!(
            matches!(err, KeyRingError::PassphraseMissing { .. }),
            "{err}"
        );
        let err = KeyRing::load_with_env(std::slice::from_ref(&c), |_| Some("wrong".into()))
            .expect_err("wrong");
        assert!(matches!(err, KeyRingError::BadKey { .. }), "{err}");
        KeyRing::load_with_env(&[c], |_| Some("test-only-passphrase".into()))
            .expect("right passphrase");
    }

    #[test]
    fn each_problem_names_the_file() {
        let cases = [
            (
                config(2026, "nope.crt", "idp-2026-test-only.key", None),
                "nope.crt",
            ),
            (
                config(2026, "idp-2026-test-only.crt", "nope.key", None),
                "nope.key",
            ),
            (
                config(
                    2026,
                    "weak-1024-test-only.crt",
                    "weak-1024-test-only.key",
                    None,
                ),
                "1024 bits",
            ),
            (
                config(2026, "ec-test-only.crt", "ec-test-only.key", None),
                "not RSA",
            ),
            (
                config(
                    2026,
                    "idp-2025-test-only.crt",
                    "idp-2026-test-only.key",
                    None,
                ),
                "does not match",
            ),
            (
                config(
                    2026,
                    "idp-2026-test-only.key",
                    "idp-2026-test-only.key",
                    None,
                ),
                "not a PEM",
            ),
        ];
        for (c, expected) in cases {
            let err = KeyRing::load_with_env(&[c], no_env)
                .expect_err("must fail")
                .to_string();
            assert!(
                err.contains(expected),
                "{err:?} should mention {expected:?}"
            );
        }
    }
}
