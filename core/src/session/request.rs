//! Request encoding: paths, `Authorization` headers and form bodies, and the
//! `Retry-After` header of an answer.

use core::fmt::Write as _;

use heapless::String;

use crate::model::{ItemId, Kind};

use super::machine::Session;
use super::vocab::{
    AUTHORIZATION_CAP, CLIENT_ID_CAP, CLIENT_SECRET_CAP, ControlCommand, Endpoint, Host, Method,
    PLAYER_QUERY, Request, RequestKind,
};

impl Session {
    pub(super) fn build(&self, kind: RequestKind) -> Option<Request> {
        let mut req = Request {
            kind,
            method: Method::Get,
            host: Host::Api,
            path: String::new(),
            authorization: String::new(),
            body: String::new(),
        };
        match kind {
            RequestKind::Refresh => {
                req.method = Method::Post;
                req.host = Host::Accounts;
                req.path.push_str("/api/token").ok()?;
                let refresh = self.creds.refresh_token.as_ref()?;
                req.body
                    .push_str("grant_type=refresh_token&refresh_token=")
                    .ok()?;
                form_encode(&mut req.body, refresh.expose())?;
                match &self.creds.client_secret {
                    Some(secret) => basic_auth(
                        &mut req.authorization,
                        &self.creds.client_id,
                        secret.expose(),
                    )?,
                    None => {
                        req.body.push_str("&client_id=").ok()?;
                        form_encode(&mut req.body, &self.creds.client_id)?;
                    }
                }
            }
            RequestKind::Poll(endpoint) => {
                let path = match endpoint {
                    Endpoint::Player => "/me/player",
                    Endpoint::CurrentlyPlaying => "/me/player/currently-playing",
                };
                write!(req.path, "{path}?{PLAYER_QUERY}").ok()?;
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Control(ControlCommand::Like(like)) => {
                // The URIs go in the query string (a JSON body is refused).
                req.method = if like { Method::Put } else { Method::Delete };
                // The item pressed, whatever plays now.
                let (kind, id) = self.like_target()?;
                req.path.push_str("/me/library?uris=").ok()?;
                encoded_uri(&mut req.path, *kind, id)?;
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Control(ControlCommand::Volume(v)) => {
                req.method = Method::Put;
                write!(req.path, "/me/player/volume?volume_percent={}", v.min(100)).ok()?;
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Control(c) => {
                let (method, path) = match c {
                    ControlCommand::Play => (Method::Put, "/me/player/play"),
                    ControlCommand::Pause => (Method::Put, "/me/player/pause"),
                    ControlCommand::Next => (Method::Post, "/me/player/next"),
                    _ => (Method::Post, "/me/player/previous"),
                };
                req.method = method;
                req.path.push_str(path).ok()?;
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Library => {
                req.path.push_str("/me/library/contains?uris=").ok()?;
                // The item playing, then the queued ones, as many as fit.
                for (i, (kind, id)) in self.library_uris().iter().enumerate() {
                    let mut one: String<64> = String::new();
                    if i > 0 {
                        one.push(',').ok()?;
                    }
                    encoded_uri(&mut one, *kind, id)?;
                    if req.path.push_str(&one).is_err() {
                        break;
                    }
                }
                self.bearer(&mut req.authorization)?;
            }
            RequestKind::Queue => {
                req.path.push_str("/me/player/queue").ok()?;
                self.bearer(&mut req.authorization)?;
            }
        }
        Some(req)
    }

    fn bearer(&self, out: &mut String<AUTHORIZATION_CAP>) -> Option<()> {
        out.push_str("Bearer ").ok()?;
        out.push_str(self.access.as_ref()?.expose()).ok()
    }
}

/// Parses a `Retry-After` value in seconds into ms (HTTP dates are not used by Spotify and
/// count as missing).
pub fn parse_retry_after(value: &str) -> Option<u64> {
    let v = value.trim();
    if v.is_empty() || !v.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let secs: u64 = v.parse().ok()?;
    Some(secs.saturating_mul(1000))
}

/// Appends `s` form-url-encoded (`application/x-www-form-urlencoded`).
fn form_encode<const N: usize>(out: &mut String<N>, s: &str) -> Option<()> {
    const HEXD: &[u8; 16] = b"0123456789ABCDEF";
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b)).ok()?;
        } else {
            out.push('%').ok()?;
            out.push(char::from(*HEXD.get(usize::from(b >> 4))?)).ok()?;
            out.push(char::from(*HEXD.get(usize::from(b & 0xF))?))
                .ok()?;
        }
    }
    Some(())
}

/// Writes `Basic base64(id:secret)`.
fn basic_auth<const N: usize>(out: &mut String<N>, id: &str, secret: &str) -> Option<()> {
    use base64::Engine as _;
    let mut plain = [0u8; CLIENT_ID_CAP + 1 + CLIENT_SECRET_CAP];
    let len = id.len() + 1 + secret.len();
    let (a, rest) = plain.split_at_mut_checked(id.len())?;
    a.copy_from_slice(id.as_bytes());
    let (colon, rest) = rest.split_first_mut()?;
    *colon = b':';
    rest.get_mut(..secret.len())?
        .copy_from_slice(secret.as_bytes());
    let mut enc = [0u8; (CLIENT_ID_CAP + 1 + CLIENT_SECRET_CAP).div_ceil(3) * 4];
    let n = base64::engine::general_purpose::STANDARD
        .encode_slice(plain.get(..len)?, &mut enc)
        .ok()?;
    out.push_str("Basic ").ok()?;
    out.push_str(core::str::from_utf8(enc.get(..n)?).ok()?).ok()
}

/// Appends `spotify%3Atrack%3AID` (or `episode`) to `out`: a URI, `:` encoded for a query
/// string. `None` for other kinds, or when it does not fit.
fn encoded_uri<const N: usize>(out: &mut String<N>, kind: Kind, id: &ItemId) -> Option<()> {
    let kind = match kind {
        Kind::Track => "track",
        Kind::Episode => "episode",
        Kind::Ad | Kind::Unknown => return None,
    };
    write!(out, "spotify%3A{kind}%3A{id}").ok()
}
