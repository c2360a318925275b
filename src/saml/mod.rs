//! The SAML protocol core: types, parsers and writers. Strings and bytes in, typed values
//! out; no HTTP, database or templates here.

pub mod attributes;
pub mod authn_context;
pub mod authn_request;
pub mod codec;
pub mod logout_request;
pub mod metadata;
pub mod ns;
pub mod pretty;
pub mod request_root;
pub mod response;
pub mod sp_metadata;
pub mod xml_doc;
pub mod xml_reader;
pub mod xml_writer;
pub mod xs_id;
pub mod year;

pub use year::SamlYear;
