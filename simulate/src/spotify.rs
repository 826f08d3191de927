//! The scripted Spotify: the test kit's player ([`tonearm_testkit::Spotify`]), the one the
//! core's and the firmware's tests and the session bench script too, and how the
//! session's requests reach it ([`call`]).

use tonearm_core::session::{Host, Request};

pub use tonearm_testkit::answer::QUOTA_BODY;
pub use tonearm_testkit::{Answer as Reply, Call, RequestClass, Spotify, State};

/// `req` as the script sees it: host, method and path.
pub fn call(req: &Request) -> Call<'_> {
    Call {
        host: match req.host {
            Host::Api => tonearm_testkit::Host::Api,
            Host::Accounts => tonearm_testkit::Host::Accounts,
        },
        method: req.method.as_str(),
        path: req.path.as_str(),
    }
}

/// The class of a request, by its method and path.
pub fn class_of(req: &Request) -> RequestClass {
    RequestClass::of(&call(req))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonearm_core::parse::NowPlayingParser;
    use tonearm_core::session::{Endpoint, Method, RequestKind};
    use tonearm_testkit::Timeline;

    fn request(kind: RequestKind, method: Method, host: Host, path: &str) -> Request {
        Request {
            kind,
            method,
            host,
            path: path.try_into().unwrap(),
            authorization: "Bearer x".try_into().unwrap(),
            body: "".try_into().unwrap(),
        }
    }

    #[test]
    fn bodies_parse() {
        let mut s = Spotify::new(1_700_000_000_000);
        s.play(0, Timeline::uniform(100_000, 200_000).tracks("T"));
        let req = request(
            RequestKind::Poll(Endpoint::Player),
            Method::Get,
            Host::Api,
            "/me/player?additional_types=track,episode&market=from_token",
        );
        let r = s.answer(42_000, &call(&req));
        assert_eq!(r.status, 200);
        let mut p = NowPlayingParser::new();
        p.feed(&r.body).unwrap();
        let np = p.finish().unwrap();
        assert_eq!(np.title.as_deref(), Some("T0"));
        assert_eq!(
            (np.progress_ms, np.duration_ms),
            (Some(42_000), Some(100_000))
        );
        assert!(np.is_playing && np.disallows.resuming && !np.disallows.pausing);
        s.quota_exceeded(50_000, 100);
        let r = s.answer(50_500, &call(&req));
        assert_eq!((r.status, r.retry_after.as_deref()), (429, Some("100")));
        assert_eq!(s.answer(150_000, &call(&req)).status, 200);
    }

    #[test]
    fn the_session_requests_are_classed() {
        let cases = [
            (
                request(
                    RequestKind::Refresh,
                    Method::Post,
                    Host::Accounts,
                    "/api/token",
                ),
                RequestClass::Token,
            ),
            (
                request(
                    RequestKind::Poll(Endpoint::CurrentlyPlaying),
                    Method::Get,
                    Host::Api,
                    "/me/player/currently-playing?market=from_token",
                ),
                RequestClass::Player,
            ),
            (
                request(
                    RequestKind::Control(tonearm_core::session::ControlCommand::Next),
                    Method::Post,
                    Host::Api,
                    "/me/player/next",
                ),
                RequestClass::Control,
            ),
        ];
        for (req, class) in cases {
            assert_eq!(class_of(&req), class, "{req:?}");
        }
    }
}
