//! Stripe's webhook signature scheme: the `Stripe-Signature` header carries `t=<unix
//! seconds>` and one or more `v1=<hex HMAC-SHA256 of "{t}.{raw body}">`. We accept a
//! signature from any of our secrets (so one can be rotated) within a time tolerance.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

type HmacSha256 = Hmac<Sha256>;

/// How far the signed timestamp may be from now, as Stripe's libraries default to.
pub const TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("the Stripe-Signature header is missing or malformed")]
    /// The header does not parse.
    Malformed,
    #[error("the signature timestamp is outside the tolerance")]
    /// The timestamp is outside the tolerance.
    Stale,
    #[error("no signature matches")]
    /// No signature matches any secret.
    Mismatch,
}

/// The hex `v1` signature of `payload` signed at `timestamp` with `secret`.
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    let mut mac = mac(secret);
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    hex::encode(mac.finalize().into_bytes())
}

/// A complete `Stripe-Signature` header value for `payload`.
pub fn header(secret: &str, timestamp: i64, payload: &[u8]) -> String {
    format!("t={timestamp},v1={}", sign(secret, timestamp, payload))
}

fn mac(secret: &str) -> HmacSha256 {
    // HMAC takes keys of any length; this cannot fail.
    match HmacSha256::new_from_slice(secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => unreachable!("HMAC accepts any key length"),
    }
}

/// Checks `header` against the raw `payload` with each of `secrets`, at time `now`.
pub fn verify(
    secrets: &[String],
    header: &str,
    payload: &[u8],
    now: i64,
) -> Result<(), SignatureError> {
    let mut timestamp = None;
    let mut candidates = Vec::new();
    for part in header.split(',') {
        match part.trim().split_once('=') {
            Some(("t", t)) => timestamp = t.parse::<i64>().ok(),
            Some(("v1", sig)) => {
                candidates.push(hex::decode(sig).map_err(|_| SignatureError::Malformed)?)
            }
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
    if candidates.is_empty() {
        return Err(SignatureError::Malformed);
    }
    if (now - timestamp).abs() > TOLERANCE_SECS {
        return Err(SignatureError::Stale);
    }
    for secret in secrets {
        let mut mac = mac(secret);
        mac.update(timestamp.to_string().as_bytes());
        mac.update(b".");
        mac.update(payload);
        let expected = mac.finalize().into_bytes();
        // Constant time per comparison, so timing reveals nothing about the right bytes.
        if candidates
            .iter()
            .any(|c| bool::from(c.as_slice().ct_eq(expected.as_slice())))
        {
            return Ok(());
        }
    }
    Err(SignatureError::Mismatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "whsec_test_secret";
    const BODY: &[u8] = br#"{"id":"evt_1","type":"checkout.session.completed"}"#;

    #[test]
    fn a_signature_matches_an_independent_hmac_sha256_of_timestamp_dot_body() {
        // printf '1700000000.<body>' | openssl dgst -sha256 -hmac whsec_test_secret
        assert_eq!(
            sign(SECRET, 1_700_000_000, BODY),
            "a13d4b1f9003bc2fb6c06224e878b6056185eaa50d40e1e7dc05517f8af41d7b"
        );
    }

    #[test]
    fn a_fresh_signature_from_any_current_secret_is_accepted() {
        let h = header(SECRET, 1_700_000_000, BODY);
        let secrets = vec!["whsec_old".to_owned(), SECRET.to_owned()];
        assert_eq!(verify(&secrets, &h, BODY, 1_700_000_100), Ok(()));
        // Stripe sends several v1 values while a secret rolls over; any one may match.
        let two = format!(
            "t=1700000000,v1={},v1={}",
            "00".repeat(32),
            sign(SECRET, 1_700_000_000, BODY)
        );
        assert_eq!(
            verify(&[SECRET.to_owned()], &two, BODY, 1_700_000_000),
            Ok(())
        );
    }

    #[test]
    fn a_wrong_secret_a_stale_timestamp_or_a_tampered_body_is_refused() {
        let h = header(SECRET, 1_700_000_000, BODY);
        let ours = [SECRET.to_owned()];
        assert_eq!(
            verify(&["whsec_other".to_owned()], &h, BODY, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(&ours, &h, BODY, 1_700_000_301),
            Err(SignatureError::Stale)
        );
        assert_eq!(
            verify(&ours, &h, BODY, 1_699_999_699),
            Err(SignatureError::Stale)
        );
        let tampered = br#"{"id":"evt_1","type":"checkout.session.expired"}"#;
        assert_eq!(
            verify(&ours, &h, tampered, 1_700_000_000),
            Err(SignatureError::Mismatch)
        );
    }

    #[test]
    fn malformed_headers_are_refused_without_panicking() {
        let ours = [SECRET.to_owned()];
        for h in [
            "",
            "t=abc,v1=00",
            "v1=00",
            "t=1700000000",
            "t=1700000000,v1=zz",
            "garbage",
        ] {
            assert_eq!(
                verify(&ours, h, BODY, 1_700_000_000),
                Err(SignatureError::Malformed),
                "{h}"
            );
        }
    }
}
