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
