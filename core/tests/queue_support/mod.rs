//! Realistic Web API bodies for the queue tests (`tests/queue.rs`, `tests/queue_no_alloc.rs`)
//! and the queue bench (`benches/queue.rs`): full track and episode objects as Spotify
//! sends them (album with artists and images, 185 market codes on the album and again on
//! the track, external ids and urls...), a `/me/player/queue` body of twenty of them and a
//! `/me/player` body around one, printed as Spotify prints them (see [`pretty`]).
//!
//! Names and other strings are inserted as JSON string content, escapes and all: pass
//! `Caf\\u00e9`, not `Café`, to get an escape into the body.
#![allow(dead_code)] // Each of the test crates and the bench uses part of it.

/// The 185 market codes of an item available everywhere Spotify is.
pub const MARKETS: [&str; 185] = [
    "AR", "AU", "AT", "BE", "BO", "BR", "BG", "CA", "CL", "CO", "CR", "CY", "CZ", "DK", "DO", "DE",
    "EC", "EE", "SV", "FI", "FR", "GR", "GT", "HN", "HK", "HU", "IS", "IE", "IT", "LV", "LT", "LU",
    "MY", "MT", "MX", "NL", "NZ", "NI", "NO", "PA", "PY", "PE", "PH", "PL", "PT", "SG", "SK", "ES",
    "SE", "CH", "TW", "TR", "UY", "US", "GB", "AD", "LI", "MC", "ID", "JP", "TH", "VN", "RO", "IL",
    "ZA", "SA", "AE", "BH", "QA", "OM", "KW", "EG", "MA", "DZ", "TN", "LB", "JO", "PS", "IN", "BY",
    "KZ", "MD", "UA", "AL", "BA", "HR", "ME", "MK", "RS", "SI", "KR", "BD", "PK", "LK", "GH", "KE",
    "NG", "TZ", "UG", "AG", "AM", "BS", "BB", "BZ", "BT", "BW", "BF", "CV", "CW", "DM", "FJ", "GM",
    "GE", "GD", "GW", "GY", "HT", "JM", "KI", "LS", "LR", "MW", "MV", "ML", "MH", "FM", "NA", "NR",
    "NE", "PW", "PG", "PR", "WS", "SM", "ST", "SN", "SC", "SL", "SB", "KN", "LC", "VC", "SR", "TL",
    "TO", "TT", "TV", "VU", "AZ", "BN", "BI", "KH", "CM", "TD", "KM", "GQ", "SZ", "GA", "GN", "KG",
    "LA", "MO", "MR", "MN", "NP", "RW", "TG", "UZ", "ZW", "BJ", "MG", "MU", "MZ", "AO", "CI", "DJ",
    "ZM", "CD", "CG", "IQ", "LY", "TJ", "VE", "ET", "XK",
];

/// A 22-character base-62 id, the same for the same `seed` (as Spotify's look).
pub fn spotify_id(seed: &str) -> String {
    const DIGITS: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    // FNV-1a, then a 64-bit LCG for the characters.
    let mut x = seed.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    });
    (0..22)
        .map(|_| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            char::from(DIGITS[((x >> 33) % 62) as usize])
        })
        .collect()
}

fn markets() -> String {
    let quoted: Vec<String> = MARKETS.iter().map(|m| format!("\"{m}\"")).collect();
    format!("[{}]", quoted.join(","))
}

fn urls(kind: &str, id: &str) -> String {
    format!(
        r#""external_urls":{{"spotify":"https://open.spotify.com/{kind}/{id}"}},"href":"https://api.spotify.com/v1/{kind}s/{id}""#
    )
}

fn images(seed: &str) -> String {
    let hash = spotify_id(seed).to_lowercase();
    let sizes: Vec<String> = [("b273", 640), ("1e02", 300), ("4851", 64)]
        .iter()
        .map(|(code, px)| {
            format!(
                r#"{{"height":{px},"url":"https:\/\/i.scdn.co\/image\/ab67616d0000{code}{hash}","width":{px}}}"#
            )
        })
        .collect();
    format!("[{}]", sizes.join(","))
}

fn artist(name: &str) -> String {
    let id = spotify_id(name);
    format!(
        r#"{{{},"id":"{id}","name":"{name}","type":"artist","uri":"spotify:artist:{id}"}}"#,
        urls("artist", &id)
    )
}

/// A full track object, as `/tracks/{id}`, the queue and `/me/player` give it.
/// `name` and `artists` are JSON string content; the track's id is [`track_id`]`(n)`.
pub fn track(n: usize, name: &str, artists: &[&str]) -> String {
    let id = track_id(n);
    let album_id = spotify_id(&format!("album {n}"));
    let artists: Vec<String> = artists.iter().map(|a| artist(a)).collect();
    let artists = format!("[{}]", artists.join(","));
    let album = format!(
        r#"{{"album_type":"album","artists":{artists},"available_markets":{markets},{urls},"id":"{album_id}","images":{images},"name":"Album number {n}","release_date":"1997-05-21","release_date_precision":"day","total_tracks":12,"type":"album","uri":"spotify:album:{album_id}"}}"#,
        markets = markets(),
        urls = urls("album", &album_id),
        images = images(&album_id),
    );
    format!(
        r#"{{"album":{album},"artists":{artists},"available_markets":{markets},"disc_number":1,"duration_ms":{duration},"explicit":false,"external_ids":{{"isrc":"GBAYE97{n:05}"}},{urls},"id":"{id}","is_local":false,"name":"{name}","popularity":{pop},"preview_url":null,"track_number":{number},"type":"track","uri":"spotify:track:{id}"}}"#,
        markets = markets(),
        duration = 180_000 + n * 1_337,
        urls = urls("track", &id),
        pop = 40 + n % 60,
        number = 1 + n % 12,
    )
}

/// The id of [`track`]`(n)` (and of [`episode`]`(n)`).
pub fn track_id(n: usize) -> String {
    spotify_id(&format!("item {n}"))
}

/// A full episode object with its show. `name` and `show` are JSON string content.
pub fn episode(n: usize, name: &str, show: &str) -> String {
    let id = track_id(n);
    let show_id = spotify_id(show);
    let description = "In this episode we talk about quotes, slashes and newlines, and \
        about the \\\"long tail\\\" of podcasts.\\nPlus: listener mail.";
    let html = "<p>In this episode we talk about quotes, slashes and newlines, and about \
        the &quot;long tail&quot; of podcasts.<\\/p><p>Plus: listener mail.<\\/p>";
    let show = format!(
        r#"{{"available_markets":{markets},"copyrights":[],"description":"{description}","explicit":false,{urls},"html_description":"{html}","id":"{show_id}","images":{images},"is_externally_hosted":false,"languages":["en"],"media_type":"audio","name":"{show}","publisher":"Some Network","total_episodes":512,"type":"show","uri":"spotify:show:{show_id}"}}"#,
        markets = markets(),
        urls = urls("show", &show_id),
        images = images(&show_id),
    );
    format!(
        r#"{{"audio_preview_url":"https://podz-content.spotifycdn.com/audio/clips/{id}/clip.mp3","description":"{description}","duration_ms":{duration},"explicit":false,{urls},"html_description":"{html}","id":"{id}","images":{images},"is_externally_hosted":false,"is_playable":true,"language":"en","languages":["en"],"name":"{name}","release_date":"2024-03-01","release_date_precision":"day","resume_point":{{"fully_played":false,"resume_position_ms":0}},"show":{show},"type":"episode","uri":"spotify:episode:{id}"}}"#,
        duration = 3_600_000 + n,
        urls = urls("episode", &id),
        images = images(&id),
    )
}

/// A `/me/player/queue` body, compact.
pub fn queue_body(current: &str, queue: &[String]) -> String {
    format!(
        r#"{{"currently_playing":{current},"queue":[{}]}}"#,
        queue.join(",")
    )
}

/// The escaped, non-ASCII name of the first queued track of [`realistic_queue`], as JSON
/// string content, and as it reads once unescaped.
pub const ESCAPED_NAME: (&str, &str) = (
    r#"Caf\u00e9 \"Noir\" \\ 夢の中へ \/ Part\t2 \ud83c\udfb5"#,
    "Café \"Noir\" \\ 夢の中へ / Part\t2 \u{1f3b5}",
);
/// Its first artist, likewise.
pub const ESCAPED_ARTIST: (&str, &str) = (r"Bj\u00f6rk", "Björk");
/// The item [`realistic_queue`] has playing.
pub const CURRENT: usize = 100;

/// The queue of a listening session: twenty items (the first a track with escapes and
/// non-ASCII in its name, an episode sixth), after a playing track ([`CURRENT`]); compact.
pub fn realistic_queue() -> String {
    let items: Vec<String> = (0..20)
        .map(|i| match i {
            0 => track(
                0,
                ESCAPED_NAME.0,
                &[ESCAPED_ARTIST.0, "Sigur R\\u00f3s", "Ólafur Arnalds"],
            ),
            5 => episode(5, "Episode 5: The Queue", "The Daily Listen"),
            _ => track(i, &format!("Song number {i}"), &["Some Band", "A Guest"]),
        })
        .collect();
    queue_body(&track(CURRENT, "Now Playing Song", &["Radiohead"]), &items)
}

/// A full `/me/player` body (device, context, actions...) around `item`; compact.
pub fn player_body(item: &str) -> String {
    format!(
        r#"{{"device":{{"id":"0d1841b0976bae2a3a310dd74c0f3df354899bc8","is_active":true,"is_private_session":false,"is_restricted":false,"name":"Kitchen speaker","supports_volume":true,"type":"Speaker","volume_percent":55}},"shuffle_state":false,"smart_shuffle":false,"repeat_state":"off","timestamp":1700000000000,"context":{{"external_urls":{{"spotify":"https://open.spotify.com/playlist/37i9dQZF1DXcBWIGoYBM5M"}},"href":"https://api.spotify.com/v1/playlists/37i9dQZF1DXcBWIGoYBM5M","type":"playlist","uri":"spotify:playlist:37i9dQZF1DXcBWIGoYBM5M"}},"progress_ms":43000,"item":{item},"currently_playing_type":"track","actions":{{"disallows":{{"resuming":true,"toggling_repeat_context":false}}}},"is_playing":true}}"#
    )
}

/// `compact` printed as the Web API prints its bodies (Jackson's default pretty printer):
/// objects one key a line, indented two spaces, `"key" : value`; arrays on the line, as
/// `[ a, b ]`; empty ones `{ }` and `[ ]`. String content is copied as it is.
pub fn pretty(compact: &str) -> String {
    let mut out = String::with_capacity(compact.len() * 5 / 4);
    // One entry per open container: is it an object.
    let mut open: Vec<bool> = Vec::new();
    let (mut in_string, mut escaped) = (false, false);
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        out.push_str(&"  ".repeat(depth));
    };
    let mut chars = compact.chars().peekable();
    while let Some(c) = chars.next() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
            continue;
        }
        match c {
            '"' => {
                in_string = true;
                out.push(c);
            }
            '{' | '[' => {
                let object = c == '{';
                let close = if object { '}' } else { ']' };
                if chars.peek() == Some(&close) {
                    chars.next();
                    out.push(c);
                    out.push(' ');
                    out.push(close);
                    continue;
                }
                out.push(c);
                open.push(object);
                if object {
                    newline(&mut out, open.len());
                } else {
                    out.push(' ');
                }
            }
            '}' | ']' => {
                let object = open.pop().unwrap_or(true);
                if object {
                    newline(&mut out, open.len());
                } else {
                    out.push(' ');
                }
                out.push(c);
            }
            ',' => {
                out.push(',');
                if open.last() == Some(&true) {
                    newline(&mut out, open.len());
                } else {
                    out.push(' ');
                }
            }
            ':' => out.push_str(" : "),
            _ => out.push(c),
        }
    }
    out
}
