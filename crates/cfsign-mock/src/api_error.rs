//! The control plane's error reply: an HTTP status, CloudFront's `<Code>` and a `<Message>`.

/// A CloudFront-style error reply: HTTP status, `<Code>` and `<Message>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ApiError {
    /// The HTTP status, like 400 or 409.
    pub(crate) status: u16,
    /// CloudFront's error code, like `InvalidArgument`.
    pub(crate) code: &'static str,
    /// What is wrong and what to do about it.
    pub(crate) message: String,
}

impl ApiError {
    /// An error with this status, code and message.
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            code,
            message: message.into(),
        }
    }

    /// `400 InvalidArgument`: a value the API does not accept.
    pub(crate) fn invalid_argument(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "InvalidArgument", message)
    }

    /// `400 MalformedXML`: a body that is not the document the operation takes.
    pub(crate) fn malformed(message: impl Into<String>) -> ApiError {
        ApiError::new(400, "MalformedXML", message)
    }
}
