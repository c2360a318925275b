//! The one place with `unsafe` for libxml2 and libxmlsec1. libxmlsec1 prints every
//! verification failure to standard error by default, and the `xmlsec` crate's bindings do
//! not expose the switch: this declares `xmlSecErrorsDefaultCallbackEnableOutput`
//! (xmlsec/errors.h, present since xmlsec 1.2) and turns that printing off; failures still
//! come back as return codes, which the callers turn into typed errors. And
//! [`register_root_id`] puts a signed root's `ID` in the document's ID table with two
//! libxml2 calls.
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
    use std::ffi::CString;
    let (Ok(c_id), Ok(c_name)) = (CString::new(id), CString::new("ID")) else {
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
            xmlHasNsProp(root.node_ptr(), c_name.as_ptr().cast(), std::ptr::null()).cast();
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
