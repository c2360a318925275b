//! A software WebAuthn authenticator for tests, on openssl: an ES256 (P-256) key pair, a
//! credential id, a signature counter, whether it verifies its user and whether it says its
//! credential may be synced (backup eligible). It answers the options the IdP sends
//! (`{"publicKey": …}` JSON) the way a browser and a security key together would:
//! authenticator data with the rpIdHash, flags and counter, a clientDataJSON with the
//! challenge and the origin given, and `none` attestation, or `packed` attestation signed by
//! an attestation certificate ([`TestAttestationCa`]: a TEST-ONLY root made at run time).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::{hash, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use openssl::x509::X509;
use serde_json::{json, Value};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const BE: u8 = 0x08;
const AT: u8 = 0x40;

pub struct SoftKey {
    key: PKey<Private>,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    pub user_verification: bool,
    /// The BE flag, at registration and in every assertion (a synced passkey).
    pub backup_eligible: bool,
    /// Who signs its `packed` attestation statement; `None`: `none` attestation.
    pub attestation: Option<Attester>,
}

/// An attestation certificate (the first of `x5c`) and its private key.
#[derive(Clone)]
pub struct Attester {
    key: PKey<Private>,
    certificate: X509,
}

/// A TEST-ONLY attestation root CA, generated at run time, and an attestation certificate
/// it signed, as a security-key vendor's would be (SPEC 18, WebAuthn §8.2.1).
pub struct TestAttestationCa {
    /// The root, PEM: what `[webauthn] aal3_attestation_roots` lists.
    pub root_pem: Vec<u8>,
    pub attester: Attester,
}

impl TestAttestationCa {
    pub fn new(vendor: &str) -> TestAttestationCa {
        use openssl::asn1::Asn1Time;
        use openssl::x509::extension::{BasicConstraints, KeyUsage};
        use openssl::x509::{X509Builder, X509NameBuilder};
        let name = |unit: &str, common: &str| {
            let mut n = X509NameBuilder::new().expect("name");
            n.append_entry_by_text("C", "US").expect("C");
            n.append_entry_by_text("O", vendor).expect("O");
            n.append_entry_by_text("OU", unit).expect("OU");
            n.append_entry_by_text("CN", common).expect("CN");
            n.build()
        };
        // Valid from an hour ago in real time: openssl checks the chain against the clock.
        let now = super::wall_clock().timestamp();
        let build = |subject: &openssl::x509::X509NameRef,
                     issuer: &openssl::x509::X509NameRef,
                     key: &PKey<Private>,
                     signer: &PKey<Private>,
                     ca: bool,
                     serial: u32| {
            let mut b = X509Builder::new().expect("builder");
            b.set_version(2).expect("v3");
            let serial = BigNum::from_u32(serial).and_then(|n| n.to_asn1_integer());
            b.set_serial_number(&serial.expect("serial"))
                .expect("serial");
            b.set_subject_name(subject).expect("subject");
            b.set_issuer_name(issuer).expect("issuer");
            b.set_pubkey(key).expect("key");
            let from = Asn1Time::from_unix(now - 3600).expect("from");
            let until = Asn1Time::from_unix(now + 30 * 86_400).expect("until");
            b.set_not_before(&from).expect("not before");
            b.set_not_after(&until).expect("not after");
            let mut constraints = BasicConstraints::new();
            constraints.critical();
            if ca {
                constraints.ca();
                let usage = KeyUsage::new().critical().key_cert_sign().build();
                b.append_extension(usage.expect("usage")).expect("usage");
            }
            b.append_extension(constraints.build().expect("bc"))
                .expect("bc");
            b.sign(signer, MessageDigest::sha256()).expect("sign");
            b.build()
        };
        let root_key = p256_key();
        let root_name = name("TEST-ONLY Attestation Root", "TEST-ONLY root, not for use");
        let root = build(&root_name, &root_name, &root_key, &root_key, true, 1);
        let key = p256_key();
        let leaf_name = name("Authenticator Attestation", "TEST-ONLY attestation");
        let certificate = build(&leaf_name, &root_name, &key, &root_key, false, 2);
        TestAttestationCa {
            root_pem: root.to_pem().expect("PEM"),
            attester: Attester { key, certificate },
        }
    }
}

fn p256_key() -> PKey<Private> {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
    PKey::from_ec_key(EcKey::generate(&group).expect("key")).expect("pkey")
}

impl Default for SoftKey {
    fn default() -> Self {
        SoftKey::new()
    }
}

impl SoftKey {
    pub fn new() -> SoftKey {
        let mut id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut id).expect("random");
        SoftKey {
            key: p256_key(),
            credential_id: id,
            counter: 0,
            user_verification: true,
            backup_eligible: false,
            attestation: None,
        }
    }

    /// A key whose registration carries a `packed` statement signed by `attester`.
    pub fn attested(attester: &Attester) -> SoftKey {
        SoftKey {
            attestation: Some(attester.clone()),
            ..SoftKey::new()
        }
    }

    pub fn id_text(&self) -> String {
        URL_SAFE_NO_PAD.encode(&self.credential_id)
    }

    /// The answer to `navigator.credentials.create(options)` made at `origin`, as the JSON
    /// the page's script posts.
    pub fn register(&mut self, options: &Value, origin: &str) -> String {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rp"]["id"].as_str().expect("rp.id");
        let challenge = public_key["challenge"].as_str().expect("challenge");
        let client_data = client_data("webauthn.create", challenge, origin);
        self.counter += 1;
        let mut auth_data = self.auth_data(rp_id, AT);
        auth_data.extend_from_slice(&[0u8; 16]); // AAGUID: none
        auth_data.extend_from_slice(&(self.credential_id.len() as u16).to_be_bytes());
        auth_data.extend_from_slice(&self.credential_id);
        auth_data.extend_from_slice(&self.cose_key());
        let mut attestation = Vec::new();
        cbor_head(&mut attestation, 5, 3);
        match &self.attestation {
            None => {
                cbor_text(&mut attestation, "fmt");
                cbor_text(&mut attestation, "none");
                cbor_text(&mut attestation, "attStmt");
                cbor_head(&mut attestation, 5, 0);
            }
            Some(attester) => {
                // WebAuthn §8.2: sig over authenticatorData ‖ SHA-256(clientDataJSON), by
                // the attestation certificate's key; x5c = [that certificate].
                let mut signed = auth_data.clone();
                signed.extend_from_slice(
                    &hash(MessageDigest::sha256(), client_data.as_bytes()).expect("hash"),
                );
                let mut signer =
                    Signer::new(MessageDigest::sha256(), &attester.key).expect("signer");
                signer.update(&signed).expect("update");
                let signature = signer.sign_to_vec().expect("sign");
                cbor_text(&mut attestation, "fmt");
                cbor_text(&mut attestation, "packed");
                cbor_text(&mut attestation, "attStmt");
                cbor_head(&mut attestation, 5, 3);
                cbor_text(&mut attestation, "alg");
                cbor_int(&mut attestation, -7);
                cbor_text(&mut attestation, "sig");
                cbor_bytes(&mut attestation, &signature);
                cbor_text(&mut attestation, "x5c");
                cbor_head(&mut attestation, 4, 1);
                cbor_bytes(
                    &mut attestation,
                    &attester.certificate.to_der().expect("DER"),
                );
            }
        }
        cbor_text(&mut attestation, "authData");
        cbor_bytes(&mut attestation, &auth_data);
        json!({
            "id": self.id_text(),
            "rawId": self.id_text(),
            "type": "public-key",
            "response": {
                "attestationObject": URL_SAFE_NO_PAD.encode(&attestation),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "transports": ["usb"],
            },
            "extensions": {},
        })
        .to_string()
    }

    /// The answer to `navigator.credentials.get(options)` made at `origin` (the counter
    /// moves on first).
    pub fn sign(&mut self, options: &Value, origin: &str) -> String {
        let public_key = &options["publicKey"];
        let rp_id = public_key["rpId"].as_str().expect("rpId");
        let challenge = public_key["challenge"].as_str().expect("challenge");
        self.counter += 1;
        self.assertion(rp_id, challenge, origin)
    }

    /// An assertion for `challenge` with the counter as it is now.
    pub fn assertion(&self, rp_id: &str, challenge: &str, origin: &str) -> String {
        let client_data = client_data("webauthn.get", challenge, origin);
        let auth_data = self.auth_data(rp_id, 0);
        let mut signed = auth_data.clone();
        signed.extend_from_slice(
            &hash(MessageDigest::sha256(), client_data.as_bytes()).expect("hash"),
        );
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key).expect("signer");
        signer.update(&signed).expect("update");
        let signature = signer.sign_to_vec().expect("sign");
        json!({
            "id": self.id_text(),
            "rawId": self.id_text(),
            "type": "public-key",
            "response": {
                "authenticatorData": URL_SAFE_NO_PAD.encode(&auth_data),
                "clientDataJSON": URL_SAFE_NO_PAD.encode(client_data.as_bytes()),
                "signature": URL_SAFE_NO_PAD.encode(&signature),
                "userHandle": null,
            },
            "extensions": {},
        })
        .to_string()
    }

    fn auth_data(&self, rp_id: &str, extra_flags: u8) -> Vec<u8> {
        let mut data = hash(MessageDigest::sha256(), rp_id.as_bytes())
            .expect("hash")
            .to_vec();
        let uv = if self.user_verification { UV } else { 0 };
        let be = if self.backup_eligible { BE } else { 0 };
        data.push(UP | uv | be | extra_flags);
        data.extend_from_slice(&self.counter.to_be_bytes());
        data
    }

    /// The public key as a COSE_Key: EC2, ES256, P-256, x, y.
    fn cose_key(&self) -> Vec<u8> {
        let ec = self.key.ec_key().expect("ec");
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
        let (mut x, mut y) = (BigNum::new().expect("bn"), BigNum::new().expect("bn"));
        let mut ctx = BigNumContext::new().expect("ctx");
        ec.public_key()
            .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
            .expect("coordinates");
        let mut out = Vec::new();
        cbor_head(&mut out, 5, 5);
        cbor_int(&mut out, 1);
        cbor_int(&mut out, 2);
        cbor_int(&mut out, 3);
        cbor_int(&mut out, -7);
        cbor_int(&mut out, -1);
        cbor_int(&mut out, 1);
        cbor_int(&mut out, -2);
        cbor_bytes(&mut out, &x.to_vec_padded(32).expect("x"));
        cbor_int(&mut out, -3);
        cbor_bytes(&mut out, &y.to_vec_padded(32).expect("y"));
        out
    }
}

/// The clientDataJSON a browser writes.
pub fn client_data(kind: &str, challenge: &str, origin: &str) -> String {
    json!({ "type": kind, "challenge": challenge, "origin": origin, "crossOrigin": false })
        .to_string()
}

fn cbor_head(out: &mut Vec<u8>, major: u8, value: u64) {
    let m = major << 5;
    match value {
        0..=23 => out.push(m | value as u8),
        24..=0xff => out.extend_from_slice(&[m | 24, value as u8]),
        0x100..=0xffff => {
            out.push(m | 25);
            out.extend_from_slice(&(value as u16).to_be_bytes());
        }
        _ => {
            out.push(m | 26);
            out.extend_from_slice(&(value as u32).to_be_bytes());
        }
    }
}

fn cbor_int(out: &mut Vec<u8>, value: i64) {
    if value >= 0 {
        cbor_head(out, 0, value as u64);
    } else {
        cbor_head(out, 1, (-1 - value) as u64);
    }
}

fn cbor_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    cbor_head(out, 2, bytes.len() as u64);
    out.extend_from_slice(bytes);
}

fn cbor_text(out: &mut Vec<u8>, text: &str) {
    cbor_head(out, 3, text.len() as u64);
    out.extend_from_slice(text.as_bytes());
}
