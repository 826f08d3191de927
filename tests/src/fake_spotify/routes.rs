//! The routes and their handlers: which route a request takes, and the answer of each
//! (the scripted queues, the token model, the authorize page).

use std::collections::{HashMap, VecDeque};
use std::fmt::Write as _;
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use sha2::{Digest as _, Sha256};

use super::script::token_error;
use super::state::{AuthCode, State, TokenModel};
use super::{RecordedRequest, Reply, Rotation, parse_form};

/// The endpoints the fake serves.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Route {
    /// `POST /api/token`.
    Token,
    /// `GET /authorize`: the consent page.
    Authorize,
    /// `POST /authorize/decide`: the consent page's Agree or Cancel.
    AuthorizeDecision,
    /// `GET /v1/me/player`.
    Player,
    /// `GET /v1/me/player/currently-playing`.
    CurrentlyPlaying,
    /// `PUT /v1/me/player/play`.
    Play,
    /// `PUT /v1/me/player/pause`.
    Pause,
    /// `POST /v1/me/player/next`.
    Next,
    /// `POST /v1/me/player/previous`.
    Previous,
    /// `GET /v1/me/library/contains?uris=..`: which of the URIs are saved (a JSON array
    /// of booleans). Scope `user-library-read`.
    LibraryContains,
    /// `PUT /v1/me/library?uris=..`: saves (likes) the URIs. Scope `user-library-modify`.
    LibrarySave,
    /// `DELETE /v1/me/library?uris=..`: removes the URIs. Scope `user-library-modify`.
    LibraryRemove,
    /// `PUT /v1/me/player/volume?volume_percent=N`. Scope `user-modify-playback-state`.
    Volume,
    /// `GET /v1/me/player/queue`. Scope `user-read-playback-state` or
    /// `user-read-currently-playing`.
    Queue,
    /// `GET /image/<name>`: a cover, as the image CDN serves them (no token needed;
    /// [`FakeSpotify::set_image`](super::FakeSpotify::set_image), else 404).
    Image,
    /// Any other path (always answered 404, or 405 for a known path with the wrong method).
    Unknown,
}

impl Route {
    /// The route for a method and a path (without the query), and whether the method is
    /// the route's (`/v1/me/library` is [`Route::LibrarySave`] with `PUT`,
    /// [`Route::LibraryRemove`] with `DELETE`, and a wrong-method [`Route::LibrarySave`]
    /// otherwise).
    pub fn of(method: &str, path: &str) -> (Route, bool) {
        let (route, want) = match path {
            "/api/token" => (Route::Token, "POST"),
            "/authorize" => (Route::Authorize, "GET"),
            "/authorize/decide" => (Route::AuthorizeDecision, "POST"),
            "/v1/me/player" => (Route::Player, "GET"),
            "/v1/me/player/currently-playing" => (Route::CurrentlyPlaying, "GET"),
            "/v1/me/player/play" => (Route::Play, "PUT"),
            "/v1/me/player/pause" => (Route::Pause, "PUT"),
            "/v1/me/player/next" => (Route::Next, "POST"),
            "/v1/me/player/previous" => (Route::Previous, "POST"),
            "/v1/me/player/volume" => (Route::Volume, "PUT"),
            "/v1/me/player/queue" => (Route::Queue, "GET"),
            "/v1/me/library/contains" => (Route::LibraryContains, "GET"),
            "/v1/me/library" if method.eq_ignore_ascii_case("DELETE") => {
                (Route::LibraryRemove, "DELETE")
            }
            "/v1/me/library" => (Route::LibrarySave, "PUT"),
            p if p.starts_with("/image/") => (Route::Image, "GET"),
            _ => return (Route::Unknown, false),
        };
        (route, method.eq_ignore_ascii_case(want))
    }

    /// The scopes of which an access token needs one for this route (`None`: no scope
    /// check: the accounts service, images, unknown paths).
    pub fn scopes(self) -> Option<&'static [&'static str]> {
        Some(match self {
            Route::Player => &["user-read-playback-state"],
            Route::CurrentlyPlaying => &["user-read-currently-playing", "user-read-playback-state"],
            Route::Play | Route::Pause | Route::Next | Route::Previous | Route::Volume => {
                &["user-modify-playback-state"]
            }
            Route::Queue => &["user-read-playback-state", "user-read-currently-playing"],
            Route::LibraryContains => &["user-library-read"],
            Route::LibrarySave | Route::LibraryRemove => &["user-library-modify"],
            Route::Token
            | Route::Authorize
            | Route::AuthorizeDecision
            | Route::Image
            | Route::Unknown => return None,
        })
    }
}

/// The answer to one request (called with the state locked).
pub(super) fn decide(state: &mut State, req: &RecordedRequest, method_ok: bool) -> Reply {
    if req.route == Route::Unknown {
        return Reply::api_error(404, "Service not found");
    }
    if !method_ok {
        return Reply::api_error(405, "Method not allowed");
    }
    if req.route == Route::Image {
        // The CDN: no token; a queued reply first, then the image of that name.
        if let Some(reply) = state
            .queues
            .get_mut(&Route::Image)
            .and_then(VecDeque::pop_front)
        {
            return reply;
        }
        let name = req.path().trim_start_matches("/image/");
        return state.images.get(name).cloned().unwrap_or_else(|| {
            if super::player::is_player_image(name) {
                // The player's items name their covers here: each gets one of its own.
                Reply::new(200)
                    .header("Content-Type", "image/jpeg")
                    .body(super::player::cover_jpeg(name))
            } else {
                Reply::new(404).body("Not Found")
            }
        });
    }
    let now = Instant::now();
    let accounts = matches!(
        req.route,
        Route::Token | Route::Authorize | Route::AuthorizeDecision
    );
    if !accounts && state.premium_lapsed {
        return Reply::premium_lapsed();
    }
    if !accounts && state.require_auth {
        let token = req
            .header("authorization")
            .and_then(|v| strip_prefix_ignore_case(v, "Bearer "))
            .map(str::trim);
        match token {
            None => return Reply::api_error(401, "No token provided"),
            Some(t) if !state.tokens.access_valid(t, now) => {
                return Reply::api_error(401, "The access token expired");
            }
            Some(_) => {}
        }
    }
    if let Some(any_of) = req.route.scopes()
        && !any_of.iter().any(|s| state.tokens.has_scope(s))
    {
        return Reply::insufficient_scope();
    }
    if let Some(reply) = state
        .queues
        .get_mut(&req.route)
        .and_then(VecDeque::pop_front)
    {
        return reply;
    }
    if let Some(reply) = state.defaults.get(&req.route) {
        return reply.clone();
    }
    // No default: the token model or the player model answers.
    match req.route {
        Route::Authorize => authorize_page(&state.tokens, req),
        Route::AuthorizeDecision => authorize_decision(state, req),
        Route::Token => token_endpoint(&mut state.tokens, req, now),
        _ => state.player.answer(req),
    }
}

/// An HTML page.
pub(super) fn html_reply(status: u16, title: &str, body: &str) -> Reply {
    Reply::new(status)
        .header("Content-Type", "text/html; charset=utf-8")
        .header("Cache-Control", "no-store")
        .body(format!(
            "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>{}</title></head>\n<body>{body}</body></html>\n",
            html_escape(title)
        ))
}

pub(super) fn html_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
        .replace('\'', "&#39;")
}

/// Percent-encodes a query component (all but RFC 3986's unreserved characters).
pub(super) fn encode_component(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Checks the authorize parameters as Spotify does; `Err` is the error page.
pub(super) fn authorize_params(
    model: &TokenModel,
    fields: &[(String, String)],
) -> Result<HashMap<String, String>, Reply> {
    let params: HashMap<String, String> = fields.iter().cloned().collect();
    let get = |name: &str| params.get(name).map(String::as_str);
    let refuse = |message: &str| Err(html_reply(400, "Error", &html_escape(message)));
    if get("client_id") != Some(model.client_id.as_str()) {
        return refuse("INVALID_CLIENT: Invalid client");
    }
    if get("response_type") != Some("code") {
        return refuse("unsupported_response_type: response_type must be code");
    }
    let redirect = get("redirect_uri").unwrap_or_default();
    if !(redirect.starts_with("http://") || redirect.starts_with("https://")) {
        return refuse("INVALID_CLIENT: Invalid redirect URI");
    }
    if get("code_challenge").is_some() && get("code_challenge_method") != Some("S256") {
        return refuse("invalid_request: code_challenge_method must be S256");
    }
    Ok(params)
}

/// `GET /authorize`: the consent page, its form carrying the parameters on.
pub(super) fn authorize_page(model: &TokenModel, req: &RecordedRequest) -> Reply {
    let fields = parse_form(req.query().unwrap_or_default().as_bytes());
    let params = match authorize_params(model, &fields) {
        Ok(params) => params,
        Err(page) => return page,
    };
    let mut hidden = String::new();
    let mut names: Vec<&String> = params.keys().collect();
    names.sort();
    for name in names {
        let _ = write!(
            hidden,
            "<input type=\"hidden\" name=\"{}\" value=\"{}\">",
            html_escape(name),
            html_escape(&params[name])
        );
    }
    let scopes = params.get("scope").map_or("", String::as_str);
    html_reply(
        200,
        "Spotify (fake): authorize",
        &format!(
            "<h1>Connect {} to your Spotify account?</h1>\n<p id=\"scopes\">{}</p>\n\
             <form method=\"post\" action=\"/authorize/decide\">{hidden}\n\
             <button type=\"submit\" id=\"agree\" name=\"decision\" value=\"agree\">Agree</button>\n\
             <button type=\"submit\" id=\"cancel\" name=\"decision\" value=\"cancel\">Cancel</button>\n\
             </form>",
            html_escape(&params["client_id"]),
            html_escape(scopes)
        ),
    )
}

/// `POST /authorize/decide`: a code (Agree) or `access_denied` (Cancel), by a 302 to the
/// redirect URI.
pub(super) fn authorize_decision(state: &mut State, req: &RecordedRequest) -> Reply {
    let fields = parse_form(&req.body);
    let params = match authorize_params(&state.tokens, &fields) {
        Ok(params) => params,
        Err(page) => return page,
    };
    let script = state.authorize.clone();
    let redirect_uri = params["redirect_uri"].clone();
    let sent_state = params.get("state").cloned().unwrap_or_default();
    let reply_state = script.state.clone().unwrap_or(sent_state);
    let outcome = match params.get("decision").map(String::as_str) {
        Some("agree") => match &script.error {
            Some(error) => format!("error={}", encode_component(error)),
            None => {
                let code = state.tokens.new_token("code", 48);
                state.issued_codes.push(code.clone());
                if !script.expired_code {
                    state.tokens.codes.insert(
                        code.clone(),
                        AuthCode {
                            redirect_uri: redirect_uri.clone(),
                            code_challenge: params.get("code_challenge").cloned(),
                        },
                    );
                }
                format!("code={}", encode_component(&code))
            }
        },
        Some("cancel") => "error=access_denied".to_owned(),
        _ => return html_reply(400, "Error", "invalid_request: no decision"),
    };
    let separator = if redirect_uri.contains('?') { '&' } else { '?' };
    let location = format!(
        "{redirect_uri}{separator}{outcome}&state={}",
        encode_component(&reply_state)
    );
    Reply::new(302)
        .header("Location", &location)
        .header("Cache-Control", "no-store")
}

/// The token model's answer to `POST /api/token`.
pub(super) fn token_endpoint(model: &mut TokenModel, req: &RecordedRequest, now: Instant) -> Reply {
    let form = parse_form(&req.body);
    let field = |name: &str| {
        form.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    // The client: Basic auth (with the secret), or client_id in the body (PKCE).
    let pkce = match req.header("authorization") {
        Some(value) => {
            let Some(encoded) = strip_prefix_ignore_case(value, "Basic ") else {
                return Reply::invalid_client();
            };
            let Ok(decoded) = STANDARD.decode(encoded.trim()) else {
                return Reply::invalid_client();
            };
            let decoded = String::from_utf8_lossy(&decoded);
            let Some((id, secret)) = decoded.split_once(':') else {
                return Reply::invalid_client();
            };
            if id != model.client_id || model.client_secret.as_deref() != Some(secret) {
                return Reply::invalid_client();
            }
            false
        }
        None => {
            if field("client_id") != Some(model.client_id.as_str()) {
                return Reply::invalid_client();
            }
            true
        }
    };
    match field("grant_type") {
        Some("refresh_token") => {
            let Some(old) = field("refresh_token") else {
                return token_error("invalid_request", "refresh_token must be supplied");
            };
            if !model.refresh_tokens.contains(old) {
                return Reply::invalid_grant();
            }
            let old = old.to_owned();
            let access = model.issue_access(now);
            let refresh = match model.rotation {
                Rotation::Never => None,
                Rotation::Rotate | Rotation::RotateAndRevokeOld => {
                    if model.rotation == Rotation::RotateAndRevokeOld {
                        model.refresh_tokens.remove(&old);
                    }
                    let new = model.new_token("refresh", 131);
                    model.refresh_tokens.insert(new.clone());
                    Some(new)
                }
            };
            token_reply(model, &access, refresh.as_deref())
        }
        Some("authorization_code") => {
            let Some(code) = field("code").and_then(|c| model.codes.remove(c)) else {
                return token_error("invalid_grant", "Invalid authorization code");
            };
            if field("redirect_uri") != Some(code.redirect_uri.as_str()) {
                return token_error("invalid_grant", "Invalid redirect URI");
            }
            if pkce {
                let Some(challenge) = code.code_challenge.as_deref() else {
                    return Reply::invalid_client();
                };
                let verifier = field("code_verifier").unwrap_or_default();
                let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
                if computed != challenge {
                    return token_error("invalid_grant", "code_verifier was incorrect");
                }
            }
            let access = model.issue_access(now);
            let refresh = model.new_token("refresh", 131);
            model.refresh_tokens.insert(refresh.clone());
            token_reply(model, &access, Some(&refresh))
        }
        _ => token_error(
            "unsupported_grant_type",
            "grant_type parameter is missing or unsupported",
        ),
    }
}

pub(super) fn token_reply(model: &TokenModel, access: &str, refresh: Option<&str>) -> Reply {
    let mut body = serde_json::json!({
        "access_token": access,
        "token_type": "Bearer",
        "expires_in": model.expires_in,
    });
    if let Some(obj) = body.as_object_mut() {
        if model.scope_in_answer {
            obj.insert("scope".to_owned(), model.scope.clone().into());
        }
        if let Some(refresh) = refresh {
            obj.insert("refresh_token".to_owned(), refresh.into());
        }
    }
    Reply::json(200, body.to_string())
}

pub(super) fn strip_prefix_ignore_case<'a>(value: &'a str, prefix: &str) -> Option<&'a str> {
    let head = value.get(..prefix.len())?;
    head.eq_ignore_ascii_case(prefix)
        .then(|| value.get(prefix.len()..))
        .flatten()
}
