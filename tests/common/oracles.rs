//! The independent oracles (DESIGN.md: our code checking our code is not enough for anything
//! signed or encrypted), in one place: the `xmlsec1` command (verify, decrypt, sign),
//! `xmllint` (`--schema` with the OASIS schemas, `--exc-c14n`) and python3-saml as a service
//! provider (the helper scripts in `tests/sp/`). Debian's xmlsec1, libxml2-utils,
//! opensaml-schemas and xmltooling-schemas are installed by scripts/install-deps; the
//! python3-saml environment by scripts/python-sp-env.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

/// Elements whose `ID` attribute a signature's reference may name (`--id-attr:ID`).
pub const ENTITY_DESCRIPTOR: &str = "urn:oasis:names:tc:SAML:2.0:metadata:EntityDescriptor";
pub const RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:Response";
pub const ASSERTION: &str = "urn:oasis:names:tc:SAML:2.0:assertion:Assertion";
pub const LOGOUT_RESPONSE: &str = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutResponse";
pub const LOGOUT_REQUEST: &str = "urn:oasis:names:tc:SAML:2.0:protocol:LogoutRequest";
pub const AUTHN_REQUEST: &str = "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest";

/// The OASIS schemas as Debian's opensaml-schemas installs them.
pub const METADATA_SCHEMA: &str = "/usr/share/xml/opensaml/saml-schema-metadata-2.0.xsd";
pub const PROTOCOL_SCHEMA: &str = "/usr/share/xml/opensaml/saml-schema-protocol-2.0.xsd";

/// The signature of the Response itself (its child), and the one inside its Assertion.
pub const RESPONSE_SIGNATURE: &str = "/*/*[local-name()='Signature']";
pub const ASSERTION_SIGNATURE: &str = "//*[local-name()='Assertion']/*[local-name()='Signature']";

/// Runs `xmlsec1 ARGS FILE` with `input` in FILE: its standard output, or its standard error
/// when it refuses.
pub fn xmlsec1(args: &[&str], input: &[u8]) -> Result<Vec<u8>, String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = super::write(dir.path(), "in.xml", input);
    let out = Command::new("xmlsec1")
        .args(args)
        .arg(&file)
        .output()
        .expect("xmlsec1 runs (scripts/install-deps installs it)");
    if out.status.success() {
        Ok(out.stdout)
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// `xmlsec1 --verify` trusting only the certificate in the PEM file `cert`: the signature at
/// `node_xpath` (the first one when `None`), whose reference may name the `ID` of any of
/// `id_elements`. Prints xmlsec1's reason when it refuses.
pub fn xmlsec1_verifies_pem(
    xml: &[u8],
    cert: &Path,
    id_elements: &[&str],
    node_xpath: Option<&str>,
) -> bool {
    let cert = cert.display().to_string();
    let mut args = vec!["--verify", "--pubkey-cert-pem", cert.as_str()];
    for element in id_elements {
        args.extend(["--id-attr:ID", element]);
    }
    if let Some(xpath) = node_xpath {
        args.extend(["--node-xpath", xpath]);
    }
    match xmlsec1(&args, xml) {
        Ok(_) => true,
        Err(reason) => {
            eprintln!("xmlsec1 refused: {reason}");
            false
        }
    }
}

/// As [`xmlsec1_verifies_pem`], with one of the fixture certificates (`fixtures/keys/NAME`).
pub fn xmlsec1_verifies(
    xml: &[u8],
    cert_name: &str,
    id_elements: &[&str],
    node_xpath: Option<&str>,
) -> bool {
    xmlsec1_verifies_pem(xml, &super::key(cert_name), id_elements, node_xpath)
}

/// Metadata (an `EntityDescriptor`) whose signature verifies with the PEM file `cert` only.
pub fn metadata_verifies(xml: &[u8], cert: &Path) -> bool {
    xmlsec1_verifies_pem(xml, cert, &[ENTITY_DESCRIPTOR], None)
}

/// `xmlsec1 --decrypt` with the fixture private key `key_name`; `None` if it refuses.
pub fn xmlsec1_decrypts(xml: &[u8], key_name: &str) -> Option<Vec<u8>> {
    let key = super::key(key_name).display().to_string();
    xmlsec1(&["--decrypt", "--privkey-pem", &key], xml).ok()
}

/// Fills the empty enveloped signature of `template` with `xmlsec1 --sign`, using the fixture
/// key pair `NAME.key`/`NAME.crt` (e.g. `sp1-test-only`); `id_element` is the signed root.
pub fn xmlsec1_signed(template: &[u8], key_pair: &str, id_element: &str) -> Vec<u8> {
    let key = format!(
        "{},{}",
        super::key(&format!("{key_pair}.key")).display(),
        super::key(&format!("{key_pair}.crt")).display()
    );
    let args = ["--sign", "--privkey-pem", &key, "--id-attr:ID", id_element];
    xmlsec1(&args, template).unwrap_or_else(|e| panic!("xmlsec1 signs: {e}"))
}

/// A fresh LogoutRequest from `issuer` to `destination` naming `name_id` (as NameID and
/// SessionIndex), with an enveloped signature made by the `xmlsec1` command with sp1's
/// test-only key; base64, as the `SAMLRequest` of a back-channel POST.
pub fn xmlsec1_signed_logout(destination: &str, issuer: &str, name_id: &str) -> String {
    let id = format!("_xmlsec1-{}", super::random_uuid().replace('-', ""));
    let now = super::wall_clock().format("%Y-%m-%dT%H:%M:%SZ");
    let template = format!(
        r##"<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{now}" Destination="{destination}"><saml:Issuer>{issuer}</saml:Issuer><ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature><saml:NameID>{name_id}</saml:NameID><samlp:SessionIndex>{name_id}</samlp:SessionIndex></samlp:LogoutRequest>"##
    );
    super::b64(&xmlsec1_signed(
        template.as_bytes(),
        "sp1-test-only",
        LOGOUT_REQUEST,
    ))
}

/// `xmllint --schema SCHEMA`: the W3C schemas that the OASIS ones import by web address
/// come from local copies through `fixtures/xml/saml-schemas-catalog.xml`
/// (`XML_CATALOG_FILES`), and `--nonet` keeps it off the network. Err: xmllint's reasons.
pub fn schema_valid(xml: &[u8], schema: &str) -> Result<(), String> {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = super::write(dir.path(), "doc.xml", xml);
    let (ok, _, stderr) = super::run(
        Command::new("xmllint")
            .env(
                "XML_CATALOG_FILES",
                super::fixture("xml/saml-schemas-catalog.xml"),
            )
            .args(["--noout", "--nonet", "--schema", schema])
            .arg(&file),
    );
    if ok {
        Ok(())
    } else {
        Err(stderr)
    }
}

/// `xmllint --exc-c14n` of `xml`: exclusive canonical XML, as libxml2 writes it.
pub fn xmllint_exc_c14n(xml: &[u8]) -> Vec<u8> {
    let mut child = Command::new("xmllint")
        .args(["--nonet", "--exc-c14n", "-"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("xmllint runs (scripts/install-deps installs libxml2-utils)");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(xml)
        .expect("write to xmllint");
    let out = child.wait_with_output().expect("xmllint finishes");
    assert!(
        out.status.success(),
        "xmllint refused {}: {}",
        String::from_utf8_lossy(xml),
        String::from_utf8_lossy(&out.stderr)
    );
    out.stdout
}

/// Runs one of the python3-saml helper scripts in `tests/sp/` with `job` on standard input
/// and returns the JSON it prints.
pub fn python3_saml(script: &str, job: &serde_json::Value) -> serde_json::Value {
    let mut child = Command::new(super::python())
        .arg(super::root().join("tests/sp").join(script))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("python runs");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(job.to_string().as_bytes())
        .expect("write");
    let out = child.wait_with_output().expect("python finishes");
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|_| panic!("python said: {}", String::from_utf8_lossy(&out.stdout)))
}
