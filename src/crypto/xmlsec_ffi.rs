//! The one place with `unsafe` for libxml2 and libxmlsec1. libxmlsec1 prints every
//! verification failure to standard error by default, and the `xmlsec` crate's bindings do
//! not expose the switch: this declares `xmlSecErrorsDefaultCallbackEnableOutput`
//! (xmlsec/errors.h, present since xmlsec 1.2) and turns that printing off; failures still
//! come back as return codes, which the callers turn into typed errors.
//! [`register_root_id`] puts a signed root's `ID` in the document's ID table, and
//! [`verify_with_key`] verifies with a key lent to libxmlsec1 through a keys manager.
#![allow(unsafe_code)]

use std::os::raw::c_int;
use std::sync::Once;

extern "C" {
    fn xmlSecErrorsDefaultCallbackEnableOutput(enabled: c_int);
}

static INIT: Once = Once::new();

/// Initialises libxml2 and libxmlsec1 (through their crates) and silences xmlsec's error
/// output.
/// Call once on the main thread at start; later calls do nothing.
pub fn init() {
    INIT.call_once(|| {
        // A first parse runs libxml2's global initialisation (xmlInitParser) on this thread.
        let _ = libxml::parser::Parser::default().parse_string("<init/>");
        // Creating a context runs the crate's global initialisation.
        drop(xmlsec::XmlSecSignatureContext::new());
        // SAFETY: a plain setter of a global flag in libxmlsec1, called once, after the
        // library was initialised above, before any worker thread uses it.
        unsafe { xmlSecErrorsDefaultCallbackEnableOutput(0) };
    });
}

/// Makes the root's unqualified `ID` attribute the document's ID `id` and checks that `id`
/// resolves to that attribute: the table libxmlsec1 resolves a Reference's `#id` through
/// (its XPointer `id()`), so the Reference can only be to the root. The document must not
/// have registered `id` for another attribute (a second element with the same ID). Direct
/// calls where the `xmlsec` crate's helper and an XPath `id()` query each set up an XPath
/// context (5 % of a remote logout, issue 23).
pub fn register_root_id(doc: &libxml::tree::Document, root: &libxml::tree::Node, id: &str) -> bool {
    use libxml::bindings::{xmlAddID, xmlAttrPtr, xmlGetID, xmlHasNsProp};
    let Ok(c_id) = std::ffi::CString::new(id) else {
        return false;
    };
    let doc_ptr = doc.doc_ptr();
    // SAFETY: `doc` and `root` are live libxml2 objects owned by the caller for the whole
    // call, `root` belongs to `doc`, and both strings are NUL-terminated and outlive the
    // calls. `xmlHasNsProp` with no namespace finds the unqualified attribute (no DTD can
    // supply a default: DOCTYPEs are refused before libxml2 parses). `xmlAddID` only adds
    // an entry to the document's own ID table, which the document frees with itself.
    unsafe {
        let attr: xmlAttrPtr =
            xmlHasNsProp(root.node_ptr(), c"ID".as_ptr().cast(), std::ptr::null()).cast();
        if attr.is_null() || (*attr).parent != root.node_ptr() {
            return false;
        }
        if xmlGetID(doc_ptr, c_id.as_ptr().cast()).is_null()
            && xmlAddID(std::ptr::null_mut(), doc_ptr, c_id.as_ptr().cast(), attr).is_null()
        {
            return false;
        }
        xmlGetID(doc_ptr, c_id.as_ptr().cast()) == attr
    }
}

/// Verifies the `ds:Signature` at `signature` with `key` alone and hands the key back
/// (`None` only if libxmlsec1 lost it, which it does not).
///
/// libxmlsec1 checks that the key it was given is of the type the signature method asks
/// for; for RSA under OpenSSL 3 that means asking the key for its private exponent
/// (`EVP_PKEY_get_bn_param`), which a public key answers by building the parameters and
/// raising an error: 4 % of a remote logout (issue 23). So the key is not set on the
/// context beforehand; a keys manager whose one callback lends it, through the key-info
/// context's `userData` (which libxmlsec1 never touches), clears that type requirement,
/// which is only about private or public halves: the key was made from a registered
/// certificate's public key, and its algorithm is still matched by libxmlsec1 against the
/// signature method. `KeyInfo` is never read, as before.
pub fn verify_with_key(
    signature: &libxml::tree::Node,
    key: xmlsec::XmlSecKey,
) -> (bool, Option<xmlsec::XmlSecKey>) {
    // Without a manager (libxmlsec1 could not allocate one) nothing verifies: refused.
    let Some(manager) = lending_manager() else {
        return (false, Some(key));
    };
    let mut context = xmlsec::XmlSecSignatureContext::new();
    // SAFETY: `context` is a live signature context created above; its key-info context
    // is a plain struct inside it. The manager lives as long as the process. The key is
    // leaked into `userData` and comes back below either as the context's key (if the
    // callback lent it) or from `userData` (if verification stopped earlier): it is owned
    // by exactly one of them at any time, and taken back before the context is dropped.
    unsafe {
        let raw = context.as_ptr();
        (*raw).keyInfoReadCtx.keysMngr = manager;
        (*raw).keyInfoReadCtx.userData = xmlsec::XmlSecKey::leak(key).cast();
        // Called directly: the crate's `verify_node` refuses a context without a key set.
        let verified = xmlsec::bindings::xmlSecDSigCtxVerify(raw, signature.node_ptr().cast()) >= 0
            && (*raw).status == xmlsec::bindings::xmlSecDSigStatus_xmlSecDSigStatusSucceeded;
        let unlent = std::mem::replace(&mut (*raw).keyInfoReadCtx.userData, std::ptr::null_mut());
        (*raw).keyInfoReadCtx.keysMngr = std::ptr::null_mut();
        let key = match unlent.is_null() {
            true => context.release_key(),
            false => Some(xmlsec::XmlSecKey::from_ptr(unlent.cast())),
        };
        (verified, key)
    }
}

/// The keys manager of [`verify_with_key`], created once: nothing in it changes after.
fn lending_manager() -> Option<*mut xmlsec::bindings::xmlSecKeysMngr> {
    struct Manager(*mut xmlsec::bindings::xmlSecKeysMngr);
    // SAFETY: the manager holds no keys store and its callback pointer is written once,
    // before it is shared; libxmlsec1 only reads it.
    unsafe impl Send for Manager {}
    unsafe impl Sync for Manager {}
    static MANAGER: std::sync::OnceLock<Manager> = std::sync::OnceLock::new();
    let manager = MANAGER.get_or_init(|| {
        init();
        // SAFETY: creates an empty manager (no keys store) and sets its callback.
        unsafe {
            let manager = xmlsec::bindings::xmlSecKeysMngrCreate();
            if !manager.is_null() {
                (*manager).getKey = Some(lend_key);
            }
            Manager(manager)
        }
    });
    (!manager.0.is_null()).then_some(manager.0)
}

/// The keys manager's callback: the key [`verify_with_key`] put in `userData`, with the
/// key-type requirement cleared (see there).
unsafe extern "C" fn lend_key(
    _key_info: xmlsec::bindings::xmlNodePtr,
    context: xmlsec::bindings::xmlSecKeyInfoCtxPtr,
) -> xmlsec::bindings::xmlSecKeyPtr {
    if context.is_null() {
        return std::ptr::null_mut();
    }
    // SAFETY: libxmlsec1 passes the key-info context of the signature context being
    // verified, alive for the call.
    unsafe {
        let key = std::mem::replace(&mut (*context).userData, std::ptr::null_mut());
        if !key.is_null() {
            (*context).keyReq.keyType = xmlsec::bindings::xmlSecKeyDataTypeUnknown;
        }
        key.cast()
    }
}
