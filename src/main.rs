//! The `saml-idp` binary: see `saml_idp::cli`.
#![forbid(unsafe_code)]

fn main() -> std::process::ExitCode {
    saml_idp::cli::main()
}
