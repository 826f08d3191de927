//! The queue-body parser (`/me/player/queue`): a realistic twenty-item body in every
//! chunking, checked against `serde_json`; empty and missing parts; episodes; long, null
//! and escaped names; key order; malformed and truncated bodies; its size.

mod queue_support;

use queue_support::{
    CURRENT, ESCAPED_ARTIST, ESCAPED_NAME, episode, pretty, queue_body, realistic_queue, track,
    track_id,
};
use serde_json::Value;
use tonearm_core::json::JsonErrorKind;
use tonearm_core::model::{Kind, NAME_CAP, TITLE_CAP, item_id};
use tonearm_core::parse::{QueueHead, QueueParser, QueuedItem, UPCOMING_IDS};
use tonearm_core::{JsonError, NowPlayingParser};

fn parse_chunked(body: &[u8], chunk: usize) -> Result<QueueHead, JsonError> {
    let mut p = QueueParser::new();
    for c in body.chunks(chunk.max(1)) {
        p.feed(c)?;
    }
    p.finish()
}

/// Parses whole, byte by byte and in chunks of 7 and 1000 bytes, checks that all four
/// agree, and returns the result.
fn parse_all_ways(body: &str) -> Result<QueueHead, JsonError> {
    let body = body.as_bytes();
    let whole = parse_chunked(body, body.len());
    for chunk in [1, 7, 1000] {
        assert_eq!(parse_chunked(body, chunk), whole, "chunks of {chunk}");
    }
    whole
}

fn parse(body: &str) -> QueueHead {
    parse_all_ways(body).unwrap_or_else(|e| panic!("{e}: {body}"))
}

fn item(kind: Kind, title: &str, by: &str) -> QueuedItem {
    QueuedItem {
        kind,
        title: title.try_into().unwrap(),
        by: by.try_into().unwrap(),
    }
}

/// What the parser must find, the obvious way on `serde_json::Value` (for bodies whose
/// strings fit their caps).
fn expected(body: &str) -> QueueHead {
    let v: Value = serde_json::from_str(body).unwrap();
    let current_id = v["currently_playing"]["id"]
        .as_str()
        .map(|s| s.try_into().unwrap());
    let head = &v["queue"][0];
    let kind = match head["type"].as_str() {
        Some("track") => Kind::Track,
        Some("episode") => Kind::Episode,
        _ => Kind::Unknown,
    };
    let by = match kind {
        Kind::Episode => head["show"]["name"].as_str(),
        _ => head["artists"][0]["name"].as_str(),
    };
    // The first queued tracks' and episodes' ids, as the library is asked about them.
    let upcoming = v["queue"]
        .as_array()
        .into_iter()
        .flatten()
        .take(UPCOMING_IDS)
        .filter_map(|e| {
            let kind = match e["type"].as_str() {
                Some("track") => Kind::Track,
                Some("episode") => Kind::Episode,
                _ => return None,
            };
            Some((kind, item_id(e["id"].as_str()?)?))
        })
        .collect();
    QueueHead {
        current_id,
        next: head["name"]
            .as_str()
            .map(|title| item(kind, title, by.unwrap_or(""))),
        upcoming,
    }
}

#[test]
fn realistic_body_in_every_chunking() {
    let compact = realistic_queue();
    let body = pretty(&compact);
    assert!(
        (50_000..=150_000).contains(&body.len()),
        "a queue body of 20 full items is 50 to 100 KB, this one {}",
        body.len()
    );
    assert_eq!(
        serde_json::from_str::<Value>(&body).unwrap(),
        serde_json::from_str::<Value>(&compact).unwrap(),
        "pretty printing changes nothing"
    );
    let head = parse(&body);
    assert_eq!(head, expected(&body));
    assert_eq!(head.current_id.as_deref(), Some(track_id(CURRENT).as_str()));
    assert_eq!(
        head.next,
        Some(item(Kind::Track, ESCAPED_NAME.1, ESCAPED_ARTIST.1))
    );
    assert_eq!(parse(&compact), head);
}

#[test]
fn empty_queue() {
    let current = track(1, "Playing", &["Band"]);
    let head = parse(&queue_body(&current, &[]));
    assert_eq!(head.current_id.as_deref(), Some(track_id(1).as_str()));
    assert_eq!(head.next, None);
    // Spotify's answer when nothing plays.
    assert_eq!(
        parse(&pretty(r#"{"currently_playing":null,"queue":[]}"#)),
        QueueHead::default()
    );
}

#[test]
fn nothing_playing() {
    let queue = [track(2, "Next", &["Band"]), track(3, "After", &["Other"])];
    let head = parse(&pretty(&queue_body("null", &queue)));
    assert_eq!(head.current_id, None);
    assert_eq!(head.next, Some(item(Kind::Track, "Next", "Band")));
}

#[test]
fn an_episode_first_is_by_its_show() {
    let queue = [
        episode(4, "Episode 4: \\u00c9t\\u00e9", "The Daily Listen"),
        track(5, "Song", &["Band"]),
    ];
    let body = pretty(&queue_body(&track(1, "Now", &["A"]), &queue));
    let head = parse(&body);
    assert_eq!(
        head.next,
        Some(item(Kind::Episode, "Episode 4: Été", "The Daily Listen"))
    );
    assert_eq!(head, expected(&body));
    // The show's name, not its publisher's, wherever the keys stand.
    let head = parse(
        r#"{"queue":[{"show":{"publisher":"P","name":"S","id":"x"},"name":"E","type":"episode"}]}"#,
    );
    assert_eq!(head.next, Some(item(Kind::Episode, "E", "S")));
    // An episode playing: its id is the current one.
    let head = parse(&queue_body(&episode(6, "Now", "Show"), &[]));
    assert_eq!(head.current_id.as_deref(), Some(track_id(6).as_str()));
}

#[test]
fn a_first_item_without_a_name_is_no_next() {
    let named = track(8, "Second", &["Band"]);
    for first in [
        r#"{"type":"track","name":null,"artists":[{"name":"A"}]}"#,
        r#"{"type":"track","artists":[{"name":"A"}]}"#,
        r#"{"type":"track","name":7,"artists":[{"name":"A"}]}"#,
        r#"{"type":"track","name":["x"],"artists":[{"name":"A"}]}"#,
        "null",
        r#""a string""#,
        "[]",
        "42",
    ] {
        let body = format!(r#"{{"currently_playing":null,"queue":[{first},{named}]}}"#);
        assert_eq!(parse(&body).next, None, "{first}");
    }
    // An empty name is a name.
    let head = parse(r#"{"queue":[{"name":"","type":"track"}]}"#);
    assert_eq!(head.next, Some(item(Kind::Track, "", "")));
}

#[test]
fn long_names_are_cut_at_a_character_boundary() {
    let title = "夢".repeat(1000) + "end";
    let artist = "é".repeat(500);
    let show = "x".repeat(10_000);
    for (first, by) in [
        (track(9, &title, &[artist.as_str(), "Second"]), &artist),
        (episode(9, &title, &show), &show),
    ] {
        let body = queue_body("null", &[first, track(10, "Next", &["B"])]);
        let next = parse(&body).next.unwrap();
        assert_eq!(next.title.as_str(), "夢".repeat(TITLE_CAP / 3).as_str());
        assert!(title.starts_with(next.title.as_str()));
        assert!(next.title.len() <= TITLE_CAP && next.by.len() <= NAME_CAP);
        assert!(by.starts_with(next.by.as_str()));
        assert_eq!(next.by.len(), NAME_CAP);
    }
    // Made of escapes, cut in the middle of one.
    let escaped = "\\u00e9\\n\\\"".repeat(300);
    let body = format!(r#"{{"queue":[{{"name":"{escaped}"}}]}}"#);
    let next = parse(&body).next.unwrap();
    assert_eq!(
        next.title.as_str(),
        "é\n\"".repeat(300).get(..TITLE_CAP).unwrap()
    );
}

#[test]
fn truncated_bodies_are_errors() {
    let body = pretty(&realistic_queue());
    // Every cut would take minutes in a debug build: every 997th byte and the last 64.
    let cuts = (0..body.len())
        .step_by(997)
        .chain(body.len().saturating_sub(64)..body.len());
    for cut in cuts {
        // The body ends with its `}`: every proper prefix is cut short.
        let got = parse_all_ways(&body[..cut]);
        assert_eq!(
            got,
            Err(JsonError {
                kind: JsonErrorKind::UnexpectedEnd,
                offset: cut
            }),
            "cut at {cut}"
        );
    }
    assert!(parse_all_ways("").is_err());
}

#[test]
fn malformed_json_is_an_error_even_where_skipped() {
    let good = track(1, "Song", &["Band"]);
    let table: &[(&str, JsonErrorKind)] = &[
        // Inside a later queue element (skipped unread, still validated).
        (r#"{"name":tru}"#, JsonErrorKind::UnexpectedByte),
        (r#"{"name":"a\x"}"#, JsonErrorKind::InvalidEscape),
        (r#"{"markets":["AD" "AE"]}"#, JsonErrorKind::UnexpectedByte),
        (r#"{"n":01}"#, JsonErrorKind::InvalidNumber),
        (r#"{"a":[}"#, JsonErrorKind::UnexpectedByte),
    ];
    for (bad, kind) in table {
        let body = format!(r#"{{"currently_playing":null,"queue":[{good},{bad}]}}"#);
        let got = parse_all_ways(&body).map_err(|e| e.kind);
        assert_eq!(got, Err(*kind), "{bad}");
    }
    for body in [
        "[]",
        r#"{"queue":[{"name":"a"}]"#,
        r#"{"queue":[{"name":"a"}]}}"#,
        r#"{"queue":[{"name":"a"},]}"#,
        r#"{"queue" [{"name":"a"}]}"#,
    ] {
        assert!(parse_all_ways(body).is_err(), "{body}");
    }
    // Nesting deeper than the tokenizer allows, in a later element.
    let deep = format!(
        r#"{{"queue":[{{"name":"a"}},{}1{}]}}"#,
        "[".repeat(80),
        "]".repeat(80)
    );
    assert_eq!(
        parse_all_ways(&deep).map_err(|e| e.kind),
        Err(JsonErrorKind::TooDeep)
    );
}

#[test]
fn key_order_does_not_matter() {
    let want = QueueHead {
        current_id: Some("abc123".try_into().unwrap()),
        next: Some(item(Kind::Track, "Title", "First")),
        upcoming: heapless::Vec::new(),
    };
    for body in [
        r#"{"currently_playing":{"id":"abc123"},"queue":[{"type":"track","name":"Title","artists":[{"name":"First"},{"name":"Second"}]}]}"#,
        r#"{"queue":[{"type":"track","name":"Title","artists":[{"name":"First"}]}],"currently_playing":{"id":"abc123"}}"#,
        r#"{"queue":[{"artists":[{"id":"zz","name":"First"}],"name":"Title","type":"track"}],"currently_playing":{"name":"x","id":"abc123","type":"track"}}"#,
        r#"{"queue":[{"name":"Title","album":{"name":"Al","artists":[{"name":"Album artist"}]},"artists":[{"name":"First"}],"type":"track"}],"currently_playing":{"artists":[{"id":"notme"}],"album":{"id":"norme"},"id":"abc123"}}"#,
    ] {
        assert_eq!(parse(body), want, "{body}");
    }
    // The type last decides whose name is `by`, also when both are there.
    let body =
        r#"{"queue":[{"name":"E","artists":[{"name":"A"}],"show":{"name":"S"},"type":"episode"}]}"#;
    assert_eq!(parse(body).next, Some(item(Kind::Episode, "E", "S")));
    let body =
        r#"{"queue":[{"show":{"name":"S"},"name":"T","artists":[{"name":"A"}],"type":"track"}]}"#;
    assert_eq!(parse(body).next, Some(item(Kind::Track, "T", "A")));
}

#[test]
fn only_the_first_artist_of_the_first_item_counts() {
    let table: &[(&str, &str)] = &[
        (r#"[{"name":"A"},{"name":"B"}]"#, "A"),
        (r#"[{"name":null},{"name":"B"}]"#, ""),
        (r#"[{"id":"x"},{"name":"B"}]"#, ""),
        (r#"[null,{"name":"B"}]"#, ""),
        ("[]", ""),
        ("null", ""),
        (r#"{"name":"A"}"#, ""),
        (r#"[{"name":"A","name":"A2"}]"#, "A2"),
        (r#"[{"name":"A","name":null}]"#, ""),
    ];
    for (artists, by) in table {
        let body = format!(r#"{{"queue":[{{"type":"track","name":"T","artists":{artists}}}]}}"#);
        assert_eq!(
            parse(&body).next,
            Some(item(Kind::Track, "T", by)),
            "{artists}"
        );
    }
    // The album's artists are not the track's.
    let body = r#"{"queue":[{"type":"track","name":"T","album":{"artists":[{"name":"Album"}]}}]}"#;
    assert_eq!(parse(body).next, Some(item(Kind::Track, "T", "")));
}

#[test]
fn unknown_keys_nulls_and_missing_fields_are_not_errors() {
    let table: &[(&str, QueueHead)] = &[
        ("{}", QueueHead::default()),
        (
            r#"{"queue":null,"currently_playing":null}"#,
            QueueHead::default(),
        ),
        (
            r#"{"queue":{"name":"x"},"currently_playing":[]}"#,
            QueueHead::default(),
        ),
        (
            r#"{"currently_playing":{},"queue":[{}]}"#,
            QueueHead::default(),
        ),
        (
            r#"{"x":[{"queue":[{"name":"no"}]}],"queue":[{"name":"yes","type":null,"artists":null,"show":null,"extra":{"name":"z"}}],"y":{"currently_playing":{"id":"no"}}}"#,
            QueueHead {
                current_id: None,
                next: Some(item(Kind::Unknown, "yes", "")),
                upcoming: heapless::Vec::new(),
            },
        ),
        (
            r#"{"queue":[{"name":"c","type":"chapter","show":{"name":"Book"}}]}"#,
            QueueHead {
                current_id: None,
                next: Some(item(Kind::Unknown, "c", "Book")),
                upcoming: heapless::Vec::new(),
            },
        ),
        (
            r#"{"queue":[{"name":"a","type":"ad"}]}"#,
            QueueHead {
                current_id: None,
                next: Some(item(Kind::Ad, "a", "")),
                upcoming: heapless::Vec::new(),
            },
        ),
    ];
    for (body, want) in table {
        assert_eq!(&parse(body), want, "{body}");
    }
}

#[test]
fn the_current_id_is_checked_like_the_players() {
    let table: &[(&str, Option<&str>)] = &[
        (
            r#"{"id":"4uLU6hMCjMI75M1A2tKUQC"}"#,
            Some("4uLU6hMCjMI75M1A2tKUQC"),
        ),
        (r#"{"id":null}"#, None),
        (r#"{"id":5}"#, None),
        (r#"{"id":""}"#, None),
        (r#"{"id":"4uLU6hMCjMI75M1A2tKU-C"}"#, None),
        (r#"{"id":"4uLU6hMCjMI75M1A2tKUQ\u00e9"}"#, None),
        (
            r#"{"id":"abcdefghijklmnopqrstuvwxyzABCDEF"}"#,
            Some("abcdefghijklmnopqrstuvwxyzABCDEF"),
        ),
        (r#"{"id":"abcdefghijklmnopqrstuvwxyzABCDEFG"}"#, None),
        (r#"{"id":"abc","is_local":true}"#, None),
        (r#"{"is_local":true,"id":"abc"}"#, None),
        (r#"{"is_local":false,"id":"abc"}"#, Some("abc")),
        (r#"{"id":"abc","id":"def"}"#, Some("def")),
        (r#"{"id":"abc","id":null}"#, None),
        (
            r#"{"album":{"id":"abc"},"artists":[{"id":"def"}],"linked_from":{"id":"ghi"}}"#,
            None,
        ),
    ];
    for (current, want) in table {
        let body =
            format!(r#"{{"currently_playing":{current},"queue":[{{"id":"queued","name":"n"}}]}}"#);
        assert_eq!(parse(&body).current_id.as_deref(), *want, "{current}");
    }
    // A duplicate `currently_playing` replaces the first.
    let body = r#"{"currently_playing":{"id":"abc"},"currently_playing":null}"#;
    assert_eq!(parse(body).current_id, None);
}

#[test]
fn duplicate_queues_last_one_wins() {
    let body = r#"{"queue":[{"name":"a","type":"track","artists":[{"name":"A"}]}],"queue":[]}"#;
    assert_eq!(parse(body).next, None);
    let body =
        r#"{"queue":[{"name":"a","type":"track"}],"queue":[{"name":"b","show":{"name":"S"}}]}"#;
    assert_eq!(parse(body).next, Some(item(Kind::Unknown, "b", "S")));
    let body = r#"{"queue":[{"name":"a","name":"b","type":"episode","type":"track"}]}"#;
    assert_eq!(parse(body).next, Some(item(Kind::Track, "b", "")));
}

#[test]
fn one_parser_serves_many_bodies() {
    let realistic = pretty(&realistic_queue());
    let small = r#"{"currently_playing":{"id":"abc"},"queue":[{"name":"n","type":"track"}]}"#;
    let mut p = QueueParser::new();
    for body in [realistic.as_str(), small, realistic.as_str(), "{}"] {
        for c in body.as_bytes().chunks(512) {
            p.feed(c).unwrap();
        }
        assert_eq!(
            p.finish().unwrap(),
            expected(body),
            "{}",
            &body[..40.min(body.len())]
        );
    }
    assert!(p.feed(b"{\"queue\":[}").is_err());
    assert!(p.finish().is_err());
    assert!(p.is_blank(), "finish resets, even after an error");
    p.feed(small.as_bytes()).unwrap();
    assert_eq!(p.finish().unwrap(), expected(small));
}

#[test]
fn the_queue_parser_is_smaller_than_the_player_parser() {
    assert!(size_of::<QueueParser>() < size_of::<NowPlayingParser>());
}

/// The ids of the first queued tracks and episodes come along, in order; other kinds,
/// invalid ids and the ones past [`UPCOMING_IDS`] do not.
#[test]
fn the_first_queued_ids_come_along() {
    let body = r#"{"currently_playing":{"id":"cur"},"queue":[
        {"id":"a1","type":"track","name":"A","artists":[{"id":"notme","name":"X"}],"album":{"id":"norme"},"show":{}},
        {"type":"episode","name":"B","id":"b2","show":{"id":"showid"}},
        {"id":"bad-id","type":"track"},
        {"id":"ad1","type":"ad"},
        {"id":"late","type":"track"}]}"#;
    let head = parse(body);
    let ids: Vec<(Kind, &str)> = head
        .upcoming
        .iter()
        .map(|(k, i)| (*k, i.as_str()))
        .collect();
    assert_eq!(ids, [(Kind::Track, "a1"), (Kind::Episode, "b2")]);
    assert_eq!(head.next.unwrap().title.as_str(), "A");
}
