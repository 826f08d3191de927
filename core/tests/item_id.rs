//! The item's Spotify id (`item.id`) in the playback body, and its URI: kept only when it
//! is 1 to `ITEM_ID_CAP` ASCII letters and digits, only from the item itself, never for
//! local files or ads, whatever the key order and the chunking.

use std::path::Path;

use tonearm_core::NowPlayingParser;
use tonearm_core::model::{ITEM_ID_CAP, ItemId, Kind, NowPlaying, item_id};

fn parse_chunked(body: &[u8], chunk: usize) -> NowPlaying {
    let mut p = NowPlayingParser::new();
    for c in body.chunks(chunk.max(1)) {
        p.feed(c).unwrap();
    }
    p.finish().unwrap()
}

/// Parses in several chunkings (1 byte cuts every id) and checks they agree.
fn parse(body: &str) -> NowPlaying {
    let whole = parse_chunked(body.as_bytes(), body.len());
    for chunk in [1, 2, 3, 7, 64] {
        assert_eq!(
            parse_chunked(body.as_bytes(), chunk),
            whole,
            "chunks of {chunk}: {body}"
        );
    }
    whole
}

fn id(body: &str) -> Option<String> {
    parse(body).id.map(|id| id.as_str().to_owned())
}

fn uri(body: &str) -> Option<String> {
    parse(body).uri().map(|u| u.as_str().to_owned())
}

const TRACK_ID: &str = "4uLU6hMCjMI75M1A2tKUQC";
const EPISODE_ID: &str = "512ojhOuo1ktJprKbVcKyQ";

#[test]
fn a_track_id_and_its_uri() {
    let body = format!(
        r#"{{"currently_playing_type":"track","item":{{"type":"track","id":"{TRACK_ID}","name":"Never"}}}}"#
    );
    assert_eq!(id(&body).as_deref(), Some(TRACK_ID));
    assert_eq!(
        uri(&body).as_deref(),
        Some("spotify:track:4uLU6hMCjMI75M1A2tKUQC")
    );
}

#[test]
fn an_episode_id_and_its_uri() {
    let body = format!(
        r#"{{"currently_playing_type":"episode","item":{{"id":"{EPISODE_ID}","type":"episode","show":{{"id":"38bS44xjbVVZ3No3ByF1dJ","name":"Show"}}}}}}"#
    );
    assert_eq!(id(&body).as_deref(), Some(EPISODE_ID));
    assert_eq!(
        uri(&body).as_deref(),
        Some("spotify:episode:512ojhOuo1ktJprKbVcKyQ")
    );
}

#[test]
fn null_missing_and_mistyped_ids_are_none() {
    for item in [
        r#"{"type":"track","id":null,"name":"a"}"#,
        r#"{"type":"track","name":"a"}"#,
        r#"{"type":"track","id":42,"name":"a"}"#,
        r#"{"type":"track","id":["4uLU6hMCjMI75M1A2tKUQC"],"name":"a"}"#,
        r#"{"type":"track","id":{"id":"4uLU6hMCjMI75M1A2tKUQC"},"name":"a"}"#,
        r#"{"type":"track","id":"","name":"a"}"#,
    ] {
        let body = format!(r#"{{"item":{item}}}"#);
        let np = parse(&body);
        assert_eq!(np.id, None, "{body}");
        assert_eq!(np.uri(), None, "{body}");
        assert_eq!(np.title.as_deref(), Some("a"), "{body}");
    }
    assert_eq!(id(r#"{"item":null}"#), None);
    assert_eq!(id("{}"), None);
}

#[test]
fn local_files_have_no_id() {
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/local_file.json");
    let body = std::fs::read_to_string(fixture).unwrap();
    let np = parse(&body);
    assert!(np.is_local && np.kind == Kind::Track);
    assert_eq!((np.id.clone(), np.uri()), (None, None));
    // Even with an id (Spotify sends null), before or after `is_local`.
    for item in [
        format!(r#"{{"type":"track","id":"{TRACK_ID}","is_local":true}}"#),
        format!(r#"{{"is_local":true,"type":"track","id":"{TRACK_ID}"}}"#),
    ] {
        let np = parse(&format!(r#"{{"item":{item}}}"#));
        assert!(np.is_local);
        assert_eq!((np.id.clone(), np.uri()), (None, None), "{item}");
    }
    // `is_local: false` changes nothing.
    let body = format!(r#"{{"item":{{"type":"track","id":"{TRACK_ID}","is_local":false}}}}"#);
    assert_eq!(id(&body).as_deref(), Some(TRACK_ID));
}

#[test]
fn ads_have_no_id() {
    assert_eq!(id(r#"{"currently_playing_type":"ad","item":null}"#), None);
    let body = format!(r#"{{"currently_playing_type":"ad","item":{{"id":"{TRACK_ID}"}}}}"#);
    let np = parse(&body);
    assert_eq!(np.kind, Kind::Ad);
    assert_eq!((np.id.clone(), np.uri()), (None, None));
}

#[test]
fn ids_with_a_bad_character_are_none() {
    for bad in [
        "4uLU6hMCjMI75M1A2tKU-C",
        "4uLU6hMCjMI75M1A2tKU_C",
        "4uLU6hMCjMI75M1A2tKU C",
        "spotify:track:4uLU6hMCjMI75M1A2tKUQC",
        "4uLU6hMCjMI75M1A2tKUQ\u{e9}",
        r"4uLU6hMCjMI75M1A2tKUQ\u00e9",
        r"4uLU6hMCjMI75M1A2tKUQC\n",
        r#"\"4uLU6hMCjMI75M1A2tKUQC"#,
        "\u{65e5}\u{672c}",
        r"\ud83d\ude00",
    ] {
        let body = format!(r#"{{"item":{{"type":"track","id":"{bad}","name":"a"}}}}"#);
        assert_eq!(id(&body), None, "{body}");
    }
    // An escaped letter is a letter.
    let body = r#"{"item":{"type":"track","id":"4uLU6hMCjMI75M1A2tKUQ\u0043"}}"#;
    assert_eq!(id(body).as_deref(), Some(TRACK_ID));
}

#[test]
fn ids_longer_than_the_cap_are_none_not_cut() {
    let at_cap = "a1".repeat(ITEM_ID_CAP / 2);
    assert_eq!(at_cap.len(), 32);
    let over = format!("{at_cap}Z");
    assert_eq!(over.len(), 33);
    let body = |id: &str| format!(r#"{{"item":{{"type":"track","id":"{id}","name":"a"}}}}"#);
    assert_eq!(id(&body(&at_cap)).as_deref(), Some(at_cap.as_str()));
    assert_eq!(uri(&body(&at_cap)), Some(format!("spotify:track:{at_cap}")));
    assert_eq!(id(&body(&over)), None);
    assert_eq!(id(&body(&"x".repeat(5000))), None);
    // The longest URI there is.
    let ep = format!(r#"{{"item":{{"type":"episode","id":"{at_cap}"}}}}"#);
    assert_eq!(uri(&ep), Some(format!("spotify:episode:{at_cap}")));
    assert_eq!(uri(&ep).map(|u| u.len()), Some(48));
}

#[test]
fn the_artists_and_albums_ids_are_not_the_items() {
    let album = r#""album":{"id":"2up3OPMp9Tb4dAKM2erWXQ","type":"album","artists":[{"id":"0TnOYISbd1XYRBk9myaseg"}],"images":[{"url":"u","width":64,"height":64}]}"#;
    let artists = r#""artists":[{"id":"0TnOYISbd1XYRBk9myaseg","name":"Pitbull"}]"#;
    let show = r#""show":{"id":"38bS44xjbVVZ3No3ByF1dJ","name":"S"}"#;
    let linked = r#""linked_from":{"id":"6kLCHFM39wkFjOuyPGLGeQ","type":"track"}"#;
    // Without an item id, none of theirs is taken.
    let body = format!(
        r#"{{"context":{{"type":"album","id":"x1"}},"device":{{"id":"d1","name":"D"}},"item":{{"type":"track",{album},{artists},{show},{linked},"name":"a"}}}}"#
    );
    let np = parse(&body);
    assert_eq!(np.id, None);
    assert_eq!(np.artists.len(), 1);
    // With one, before or after theirs, it is the item's.
    for body in [
        format!(
            r#"{{"item":{{"type":"track",{album},{artists},"id":"{TRACK_ID}",{show},{linked}}}}}"#
        ),
        format!(
            r#"{{"item":{{"id":"{TRACK_ID}","type":"track",{album},{artists},{show},{linked}}}}}"#
        ),
    ] {
        assert_eq!(id(&body).as_deref(), Some(TRACK_ID), "{body}");
    }
    // An `id` at the root is not the item's either.
    assert_eq!(id(&format!(r#"{{"id":"{TRACK_ID}","item":{{}}}}"#)), None);
}

#[test]
fn key_order_does_not_matter() {
    let bodies = [
        format!(r#"{{"item":{{"id":"{TRACK_ID}","name":"a","type":"track"}}}}"#),
        format!(r#"{{"item":{{"type":"track","name":"a","id":"{TRACK_ID}"}}}}"#),
        format!(
            r#"{{"item":{{"id":"{TRACK_ID}","type":"track","name":"a"}},"currently_playing_type":"track"}}"#
        ),
    ];
    for body in &bodies {
        let np = parse(body);
        assert_eq!(np.id.as_deref(), Some(TRACK_ID), "{body}");
        assert_eq!(
            np.uri().as_deref(),
            Some("spotify:track:4uLU6hMCjMI75M1A2tKUQC")
        );
    }
    // An id before `type` is kept whatever the type turns out to be: the URI follows it.
    let body = format!(r#"{{"item":{{"id":"{EPISODE_ID}","type":"episode"}}}}"#);
    assert_eq!(
        uri(&body).as_deref(),
        Some("spotify:episode:512ojhOuo1ktJprKbVcKyQ")
    );
}

#[test]
fn duplicate_ids_last_one_wins() {
    let table: &[(&str, Option<&str>)] = &[
        (r#"{"item":{"id":"abc","id":"def"}}"#, Some("def")),
        (r#"{"item":{"id":"abc","id":null}}"#, None),
        (r#"{"item":{"id":"abc","id":"d-f"}}"#, None),
        (r#"{"item":{"id":"a-c","id":"def"}}"#, Some("def")),
        (r#"{"item":{"id":"abc"},"item":{"name":"x"}}"#, None),
        (r#"{"item":{"id":"abc"},"item":null}"#, None),
    ];
    for (body, want) in table {
        assert_eq!(id(body).as_deref(), *want, "{body}");
    }
}

#[test]
fn unknown_kinds_have_an_id_but_no_uri() {
    let np = parse(r#"{"currently_playing_type":"unknown","item":{"id":"abc"}}"#);
    assert_eq!(np.kind, Kind::Unknown);
    assert_eq!(np.id.as_deref(), Some("abc"));
    assert_eq!(np.uri(), None);
    let np = parse(r#"{"item":{"id":"abc","type":"audiobook"}}"#);
    assert_eq!((np.kind, np.uri()), (Kind::Unknown, None));
}

#[test]
fn fixtures_ids() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
    let read = |name: &str| std::fs::read_to_string(dir.join(name)).unwrap();
    let seed = parse(&read("seed_track.json"));
    assert_eq!(seed.id.as_deref(), Some("0MzEpCmK8RYpsQPkz4mzKy"));
    assert_eq!(
        seed.uri().as_deref(),
        Some("spotify:track:0MzEpCmK8RYpsQPkz4mzKy")
    );
    let ep = parse(&read("episode_long_escaped.json"));
    assert_eq!(
        (ep.kind, ep.uri().as_deref()),
        (Kind::Episode, Some("spotify:episode:e"))
    );
    assert_eq!(parse(&read("ad_item_null.json")).id, None);
}

#[test]
fn item_id_checks_the_whole_string() {
    let table: &[(&str, bool)] = &[
        (TRACK_ID, true),
        ("a", true),
        ("0", true),
        ("", false),
        (" abc", false),
        ("abc ", false),
        ("ab-c", false),
        ("\u{e9}", false),
        ("abcdefghijklmnopqrstuvwxyzABCDEF", true),
        ("abcdefghijklmnopqrstuvwxyzABCDEFG", false),
    ];
    for &(s, ok) in table {
        let want: Option<ItemId> = ok.then(|| ItemId::try_from(s).unwrap());
        assert_eq!(item_id(s), want, "{s:?}");
    }
}
