//! Who is on the other end of a public request, for the per-client request limit. In AWS that is
//! the HTTP API's `requestContext.http.sourceIp` (the TCP peer API Gateway saw); lapor-local
//! serves with the peer address in `ConnectInfo`. Nothing else is trusted: a header such as
//! `X-Forwarded-For` is written by the client and would let a flood pose as many clients.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use axum::http::Extensions;
use lambda_http::request::RequestContext;

/// The client's address, if the request came through API Gateway or a socket.
pub fn client_address(extensions: &Extensions) -> Option<String> {
    let from_gateway = match extensions.get::<RequestContext>() {
        Some(RequestContext::ApiGatewayV2(context)) => context.http.source_ip.clone(),
        _ => None,
    };
    from_gateway.filter(|ip| !ip.trim().is_empty()).or_else(|| {
        extensions
            .get::<ConnectInfo<SocketAddr>>()
            .map(|ConnectInfo(peer)| peer.ip().to_string())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use lambda_http::aws_lambda_events::apigw::ApiGatewayV2httpRequestContext;

    #[test]
    fn the_gateway_source_ip_wins_over_the_socket_and_headers_count_for_nothing() {
        let mut extensions = Extensions::new();
        assert_eq!(client_address(&extensions), None);
        extensions.insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 4000))));
        assert_eq!(client_address(&extensions).as_deref(), Some("127.0.0.1"));
        let mut context = ApiGatewayV2httpRequestContext::default();
        context.http.source_ip = Some("203.0.113.24".into());
        extensions.insert(RequestContext::ApiGatewayV2(context));
        assert_eq!(client_address(&extensions).as_deref(), Some("203.0.113.24"));
    }
}
