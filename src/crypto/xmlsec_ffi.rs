//! The one place with `unsafe`: libxmlsec1 prints every verification failure to standard
//! error by default, and the `xmlsec` crate's bindings do not expose the switch. This
//! declares `xmlSecErrorsDefaultCallbackEnableOutput` (xmlsec/errors.h, present since
//! xmlsec 1.2) and turns that printing off; failures still come back as return codes,
//! which the callers turn into typed errors.
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
