//! Development signing keys: with no configured keys (and not in production mode) the server
//! creates a self-signed certificate and key for the previous and the current calendar year
//! under the data directory on first start, and reuses them afterwards (SPEC 2).

use std::io::Write;
use std::path::{Path, PathBuf};

use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509Builder, X509NameBuilder};
use thiserror::Error;

use crate::config::SigningKeyConfig;
use crate::saml::SamlYear;

pub const DEV_KEY_DIR: &str = "dev-keys";

#[derive(Debug, Error)]
pub enum DevKeyError {
    #[error("cannot write development key material under {path}: {source}")]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("cannot create a development certificate: {0}")]
    Openssl(#[from] openssl::error::ErrorStack),
    #[error("the system random generator failed")]
    Random,
}

/// What `ensure` did for one year, so the caller can log it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DevKeyOutcome {
    Created(PathBuf),
    Reused(PathBuf),
}

/// Returns key configurations for `years`, creating the files that do not exist yet.
pub fn ensure(
    data_dir: &Path,
    years: &[SamlYear],
) -> Result<Vec<(SigningKeyConfig, DevKeyOutcome)>, DevKeyError> {
    let dir = data_dir.join(DEV_KEY_DIR);
    std::fs::create_dir_all(&dir).map_err(|source| DevKeyError::Write {
        path: dir.clone(),
        source,
    })?;
    years
        .iter()
        .map(|&year| {
            let config = config_for(data_dir, year);
            let outcome = if config.certificate.exists() && config.private_key.exists() {
                DevKeyOutcome::Reused(config.certificate.clone())
            } else {
                create(&config)?;
                DevKeyOutcome::Created(config.certificate.clone())
            };
            Ok((config, outcome))
        })
        .collect()
}

/// Where the development key and certificate of `year` live (whether or not they exist).
pub fn config_for(data_dir: &Path, year: SamlYear) -> SigningKeyConfig {
    let dir = data_dir.join(DEV_KEY_DIR);
    SigningKeyConfig {
        year,
        certificate: dir.join(format!("saml{year}.crt")),
        private_key: dir.join(format!("saml{year}.key")),
        passphrase_env: None,
    }
}

/// The development data-encryption key (AES-256, base64), created on first use.
pub fn ensure_data_key(data_dir: &Path) -> Result<(String, DevKeyOutcome), DevKeyError> {
    let dir = data_dir.join(DEV_KEY_DIR);
    std::fs::create_dir_all(&dir).map_err(|source| DevKeyError::Write {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join("data-encryption.key");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        return Ok((existing.trim().to_string(), DevKeyOutcome::Reused(path)));
    }
    let key =
        super::secret_box::SecretBox::generate_key_base64().map_err(|_| DevKeyError::Random)?;
    write_file(&path, key.as_bytes(), true, false)?;
    Ok((key, DevKeyOutcome::Created(path)))
}

fn create(config: &SigningKeyConfig) -> Result<(), DevKeyError> {
    let validity = Validity {
        not_before: format!("{}0101000000Z", config.year),
        not_after: format!("{}0401000000Z", config.year.value() + 2),
    };
    let common_name = format!("saml-idp development {} (not for production)", config.year);
    write_pair(config, &common_name, &validity, false)
}

/// A certificate's validity, as ASN.1 times (`YYYYMMDDhhmmssZ`).
pub struct Validity {
    pub not_before: String,
    pub not_after: String,
}

/// Writes a new RSA-2048 key (PKCS#8 PEM, mode 0600) and a self-signed SHA-256 certificate
/// for it. With `exclusive`, existing files are never replaced: the call fails instead.
pub fn write_pair(
    config: &SigningKeyConfig,
    common_name: &str,
    validity: &Validity,
    exclusive: bool,
) -> Result<(), DevKeyError> {
    let key = PKey::from_rsa(Rsa::generate(2048)?)?;
    let cert = self_signed(&key, common_name, validity)?;
    write_file(
        &config.private_key,
        &key.private_key_to_pem_pkcs8()?,
        true,
        exclusive,
    )?;
    write_file(&config.certificate, &cert, false, exclusive)
}

fn self_signed(
    key: &PKey<Private>,
    common_name: &str,
    validity: &Validity,
) -> Result<Vec<u8>, DevKeyError> {
    let mut name = X509NameBuilder::new()?;
    name.append_entry_by_text("CN", common_name)?;
    let name = name.build();
    let mut serial = BigNum::new()?;
    serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
    let mut builder = X509Builder::new()?;
    builder.set_version(2)?;
    let serial = serial.to_asn1_integer()?;
    builder.set_serial_number(&serial)?;
    builder.set_subject_name(&name)?;
    builder.set_issuer_name(&name)?;
    builder.set_pubkey(key)?;
    let not_before = Asn1Time::from_str(&validity.not_before)?;
    let not_after = Asn1Time::from_str(&validity.not_after)?;
    builder.set_not_before(&not_before)?;
    builder.set_not_after(&not_after)?;
    builder.sign(key, MessageDigest::sha256())?;
    Ok(builder.build().to_pem()?)
}

fn write_file(
    path: &Path,
    bytes: &[u8],
    private: bool,
    exclusive: bool,
) -> Result<(), DevKeyError> {
    let mut options = std::fs::OpenOptions::new();
    if exclusive {
        options.write(true).create_new(true);
    } else {
        options.write(true).create(true).truncate(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let err = |source| DevKeyError::Write {
        path: path.to_path_buf(),
        source,
    };
    let mut file = options.open(path).map_err(err)?;
    file.write_all(bytes).map_err(err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::KeyRing;

    #[test]
    fn creates_once_then_reuses() {
        let dir = tempfile::tempdir().expect("dir");
        let years = [
            SamlYear::new(2025).expect("y"),
            SamlYear::new(2026).expect("y"),
        ];
        let first = ensure(dir.path(), &years).expect("create");
        assert!(first
            .iter()
            .all(|(_, o)| matches!(o, DevKeyOutcome::Created(_))));
        let second = ensure(dir.path(), &years).expect("reuse");
        assert!(second
            .iter()
            .all(|(_, o)| matches!(o, DevKeyOutcome::Reused(_))));
        let configs: Vec<_> = second.into_iter().map(|(c, _)| c).collect();
        let ring = KeyRing::load(&configs).expect("the created keys load");
        let a = ring
            .get(years[0])
            .expect("2025")
            .certificate_b64()
            .to_string();
        let b = ring
            .get(years[1])
            .expect("2026")
            .certificate_b64()
            .to_string();
        assert_ne!(a, b, "each year has its own certificate");
    }
}
