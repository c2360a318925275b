//! The browser side of the sign-in flow for tests: a cookie jar over `actix_web::test`,
//! a manual clock, test users and service providers, and the steps of the flow.

use std::collections::HashMap;
use std::sync::Arc;

use actix_web::dev::{Service, ServiceResponse};
use actix_web::{test, App};
use chrono::{Duration, TimeZone, Utc};

use saml_idp::accounts::sealing::{PivRecord, VerifiedProfile};
use saml_idp::accounts::totp::{self, TotpSecret};
use saml_idp::accounts::{backup_codes, password, EmailRecord, NewUser};
use saml_idp::clock::ManualClock;
use saml_idp::saml::codec::encode_redirect;
use saml_idp::web::{self, AppState};

pub const SP1: &str = "urn:gov:gsa:SAML:2.0.profiles:sp:sso:test:sp1";
pub const VERIFIED_SP: &str = "urn:test:verified-sp";
pub const PASSWORD: &str = "correct horse battery staple";
pub const SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";

pub struct Flow {
    pub _db: super::TestDb,
    pub state: AppState,
    pub clock: Arc<ManualClock>,
    pub jar: HashMap<String, String>,
    pub backup: Vec<String>,
    /// The TCP peer of every request (None: actix's test default, no address).
    pub peer: Option<std::net::SocketAddr>,
    /// Extra headers on every request (e.g. `X-Forwarded-For`).
    pub headers: Vec<(String, String)>,
}

pub fn start() -> Flow {
    start_at(
        Utc.with_ymd_and_hms(2026, 3, 15, 12, 0, 10)
            .single()
            .expect("time"),
    )
}

/// A flow whose clock starts at `now` (interoperability tests use the real time, since SP
/// libraries check validity windows against their own clock).
pub fn start_at(now: chrono::DateTime<Utc>) -> Flow {
    start_on(super::sqlite_db(), now)
}

/// A flow over `db` (SQLite or PostgreSQL), seeded like `start`.
pub fn start_on(db: super::TestDb, now: chrono::DateTime<Utc>) -> Flow {
    start_configured(db, now, |_| {})
}

/// As `start_on`, with the test configuration changed by `configure` first.
pub fn start_configured(
    db: super::TestDb,
    now: chrono::DateTime<Utc>,
    configure: impl FnOnce(&mut saml_idp::config::Config),
) -> Flow {
    super::seed_fixture_sps(&db);
    add_verified_sp(&db);
    let clock = Arc::new(ManualClock::new(now));
    let state = super::app_state_configured(&db, clock.clone(), configure);
    let backup = add_user(&state, "ada@example.gov", None, None);
    Flow {
        _db: db,
        state,
        clock,
        jar: HashMap::new(),
        backup,
        peer: None,
        headers: Vec::new(),
    }
}

/// One flow per backend under test (SQLite always, PostgreSQL when configured), at the
/// usual test time.
pub fn every_backend() -> Vec<(&'static str, Flow)> {
    let now = Utc
        .with_ymd_and_hms(2026, 3, 15, 12, 0, 10)
        .single()
        .expect("time");
    super::every_backend()
        .into_iter()
        .map(|(name, db)| (name, start_on(db, now)))
        .collect()
}

/// As [`every_backend`], each flow's state sending mail through its own recording mailer.
pub fn every_backend_recording_mail() -> Vec<(&'static str, Flow, Arc<super::mail::RecordingMailer>)>
{
    every_backend()
        .into_iter()
        .map(|(name, mut f)| {
            let mailer = super::mail::RecordingMailer::new();
            f.state = f.state.clone().with_mailer(mailer.clone());
            (name, f, mailer)
        })
        .collect()
}

pub fn add_verified_sp(db: &super::TestDb) {
    let record = saml_idp::registry::SpRecord {
        issuer: VERIFIED_SP.into(),
        friendly_name: Some("Verified Benefits".into()),
        acs_urls: vec!["http://localhost:9003/acs".into()],
        ial: Some(2),
        attribute_bundle: vec!["email".into(), "first_name".into(), "verified_at".into()],
        block_encryption: Some("none".into()),
        return_to_sp_url: Some("http://localhost:9003/".into()),
        failure_to_proof_url: Some("http://localhost:9003/proofing-failed".into()),
        active: true,
        ..Default::default()
    };
    let sp = saml_idp::registry::validate(&record, std::path::Path::new(".")).expect("valid");
    super::registry(db).add(&sp).expect("add");
}

/// Creates a user the way `saml-idp user add` does; returns the backup codes.
pub fn add_user(
    state: &AppState,
    email: &str,
    profile: Option<VerifiedProfile>,
    piv: Option<PivRecord>,
) -> Vec<String> {
    let crypto = &state.account_crypto;
    let (normalized, lookup) = crypto.email_lookup(email).expect("email");
    let public_id = super::random_uuid();
    let secret = TotpSecret::from_base32(SECRET).expect("secret");
    let codes = backup_codes::generate(3).expect("codes");
    let user = NewUser {
        public_id: public_id.clone(),
        password_hash: password::hash_password(PASSWORD).expect("hash"),
        totp_secret_sealed: crypto.seal_totp(&public_id, &secret),
        locale: "en".into(),
        emails: vec![EmailRecord {
            sealed: crypto.seal_email(&normalized, &lookup).expect("seal"),
            lookup,
            for_sign_in: true,
        }],
        backup_code_hashes: codes.iter().filter_map(|c| backup_codes::hash(c)).collect(),
        verified_at: profile.as_ref().map(|_| super::wall_clock()),
        verified_profile_sealed: profile.and_then(|p| crypto.seal_profile(&public_id, &p)),
        piv_record_sealed: piv.and_then(|p| crypto.seal_piv(&public_id, &p)),
    };
    state
        .stores
        .accounts
        .create(&user, state.clock.now())
        .expect("create user");
    codes
}

/// An AuthnRequest to `/api/saml/auth2026` (its Destination), stamped at the fixed test
/// time: `Flow::request` (or `stamped`) restamps it with the flow's clock.
pub fn authn_request(issuer: &str, attrs: &str, contexts: &[&str]) -> String {
    let refs: String = contexts
        .iter()
        .map(|c| format!("<saml:AuthnContextClassRef>{c}</saml:AuthnContextClassRef>"))
        .collect();
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_flow" Version="2.0" IssueInstant="2026-03-15T12:00:00Z" Destination="{}/api/saml/auth2026" {attrs}><saml:Issuer>{issuer}</saml:Issuer><samlp:RequestedAuthnContext>{refs}</samlp:RequestedAuthnContext></samlp:AuthnRequest>"#,
        super::BASE_URL
    )
}

/// `xml` with the `IssueInstant` of `authn_request` replaced by `now`: the IdP refuses a
/// request more than 10 minutes from its clock (`request_expired`), and flows run at the
/// fixed test time or at the real time.
pub fn stamped(xml: &str, now: chrono::DateTime<Utc>) -> String {
    xml.replace(
        "IssueInstant=\"2026-03-15T12:00:00Z\"",
        &format!("IssueInstant=\"{}\"", now.format("%Y-%m-%dT%H:%M:%SZ")),
    )
}

/// A Redirect-binding query (`SAMLRequest`, `RelayState`, `SigAlg`, `Signature`) signed
/// with the test-only key `key` (RSA-SHA256 over the octets, SAML bindings §3.4.4.1).
pub fn signed_redirect(xml: &str, key: &str) -> String {
    use base64::Engine;
    let enc = |v: &str| -> String { url::form_urlencoded::byte_serialize(v.as_bytes()).collect() };
    let octets = format!(
        "SAMLRequest={}&RelayState={}&SigAlg={}",
        enc(&encode_redirect(xml.as_bytes())),
        enc("relay"),
        enc("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let key = openssl::pkey::PKey::private_key_from_pem(super::pem(key).as_bytes()).expect("key");
    let mut signer =
        openssl::sign::Signer::new(openssl::hash::MessageDigest::sha256(), &key).expect("signer");
    signer.update(octets.as_bytes()).expect("update");
    let signature =
        base64::engine::general_purpose::STANDARD.encode(signer.sign_to_vec().expect("sign"));
    format!("{octets}&Signature={}", enc(&signature))
}

/// Sends `req` with the cookies of `jar` and stores the cookies the answer sets.
pub async fn exchange(
    state: &AppState,
    jar: &mut HashMap<String, String>,
    mut req: test::TestRequest,
) -> Answer {
    for (name, value) in jar.iter() {
        req = req.cookie(actix_web::cookie::Cookie::new(name.clone(), value.clone()));
    }
    let app = test::init_service(App::new().configure(web::configure(state.clone()))).await;
    let response: ServiceResponse = app.call(req.to_request()).await.expect("no service error");
    for cookie in response.response().cookies() {
        if cookie.value().is_empty() {
            jar.remove(cookie.name());
        } else {
            jar.insert(cookie.name().to_string(), cookie.value().to_string());
        }
    }
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let location = response
        .headers()
        .get("location")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_string();
    let body = String::from_utf8_lossy(&test::read_body(response).await).replace("&#x2F;", "/");
    Answer {
        status,
        location,
        body,
        headers,
    }
}

/// (status, Location, body, every header)
pub struct Answer {
    pub status: u16,
    pub location: String,
    pub body: String,
    pub headers: actix_web::http::header::HeaderMap,
}

impl Answer {
    /// The value of header `name`, or "" when absent.
    pub fn header(&self, name: &str) -> &str {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
    }
}

impl Flow {
    pub async fn send(&mut self, req: test::TestRequest) -> Answer {
        let mut req = req;
        if let Some(peer) = self.peer {
            req = req.peer_addr(peer);
        }
        for (name, value) in &self.headers {
            req = req.insert_header((name.as_str(), value.as_str()));
        }
        exchange(&self.state, &mut self.jar, req).await
    }

    pub async fn get(&mut self, uri: &str) -> Answer {
        self.send(test::TestRequest::get().uri(uri)).await
    }

    pub async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> Answer {
        let body: String = url::form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        self.send(req).await
    }

    /// POSTs an already encoded form body.
    pub async fn post_raw(&mut self, uri: &str, body: String) -> Answer {
        let req = test::TestRequest::post()
            .uri(uri)
            .insert_header(("Content-Type", "application/x-www-form-urlencoded"))
            .set_payload(body);
        self.send(req).await
    }

    /// Sends an unsigned Redirect AuthnRequest, stamped with the flow's clock (`stamped`).
    pub async fn request(&mut self, xml: &str) -> Answer {
        let xml = stamped(xml, self.state.clock.now());
        let value: String =
            url::form_urlencoded::byte_serialize(encode_redirect(xml.as_bytes()).as_bytes())
                .collect();
        self.get(&format!("/api/saml/auth2026?SAMLRequest={value}"))
            .await
    }

    pub async fn csrf(&mut self, page: &str) -> String {
        let answer = self.get(page).await;
        let body = answer.body;
        let Some(start) = body.find("name=\"csrf\" value=\"").map(|i| i + 19) else {
            panic!(
                "no csrf field on {page}: {} {} {body}",
                answer.status, answer.location
            );
        };
        body[start..].split('"').next().expect("value").to_string()
    }

    /// A WebAuthn ceremony begun from `page`'s form by posting its CSRF token to
    /// `options_path`, as the page's script does: (csrf, ceremony token, options JSON).
    pub async fn ceremony(
        &mut self,
        page: &str,
        options_path: &str,
    ) -> (String, String, serde_json::Value) {
        let csrf = self.csrf(page).await;
        let answer = self.post(options_path, &[("csrf", &csrf)]).await;
        assert_eq!(answer.status, 200, "{options_path}: {}", answer.body);
        let v: serde_json::Value = serde_json::from_str(&answer.body).expect("JSON");
        let ceremony = v["ceremony"].as_str().expect("ceremony").to_string();
        (csrf, ceremony, v["options"].clone())
    }

    pub async fn password(&mut self, email: &str, password: &str) -> Answer {
        let csrf = self.csrf("/sign-in").await;
        self.post(
            "/sign-in",
            &[("csrf", &csrf), ("email", email), ("password", password)],
        )
        .await
    }

    pub fn code(&self) -> String {
        let secret = TotpSecret::from_base32(SECRET).expect("secret");
        totp::code_at(&secret, totp::step_of(self.state.clock.now().timestamp()))
            .expect("TOTP code")
    }

    pub async fn second_factor(&mut self, code: &str, remember: bool) -> Answer {
        let csrf = self.csrf("/sign-in/mfa").await;
        let mut fields = vec![("csrf", csrf.as_str()), ("code", code)];
        if remember {
            fields.push(("remember", "1"));
        }
        self.post("/sign-in/mfa", &fields).await
    }

    /// Follows `/api/saml/complete` through consent; returns the final answer.
    pub async fn complete(&mut self) -> Answer {
        let answer = self.get("/api/saml/complete").await;
        if answer.location.starts_with("/consent") {
            let csrf = self.csrf("/consent").await;
            let after = self.post("/consent", &[("csrf", &csrf)]).await;
            assert!(
                after.location.starts_with("/api/saml/complete"),
                "consent leads back"
            );
            return self.get("/api/saml/complete").await;
        }
        answer
    }

    /// Request, password, code, consent: the whole path, from a browser not signed in.
    pub async fn sign_in_fully(&mut self, xml: &str, remember: bool) -> Answer {
        let first = self.request(xml).await;
        assert_eq!(
            (first.status, first.location.as_str()),
            (303, "/sign-in?locale=en"),
            "not signed in: to the password form"
        );
        let after_password = self.password("ada@example.gov", PASSWORD).await;
        assert!(
            after_password.location.starts_with("/api/saml/complete"),
            "{}",
            after_password.location
        );
        let ask = self.get(&after_password.location).await;
        assert!(ask.location.starts_with("/sign-in/mfa"), "{}", ask.location);
        let code = self.code();
        let after_code = self.second_factor(&code, remember).await;
        assert!(
            after_code.location.starts_with("/api/saml/complete"),
            "{} {}",
            after_code.status,
            after_code.location
        );
        self.complete().await
    }

    /// After a request was stored: password, then whatever `/api/saml/complete` asks
    /// (second factor, consent), until an answer that is not a step of the flow.
    pub async fn sign_in_rest(&mut self) -> Answer {
        let mut answer = self.password("ada@example.gov", PASSWORD).await;
        for _ in 0..8 {
            let location = answer.location.clone();
            answer = if location.starts_with("/api/saml/complete") {
                self.get(&location).await
            } else if location.starts_with("/sign-in/mfa") {
                let code = self.code();
                self.second_factor(&code, false).await
            } else if location.starts_with("/consent") {
                let csrf = self.csrf("/consent").await;
                self.post("/consent", &[("csrf", &csrf)]).await
            } else {
                return answer;
            };
        }
        answer
    }

    /// Registers `record` (certificates named as in `fixtures/keys/`) and refreshes the SP
    /// cache, so the next request sees it.
    pub fn register_sp(
        &self,
        record: &saml_idp::registry::SpRecord,
    ) -> saml_idp::registry::ServiceProvider {
        let sp = saml_idp::registry::validate(record, &super::root().join("fixtures/keys"))
            .expect("valid SP record");
        super::registry_of(&self.state).add(&sp).expect("add");
        self.state.sp_cache.refresh().expect("refresh");
        sp
    }

    pub fn tick(&self, seconds: i64) {
        self.clock.advance(Duration::seconds(seconds));
    }
}

/// The ACS URL of the fixture SP `SP1`.
pub const SP1_ACS: &str = "http://localhost:9001/acs";

/// The value of a hidden form field on a page.
/// Grants a console role to the account of `email` (as `saml-idp user grant` does).
pub fn grant_role(f: &Flow, email: &str, role: saml_idp::accounts::roles::Role) {
    let s = &f.state;
    let ports = saml_idp::idp::roles::RolePorts {
        accounts: s.stores.accounts.as_ref(),
        roles: s.stores.roles.as_ref(),
        crypto: &s.account_crypto,
        audit: s.stores.audit.as_ref(),
        now: s.clock.now(),
    };
    saml_idp::idp::roles::grant(&ports, email, &role).expect("grant");
}

/// Signs `email` in on the IdP's own pages (no SP): password, then a TOTP code of the next
/// 30-second step (a code works once per step).
pub async fn sign_in_directly(f: &mut Flow, email: &str) {
    f.tick(31);
    let password = f.password(email, PASSWORD).await;
    assert_eq!(
        password.location, "/sign-in/mfa?locale=en",
        "{}",
        password.body
    );
    let code = f.code();
    let done = f.second_factor(&code, false).await;
    assert_eq!(done.location, "/?locale=en", "{}", done.body);
}

pub fn form_field(body: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker)? + marker.len();
    body[start..].split('"').next().map(str::to_string)
}

/// One of the test service providers as python3-saml is configured for it.
pub struct PythonSp<'a> {
    pub issuer: &'a str,
    pub acs: &'a str,
    pub cert: &'a str,
    pub key: &'a str,
    pub encrypted: bool,
}

/// `SP1` of the fixtures: encrypted assertions, keys `sp1-test-only.*`.
pub const PYTHON_SP1: PythonSp<'static> = PythonSp {
    issuer: SP1,
    acs: SP1_ACS,
    cert: "sp1-test-only.crt",
    key: "sp1-test-only.key",
    encrypted: true,
};

/// python3-saml's verdict on the hand-off page's Response for `sp`.
pub fn python_verdict(page: &Answer, sp: &PythonSp<'_>, request_id: &str) -> serde_json::Value {
    let response = form_field(&page.body, "SAMLResponse").expect("a SAMLResponse field");
    python_verdict_of(&response, sp, request_id, super::BASE_URL)
}

/// python3-saml's verdict on a `SAMLResponse` value from the IdP at `base_url` (2026 key).
pub fn python_verdict_of(
    response: &str,
    sp: &PythonSp<'_>,
    request_id: &str,
    base_url: &str,
) -> serde_json::Value {
    let mut job = python_job(sp, base_url);
    job["saml_response"] = response.into();
    job["request_id"] = request_id.into();
    super::oracles::python3_saml("python3_saml_acs.py", &job)
}

/// python3-saml's verdicts on many (SAMLResponse, request ID) pairs, in one process:
/// `{"checked", "valid", "invalid": [first five invalid verdicts]}`.
pub fn python_verdicts(
    responses: &[(String, String)],
    sp: &PythonSp<'_>,
    base_url: &str,
) -> serde_json::Value {
    let mut job = python_job(sp, base_url);
    job["responses"] = serde_json::json!(responses);
    super::oracles::python3_saml("python3_saml_acs.py", &job)
}

fn python_job(sp: &PythonSp<'_>, base_url: &str) -> serde_json::Value {
    serde_json::json!({
        "sp_entity_id": sp.issuer, "acs_url": sp.acs, "sp_cert": super::pem(sp.cert),
        "sp_key": super::pem(sp.key), "idp_entity_id": format!("{base_url}/api/saml"),
        "idp_cert": super::pem("idp-2026-test-only.crt"),
        "want_response_signed": false, "want_encrypted": sp.encrypted,
    })
}
