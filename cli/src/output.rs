//! Shared output helpers: times, durations, CBOR as JSON.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sealed_session::Claims;
use serde_json::{Value as Json, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What every subcommand needs to know about the invocation.
pub(crate) struct Context {
    pub(crate) json: bool,
    pub(crate) now: OffsetDateTime,
}

pub(crate) fn parse_rfc3339(text: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(text, &Rfc3339)
        .map_err(|e| format!("expected an RFC 3339 time such as 2026-11-23T10:00:00Z ({e})"))
}

pub(crate) fn parse_duration(text: &str) -> Result<time::Duration, String> {
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("expected a duration such as 7d, 2h or 90s ({e})"))?;
    time::Duration::try_from(d).map_err(|e| e.to_string())
}

pub(crate) fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&Rfc3339)
        .unwrap_or_else(|_| t.unix_timestamp().to_string())
}

/// "in 1h 59m" / "3m 2s ago" / "now", relative to `now`.
pub(crate) fn relative(t: OffsetDateTime, now: OffsetDateTime) -> String {
    let seconds = (t - now).whole_seconds();
    let span = humantime::format_duration(std::time::Duration::from_secs(seconds.unsigned_abs()));
    match seconds {
        0 => "now".into(),
        s if s > 0 => format!("in {span}"),
        _ => format!("{span} ago"),
    }
}

/// A CBOR value as JSON: byte strings become base64url text, tags are
/// dropped, non-text map keys are written as their JSON text.
pub(crate) fn cbor_to_json(value: &ciborium::Value) -> Json {
    use ciborium::Value as V;
    match value {
        V::Integer(i) => {
            let n = i128::from(*i);
            i64::try_from(n)
                .map(Json::from)
                .or_else(|_| u64::try_from(n).map(Json::from))
                .unwrap_or_else(|_| Json::String(n.to_string()))
        }
        V::Bytes(b) => Json::String(URL_SAFE_NO_PAD.encode(b)),
        V::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        V::Text(s) => Json::String(s.clone()),
        V::Bool(b) => Json::Bool(*b),
        V::Null => Json::Null,
        V::Tag(_, inner) => cbor_to_json(inner),
        V::Array(items) => Json::Array(items.iter().map(cbor_to_json).collect()),
        V::Map(entries) => Json::Object(
            entries
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        V::Text(s) => s.clone(),
                        other => cbor_to_json(other).to_string(),
                    };
                    (key, cbor_to_json(v))
                })
                .collect(),
        ),
        _ => Json::Null,
    }
}

pub(crate) fn claims_json(claims: &Claims, now: OffsetDateTime) -> Json {
    json!({
        "session_id": claims.session_id().to_string(),
        "subject": claims.subject(),
        "created": rfc3339(claims.created()),
        "issued": rfc3339(claims.issued()),
        "expires": rfc3339(claims.expires()),
        "expires_in_seconds": (claims.expires() - now).whole_seconds(),
    })
}

pub(crate) fn claims_lines(claims: &Claims, now: OffsetDateTime) -> Vec<(&'static str, String)> {
    vec![
        ("session id", claims.session_id().to_string()),
        // Escaped: a subject is app data and may hold control characters.
        (
            "subject",
            claims
                .subject()
                .map_or_else(|| "(none)".to_owned(), |s| s.escape_debug().to_string()),
        ),
        (
            "created",
            format!(
                "{} ({})",
                rfc3339(claims.created()),
                relative(claims.created(), now)
            ),
        ),
        (
            "issued",
            format!(
                "{} ({})",
                rfc3339(claims.issued()),
                relative(claims.issued(), now)
            ),
        ),
        (
            "expires",
            format!(
                "{} ({})",
                rfc3339(claims.expires()),
                relative(claims.expires(), now)
            ),
        ),
    ]
}

/// Prints aligned `label  value` lines.
pub(crate) fn print_lines(lines: &[(&str, String)]) {
    for (label, value) in lines {
        println!("{label:<12}{value}");
    }
}

pub(crate) fn print_json(value: &Json) {
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
    );
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
