//! `POST /dev/sms` with `{"from", "text"}` (and optionally `"id"`, the inbound message id, to try
//! a repeated delivery): plays an inbound SMS to 1708 through the sms function and answers with
//! what it did and the reply it sent. The reply is also in `/dev/outbox`.

use axum::body::Body;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::Json;
use lapor_core::report::text;
use lapor_core::{Invalid, Phone};
use lapor_http::{ApiError, JsonObject};
use lapor_sms::{Action, InboundSms};
use serde_json::{json, Value};

/// The longest text the simulator takes: ten concatenated segments, as phones send at most.
const TEXT_MAX: usize = 1_600;

pub async fn simulate(
    State(deps): State<lapor_sms::Deps>,
    headers: HeaderMap,
    body: Body,
) -> Result<Json<Value>, ApiError> {
    let body = JsonObject::read_fields(&headers, body, &["from", "text", "id"]).await?;
    let from = Phone::parse(&text(&body, "from", 1, 32, false)?).map_err(|mut e| {
        e.field = Some("from".into());
        e
    })?;
    // An empty or odd text is the sms function's to answer, as it would be from a phone.
    let message_body = match body.get("text") {
        Some(Value::String(s)) if s.chars().count() <= TEXT_MAX => s.clone(),
        Some(Value::String(_)) => {
            return Err(Invalid::field(
                "text",
                "too_long",
                format!(
                    "Kolom `text` paling banyak {TEXT_MAX} karakter, sepanjang SMS terpanjang."
                ),
                format!("The field `text` takes at most {TEXT_MAX} characters, the longest SMS."),
            )
            .into())
        }
        None | Some(Value::Null) => return Err(Invalid::missing("text").into()),
        Some(_) => {
            return Err(Invalid::field(
                "text",
                "invalid_type",
                "Kolom `text` harus berupa teks.",
                "The field `text` must be a string.",
            )
            .into())
        }
    };
    let id = match body.get("id") {
        None | Some(Value::Null) => format!("local-{}", rand::random::<u64>()),
        Some(_) => text(&body, "id", 1, 100, false)?,
    };
    let inbound = InboundSms {
        origination_number: from.as_str().to_string(),
        destination_number: "1708".into(),
        message_body,
        inbound_message_id: id.clone(),
    };
    let handled = lapor_sms::handle_inbound(&deps, &inbound)
        .await
        .map_err(|e| ApiError::internal(&e))?;
    let (action, code) = match &handled.action {
        Action::Created(code) => ("created", Some(code.to_string())),
        Action::Checked => ("checked", None),
        Action::Replied => ("replied", None),
        Action::Help => ("help", None),
        Action::Refused => ("refused", None),
        Action::RateLimited => ("rate_limited", None),
        Action::Ignored => ("ignored", None),
        Action::Duplicate => ("duplicate", None),
    };
    Ok(Json(json!({
        "id": id,
        "action": action,
        "tracking_code": code,
        "reply": handled.reply,
    })))
}
