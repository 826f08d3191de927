//! The token response (`POST /api/token`).

use heapless::String;

use super::{Extract, Parser, put};
use crate::json::{JsonError, Sink};
use crate::secret::Secret;

/// Bytes kept of an access token (Spotify's are seen up to ~600).
pub const ACCESS_TOKEN_CAP: usize = 1024;
/// Bytes kept of a refresh token (Spotify's are about 130).
pub const REFRESH_TOKEN_CAP: usize = 512;
/// Bytes kept of the granted scopes.
pub const SCOPE_CAP: usize = 256;

/// A successful token response (`POST /api/token`).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct TokenResponse {
    /// The access token (`Bearer`).
    pub access_token: Secret<ACCESS_TOKEN_CAP>,
    /// The token type (`Bearer`).
    pub token_type: String<16>,
    /// Lifetime in seconds (3600); `None` if missing.
    pub expires_in: Option<u32>,
    /// Granted scopes, space-separated (cut if very long).
    pub scope: String<SCOPE_CAP>,
    /// A new refresh token: it replaces the stored one. `None`: keep the old one.
    pub refresh_token: Option<Secret<REFRESH_TOKEN_CAP>>,
}

impl TokenResponse {
    /// `true` if `scope` lists `name`.
    pub fn has_scope(&self, name: &str) -> bool {
        self.scope.split(' ').any(|s| s == name)
    }
}

/// Why a token body was not usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenError {
    /// Not valid JSON (or truncated): see the inner error for the byte offset.
    Json(JsonError),
    /// Valid JSON without an `access_token` string.
    MissingAccessToken,
    /// A token longer than Tonearm keeps ([`ACCESS_TOKEN_CAP`] / [`REFRESH_TOKEN_CAP`]);
    /// a cut token is worthless, so this is an error rather than a silent cut.
    TooLong,
}

impl core::fmt::Display for TokenError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            TokenError::Json(e) => write!(f, "token response: {e}"),
            TokenError::MissingAccessToken => f.write_str("token response has no access_token"),
            TokenError::TooLong => {
                f.write_str("token in the response is longer than Tonearm can store")
            }
        }
    }
}

impl core::error::Error for TokenError {}

impl From<JsonError> for TokenError {
    fn from(e: JsonError) -> Self {
        TokenError::Json(e)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum TokenField {
    #[default]
    None,
    Access,
    Type,
    Expires,
    Scope,
    Refresh,
}

/// The [`Extract`]or behind [`TokenParser`].
#[derive(Debug, Clone, Default)]
pub struct TokenFields {
    out: TokenResponse,
    has_access: bool,
    depth: u8,
    field: TokenField,
    full: bool,
    access_cut: bool,
    refresh_cut: bool,
}

impl Sink for TokenFields {
    fn begin_object(&mut self) -> bool {
        self.depth = self.depth.saturating_add(1);
        self.field = TokenField::None;
        true
    }
    fn end_object(&mut self) {
        self.depth = self.depth.saturating_sub(1);
    }
    fn begin_array(&mut self) -> bool {
        self.begin_object()
    }
    fn end_array(&mut self) {
        self.end_object();
    }
    fn key(&mut self, key: Option<&[u8]>) {
        self.field = TokenField::None;
        if self.depth != 1 {
            return;
        }
        let out = &mut self.out;
        self.field = match key {
            Some(b"access_token") => {
                out.access_token = Secret::default();
                self.has_access = false;
                self.access_cut = false;
                TokenField::Access
            }
            Some(b"token_type") => {
                out.token_type.clear();
                TokenField::Type
            }
            Some(b"expires_in") => {
                out.expires_in = None;
                TokenField::Expires
            }
            Some(b"scope") => {
                out.scope.clear();
                TokenField::Scope
            }
            Some(b"refresh_token") => {
                out.refresh_token = None;
                self.refresh_cut = false;
                TokenField::Refresh
            }
            _ => TokenField::None,
        };
    }
    fn begin_string(&mut self) -> bool {
        self.full = false;
        match self.field {
            TokenField::Access => self.has_access = true,
            TokenField::Refresh => self.out.refresh_token = Some(Secret::default()),
            TokenField::Type | TokenField::Scope => {}
            TokenField::None | TokenField::Expires => return false,
        }
        true
    }
    fn string_part(&mut self, part: &str) {
        let full = &mut self.full;
        match self.field {
            TokenField::Access => {
                self.access_cut |= !put(self.out.access_token.inner_mut(), part, full)
            }
            TokenField::Refresh => {
                if let Some(r) = self.out.refresh_token.as_mut() {
                    self.refresh_cut |= !put(r.inner_mut(), part, full);
                }
            }
            TokenField::Type => {
                put(&mut self.out.token_type, part, full);
            }
            TokenField::Scope => {
                put(&mut self.out.scope, part, full);
            }
            TokenField::None | TokenField::Expires => {}
        }
    }
    fn end_string(&mut self) {
        self.field = TokenField::None;
    }
    fn number(&mut self, value: Option<u64>) {
        if self.field == TokenField::Expires {
            self.out.expires_in = value.and_then(|v| u32::try_from(v).ok());
        }
        self.field = TokenField::None;
    }
    fn boolean(&mut self, _value: bool) {
        self.field = TokenField::None;
    }
    fn null(&mut self) {
        self.field = TokenField::None;
    }
}

impl Extract for TokenFields {
    type Output = Result<TokenResponse, TokenError>;

    fn output(&mut self) -> Self::Output {
        if self.access_cut || self.refresh_cut {
            return Err(TokenError::TooLong);
        }
        if !self.has_access {
            return Err(TokenError::MissingAccessToken);
        }
        Ok(core::mem::take(&mut self.out))
    }
}

/// Parses a token response; see [`TokenResponse`].
#[derive(Debug, Clone, Default)]
pub struct TokenParser(Parser<TokenFields>);

impl TokenParser {
    /// A parser at the start of a body.
    pub fn new() -> Self {
        Self::default()
    }
    /// Feeds the next chunk.
    pub fn feed(&mut self, chunk: &[u8]) -> Result<(), TokenError> {
        Ok(self.0.feed(chunk)?)
    }
    /// Ends the body. Resets the parser.
    pub fn finish(&mut self) -> Result<TokenResponse, TokenError> {
        self.0.finish()?
    }
}
