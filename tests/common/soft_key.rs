//! A software WebAuthn authenticator for tests, on openssl: an ES256 (P-256) key pair, a
//! credential id, a signature counter and whether it verifies its user. It answers the
//! options the IdP sends (`{"publicKey": …}` JSON) the way a browser and a security key
//! together would: `none` attestation, authenticator data with the rpIdHash, flags and
//! counter, and a clientDataJSON with the challenge and the origin given.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::{hash, MessageDigest};
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::sign::Signer;
use serde_json::{json, Value};

const UP: u8 = 0x01;
const UV: u8 = 0x04;
const AT: u8 = 0x40;

pub struct SoftKey {
    key: PKey<Private>,
    pub credential_id: Vec<u8>,
    pub counter: u32,
    pub user_verification: bool,
}

impl Default for SoftKey {
    fn default() -> Self {
        SoftKey::new()
    }
}

impl SoftKey {
    pub fn new() -> SoftKey {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).expect("P-256");
        let ec = EcKey::generate(&group).expect("key");
        let mut id = vec![0u8; 32];
        openssl::rand::rand_bytes(&mut id).expect("random");
        SoftKey {
            key: PKey::from_ec_key(ec).expect("pkey"),
            credential_id: id,
            counter: 0,
            user_verification: true,
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
        cbor_text(&mut attestation, "fmt");
        cbor_text(&mut attestation, "none");
        cbor_text(&mut attestation, "attStmt");
        cbor_head(&mut attestation, 5, 0);
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
        data.push(UP | uv | extra_flags);
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
