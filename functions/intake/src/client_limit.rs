//! The per-client write limit in front of the public API. HTTP APIs have no WAF and no usage
//! plans, and a limit in CloudFront would only hold for traffic that goes through CloudFront; so
//! the function counts, per client address and fixed window, the requests that write (every
//! `POST`), in one atomic DynamoDB counter keyed with the server secret (no address is stored).
//! Over the limit a client gets `429` with `Retry-After` until its window ends, and nothing else
//! happens: no report, no reply, no SMS. Reads are left to the stage throttle. Open311 posts are
//! counted per partner key instead (`open311::submit`): a partner app relays many citizens from
//! one server, and its key, not its address, is what it answers for.

use axum::extract::{Request, State};
use axum::http::{Method, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use lapor_http::{client_address, ApiError};

use crate::Deps;

/// How many writing requests one client address may make per window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientLimit {
    pub writes: u64,
    pub window_secs: i64,
}

impl ClientLimit {
    /// `writes` per hour; `None` for 0 (no per-client limit).
    pub fn per_hour(writes: u64) -> Option<Self> {
        (writes > 0).then_some(Self {
            writes,
            window_secs: 3_600,
        })
    }
}

pub async fn limit(State(deps): State<Deps>, request: Request, next: Next) -> Response {
    let counted =
        request.method() == Method::POST && !request.uri().path().starts_with("/open311/");
    let (Some(limit), true) = (deps.client_limit, counted) else {
        return next.run(request).await;
    };
    let Some(client) = client_address(request.extensions()) else {
        return next.run(request).await;
    };
    let now = deps.clock.now().timestamp();
    let pepper = match deps.pepper.get().await {
        Ok(pepper) => pepper,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let window = pepper.rate_window("api-client", &client, now, limit.window_secs);
    match deps
        .marks
        .count_hit(&window.key, now, limit.window_secs)
        .await
    {
        Ok(hits) if hits > limit.writes => {
            if hits == limit.writes + 1 {
                tracing::warn!(limit = limit.writes, "a client reached its write limit");
            }
            too_many(limit, window.retry_after(now)).into_response()
        }
        Ok(_) => next.run(request).await,
        Err(e) => ApiError::from(e).into_response(),
    }
}

fn too_many(limit: ClientLimit, retry_after: u32) -> ApiError {
    let minutes = retry_after.div_ceil(60);
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        format!(
            "Terlalu banyak permintaan dari alamat Anda ({} dalam {} menit). Coba lagi dalam {minutes} menit.",
            limit.writes,
            limit.window_secs / 60
        ),
        format!(
            "Too many requests from your address ({} in {} minutes). Try again in {minutes} minutes.",
            limit.writes,
            limit.window_secs / 60
        ),
    )
    .with_retry_after(retry_after)
}
