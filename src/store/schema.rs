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
        version -> BigInt,
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
        request_id -> Text,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        public_id -> Text,
        password_hash -> Text,
        totp_secret -> Nullable<Text>,
        totp_last_step -> Nullable<BigInt>,
        locale -> Text,
        status -> Text,
        failed_attempts -> Integer,
        locked_until -> Nullable<Timestamp>,
        verified_profile -> Nullable<Text>,
        verified_at -> Nullable<Timestamp>,
        piv_record -> Nullable<Text>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_emails (id) {
        id -> BigInt,
        user_id -> BigInt,
        email_lookup -> Text,
        email_sealed -> Text,
        for_sign_in -> Bool,
        confirmed_at -> Timestamp,
    }
}

diesel::table! {
    backup_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    browser_sessions (token_hash) {
        token_hash -> Text,
        user_id -> Nullable<BigInt>,
        csrf_token -> Text,
        password_at -> Nullable<Timestamp>,
        mfa_at -> Nullable<Timestamp>,
        mfa_method -> Nullable<Text>,
        created_at -> Timestamp,
        last_seen_at -> Timestamp,
        expires_at -> Timestamp,
        failed_attempts -> Integer,
    }
}

diesel::table! {
    remembered_browsers (token_hash) {
        token_hash -> Text,
        user_id -> BigInt,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    agency_identities (id) {
        id -> BigInt,
        user_id -> BigInt,
        agency_key -> Text,
        uuid -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    sp_consents (user_id, issuer) {
        user_id -> BigInt,
        issuer -> Text,
        attributes -> Text,
        consented_at -> Timestamp,
        last_authenticated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    audit_events (id) {
        id -> BigInt,
        event -> Text,
        issuer -> Nullable<Text>,
        user_public_id -> Nullable<Text>,
        success -> Bool,
        detail -> Nullable<Text>,
        created_at -> Timestamp,
        count -> Integer,
        binding -> Nullable<Text>,
        reference -> Nullable<Text>,
    }
}

diesel::table! {
    rate_limits (bucket) {
        bucket -> Text,
        window_start -> Timestamp,
        hits -> Integer,
    }
}

diesel::joinable!(user_emails -> users (user_id));
diesel::allow_tables_to_appear_in_same_query!(
    browser_sessions,
    users,
    sp_consents,
    agency_identities,
    user_emails
);

diesel::table! {
    seen_requests (issuer, request_id) {
        issuer -> Text,
        request_id -> Text,
        seen_at -> Timestamp,
    }
}

diesel::table! {
    one_time_tokens (token_hash) {
        token_hash -> Text,
        purpose -> Text,
        user_id -> Nullable<BigInt>,
        payload -> Nullable<Text>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
    }
}

diesel::table! {
    security_keys (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        credential_id -> Text,
        credential -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        attestation -> Text,
        backup_eligible -> Bool,
    }
}

diesel::table! {
    mail_queue (id) {
        id -> Text,
        recipient_key -> Text,
        kind -> Text,
        payload -> Nullable<Text>,
        attempts -> Integer,
        created_at -> Timestamp,
        next_attempt_at -> Timestamp,
        lease_until -> Nullable<Timestamp>,
        lease_owner -> Nullable<Text>,
        sent_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    user_roles (user_id, role, agency) {
        user_id -> BigInt,
        role -> Text,
        agency -> Text,
        granted_at -> Timestamp,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}
