//! Lambda entry point: S3 "Object Created" events (through EventBridge) for the evidence
//! bucket's quarantine prefix.
//! An error makes Lambda retry the event and then send it to the dead-letter queue; handling is
//! idempotent.

use std::sync::Arc;

use lambda_runtime::{service_fn, LambdaEvent};
use lapor_core::SystemClock;
use lapor_evidence_function::{handle_event, Deps, UploadEvent};
use lapor_lambda::{number, Bootstrap};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    let aws = Bootstrap::start().await;
    let defaults = lapor_evidence::Limits::default();
    let limits = lapor_evidence::Limits {
        max_bytes: number("EVIDENCE_MAX_BYTES", defaults.max_bytes)?,
        max_pixels: number("EVIDENCE_MAX_PIXELS", defaults.max_pixels)?,
        ..defaults
    };
    let deps = Deps::new(
        &aws.stores()?,
        aws.evidence_files()?,
        Arc::new(SystemClock),
        limits,
    );
    let deps = &deps;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<UploadEvent>| async move {
            handle_event(deps, &event.payload)
                .await
                .map(|_| ())
                .map_err(lambda_runtime::Error::from)
        },
    ))
    .await
}
