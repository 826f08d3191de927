//! Error bodies, in both of Spotify's shapes.

use heapless::String;

use super::{Extract, Parser, put};
use crate::json::Sink;

/// An error body, in either of Spotify's two shapes:
/// `{"error":{"status":401,"message":"..","reason":".."}}` (Web API) and
/// `{"error":"invalid_grant","error_description":".."}` (accounts service).
///
/// Decide on `status`, `reason` and `error`, never on `message` (it changes over time).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ErrorBody {
    /// The Web API's `error.status`.
    pub status: Option<u16>,
    /// The Web API's `error.reason` (`PREMIUM_REQUIRED`, `NO_ACTIVE_DEVICE`, ...).
    pub reason: Option<String<32>>,
    /// The accounts service's error code (`invalid_grant`, `invalid_client`, ...).
    pub error: Option<String<32>>,
    /// `error.message` or `error_description`, for logs (cut to 128 bytes).
    pub message: Option<String<128>>,
}

impl ErrorBody {
    /// `true` when `reason` is `r`.
    pub fn reason_is(&self, r: &str) -> bool {
        self.reason.as_deref() == Some(r)
    }
    /// `true` when the accounts error code is `code`.
    pub fn error_is(&self, code: &str) -> bool {
        self.error.as_deref() == Some(code)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum ErrField {
    #[default]
    None,
    Error,
    Description,
    Status,
    Reason,
    Message,
}

/// The [`Extract`]or behind [`ErrorParser`].
#[derive(Debug, Clone, Default)]
pub struct ErrorFields {
    out: ErrorBody,
    depth: u8,
    /// Depth 2 is the `error` object.
    in_error: bool,
    field: ErrField,
    full: bool,
}

impl Sink for ErrorFields {
    fn begin_object(&mut self) -> bool {
        self.depth = self.depth.saturating_add(1);
        if self.depth == 2 && self.field == ErrField::Error {
            self.in_error = true;
            self.out.status = None;
            self.out.reason = None;
            self.out.message = None;
        }
        self.field = ErrField::None;
        true
    }
    fn end_object(&mut self) {
        if self.depth == 2 {
            self.in_error = false;
        }
        self.depth = self.depth.saturating_sub(1);
        self.field = ErrField::None;
    }
    fn begin_array(&mut self) -> bool {
        self.depth = self.depth.saturating_add(1);
        self.field = ErrField::None;
        true
    }
    fn end_array(&mut self) {
        self.depth = self.depth.saturating_sub(1);
        self.field = ErrField::None;
    }
    fn key(&mut self, key: Option<&[u8]>) {
        let out = &mut self.out;
        self.field = match (self.depth, self.in_error, key) {
            (1, _, Some(b"error")) => {
                out.error = None;
                ErrField::Error
            }
            (1, _, Some(b"error_description")) => {
                out.message = None;
                ErrField::Description
            }
            (2, true, Some(b"status")) => {
                out.status = None;
                ErrField::Status
            }
            (2, true, Some(b"reason")) => {
                out.reason = None;
                ErrField::Reason
            }
            (2, true, Some(b"message")) => {
                out.message = None;
                ErrField::Message
            }
            _ => ErrField::None,
        };
    }
    fn begin_string(&mut self) -> bool {
        self.full = false;
        let out = &mut self.out;
        match self.field {
            ErrField::Error => out.error = Some(String::new()),
            ErrField::Reason => out.reason = Some(String::new()),
            ErrField::Description | ErrField::Message => out.message = Some(String::new()),
            ErrField::None | ErrField::Status => return false,
        }
        true
    }
    fn string_part(&mut self, part: &str) {
        let out = &mut self.out;
        let full = &mut self.full;
        match self.field {
            ErrField::Error => {
                out.error.as_mut().map(|s| put(s, part, full));
            }
            ErrField::Reason => {
                out.reason.as_mut().map(|s| put(s, part, full));
            }
            ErrField::Description | ErrField::Message => {
                out.message.as_mut().map(|s| put(s, part, full));
            }
            ErrField::None | ErrField::Status => {}
        }
    }
    fn end_string(&mut self) {
        self.field = ErrField::None;
    }
    fn number(&mut self, value: Option<u64>) {
        if self.field == ErrField::Status {
            self.out.status = value.and_then(|v| u16::try_from(v).ok());
        }
        self.field = ErrField::None;
    }
    fn boolean(&mut self, _value: bool) {
        self.field = ErrField::None;
    }
    fn null(&mut self) {
        self.field = ErrField::None;
    }
}

impl Extract for ErrorFields {
    type Output = ErrorBody;
    fn output(&mut self) -> ErrorBody {
        core::mem::take(&mut self.out)
    }
}

/// Parses an error body; see [`ErrorBody`]. Some error responses have an empty or
/// plain-text body: those give a [`JsonError`](crate::json::JsonError), and the caller
/// decides on the status alone.
pub type ErrorParser = Parser<ErrorFields>;
