//! The authenticator app's set-up, drawn here: the provisioning URI as an inline SVG QR code
//! (no external service, no script) and the secret grouped for typing. Shared by sign-up and
//! the account page.

use super::WebError;

/// `JBSW Y3DP …`: the secret in groups of four, easier to type.
pub fn group(secret: &str) -> String {
    secret
        .as_bytes()
        .chunks(4)
        .map(|c| String::from_utf8_lossy(c).into_owned())
        .collect::<Vec<_>>()
        .join(" ")
}

/// The provisioning URI as an SVG QR code, ready to place inline in a page.
pub fn qr_svg(uri: &str) -> Result<String, WebError> {
    let code = qrcode::QrCode::new(uri.as_bytes())
        .map_err(|e| WebError::Internal(format!("QR code: {e}")))?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(200, 200)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // Inline in the page: drop the XML declaration, label the image, let it shrink.
    let start = svg.find("<svg").unwrap_or(0);
    Ok(svg[start..].replacen(
        "<svg",
        "<svg class=\"qr\" role=\"img\" aria-label=\"QR code\"",
        1,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn groups_of_four() {
        assert_eq!(group("JBSWY3DPEHPK3PXP"), "JBSW Y3DP EHPK 3PXP");
        assert_eq!(group("ABCDE"), "ABCD E");
    }

    #[test]
    fn an_inline_labelled_svg() {
        let svg = qr_svg("otpauth://totp/x:y?secret=JBSWY3DPEHPK3PXP").expect("svg");
        assert!(svg.starts_with("<svg class=\"qr\" role=\"img\""), "{svg}");
        assert!(!svg.contains("<?xml"), "{svg}");
    }
}
