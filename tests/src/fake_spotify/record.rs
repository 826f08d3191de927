//! The requests the fake received, as recorded, and form decoding.

use std::time::Duration;

use super::Route;

/// One request the fake received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordedRequest {
    /// The route it matched.
    pub route: Route,
    /// `GET`, `PUT`, ...
    pub method: String,
    /// Path and query, as sent.
    pub path_and_query: String,
    /// Headers in the order received (names as sent).
    pub headers: Vec<(String, String)>,
    /// The body (at most 1 MiB is read).
    pub body: Vec<u8>,
    /// When it arrived, since the fake started.
    pub at: Duration,
}

impl RecordedRequest {
    /// The first header named `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The path without the query.
    pub fn path(&self) -> &str {
        self.path_and_query
            .split_once('?')
            .map_or(self.path_and_query.as_str(), |(p, _)| p)
    }

    /// The query (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.path_and_query.split_once('?').map(|(_, q)| q)
    }

    /// The query's parameters, decoded (`%XX` and `+`), in order.
    pub fn query_params(&self) -> Vec<(String, String)> {
        parse_form(self.query().unwrap_or_default().as_bytes())
    }

    /// The first query parameter `name`, decoded (`uris=spotify%3Atrack%3Ax` gives
    /// `spotify:track:x`).
    pub fn query_param(&self, name: &str) -> Option<String> {
        self.query_params()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }

    /// The form fields of an `application/x-www-form-urlencoded` body, decoded.
    pub fn form(&self) -> Vec<(String, String)> {
        parse_form(&self.body)
    }

    /// The decoded form field `name`.
    pub fn form_field(&self, name: &str) -> Option<String> {
        self.form()
            .into_iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v)
    }
}

/// Decodes an `application/x-www-form-urlencoded` body (`+` is a space, `%XX` a byte).
pub fn parse_form(body: &[u8]) -> Vec<(String, String)> {
    body.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let mut it = pair.splitn(2, |b| *b == b'=');
            let key = it.next().unwrap_or_default();
            let value = it.next().unwrap_or_default();
            (percent_decode(key), percent_decode(value))
        })
        .collect()
}

pub(super) fn percent_decode(input: &[u8]) -> String {
    let mut out = Vec::with_capacity(input.len());
    let mut i = 0;
    while let Some(&b) = input.get(i) {
        match b {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = input
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok());
                if let Some(byte) = hex {
                    out.push(byte);
                    i += 2;
                } else {
                    out.push(b'%');
                }
            }
            _ => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
