//! Base64url and PEM, as tests write tokens and keys by hand.

/// Base64url without padding, as JOSE writes binary values.
pub fn b64(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::URL_SAFE_NO_PAD.encode_to_string(bytes)
}

/// A PEM block with this label around this DER: standard base64 in lines of 64 characters,
/// each line ending in LF.
pub fn pem(label: &str, der: &[u8]) -> String {
    let config = pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF);
    pem::encode_config(&pem::Pem::new(label, der), config)
}

/// Standard base64 with padding, as RFC 9440 forwards client certificates.
pub fn b64_standard(bytes: impl AsRef<[u8]>) -> String {
    base64_simd::STANDARD.encode_to_string(bytes)
}
