//! An SDK interceptor that keeps every DynamoDB request a client sends (retries included): the
//! operation's name, the request's JSON body and the response's JSON body and status.

use std::sync::{Arc, Mutex};

use aws_sdk_dynamodb::config::interceptors::{
    AfterDeserializationInterceptorContextRef, BeforeDeserializationInterceptorContextRef,
    BeforeTransmitInterceptorContextRef,
};
use aws_sdk_dynamodb::config::{ConfigBag, Intercept, RuntimeComponents};
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use serde_json::Value;

/// One request on the wire and what came back.
#[derive(Debug, Clone)]
pub struct Exchange {
    pub operation: String,
    pub request: Value,
    /// `Value::Null` when no response arrived (a transport error).
    pub response: Value,
    /// The HTTP status; 0 when no response arrived.
    pub status: u16,
    /// Whether the response body was already in memory at `read_after_transmit` (with the SDK's
    /// non-streaming responses it is read only just before deserialization).
    pub body_at_transmit: bool,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Sent,
    Transmitted,
    Done,
}

#[derive(Debug, Default)]
struct Log {
    exchanges: Vec<Exchange>,
    /// The most requests ever waiting for their answers at once: above 1, answers are paired
    /// with requests in the order they were sent, which may be wrong.
    max_in_flight: usize,
}

#[derive(Debug, Clone, Default)]
pub struct Capture(Arc<Mutex<Log>>);

impl Capture {
    /// The requests since the last call, and the most that were in flight at once.
    pub fn take(&self) -> (Vec<Exchange>, usize) {
        match self.0.lock() {
            Ok(mut log) => {
                let taken = std::mem::take(&mut log.exchanges);
                let in_flight = std::mem::take(&mut log.max_in_flight);
                (taken, in_flight)
            }
            Err(_) => (Vec::new(), 0),
        }
    }

    fn with_log(&self, f: impl FnOnce(&mut Log)) {
        if let Ok(mut log) = self.0.lock() {
            f(&mut log);
        }
    }
}

fn json_of(bytes: Option<&[u8]>) -> Value {
    bytes
        .and_then(|b| serde_json::from_slice(b).ok())
        .unwrap_or(Value::Null)
}

impl Intercept for Capture {
    fn name(&self) -> &'static str {
        "Capture"
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let operation = cfg
            .load::<Metadata>()
            .map(|m| m.name().to_string())
            .unwrap_or_else(|| "unknown".into());
        let request = json_of(context.request().body().bytes());
        self.with_log(|log| {
            log.exchanges.push(Exchange {
                operation,
                request,
                response: Value::Null,
                status: 0,
                body_at_transmit: false,
                phase: Phase::Sent,
            });
            let waiting = log
                .exchanges
                .iter()
                .filter(|e| e.phase != Phase::Done)
                .count();
            log.max_in_flight = log.max_in_flight.max(waiting);
        });
        Ok(())
    }

    fn read_after_transmit(
        &self,
        context: &BeforeDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let body = response.body().bytes();
        let status = response.status().as_u16();
        self.with_log(|log| {
            if let Some(exchange) = log.exchanges.iter_mut().find(|e| e.phase == Phase::Sent) {
                exchange.phase = Phase::Transmitted;
                exchange.status = status;
                if body.is_some() {
                    exchange.response = json_of(body);
                    exchange.body_at_transmit = true;
                }
            }
        });
        Ok(())
    }

    fn read_after_deserialization(
        &self,
        context: &AfterDeserializationInterceptorContextRef<'_>,
        _components: &RuntimeComponents,
        _cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let response = context.response();
        let body = response.body().bytes();
        let status = response.status().as_u16();
        self.with_log(|log| {
            if let Some(exchange) = log
                .exchanges
                .iter_mut()
                .find(|e| e.phase == Phase::Transmitted)
            {
                exchange.phase = Phase::Done;
                exchange.status = status;
                if !exchange.body_at_transmit {
                    exchange.response = json_of(body);
                }
            }
        });
        Ok(())
    }
}
