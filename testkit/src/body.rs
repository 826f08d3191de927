//! Player bodies: the few fields the display reads, for tests that script one answer at a
//! time. (The scripted [`Spotify`](crate::Spotify) sends the full Web API body.)

use std::fmt::Write as _;

/// A `GET /me/player` body of one track: title, artist, album, progress and length,
/// playing or paused, and optionally Spotify's `timestamp` and the disallowed actions.
#[derive(Debug, Clone, PartialEq, Eq)]
#[must_use]
pub struct TrackBody<'a> {
    /// The track's name.
    pub title: &'a str,
    /// The one artist's name.
    pub artist: &'a str,
    /// The album's name (no images).
    pub album: &'a str,
    /// `progress_ms`.
    pub progress_ms: u64,
    /// `duration_ms`.
    pub duration_ms: u64,
    /// `is_playing`.
    pub playing: bool,
    /// `timestamp` (Unix ms of the last change), if sent.
    pub timestamp: Option<u64>,
    /// `actions.disallows`: the actions set to `true`; no `actions` object when empty.
    pub disallows: &'a [&'a str],
}

impl<'a> TrackBody<'a> {
    /// `title` by "A" on "B", at `progress_ms` of `duration_ms`, playing or paused.
    pub fn new(title: &'a str, progress_ms: u64, duration_ms: u64, playing: bool) -> Self {
        TrackBody {
            title,
            artist: "A",
            album: "B",
            progress_ms,
            duration_ms,
            playing,
            timestamp: None,
            disallows: &[],
        }
    }

    /// The same by `artist` on `album`.
    pub fn by(self, artist: &'a str, album: &'a str) -> Self {
        TrackBody {
            artist,
            album,
            ..self
        }
    }

    /// The same with a `timestamp`.
    pub fn at_timestamp(self, timestamp: u64) -> Self {
        TrackBody {
            timestamp: Some(timestamp),
            ..self
        }
    }

    /// The same with these actions disallowed.
    pub fn disallowing(self, disallows: &'a [&'a str]) -> Self {
        TrackBody { disallows, ..self }
    }

    /// The JSON text.
    pub fn json(&self) -> String {
        let mut b = String::with_capacity(320);
        b.push('{');
        if let Some(ts) = self.timestamp {
            let _ = write!(b, r#""timestamp":{ts},"#);
        }
        let _ = write!(
            b,
            r#""progress_ms":{},"is_playing":{},"currently_playing_type":"track","item":{{"type":"track","name":{},"duration_ms":{},"artists":[{{"name":{}}}],"album":{{"name":{},"images":[]}}}}"#,
            self.progress_ms,
            self.playing,
            quoted(self.title),
            self.duration_ms,
            quoted(self.artist),
            quoted(self.album),
        );
        if !self.disallows.is_empty() {
            b.push_str(r#","actions":{"disallows":{"#);
            for (i, a) in self.disallows.iter().enumerate() {
                if i > 0 {
                    b.push(',');
                }
                let _ = write!(b, "{}:true", quoted(a));
            }
            b.push_str("}}");
        }
        b.push('}');
        b
    }
}

/// `s` as a JSON string literal.
pub fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fields_are_where_the_api_puts_them() {
        let body = TrackBody::new("Say \"hi\"", 5, 100, false)
            .by("Band", "Album")
            .at_timestamp(1)
            .disallowing(&["resuming", "skipping_prev"])
            .json();
        let v: serde_json::Value = serde_json::from_str(&body).expect(&body);
        assert_eq!(v["item"]["name"], "Say \"hi\"");
        assert_eq!(v["item"]["artists"][0]["name"], "Band");
        assert_eq!(v["item"]["album"]["name"], "Album");
        assert_eq!(v["item"]["duration_ms"], 100);
        assert_eq!((&v["progress_ms"], &v["timestamp"]), (&5.into(), &1.into()));
        assert_eq!(v["is_playing"], false);
        assert_eq!(v["actions"]["disallows"]["resuming"], true);
        assert_eq!(v["actions"]["disallows"]["skipping_prev"], true);
        let plain: serde_json::Value =
            serde_json::from_str(&TrackBody::new("T", 0, 1, true).json()).unwrap();
        assert!(plain.get("actions").is_none() && plain.get("timestamp").is_none());
    }
}
