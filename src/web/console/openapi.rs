//! `GET /console/api/v1/openapi.json`: the API's OpenAPI 3 document, generated from the
//! handlers' annotations and the Rust types of the bodies (utoipa).

use actix_web::HttpResponse;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::api;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "saml-idp console API",
        description = "Service providers, their certificates and their refused requests, for \
                       the SP administrators of an agency (bearer tokens: `saml-idp token create`)."
    ),
    paths(
        api::list,
        api::create,
        api::show,
        api::patch,
        api::deactivate,
        api::add_certificate,
        api::remove_certificate,
        api::events
    ),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token (sidp_…) from `saml-idp token create`"))
                    .build(),
            ),
        );
    }
}

/// The document, as JSON.
pub fn document() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default()
}

pub async fn openapi_json() -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/json")
        .body(document())
}
