//! Why the demo SP could not start or sign a message.

#[derive(Debug, thiserror::Error)]
pub enum DemoSpError {
    #[error("the demo SP's key: {0}")]
    Key(String),
    #[error("the IdP metadata the demo SP reads: {0}")]
    IdpMetadata(String),
    #[error("signing a demo SP message: {0}")]
    Sign(String),
}
