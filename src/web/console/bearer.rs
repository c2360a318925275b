//! The console API's caller: `Authorization: Bearer sidp_…`, a live token of an active
//! account (401 otherwise, the same for every reason) that holds a console role (403).

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{header, StatusCode};
use actix_web::{web, FromRequest, HttpRequest};

use crate::idp::api_tokens;
use crate::idp::console::Actor;
use crate::web::{AppState, WebError};

/// The account (and roles) the request's bearer token acts for.
pub struct ApiCaller(pub Actor);

fn unauthorized() -> WebError {
    WebError::api(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "send a live API token: Authorization: Bearer sidp_… (saml-idp token create)",
    )
}

/// The token of an `Authorization: Bearer …` header.
fn bearer(req: &HttpRequest) -> Option<String> {
    let value = req.headers().get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.trim().split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim().to_string())
        .filter(|t| !t.is_empty() && t.len() <= 200)
}

impl FromRequest for ApiCaller {
    type Error = WebError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, WebError>>>>;

    fn from_request(req: &HttpRequest, _: &mut actix_web::dev::Payload) -> Self::Future {
        let state = req.app_data::<web::Data<AppState>>().cloned();
        let token = bearer(req);
        Box::pin(async move {
            let (Some(state), Some(token)) = (state, token) else {
                return Err(unauthorized());
            };
            let found = web::block(move || api_tokens::authenticate(&state.token_ports(), &token))
                .await
                .map_err(|e| WebError::Internal(e.to_string()))?
                .map_err(|e| WebError::api_unavailable(&e.to_string()))?;
            let Some((user, roles)) = found else {
                return Err(unauthorized());
            };
            if roles.is_empty() {
                return Err(WebError::api(
                    StatusCode::FORBIDDEN,
                    "no_role",
                    "this token's account holds no console role (saml-idp user grant)",
                ));
            }
            Ok(ApiCaller(Actor::User {
                id: user.id,
                public_id: user.public_id,
                roles,
            }))
        })
    }
}
