//! Table definitions shared by both backends (kept in step with `migrations/*`).

diesel::table! {
    service_providers (id) {
        id -> BigInt,
        issuer -> Text,
        friendly_name -> Text,
        agency -> Nullable<Text>,
        active -> Bool,
        acs_urls -> Text,
        logout_url -> Nullable<Text>,
        certs -> Text,
        block_encryption -> Text,
        signed_response_message_requested -> Bool,
        require_signed_requests -> Bool,
        ial -> SmallInt,
        default_aal -> Nullable<SmallInt>,
        attribute_bundle -> Text,
        email_nameid_format_allowed -> Bool,
        ialmax_allowed -> Bool,
        return_to_sp_url -> Nullable<Text>,
        failure_to_proof_url -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    registry_revision (id) {
        id -> Integer,
        revision -> BigInt,
    }
}

diesel::table! {
    pending_requests (token_hash) {
        token_hash -> Text,
        issuer -> Text,
        payload -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}
