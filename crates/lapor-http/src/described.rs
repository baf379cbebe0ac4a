//! One list of `#[utoipa::path]` handlers for both the router and the OpenAPI document, without
//! building the document to build the router (see [`described_routes!`](crate::described_routes)).

use axum::handler::Handler;
use axum::routing::MethodRouter;
use utoipa_axum::PathItemExt;

#[doc(hidden)]
pub use {
    axum::Router, utoipa::openapi::OpenApi, utoipa_axum::paste, utoipa_axum::router::OpenApiRouter,
    utoipa_axum::routes,
};

/// One list of `#[utoipa::path]` handlers as two functions: a router that serves each handler
/// at its annotation's path and methods, and the OpenAPI description of the same handlers.
///
/// utoipa-axum's `routes!` builds a handler's whole description (operation, parameters,
/// responses, schemas) to learn where to route it. A Lambda function serves the checked-in
/// `docs/openapi.json` and threw that description away at every cold start (about 1.7 ms of a
/// full core for intake's and the officer's routes, some 23 ms at a 128 MB function's CPU
/// share); the router function reads only each annotation's path and methods, and the
/// document function registers the same list through `routes!`, so neither can drift.
///
/// ```ignore
/// lapor_http::described_routes! {
///     /// The routes (doc comments and visibility are kept).
///     fn described() -> Router<Deps>;
///     /// Their description.
///     pub fn openapi() -> OpenApi;
///     [submit::submit, view::view, stats]
/// }
/// ```
#[macro_export]
macro_rules! described_routes {
    // `module::handler` to the type `#[utoipa::path]` generates for it, `module::__path_handler`.
    (@description [$($module:ident)*] $head:ident :: $($rest:tt)+) => {
        $crate::described_routes!(@description [$($module)* $head] $($rest)+)
    };
    (@description [$($module:ident)*] $handler:ident) => {
        $crate::described::paste! { $($module ::)* [<__path_ $handler>] }
    };
    (
        $(#[$router_meta:meta])* $router_vis:vis fn $router:ident() -> Router<$state:ty>;
        $(#[$doc_meta:meta])* $doc_vis:vis fn $doc:ident() -> OpenApi;
        [$($head:ident $(:: $tail:ident)*),+ $(,)?]
    ) => {
        $(#[$router_meta])*
        $router_vis fn $router() -> $crate::described::Router<$state> {
            let router = $crate::described::Router::new();
            $(
                let router = $crate::described::route::<
                    $crate::described_routes!(@description [] $head $(:: $tail)*),
                    _, _, _,
                >(router, $head $(:: $tail)*);
            )+
            router
        }

        $(#[$doc_meta])*
        $doc_vis fn $doc() -> $crate::described::OpenApi {
            $crate::described::OpenApiRouter::<$state>::default()
                $( .routes($crate::described::routes!($head $(:: $tail)*)) )+
                .into_openapi()
        }
    };
}

/// Routes `handler` at the path and methods its description `D` names, as utoipa-axum's
/// `OpenApiRouter::routes` does, without building the description.
#[doc(hidden)]
pub fn route<D, H, T, S>(router: Router<S>, handler: H) -> Router<S>
where
    D: utoipa::Path,
    H: Handler<T, S>,
    T: 'static,
    S: Clone + Send + Sync + 'static,
{
    let methods = D::methods()
        .iter()
        .fold(MethodRouter::new(), |methods, method| {
            methods.on(method.to_method_filter(), handler.clone())
        });
    match D::path() {
        path if path.is_empty() => router.route("/", methods),
        path => router.route(&path, methods),
    }
}
