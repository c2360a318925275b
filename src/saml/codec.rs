//! SAML message encodings (saml-bindings §3.4.4 Redirect, §3.5.4 POST) with the limits of
//! SPEC 3: every over-limit input is a named error, inflation stops at its cap (deflate
//! bombs), and nothing is allocated beyond the limits.

use base64::alphabet;
use base64::engine::{DecodePaddingMode, Engine, GeneralPurpose, GeneralPurposeConfig};
use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};
use thiserror::Error;

/// Size limits for incoming messages; each is configurable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A whole request body (form posts).
    pub body: usize,
    /// The `SAMLRequest` / `SAMLResponse` parameter as received.
    pub saml_param: usize,
    /// The XML after base64 and inflation.
    pub inflated: usize,
    pub depth: usize,
    pub attributes: usize,
    /// `RelayState`; saml-bindings says 80 bytes, partners send more.
    pub relay_state: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            body: 256 * 1024,
            saml_param: 128 * 1024,
            inflated: 256 * 1024,
            depth: 64,
            attributes: 64,
            relay_state: 1024,
        }
    }
}

#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum CodecError {
    #[error("the SAML message parameter is larger than {limit} bytes")]
    ParamTooLarge { limit: usize },
    #[error("the decompressed SAML message is larger than {limit} bytes")]
    InflatedTooLarge { limit: usize },
    #[error("RelayState is longer than {limit} bytes")]
    RelayStateTooLong { limit: usize },
    #[error("the SAML message is not valid base64")]
    Base64,
    #[error("the SAML message is empty")]
    Empty,
    #[error("the SAML message has data after the end of its DEFLATE stream")]
    TrailingDeflateData,
}

impl CodecError {
    /// Fixed words naming the rule or limit (SPEC 3). Every message of this enum already is
    /// one: nothing from the request goes into it.
    pub fn public_detail(&self) -> String {
        self.to_string()
    }

    /// Over a size limit (`request_too_large`) rather than malformed.
    pub fn is_too_large(&self) -> bool {
        matches!(
            self,
            CodecError::ParamTooLarge { .. }
                | CodecError::InflatedTooLarge { .. }
                | CodecError::RelayStateTooLong { .. }
        )
    }
}

/// Standard alphabet; padding optional (some SP libraries strip it).
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// Decodes a `SAMLRequest` value (already url-decoded): base64, then raw DEFLATE; when the
/// bytes do not inflate they are taken as uncompressed XML (partners send both, SPEC 3).
/// Used for both bindings: POST senders are not supposed to deflate, but some do.
pub fn decode(value: &str, limits: &Limits) -> Result<Vec<u8>, CodecError> {
    if value.len() > limits.saml_param {
        return Err(CodecError::ParamTooLarge {
            limit: limits.saml_param,
        });
    }
    let compact: Vec<u8> = value.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    if compact.is_empty() {
        return Err(CodecError::Empty);
    }
    let bytes = BASE64.decode(&compact).map_err(|_| CodecError::Base64)?;
    match inflate(&bytes, limits.inflated)? {
        Some(xml) => Ok(xml),
        None if bytes.len() > limits.inflated => Err(CodecError::InflatedTooLarge {
            limit: limits.inflated,
        }),
        None => Ok(bytes),
    }
}

/// Raw inflate into at most `cap` bytes, a chunk at a time. `Ok(None)`: not a complete
/// DEFLATE stream (the caller then treats the bytes as uncompressed XML).
fn inflate(input: &[u8], cap: usize) -> Result<Option<Vec<u8>>, CodecError> {
    let mut inflater = Decompress::new(false);
    let mut out = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    loop {
        let (in_before, out_before) = (inflater.total_in(), inflater.total_out());
        let rest = usize::try_from(in_before)
            .ok()
            .and_then(|n| input.get(n..))
            .unwrap_or_default();
        let Ok(status) = inflater.decompress(rest, &mut chunk, FlushDecompress::None) else {
            return Ok(None);
        };
        let produced = usize::try_from(inflater.total_out() - out_before).unwrap_or(usize::MAX);
        if out.len().saturating_add(produced) > cap {
            return Err(CodecError::InflatedTooLarge { limit: cap });
        }
        out.extend_from_slice(chunk.get(..produced).unwrap_or_default());
        match status {
            // Trailing garbage or a second stream: something else than the signed or
            // inspected message could be hidden there (SPEC 3).
            Status::StreamEnd if inflater.total_in() != input.len() as u64 => {
                return Err(CodecError::TrailingDeflateData)
            }
            Status::StreamEnd => return Ok(Some(out)),
            _ if produced == 0 && inflater.total_in() == in_before => return Ok(None),
            _ => {}
        }
    }
}

/// Checks a `RelayState` against its limit; it is otherwise opaque and returned verbatim.
pub fn check_relay_state(relay_state: &str, limits: &Limits) -> Result<(), CodecError> {
    if relay_state.len() > limits.relay_state {
        return Err(CodecError::RelayStateTooLong {
            limit: limits.relay_state,
        });
    }
    Ok(())
}

/// base64(raw DEFLATE(xml)): the Redirect-binding value before url-encoding.
pub fn encode_redirect(xml: &[u8]) -> String {
    let mut compressor = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(xml.len() / 2 + 64);
    loop {
        let consumed = usize::try_from(compressor.total_in()).unwrap_or(usize::MAX);
        out.reserve(xml.len() / 2 + 64);
        match compressor.compress_vec(
            xml.get(consumed..).unwrap_or_default(),
            &mut out,
            FlushCompress::Finish,
        ) {
            Ok(Status::StreamEnd) | Err(_) => break,
            Ok(_) => {}
        }
    }
    base64::engine::general_purpose::STANDARD.encode(out)
}

/// base64(xml), no line breaks: the POST-binding value.
pub fn encode_post(xml: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(xml)
}

#[cfg(test)]
mod tests {
    use super::*;

    const XML: &[u8] =
        b"<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ID=\"_1\"/>";

    fn deflate_zeros(n: usize) -> String {
        encode_redirect(&vec![0u8; n])
    }

    #[test]
    fn round_trips_both_encodings() {
        let limits = Limits::default();
        assert_eq!(
            decode(&encode_redirect(XML), &limits).expect("redirect"),
            XML
        );
        assert_eq!(decode(&encode_post(XML), &limits).expect("post"), XML);
    }

    #[test]
    fn tolerates_whitespace_and_missing_padding() {
        let b64 = encode_post(b"<a/>");
        let wrapped = format!("{}\r\n {}", &b64[..3], b64[3..].trim_end_matches('='));
        assert_eq!(
            decode(&wrapped, &Limits::default()).expect("decoded"),
            b"<a/>"
        );
    }

    #[test]
    fn inflation_stops_at_the_cap() {
        let limits = Limits::default();
        let bomb = deflate_zeros(50 * 1024 * 1024);
        assert!(
            bomb.len() < limits.saml_param,
            "bomb fits the parameter limit: {}",
            bomb.len()
        );
        assert_eq!(
            decode(&bomb, &limits).err(),
            Some(CodecError::InflatedTooLarge {
                limit: limits.inflated
            })
        );
        let exactly = deflate_zeros(limits.inflated);
        assert_eq!(
            decode(&exactly, &limits).expect("at the cap").len(),
            limits.inflated
        );
    }

    #[test]
    fn named_errors_for_bad_input() {
        let limits = Limits::default();
        assert_eq!(decode("", &limits).err(), Some(CodecError::Empty));
        assert_eq!(
            decode("%%%not base64!!!", &limits).err(),
            Some(CodecError::Base64)
        );
        let big = "A".repeat(limits.saml_param + 1);
        assert_eq!(
            decode(&big, &limits).err(),
            Some(CodecError::ParamTooLarge {
                limit: limits.saml_param
            })
        );
        let truncated = &encode_redirect(&[b'x'; 10_000][..]);
        let cut = &truncated[..truncated.len() / 2 / 4 * 4];
        assert!(
            decode(cut, &limits).is_ok(),
            "a truncated stream is passed on as bytes for the XML parser to refuse"
        );
        assert!(check_relay_state(&"r".repeat(1025), &limits).is_err());
        let deflated = |xml: &[u8]| {
            base64::engine::general_purpose::STANDARD
                .decode(encode_redirect(xml))
                .expect("base64")
        };
        let mut garbage = deflated(XML);
        garbage.extend_from_slice(b"junk");
        let mut two = deflated(XML);
        two.extend(deflated(b"<x/>"));
        for bytes in [garbage, two] {
            assert_eq!(
                decode(&encode_post(&bytes), &limits).err(),
                Some(CodecError::TrailingDeflateData)
            );
        }
        assert!(check_relay_state(&"r".repeat(1024), &limits).is_ok());
    }
}
