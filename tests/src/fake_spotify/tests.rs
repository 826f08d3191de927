//! The fake's own tests, through a minimal raw client.

use super::*;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::io::{BufRead, BufReader};
use std::io::{Read, Write};
use std::net::TcpStream;

/// A minimal raw client (so the fake's own tests do not depend on the code under test).
fn raw(fake: &FakeSpotify, request: &str) -> String {
    let mut stream = TcpStream::connect(fake.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(5)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut out = Vec::new();
    let _ = stream.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

fn get(fake: &FakeSpotify, path: &str, token: Option<&str>) -> String {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    raw(
        fake,
        &format!("GET {path} HTTP/1.1\r\nHost: x\r\n{auth}Connection: close\r\n\r\n"),
    )
}

fn post_token(fake: &FakeSpotify, auth: Option<&str>, form: &str) -> String {
    let auth = auth.map_or(String::new(), |a| format!("Authorization: {a}\r\n"));
    raw(
        fake,
        &format!(
            "POST /api/token HTTP/1.1\r\nHost: x\r\n{auth}Content-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

fn body_json(response: &str) -> serde_json::Value {
    let body = response.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

#[test]
fn scripted_replies_come_in_order_then_the_default() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    fake.push(Route::Player, Reply::json(200, "{\"a\":1}"));
    fake.push(Route::Player, Reply::server_error_for_test());
    assert_eq!(fake.queued(Route::Player), 2);
    let first = get(&fake, "/v1/me/player?market=from_token", None);
    assert!(first.starts_with("HTTP/1.1 200 "), "{first}");
    assert!(first.ends_with("{\"a\":1}"), "{first}");
    assert!(get(&fake, "/v1/me/player", None).starts_with("HTTP/1.1 503 "));
    let third = get(&fake, "/v1/me/player", None);
    assert!(third.starts_with("HTTP/1.1 204 "), "{third}");
    assert!(!third.contains("Content-Length"), "{third}");
    let reqs = fake.requests_to(Route::Player);
    assert_eq!(reqs.len(), 3);
    assert_eq!(reqs[0].query(), Some("market=from_token"));
    assert_eq!(reqs[0].path(), "/v1/me/player");
    assert!(reqs[0].at <= reqs[1].at && reqs[1].at <= reqs[2].at);
}

impl Reply {
    fn server_error_for_test() -> Reply {
        Reply::api_error(503, "Service unavailable")
    }
}

#[test]
fn api_routes_check_the_bearer_token_without_consuming_the_script() {
    let fake = FakeSpotify::start();
    fake.push(Route::CurrentlyPlaying, Reply::json(200, "{}"));
    let no_token = get(&fake, "/v1/me/player/currently-playing", None);
    assert!(no_token.starts_with("HTTP/1.1 401 "), "{no_token}");
    let wrong = get(&fake, "/v1/me/player/currently-playing", Some("nope"));
    assert!(wrong.starts_with("HTTP/1.1 401 "), "{wrong}");
    assert_eq!(body_json(&wrong)["error"]["status"], 401);
    assert_eq!(fake.queued(Route::CurrentlyPlaying), 1);
    let token = fake.add_access_token(Duration::from_secs(60));
    let ok = get(&fake, "/v1/me/player/currently-playing", Some(&token));
    assert!(ok.starts_with("HTTP/1.1 200 "), "{ok}");
    fake.expire_access_tokens();
    let expired = get(&fake, "/v1/me/player/currently-playing", Some(&token));
    assert!(expired.starts_with("HTTP/1.1 401 "), "{expired}");
    let short = fake.add_access_token(Duration::from_millis(1));
    std::thread::sleep(Duration::from_millis(20));
    let timed_out = get(&fake, "/v1/me/player", Some(&short));
    assert!(timed_out.starts_with("HTTP/1.1 401 "), "{timed_out}");
}

#[test]
fn unknown_paths_and_wrong_methods() {
    let fake = FakeSpotify::start();
    assert!(get(&fake, "/v1/me/nothing", None).starts_with("HTTP/1.1 404 "));
    assert!(get(&fake, "/v1/me/player/next", None).starts_with("HTTP/1.1 405 "));
    assert_eq!(fake.requests()[1].route, Route::Next);
}

#[test]
fn refresh_without_rotation_keeps_the_refresh_token() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", Some("secret"));
    fake.add_refresh_token("r0");
    let resp = post_token(
        &fake,
        Some(&basic("cid", "secret")),
        "grant_type=refresh_token&refresh_token=r0",
    );
    assert!(resp.starts_with("HTTP/1.1 200 "), "{resp}");
    let json = body_json(&resp);
    assert_eq!(json["token_type"], "Bearer");
    assert_eq!(json["expires_in"], 3600);
    assert!(json.get("refresh_token").is_none());
    let access = json["access_token"].as_str().unwrap_or_default();
    assert_eq!(fake.access_tokens(), vec![access.to_owned()]);
    assert_eq!(fake.refresh_tokens(), vec!["r0".to_owned()]);
    let player = get(&fake, "/v1/me/player", Some(access));
    assert!(player.starts_with("HTTP/1.1 204 "), "{player}");
    let req = &fake.requests_to(Route::Token)[0];
    assert_eq!(req.form_field("refresh_token").as_deref(), Some("r0"));
}

#[test]
fn rotation_with_revocation_invalidates_the_old_refresh_token() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    fake.set_rotation(Rotation::RotateAndRevokeOld);
    fake.set_access_token_len(600);
    fake.add_refresh_token("r0");
    let resp = post_token(
        &fake,
        None,
        "grant_type=refresh_token&refresh_token=r0&client_id=cid",
    );
    let json = body_json(&resp);
    let new = json["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert!(!new.is_empty() && new != "r0", "{resp}");
    assert_eq!(json["access_token"].as_str().map(str::len), Some(600));
    assert_eq!(fake.refresh_tokens(), vec![new.clone()]);
    let again = post_token(
        &fake,
        None,
        "grant_type=refresh_token&refresh_token=r0&client_id=cid",
    );
    assert!(again.starts_with("HTTP/1.1 400 "), "{again}");
    assert_eq!(body_json(&again)["error"], "invalid_grant");
    let with_new = post_token(
        &fake,
        None,
        &format!("grant_type=refresh_token&refresh_token={new}&client_id=cid"),
    );
    assert!(with_new.starts_with("HTTP/1.1 200 "), "{with_new}");
}

#[test]
fn rotation_without_revocation_keeps_both() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    fake.set_rotation(Rotation::Rotate);
    fake.add_refresh_token("r0");
    let resp = post_token(
        &fake,
        None,
        "grant_type=refresh_token&refresh_token=r0&client_id=cid",
    );
    let new = body_json(&resp)["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let mut expected = vec!["r0".to_owned(), new];
    expected.sort();
    assert_eq!(fake.refresh_tokens(), expected);
}

#[test]
fn wrong_client_credentials_are_invalid_client() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", Some("secret"));
    fake.add_refresh_token("r0");
    let form = "grant_type=refresh_token&refresh_token=r0";
    for auth in [
        Some(basic("cid", "wrong")),
        Some(basic("other", "secret")),
        Some("Basic !!!".to_owned()),
        Some("Bearer x".to_owned()),
        None,
    ] {
        let resp = post_token(&fake, auth.as_deref(), form);
        assert!(resp.starts_with("HTTP/1.1 400 "), "{resp}");
        assert_eq!(body_json(&resp)["error"], "invalid_client", "{auth:?}");
    }
    // PKCE with the wrong client id.
    let resp = post_token(&fake, None, &format!("{form}&client_id=other"));
    assert_eq!(body_json(&resp)["error"], "invalid_client");
    // Revoked: invalid_grant.
    fake.revoke_all_refresh_tokens();
    let resp = post_token(&fake, Some(&basic("cid", "secret")), form);
    assert_eq!(body_json(&resp)["error"], "invalid_grant");
}

#[test]
fn pkce_code_exchange_checks_the_verifier() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    // RFC 7636, appendix B.
    let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    let redirect = "http://127.0.0.1:8888/callback";
    fake.add_auth_code("code1", redirect, Some(challenge));
    fake.add_auth_code("code2", redirect, Some(challenge));
    let form = |code: &str, v: &str| {
        format!(
            "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1\
             %3A8888%2Fcallback&client_id=cid&code_verifier={v}"
        )
    };
    let bad = post_token(&fake, None, &form("code1", "wrong-verifier"));
    assert_eq!(body_json(&bad)["error"], "invalid_grant", "{bad}");
    let good = post_token(&fake, None, &form("code2", verifier));
    assert!(good.starts_with("HTTP/1.1 200 "), "{good}");
    let refresh = body_json(&good)["refresh_token"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    assert_eq!(fake.refresh_tokens(), vec![refresh]);
    // Single use.
    let reuse = post_token(&fake, None, &form("code2", verifier));
    assert_eq!(body_json(&reuse)["error"], "invalid_grant");
}

const RFC_VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
const RFC_CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const AUTHORIZE_QUERY: &str = "client_id=cid&response_type=code&redirect_uri=http%3A%2F%2F\
    127.0.0.1%3A8888%2Fcallback&scope=user-read-currently-playing%20user-modify-playback-state\
    &state=st%2B1&code_challenge=E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM\
    &code_challenge_method=S256";

fn decide(fake: &FakeSpotify, decision: &str) -> String {
    let form = format!("{AUTHORIZE_QUERY}&decision={decision}");
    raw(
        fake,
        &format!(
            "POST /authorize/decide HTTP/1.1\r\nHost: x\r\nContent-Type: \
             application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\
             Connection: close\r\n\r\n{form}",
            form.len()
        ),
    )
}

fn location(response: &str) -> String {
    response
        .lines()
        .find_map(|l| l.strip_prefix("Location: "))
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn authorize_page_offers_agree_and_cancel_and_carries_the_parameters() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    // No bearer token needed on the accounts pages.
    let page = get(&fake, &format!("/authorize?{AUTHORIZE_QUERY}"), None);
    assert!(page.starts_with("HTTP/1.1 200 "), "{page}");
    assert!(page.contains("Content-Type: text/html"), "{page}");
    for want in [
        "id=\"agree\"",
        "id=\"cancel\"",
        "action=\"/authorize/decide\"",
        "name=\"state\" value=\"st+1\"",
        "name=\"redirect_uri\" value=\"http://127.0.0.1:8888/callback\"",
        &format!("name=\"code_challenge\" value=\"{RFC_CHALLENGE}\""),
        "user-read-currently-playing user-modify-playback-state",
    ] {
        assert!(page.contains(want), "{want}\n{page}");
    }
    assert_eq!(fake.requests_to(Route::Authorize).len(), 1);
    // Parameters Spotify would refuse.
    for (from, to) in [
        ("client_id=cid", "client_id=other"),
        ("response_type=code", "response_type=token"),
        ("redirect_uri=http", "redirect_uri=ftp"),
        ("code_challenge_method=S256", "code_challenge_method=plain"),
    ] {
        let query = AUTHORIZE_QUERY.replace(from, to);
        let page = get(&fake, &format!("/authorize?{query}"), None);
        assert!(page.starts_with("HTTP/1.1 400 "), "{to}: {page}");
    }
    assert!(fake.issued_codes().is_empty());
}

#[test]
fn agree_redirects_with_a_code_bound_to_the_challenge() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    let reply = decide(&fake, "agree");
    assert!(reply.starts_with("HTTP/1.1 302 "), "{reply}");
    let codes = fake.issued_codes();
    assert_eq!(codes.len(), 1);
    assert_eq!(
        location(&reply),
        format!(
            "http://127.0.0.1:8888/callback?code={}&state=st%2B1",
            codes[0]
        )
    );
    let form = |v: &str| {
        format!(
            "grant_type=authorization_code&code={}&redirect_uri=http%3A%2F%2F127.0.0.1\
             %3A8888%2Fcallback&client_id=cid&code_verifier={v}",
            codes[0]
        )
    };
    let good = post_token(&fake, None, &form(RFC_VERIFIER));
    assert!(good.starts_with("HTTP/1.1 200 "), "{good}");
    let reuse = post_token(&fake, None, &form(RFC_VERIFIER));
    assert_eq!(body_json(&reuse)["error"], "invalid_grant");
}

#[test]
fn cancel_and_the_scripted_misbehaviours() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    let reply = decide(&fake, "cancel");
    assert_eq!(
        location(&reply),
        "http://127.0.0.1:8888/callback?error=access_denied&state=st%2B1"
    );
    assert!(fake.issued_codes().is_empty());

    fake.set_authorize(AuthorizeScript::new().tamper_state("forged"));
    let reply = decide(&fake, "agree");
    assert!(location(&reply).ends_with("&state=forged"), "{reply}");

    fake.set_authorize(AuthorizeScript::new().error("server_error"));
    let reply = decide(&fake, "agree");
    assert_eq!(
        location(&reply),
        "http://127.0.0.1:8888/callback?error=server_error&state=st%2B1"
    );

    fake.set_authorize(AuthorizeScript::new().expired_code());
    let reply = decide(&fake, "agree");
    let code = fake.issued_codes().pop().unwrap_or_default();
    assert!(
        location(&reply).contains(&format!("?code={code}&")),
        "{reply}"
    );
    let form = format!(
        "grant_type=authorization_code&code={code}&redirect_uri=http%3A%2F%2F127.0.0.1\
         %3A8888%2Fcallback&client_id=cid&code_verifier={RFC_VERIFIER}"
    );
    let expired = post_token(&fake, None, &form);
    assert_eq!(body_json(&expired)["error"], "invalid_grant", "{expired}");

    let nothing = decide(&fake, "maybe");
    assert!(nothing.starts_with("HTTP/1.1 400 "), "{nothing}");
}

#[test]
fn scripted_token_replies_override_the_model() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", Some("s"));
    fake.add_refresh_token("r0");
    fake.push(Route::Token, Reply::invalid_client());
    let form = "grant_type=refresh_token&refresh_token=r0";
    let first = post_token(&fake, Some(&basic("cid", "s")), form);
    assert_eq!(body_json(&first)["error"], "invalid_client");
    let second = post_token(&fake, Some(&basic("cid", "s")), form);
    assert!(second.starts_with("HTTP/1.1 200 "), "{second}");
}

#[test]
fn rate_limit_header_is_sent_lower_case() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    fake.push(Route::Player, Reply::rate_limited(Some(7)));
    fake.push(Route::Player, Reply::rate_limited(None));
    let with = get(&fake, "/v1/me/player", None);
    assert!(with.starts_with("HTTP/1.1 429 "), "{with}");
    assert!(with.contains("\r\nretry-after: 7\r\n"), "{with}");
    let without = get(&fake, "/v1/me/player", None);
    assert!(!without.to_ascii_lowercase().contains("retry-after"));
}

#[test]
fn quota_answers_and_their_variants() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    fake.push(Route::Player, Reply::quota_exceeded(Some(48_925)));
    fake.push(
        Route::Player,
        Reply::quota_exceeded(Some(21_600)).lower_case_retry_after(),
    );
    fake.push(
        Route::Player,
        Reply::quota_exceeded(Some(7_200)).without_body(),
    );
    fake.push(Route::Player, Reply::quota_exceeded(None));
    let first = get(&fake, "/v1/me/player", None);
    assert!(first.starts_with("HTTP/1.1 429 "), "{first}");
    assert!(first.contains("\r\nRetry-After: 48925\r\n"), "{first}");
    assert_eq!(
        body_json(&first),
        serde_json::json!({"error": {"status": 429, "message": "Too many requests",
                                     "reason": "QUOTA_EXCEEDED"}})
    );
    let lower = get(&fake, "/v1/me/player", None);
    assert!(lower.contains("\r\nretry-after: 21600\r\n"), "{lower}");
    assert!(!lower.contains("Retry-After"), "{lower}");
    assert_eq!(body_json(&lower)["error"]["reason"], "QUOTA_EXCEEDED");
    let bare = get(&fake, "/v1/me/player", None);
    assert!(bare.starts_with("HTTP/1.1 429 "), "{bare}");
    assert!(bare.contains("Retry-After: 7200\r\n"), "{bare}");
    assert!(bare.contains("Content-Length: 0\r\n"), "{bare}");
    assert!(
        !bare.to_ascii_lowercase().contains("content-type"),
        "{bare}"
    );
    assert!(bare.ends_with("\r\n\r\n"), "{bare}");
    let no_wait = get(&fake, "/v1/me/player", None);
    assert!(!no_wait.to_ascii_lowercase().contains("retry-after"));
    assert_eq!(body_json(&no_wait)["error"]["reason"], "QUOTA_EXCEEDED");
    assert_eq!(
        fake.requests_to(Route::Player).len(),
        4,
        "each one recorded"
    );
}

#[test]
fn a_lapsed_premium_refuses_every_web_api_call() {
    let fake = FakeSpotify::start();
    fake.add_refresh_token("r0");
    fake.set_premium_lapsed(true);
    fake.push(Route::Player, Reply::json(200, "{}"));
    let send = |m: &str, p: &str| {
        raw(
            &fake,
            &format!("{m} {p} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        )
    };
    for (method, path) in [
        ("GET", "/v1/me/player"),
        ("GET", "/v1/me/player/currently-playing"),
        ("PUT", "/v1/me/player/play"),
        ("PUT", "/v1/me/player/pause"),
        ("POST", "/v1/me/player/next"),
        ("POST", "/v1/me/player/previous"),
    ] {
        let resp = send(method, path);
        assert!(resp.starts_with("HTTP/1.1 403 "), "{path}: {resp}");
        let body = body_json(&resp);
        assert_eq!(body["error"]["status"], 403);
        assert_eq!(body["error"]["message"], PREMIUM_LAPSED_MESSAGE);
        assert!(body["error"].get("reason").is_none(), "{body}");
    }
    assert!(
        PREMIUM_LAPSED_MESSAGE
            .starts_with("Active premium subscription required for the owner of the app. When")
    );
    assert!(PREMIUM_LAPSED_MESSAGE.ends_with("before requests are allowed again."));
    assert_eq!(
        fake.queued(Route::Player),
        1,
        "the scripted reply is not used"
    );
    // The accounts service still answers.
    let token = post_token(
        &fake,
        None,
        "grant_type=refresh_token&refresh_token=r0&client_id=tonearm-test-client",
    );
    assert!(token.starts_with("HTTP/1.1 200 "), "{token}");
    fake.set_premium_lapsed(false);
    assert!(send("GET", "/v1/me/player").starts_with("HTTP/1.1 401 "));
    assert_eq!(fake.requests().len(), 8);
}

#[test]
fn controls_answer_as_scripted() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    fake.push(Route::Play, Reply::opaque_ok());
    fake.push(
        Route::Next,
        Reply::player_error(403, "PREMIUM_REQUIRED", "Premium required"),
    );
    fake.push(
        Route::Previous,
        Reply::player_error(404, "NO_ACTIVE_DEVICE", "No active device"),
    );
    let send = |m: &str, p: &str| {
        raw(
            &fake,
            &format!("{m} {p} HTTP/1.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"),
        )
    };
    assert!(send("PUT", "/v1/me/player/play").starts_with("HTTP/1.1 200 "));
    assert!(send("PUT", "/v1/me/player/pause").starts_with("HTTP/1.1 204 "));
    let next = send("POST", "/v1/me/player/next");
    assert_eq!(body_json(&next)["error"]["reason"], "PREMIUM_REQUIRED");
    let prev = send("POST", "/v1/me/player/previous");
    assert!(prev.starts_with("HTTP/1.1 404 "));
    assert_eq!(body_json(&prev)["error"]["reason"], "NO_ACTIVE_DEVICE");
}

#[test]
fn hanging_reply_is_released_when_the_fake_is_dropped() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    fake.push(Route::Player, Reply::hang());
    let mut stream = TcpStream::connect(fake.addr()).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_millis(300)))
        .expect("timeout");
    stream
        .write_all(b"GET /v1/me/player HTTP/1.1\r\nConnection: close\r\n\r\n")
        .expect("write");
    let mut line = String::new();
    let got = BufReader::new(&stream).read_line(&mut line);
    assert!(got.is_err(), "a hanging reply answered: {line:?}");
    assert_eq!(fake.wait_for_requests(1, Duration::from_secs(5)).len(), 1);
    let started = Instant::now();
    drop(fake);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn form_decoding() {
    assert_eq!(
        parse_form(b"a=1&b=x+y%2Fz&c&d=%zz&&e=%41"),
        vec![
            ("a".to_owned(), "1".to_owned()),
            ("b".to_owned(), "x y/z".to_owned()),
            ("c".to_owned(), String::new()),
            ("d".to_owned(), "%zz".to_owned()),
            ("e".to_owned(), "A".to_owned()),
        ]
    );
}

/// `method path` with a bearer token when given, extra header lines and a body.
fn send(
    fake: &FakeSpotify,
    method: &str,
    path: &str,
    token: Option<&str>,
    headers: &str,
    body: &str,
) -> String {
    let auth = token.map_or(String::new(), |t| format!("Authorization: Bearer {t}\r\n"));
    raw(
        fake,
        &format!(
            "{method} {path} HTTP/1.1\r\nHost: x\r\n{auth}{headers}Content-Length: {}\r\n\
             Connection: close\r\n\r\n{body}",
            body.len()
        ),
    )
}

fn status(response: &str) -> u16 {
    response
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0)
}

fn body_text(response: &str) -> &str {
    response.split_once("\r\n\r\n").map_or("", |(_, b)| b)
}

/// A fake checking tokens, and one valid token.
fn fake_with_token() -> (FakeSpotify, String) {
    let fake = FakeSpotify::start();
    let token = fake.add_access_token(Duration::from_secs(600));
    (fake, token)
}

#[test]
fn library_contains_save_remove_round_trip() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    fake.set_liked("a", true);
    assert!(fake.is_liked("a") && fake.is_liked("spotify:track:a"));
    let plain = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:a,spotify:track:b",
        t,
        "",
        "",
    );
    assert_eq!(status(&plain), 200, "{plain}");
    assert!(plain.contains("Content-Type: application/json"), "{plain}");
    assert_eq!(body_json(&plain), serde_json::json!([true, false]));
    // Percent-encoded, commas too, in the other order.
    let encoded = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify%3Atrack%3Ab%2Cspotify%3Atrack%3Aa",
        t,
        "",
        "",
    );
    assert_eq!(body_json(&encoded), serde_json::json!([false, true]));
    // Save b: 200, empty body; twice is the same.
    for _ in 0..2 {
        let put = send(
            &fake,
            "PUT",
            "/v1/me/library?uris=spotify%3Atrack%3Ab",
            t,
            "",
            "",
        );
        assert_eq!(status(&put), 200, "{put}");
        assert!(put.contains("Content-Length: 0\r\n"), "{put}");
        assert_eq!(body_text(&put), "");
        assert!(fake.is_liked("b"));
    }
    let both = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:a,spotify:track:b",
        t,
        "",
        "",
    );
    assert_eq!(body_json(&both), serde_json::json!([true, true]));
    // Remove a: 200, empty body; twice is the same.
    for _ in 0..2 {
        let del = send(
            &fake,
            "DELETE",
            "/v1/me/library?uris=spotify:track:a",
            t,
            "",
            "",
        );
        assert_eq!(status(&del), 200, "{del}");
        assert_eq!(body_text(&del), "");
        assert!(!fake.is_liked("a"));
    }
    // Episodes are their own URIs.
    let ep = send(
        &fake,
        "PUT",
        "/v1/me/library?uris=spotify:episode:e1",
        t,
        "",
        "",
    );
    assert_eq!(status(&ep), 200, "{ep}");
    assert!(fake.is_liked("spotify:episode:e1") && !fake.is_liked("e1"));
    let mixed = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:episode:e1,spotify:track:e1,spotify:track:b",
        t,
        "",
        "",
    );
    assert_eq!(body_json(&mixed), serde_json::json!([true, false, true]));
    assert_eq!(
        fake.liked(),
        vec![
            "spotify:episode:e1".to_owned(),
            "spotify:track:b".to_owned()
        ]
    );
    fake.set_liked("spotify:track:b", false);
    assert!(!fake.is_liked("b"));
    // Every request recorded, with its route, method and query.
    assert_eq!(fake.requests_to(Route::LibraryContains).len(), 4);
    let saves = fake.requests_to(Route::LibrarySave);
    assert_eq!(saves.len(), 3);
    assert_eq!(saves[0].method, "PUT");
    assert_eq!(saves[0].query(), Some("uris=spotify%3Atrack%3Ab"));
    assert_eq!(
        saves[0].query_param("uris").as_deref(),
        Some("spotify:track:b")
    );
    let removes = fake.requests_to(Route::LibraryRemove);
    assert_eq!(removes.len(), 2);
    assert_eq!(removes[1].method, "DELETE");
    assert_eq!(removes[1].path(), "/v1/me/library");
}

#[test]
fn library_refuses_bodies_missing_and_bad_uris() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    let json_body = r#"{"uris":["spotify:track:a"]}"#;
    let json_type = "Content-Type: application/json\r\n";
    for (method, path) in [
        ("PUT", "/v1/me/library"),
        ("PUT", "/v1/me/library?uris=spotify:track:a"),
        ("DELETE", "/v1/me/library?uris=spotify:track:a"),
        ("GET", "/v1/me/library/contains?uris=spotify:track:a"),
    ] {
        let resp = send(&fake, method, path, t, json_type, json_body);
        assert_eq!(status(&resp), 400, "{method} {path}: {resp}");
        let body = body_json(&resp);
        assert_eq!(body["error"]["status"], 400, "{resp}");
        assert!(body["error"]["message"].is_string(), "{resp}");
    }
    // A non-empty body without a JSON content type is refused too.
    let form = send(
        &fake,
        "PUT",
        "/v1/me/library?uris=spotify:track:a",
        t,
        "",
        "x",
    );
    assert_eq!(status(&form), 400, "{form}");
    assert!(!fake.is_liked("a"), "nothing saved by a refused request");
    // The JSON content type without a body is fine.
    let typed = send(
        &fake,
        "PUT",
        "/v1/me/library?uris=spotify:track:a",
        t,
        json_type,
        "",
    );
    assert_eq!(status(&typed), 200, "{typed}");
    assert!(fake.is_liked("a"));
    let too_many = (0..41)
        .map(|i| format!("spotify:track:t{i}"))
        .collect::<Vec<_>>()
        .join(",");
    let forty = (0..40)
        .map(|i| format!("spotify:track:t{i}"))
        .collect::<Vec<_>>()
        .join(",");
    for path in [
        "/v1/me/library/contains".to_owned(),
        "/v1/me/library/contains?uris=".to_owned(),
        "/v1/me/library/contains?ids=a".to_owned(),
        "/v1/me/library/contains?uris=a".to_owned(),
        "/v1/me/library/contains?uris=spotify:track:".to_owned(),
        "/v1/me/library/contains?uris=spotify:thing:a".to_owned(),
        "/v1/me/library/contains?uris=spotify:track:a:b".to_owned(),
        format!("/v1/me/library/contains?uris={too_many}"),
    ] {
        let resp = send(&fake, "GET", &path, t, "", "");
        assert_eq!(status(&resp), 400, "{path}: {resp}");
        assert_eq!(body_json(&resp)["error"]["status"], 400);
    }
    for method in ["PUT", "DELETE"] {
        let resp = send(&fake, method, "/v1/me/library", t, "", "");
        assert_eq!(status(&resp), 400, "{method}: {resp}");
    }
    let ok = send(
        &fake,
        "GET",
        &format!("/v1/me/library/contains?uris={forty}"),
        t,
        "",
        "",
    );
    assert_eq!(body_json(&ok).as_array().map(Vec::len), Some(40), "{ok}");
    // A wrong method on the library's paths.
    assert_eq!(
        status(&send(&fake, "GET", "/v1/me/library", t, "", "")),
        405
    );
    assert_eq!(
        status(&send(&fake, "POST", "/v1/me/library/contains", t, "", "")),
        405
    );
}

const SCOPE_403: &str = r#"{"error":{"status":403,"message":"Insufficient client scope"}}"#;

#[test]
fn each_new_endpoint_needs_its_scope() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    fake.set_playlist(Item::tracks(3));
    fake.set_liked("a", true);
    let all_but = |missing: &[&str]| -> Vec<&str> {
        ALL_SCOPES
            .iter()
            .copied()
            .filter(|s| !missing.contains(s))
            .collect()
    };
    let cases: [(&str, &str, &[&str]); 5] = [
        (
            "GET",
            "/v1/me/library/contains?uris=spotify:track:a",
            &["user-library-read"],
        ),
        (
            "PUT",
            "/v1/me/library?uris=spotify:track:b",
            &["user-library-modify"],
        ),
        (
            "DELETE",
            "/v1/me/library?uris=spotify:track:a",
            &["user-library-modify"],
        ),
        (
            "PUT",
            "/v1/me/player/volume?volume_percent=10",
            &["user-modify-playback-state"],
        ),
        (
            "GET",
            "/v1/me/player/queue",
            &["user-read-playback-state", "user-read-currently-playing"],
        ),
    ];
    for (method, path, needs) in cases {
        fake.set_scopes(&all_but(needs));
        let resp = send(&fake, method, path, t, "", "");
        assert_eq!(status(&resp), 403, "{method} {path}: {resp}");
        assert_eq!(body_text(&resp), SCOPE_403);
        // With the scope back, the same request goes through.
        fake.set_scopes(&ALL_SCOPES);
        let resp = send(&fake, method, path, t, "", "");
        assert!(
            matches!(status(&resp), 200 | 204),
            "{method} {path}: {resp}"
        );
        fake.set_liked("a", true);
    }
    // The library's read and modify scopes are separate.
    fake.set_scopes(&["user-library-read"]);
    let put = send(
        &fake,
        "PUT",
        "/v1/me/library?uris=spotify:track:c",
        t,
        "",
        "",
    );
    assert_eq!(status(&put), 403, "{put}");
    assert!(!fake.is_liked("c"), "a refused save changes nothing");
    fake.set_scopes(&["user-library-modify"]);
    let get = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:a",
        t,
        "",
        "",
    );
    assert_eq!(status(&get), 403, "{get}");
    // The queue takes either read scope.
    for scope in ["user-read-currently-playing", "user-read-playback-state"] {
        fake.set_scopes(&[scope]);
        let queue = send(&fake, "GET", "/v1/me/player/queue", t, "", "");
        assert_eq!(status(&queue), 200, "{scope}: {queue}");
    }
    // A refused volume leaves the volume alone; the scope check needs no token check.
    fake.set_require_auth(false);
    fake.set_scopes(&["user-read-playback-state"]);
    let vol = send(
        &fake,
        "PUT",
        "/v1/me/player/volume?volume_percent=5",
        None,
        "",
        "",
    );
    assert_eq!(status(&vol), 403, "{vol}");
    assert_eq!(fake.volume_percent(), Some(10));
    // The existing routes check theirs too (scopes are all granted by default).
    let player = send(&fake, "GET", "/v1/me/player", None, "", "");
    assert_eq!(status(&player), 200, "{player}");
    fake.set_scopes(&["user-read-currently-playing"]);
    let player = send(&fake, "GET", "/v1/me/player", None, "", "");
    assert_eq!(body_text(&player), SCOPE_403);
    let current = send(
        &fake,
        "GET",
        "/v1/me/player/currently-playing",
        None,
        "",
        "",
    );
    assert_eq!(status(&current), 200, "{current}");
    let next = send(&fake, "POST", "/v1/me/player/next", None, "", "");
    assert_eq!(status(&next), 403, "{next}");
    assert_eq!(
        fake.scopes(),
        vec!["user-read-currently-playing".to_owned()]
    );
}

#[test]
fn the_token_answer_lists_the_scopes_or_omits_them() {
    let fake = FakeSpotify::start();
    fake.set_client("cid", None);
    fake.add_refresh_token("r0");
    let refresh = || {
        body_json(&post_token(
            &fake,
            None,
            "grant_type=refresh_token&refresh_token=r0&client_id=cid",
        ))
    };
    assert_eq!(
        refresh()["scope"],
        "user-read-currently-playing user-read-playback-state user-modify-playback-state \
         user-library-read user-library-modify"
    );
    assert_eq!(fake.scopes(), ALL_SCOPES.map(str::to_owned).to_vec());
    fake.set_scopes(&["user-read-currently-playing", "user-library-read"]);
    assert_eq!(
        refresh()["scope"],
        "user-read-currently-playing user-library-read"
    );
    fake.set_scope_in_token_answer(false);
    let old = refresh();
    assert!(old.get("scope").is_none(), "{old}");
    assert!(old["access_token"].is_string(), "{old}");
    // The code exchange too.
    fake.add_auth_code("c1", "http://127.0.0.1:1/cb", Some(RFC_CHALLENGE));
    let exchanged = body_json(&post_token(
        &fake,
        None,
        &format!(
            "grant_type=authorization_code&code=c1&redirect_uri=http%3A%2F%2F127.0.0.1%3A1%2Fcb\
             &client_id=cid&code_verifier={RFC_VERIFIER}"
        ),
    ));
    assert!(exchanged["refresh_token"].is_string(), "{exchanged}");
    assert!(exchanged.get("scope").is_none(), "{exchanged}");
    fake.set_scope_in_token_answer(true);
    assert_eq!(
        refresh()["scope"],
        "user-read-currently-playing user-library-read"
    );
}

#[test]
fn volume_shows_in_the_next_player_body() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    fake.set_playlist(Item::tracks(3));
    let player = |fake: &FakeSpotify| {
        body_json(&send(
            fake,
            "GET",
            "/v1/me/player?additional_types=track,episode&market=from_token",
            t,
            "",
            "",
        ))
    };
    let before = player(&fake);
    assert_eq!(before["device"]["volume_percent"], DEFAULT_VOLUME_PERCENT);
    assert_eq!(before["device"]["supports_volume"], true);
    assert_eq!(before["item"]["id"], "fake0001t0000");
    for volume in [30, 0, 100] {
        let resp = send(
            &fake,
            "PUT",
            &format!("/v1/me/player/volume?volume_percent={volume}"),
            t,
            "",
            "",
        );
        assert_eq!(status(&resp), 204, "{resp}");
        assert!(!resp.contains("Content-Length"), "{resp}");
        assert_eq!(player(&fake)["device"]["volume_percent"], volume);
        assert_eq!(fake.volume_percent(), Some(volume));
    }
    // With a device_id too (ignored: the one device).
    let resp = send(
        &fake,
        "PUT",
        "/v1/me/player/volume?volume_percent=45&device_id=fakedevice0",
        t,
        "",
        "",
    );
    assert_eq!(status(&resp), 204, "{resp}");
    assert_eq!(player(&fake)["device"]["volume_percent"], 45);
    // Set by the test, null included.
    fake.set_volume_percent(None);
    assert!(player(&fake)["device"]["volume_percent"].is_null());
    fake.set_volume_percent(Some(7));
    assert_eq!(player(&fake)["device"]["volume_percent"], 7);
    let reqs = fake.requests_to(Route::Volume);
    assert_eq!(reqs.len(), 4);
    assert_eq!(reqs[0].method, "PUT");
    assert_eq!(reqs[0].query_param("volume_percent").as_deref(), Some("30"));
}

#[test]
fn volume_refusals() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    fake.set_playlist(Item::tracks(2));
    fake.set_volume_percent(Some(50));
    for query in [
        "volume_percent=101",
        "volume_percent=-1",
        "volume_percent=abc",
        "volume_percent=",
        "volume_percent=50.5",
        "",
    ] {
        let resp = send(
            &fake,
            "PUT",
            &format!("/v1/me/player/volume?{query}"),
            t,
            "",
            "",
        );
        assert_eq!(status(&resp), 400, "{query}: {resp}");
        assert_eq!(body_json(&resp)["error"]["status"], 400);
    }
    assert_eq!(fake.volume_percent(), Some(50));
    fake.set_supports_volume(false);
    let resp = send(
        &fake,
        "PUT",
        "/v1/me/player/volume?volume_percent=20",
        t,
        "",
        "",
    );
    assert_eq!(status(&resp), 403, "{resp}");
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"error": {"status": 403,
            "message": "Player command failed: Cannot control device volume",
            "reason": "VOLUME_CONTROL_DISALLOW"}})
    );
    assert_eq!(
        body_text(&resp),
        r#"{"error":{"status":403,"message":"Player command failed: Cannot control device volume","reason":"VOLUME_CONTROL_DISALLOW"}}"#
    );
    assert_eq!(fake.volume_percent(), Some(50));
    let body = body_json(&send(&fake, "GET", "/v1/me/player", t, "", ""));
    assert_eq!(body["device"]["supports_volume"], false);
    fake.set_supports_volume(true);
    fake.set_device_active(false);
    let resp = send(
        &fake,
        "PUT",
        "/v1/me/player/volume?volume_percent=20",
        t,
        "",
        "",
    );
    assert_eq!(status(&resp), 404, "{resp}");
    assert_eq!(body_json(&resp)["error"]["reason"], "NO_ACTIVE_DEVICE");
    // The other controls answer the same without a device; the player has nothing.
    let next = send(&fake, "POST", "/v1/me/player/next", t, "", "");
    assert_eq!(body_json(&next)["error"]["reason"], "NO_ACTIVE_DEVICE");
    assert_eq!(status(&send(&fake, "GET", "/v1/me/player", t, "", "")), 204);
    assert_eq!(fake.volume_percent(), Some(50));
    assert_eq!(
        status(&send(
            &fake,
            "POST",
            "/v1/me/player/volume?volume_percent=1",
            t,
            "",
            ""
        )),
        405
    );
}

#[test]
fn the_queue_lists_twenty_full_items_after_the_current_one() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    let mut items = Item::tracks(6);
    items.push(Item::episode("fakeep0001", "An episode").by("Pod People", "Pod Show"));
    fake.set_playlist(items.clone());
    fake.set_current(Some(4));
    let resp = send(&fake, "GET", "/v1/me/player/queue", t, "", "");
    assert_eq!(status(&resp), 200, "{resp}");
    let text = body_text(&resp);
    assert!(
        text.len() > 50_000,
        "a realistic body: {} bytes",
        text.len()
    );
    let body = body_json(&resp);
    assert_eq!(body["currently_playing"]["id"], "fake0001t0004");
    assert_eq!(body["currently_playing"]["type"], "track");
    let queue = body["queue"].as_array().cloned().unwrap_or_default();
    assert_eq!(queue.len(), QUEUE_LEN);
    // After item 4: 5, the episode, then around the playlist again.
    let ids: Vec<&str> = queue.iter().filter_map(|q| q["id"].as_str()).collect();
    let want: Vec<String> = (5..5 + QUEUE_LEN)
        .map(|k| items[k % 7].id.clone())
        .collect();
    assert_eq!(ids, want);
    assert_eq!(queue[0]["id"], "fake0001t0005");
    // Full track objects.
    let track = &queue[0];
    for field in [
        "album",
        "artists",
        "available_markets",
        "disc_number",
        "duration_ms",
        "explicit",
        "external_ids",
        "external_urls",
        "href",
        "id",
        "is_local",
        "name",
        "popularity",
        "track_number",
        "type",
        "uri",
    ] {
        assert!(track.get(field).is_some(), "{field}: {track}");
    }
    assert_eq!(track["uri"], "spotify:track:fake0001t0005");
    assert_eq!(track["name"], "Track 5");
    assert_eq!(track["duration_ms"], 180_000);
    assert_eq!(
        track["available_markets"].as_array().map(Vec::len),
        Some(185)
    );
    assert_eq!(
        track["album"]["available_markets"].as_array().map(Vec::len),
        Some(185)
    );
    assert_eq!(track["album"]["images"].as_array().map(Vec::len), Some(3));
    assert_eq!(track["album"]["images"][0]["width"], 640);
    assert_eq!(track["album"]["artists"][0]["name"], "The Fakes");
    assert_eq!(track["artists"][0]["type"], "artist");
    assert!(track["external_ids"]["isrc"].is_string());
    // The episode object.
    let episode = &queue[1];
    assert_eq!(episode["type"], "episode");
    assert_eq!(episode["uri"], "spotify:episode:fakeep0001");
    assert_eq!(episode["show"]["name"], "Pod Show");
    assert_eq!(episode["show"]["publisher"], "Pod People");
    assert!(episode["description"].as_str().map_or(0, str::len) > 1_000);
    assert!(episode["html_description"].is_string());
    assert_eq!(episode["images"].as_array().map(Vec::len), Some(3));
    // The handle sees the same queue; the request is recorded.
    assert_eq!(fake.queue().len(), QUEUE_LEN);
    assert_eq!(fake.queue()[0], items[5]);
    assert_eq!(fake.requests_to(Route::Queue).len(), 1);
    // Next moves the queue along (and wraps at the end).
    fake.set_current(Some(6));
    let body = body_json(&send(&fake, "GET", "/v1/me/player/queue", t, "", ""));
    assert_eq!(body["currently_playing"]["type"], "episode");
    assert_eq!(body["queue"][0]["id"], "fake0001t0000");
}

#[test]
fn a_queue_set_by_the_test_and_nothing_playing() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    // Nothing loaded: still 200 (SPOTIFY-API.md documents only 200 for the queue), with
    // no current item and an empty queue.
    let resp = send(&fake, "GET", "/v1/me/player/queue", t, "", "");
    assert_eq!(status(&resp), 200, "{resp}");
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"currently_playing": null, "queue": []})
    );
    // The player itself answers 204 then, as before the model.
    assert_eq!(status(&send(&fake, "GET", "/v1/me/player", t, "", "")), 204);
    // A playlist, but no device: the same.
    fake.set_playlist(Item::tracks(3));
    fake.set_device_active(false);
    let resp = send(&fake, "GET", "/v1/me/player/queue", t, "", "");
    assert_eq!(
        body_json(&resp),
        serde_json::json!({"currently_playing": null, "queue": []})
    );
    fake.set_device_active(true);
    // The test's own queue (first 20 of it).
    let mine: Vec<Item> = (0..25)
        .map(|i| Item::track(&format!("mine{i}"), &format!("Mine {i}")))
        .collect();
    fake.set_queue(Some(mine));
    let body = body_json(&send(&fake, "GET", "/v1/me/player/queue", t, "", ""));
    assert_eq!(body["currently_playing"]["id"], "fake0001t0000");
    assert_eq!(body["queue"].as_array().map(Vec::len), Some(QUEUE_LEN));
    assert_eq!(body["queue"][0]["id"], "mine0");
    assert_eq!(body["queue"][19]["id"], "mine19");
    fake.set_queue(Some(Vec::new()));
    let body = body_json(&send(&fake, "GET", "/v1/me/player/queue", t, "", ""));
    assert_eq!(body["queue"], serde_json::json!([]));
    fake.set_queue(None);
    fake.set_current(None);
    let body = body_json(&send(&fake, "GET", "/v1/me/player/queue", t, "", ""));
    assert_eq!(
        body,
        serde_json::json!({"currently_playing": null, "queue": []})
    );
}

#[test]
fn the_new_routes_share_the_global_behaviours() {
    let (fake, token) = fake_with_token();
    let t = Some(token.as_str());
    fake.set_playlist(Item::tracks(2));
    // Scripted replies first: a 429 with Retry-After, a quota 429, then the model.
    fake.push(Route::Queue, Reply::rate_limited(Some(3)));
    fake.push(Route::LibraryContains, Reply::quota_exceeded(Some(48_925)));
    fake.push(Route::Volume, Reply::opaque_ok());
    let limited = send(&fake, "GET", "/v1/me/player/queue", t, "", "");
    assert_eq!(status(&limited), 429, "{limited}");
    assert!(limited.contains("\r\nretry-after: 3\r\n"), "{limited}");
    assert_eq!(
        status(&send(&fake, "GET", "/v1/me/player/queue", t, "", "")),
        200
    );
    let quota = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:a",
        t,
        "",
        "",
    );
    assert_eq!(
        body_json(&quota)["error"]["reason"],
        "QUOTA_EXCEEDED",
        "{quota}"
    );
    assert!(quota.contains("Retry-After: 48925"), "{quota}");
    let opaque = send(
        &fake,
        "PUT",
        "/v1/me/player/volume?volume_percent=9",
        t,
        "",
        "",
    );
    assert_eq!(status(&opaque), 200, "{opaque}");
    assert_eq!(
        fake.volume_percent(),
        Some(DEFAULT_VOLUME_PERCENT),
        "scripted: no change"
    );
    // A default replaces the model until cleared.
    fake.set_default(Route::LibraryContains, Reply::json(200, "[true]"));
    let scripted = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:zz",
        t,
        "",
        "",
    );
    assert_eq!(body_text(&scripted), "[true]");
    fake.clear_default(Route::LibraryContains);
    let model = send(
        &fake,
        "GET",
        "/v1/me/library/contains?uris=spotify:track:zz",
        t,
        "",
        "",
    );
    assert_eq!(body_text(&model), "[false]");
    // No token or an expired one: 401, the script kept.
    fake.push(Route::LibrarySave, Reply::api_error(500, "scripted"));
    let no_token = send(
        &fake,
        "PUT",
        "/v1/me/library?uris=spotify:track:a",
        None,
        "",
        "",
    );
    assert_eq!(status(&no_token), 401, "{no_token}");
    fake.expire_access_tokens();
    for (method, path) in [
        ("GET", "/v1/me/library/contains?uris=spotify:track:a"),
        ("PUT", "/v1/me/library?uris=spotify:track:a"),
        ("DELETE", "/v1/me/library?uris=spotify:track:a"),
        ("PUT", "/v1/me/player/volume?volume_percent=1"),
        ("GET", "/v1/me/player/queue"),
    ] {
        let resp = send(&fake, method, path, t, "", "");
        assert_eq!(status(&resp), 401, "{method} {path}: {resp}");
    }
    assert_eq!(fake.queued(Route::LibrarySave), 1);
    assert!(!fake.is_liked("a"));
    // A lapsed Premium refuses them all.
    fake.set_require_auth(false);
    fake.set_premium_lapsed(true);
    for (method, path) in [
        ("GET", "/v1/me/library/contains?uris=spotify:track:a"),
        ("PUT", "/v1/me/library?uris=spotify:track:a"),
        ("DELETE", "/v1/me/library?uris=spotify:track:a"),
        ("PUT", "/v1/me/player/volume?volume_percent=1"),
        ("GET", "/v1/me/player/queue"),
    ] {
        let resp = send(&fake, method, path, None, "", "");
        assert_eq!(status(&resp), 403, "{method} {path}: {resp}");
        assert_eq!(body_json(&resp)["error"]["message"], PREMIUM_LAPSED_MESSAGE);
    }
    // All recorded.
    let count = |r: Route| fake.requests_to(r).len();
    assert_eq!(
        (
            count(Route::Queue),
            count(Route::LibraryContains),
            count(Route::LibrarySave),
            count(Route::LibraryRemove),
            count(Route::Volume)
        ),
        (4, 5, 3, 2, 3)
    );
}

#[test]
fn the_model_player_and_its_controls() {
    let fake = FakeSpotify::start();
    fake.set_require_auth(false);
    let mut items = Item::tracks(2);
    items.push(Item::episode("fakeep0002", "Talk"));
    fake.set_playlist(items);
    let get = |path: &str| body_json(&send(&fake, "GET", path, None, "", ""));
    let full = get("/v1/me/player?additional_types=track,episode");
    assert_eq!(full["item"]["id"], "fake0001t0000");
    assert_eq!(full["is_playing"], true);
    assert_eq!(full["currently_playing_type"], "track");
    assert_eq!(full["device"]["name"], "Fake speaker");
    assert_eq!(full["repeat_state"], "context");
    assert!(
        full["timestamp"]
            .as_u64()
            .is_some_and(|t| t > 1_700_000_000_000)
    );
    assert!(
        full["item"]["available_markets"].is_array(),
        "no market: the arrays"
    );
    let market = get("/v1/me/player/currently-playing?market=from_token");
    assert!(market.get("device").is_none(), "{market}");
    assert!(
        market["item"].get("available_markets").is_none(),
        "{market}"
    );
    assert!(market["item"]["album"].get("available_markets").is_none());
    let send_control = |m: &str, p: &str| status(&send(&fake, m, p, None, "", ""));
    assert_eq!(send_control("PUT", "/v1/me/player/pause"), 204);
    assert!(!fake.is_playing());
    assert_eq!(get("/v1/me/player")["is_playing"], false);
    assert_eq!(send_control("PUT", "/v1/me/player/play"), 204);
    assert!(fake.is_playing());
    assert_eq!(send_control("POST", "/v1/me/player/previous"), 204);
    let ep = get("/v1/me/player?additional_types=track");
    assert_eq!(ep["currently_playing_type"], "episode");
    assert!(
        ep["item"].is_null(),
        "an episode without additional_types=episode"
    );
    let ep = get("/v1/me/player?additional_types=track,episode");
    assert_eq!(ep["item"]["show"]["name"], "The Fake Show");
    assert_eq!(send_control("POST", "/v1/me/player/next"), 204);
    assert_eq!(
        fake.current().map(|i| i.id),
        Some("fake0001t0000".to_owned())
    );
    fake.set_playing(false);
    assert_eq!(
        get("/v1/me/player")["actions"]["disallows"]["pausing"],
        true
    );
    fake.set_current(None);
    assert_eq!(
        status(&send(&fake, "GET", "/v1/me/player", None, "", "")),
        204
    );
    assert_eq!(
        send_control("POST", "/v1/me/player/next"),
        204,
        "a device, nothing loaded"
    );
    assert_eq!(fake.current(), None);
}

#[test]
fn items_and_their_objects() {
    let item = Item::track("abc", "Name")
        .by("Artist", "Album")
        .with_duration(1234);
    assert_eq!(item.uri(), "spotify:track:abc");
    assert_eq!(item.kind, ItemKind::Track);
    let json = item.json(false);
    assert_eq!(json["album"]["name"], "Album");
    assert_eq!(json["artists"][0]["name"], "Artist");
    assert_eq!(json["duration_ms"], 1234);
    assert!(json.get("available_markets").is_none());
    let ep = Item::episode("e", "Ep");
    assert_eq!(
        (ep.uri(), ep.kind.as_str()),
        ("spotify:episode:e".to_owned(), "episode")
    );
    let v = ep.json(true);
    assert_eq!(
        v["show"]["available_markets"].as_array().map(Vec::len),
        Some(185)
    );
    assert!(
        v["description"]
            .as_str()
            .is_some_and(|d| d.contains('\n') && d.contains('"'))
    );
    assert_eq!(Item::tracks(12)[11].id, "fake0001t0011");
    let mut sorted = MARKETS.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted.len(), MARKETS.len());
}
