//! The playback-body parser on fixtures, the shared API corpus, generated bodies and
//! random documents, checked against a `serde_json` oracle in every chunking.

mod support;

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use support::oracle::{oracle, serde_rejects_valid_number};
use tonearm_core::json::{JsonErrorKind, MAX_DEPTH};
use tonearm_core::model::{ContextKind, Kind, NowPlaying, Repeat, TITLE_CAP};
use tonearm_core::{JsonError, NowPlayingParser};

fn parse_chunked(body: &[u8], chunk: usize) -> Result<NowPlaying, JsonError> {
    let mut p = NowPlayingParser::new();
    for c in body.chunks(chunk.max(1)) {
        p.feed(c)?;
    }
    p.finish()
}

/// Parses in every chunking the issue names and checks they all agree; returns the result.
fn parse_all_ways(body: &[u8]) -> Result<NowPlaying, JsonError> {
    let whole = parse_chunked(body, body.len());
    for chunk in [1, 2, 7, 64, 512] {
        assert_eq!(parse_chunked(body, chunk), whole, "chunks of {chunk}");
    }
    whole
}

fn fixture_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// The API corpus, as the build script found it (`build.rs`): the tests that read it are
/// ignored without it.
fn corpus_dir() -> PathBuf {
    match option_env!("TONEARM_CORPUS") {
        Some(dir) => PathBuf::from(dir),
        None => panic!("no API corpus was found when this test was built (see build.rs)"),
    }
}

fn json_files(dir: &Path) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    files
}

fn read(dir: &Path, name: &str) -> Vec<u8> {
    std::fs::read(dir.join(name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture(name: &str) -> NowPlaying {
    parse_all_ways(&read(&fixture_dir(), name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn corpus(name: &str) -> NowPlaying {
    parse_all_ways(&read(&corpus_dir(), name)).unwrap_or_else(|e| panic!("{name}: {e}"))
}

#[test]
fn every_fixture_body_matches_the_oracle_in_every_chunking() {
    bodies_match_the_oracle(json_files(&fixture_dir()));
}

#[test]
#[cfg_attr(
    not(tonearm_corpus),
    ignore = "needs the API corpus: ../shared/api-corpus beside this checkout, or TONEARM_SHARED=<folder holding api-corpus>"
)]
fn every_corpus_body_matches_the_oracle_in_every_chunking() {
    let corpus = json_files(&corpus_dir());
    assert_eq!(corpus.len(), 20, "the shared corpus has twenty bodies");
    bodies_match_the_oracle(corpus);
}

fn bodies_match_the_oracle(files: Vec<PathBuf>) {
    for path in files {
        let body = std::fs::read(&path).unwrap();
        let want = oracle(&body).unwrap_or_else(|| panic!("oracle rejects {}", path.display()));
        let got = parse_all_ways(&body).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        assert_eq!(got, want, "{}", path.display());
    }
}

#[test]
fn seed_body() {
    let np = fixture("seed_track.json");
    assert_eq!(np.kind, Kind::Track);
    assert!(np.is_playing);
    assert_eq!(np.progress_ms, Some(46_170));
    assert_eq!(np.duration_ms, Some(151_933));
    assert_eq!(np.timestamp, Some(1_677_716_564_187));
    assert_eq!(np.title.as_deref(), Some("Yume no Naka e"));
    assert_eq!(
        np.artists.iter().map(|a| a.as_str()).collect::<Vec<_>>(),
        ["Cherish"]
    );
    assert_eq!(np.album.as_deref(), Some("Best Collection '75"));
    assert_eq!(np.context, Some(ContextKind::Collection));
    assert!(np.disallows.resuming && !np.disallows.pausing);
    assert_eq!(np.images.len(), 3);
    assert_eq!(
        np.pick_image(64).map(|i| i.url.as_str()),
        Some("https://i.scdn.co/image/ab67616d00004851fce712500a4be6eaf874c20e")
    );
    assert_eq!(np.pick_image(300).and_then(|i| i.width), Some(300));
    assert!(!np.truncated && np.device.is_none() && np.shuffle.is_none());
    // The markets make no difference.
    assert_eq!(fixture("seed_no_markets.json"), np);
}

#[test]
fn fixture_table() {
    let ep = fixture("episode_long_escaped.json");
    assert_eq!(ep.kind, Kind::Episode);
    assert_eq!(
        ep.title.as_deref(),
        Some("Episode 12 \u{2014} The \u{201c}Long\u{201d} One")
    );
    assert_eq!(ep.show.as_deref(), Some("The Long Show"));
    assert_eq!(ep.publisher.as_deref(), Some("Long Media"));
    assert_eq!(ep.duration_ms, Some(7_200_000));
    assert_eq!(
        ep.images.first().map(|i| i.url.as_str()),
        Some("https://i.scdn.co/image/ep640")
    );
    assert_eq!(ep.show_images.len(), 1);
    assert!(ep.artists.is_empty() && ep.album.is_none() && !ep.truncated);

    let ad = fixture("ad_item_null.json");
    assert_eq!(ad.kind, Kind::Ad);
    assert!(ad.title.is_none() && ad.duration_ms.is_none() && ad.images.is_empty());
    let d = ad.disallows;
    assert!(d.resuming && d.seeking && d.skipping_next && d.skipping_prev && !d.pausing);

    let unk = fixture("unknown.json");
    assert_eq!(
        (unk.kind, unk.is_playing, unk.timestamp),
        (Kind::Unknown, false, Some(0))
    );

    let local = fixture("local_file.json");
    assert!(local.is_local);
    assert_eq!(local.title.as_deref(), Some("Garage demo (take 3)"));
    assert_eq!(local.album.as_deref(), Some(""));
    assert!(local.images.is_empty() && local.pick_image(64).is_none());

    let many = fixture("several_artists.json");
    assert_eq!(many.artists.len(), 6);
    assert_eq!(many.artists.last().map(|a| a.as_str()), Some("Zeta"));
    assert!(many.truncated, "8 artists do not fit 6");

    let paused = fixture("paused_track.json");
    assert!(!paused.is_playing && paused.disallows.pausing);

    let player = fixture("player_device_crlf.json");
    let device = player.device.as_ref().unwrap();
    assert_eq!(
        (
            device.name.as_str(),
            device.kind.as_str(),
            device.volume_percent
        ),
        ("Kitchen speaker", "Speaker", Some(42))
    );
    assert_eq!(
        (player.shuffle, player.repeat),
        (Some(true), Some(Repeat::Track))
    );
}

#[test]
fn unicode_titles_raw_and_escaped() {
    let table = [
        (
            "title_japanese_raw.json",
            "夢の中へ (リマスター)",
            "井上陽水",
        ),
        (
            "title_japanese_escaped.json",
            "夢の中へ (リマスター)",
            "井上陽水",
        ),
        ("title_chinese.json", "月亮代表我的心", "邓丽君"),
        ("title_cyrillic.json", "Группа крови", "Кино"),
        (
            "title_greek_escaped.json",
            "Τα παιδιά του Πειραιά",
            "Μελίνα Μερκούρη",
        ),
        ("title_korean.json", "밤편지", "아이유"),
        ("title_emoji_escaped.json", "Party 🎉🎶 Time 😀", "Cherish"),
        ("title_emoji_raw.json", "Party 🎉🎶 Time 😀", "Cherish"),
    ];
    for (file, title, artist) in table {
        let np = fixture(file);
        assert_eq!(np.title.as_deref(), Some(title), "{file}");
        assert_eq!(
            np.artists.first().map(|a| a.as_str()),
            Some(artist),
            "{file}"
        );
        assert!(!np.truncated, "{file}");
    }
}

#[test]
fn overlong_title_is_cut_at_a_char_boundary() {
    let body = read(&fixture_dir(), "title_overlong.json");
    let np = parse_all_ways(&body).unwrap();
    let title = np.title.as_deref().unwrap();
    assert_eq!(title.len(), TITLE_CAP);
    assert!(np.truncated);
    assert!(title.starts_with("An Extremely Long Title An Extremely"));
    // Multi-byte: 100 kanji (300 bytes) keep 85 whole characters.
    let kanji = "夢".repeat(100);
    let body = format!(r#"{{"item":{{"type":"track","name":"{kanji}"}}}}"#);
    let np = parse_all_ways(body.as_bytes()).unwrap();
    assert_eq!(np.title.as_deref(), Some("夢".repeat(85).as_str()));
    assert!(np.truncated);
}

/// The expected fields of each corpus body, beyond agreeing with the oracle.
#[test]
#[cfg_attr(
    not(tonearm_corpus),
    ignore = "needs the API corpus: ../shared/api-corpus beside this checkout, or TONEARM_SHARED=<folder holding api-corpus>"
)]
fn corpus_table() {
    type Row = (
        &'static str,
        Kind,
        Option<&'static str>,
        bool,
        Option<u64>,
        Option<&'static str>,
    );
    let table: &[Row] = &[
        (
            "dart_player_shuffle_artist_context_year_precision.json",
            Kind::Track,
            Some("The Shattered Fortress"),
            true,
            Some(174_611),
            Some("hbimbp"),
        ),
        (
            "docstring_currently_playing_episode_item_null.json",
            Kind::Episode,
            None,
            false,
            Some(3_372_619),
            None,
        ),
        (
            "issue1515_player_unknown_item_null_timestamp0.json",
            Kind::Unknown,
            None,
            true,
            Some(0),
            Some("######"),
        ),
        (
            "java_currently_playing_episode.json",
            Kind::Episode,
            Some("The Giant Beastcast: Episode 0"),
            true,
            Some(3_636_145),
            None,
        ),
        (
            "java_currently_playing_paused_context_null.json",
            Kind::Track,
            Some("Dancing Queen"),
            false,
            Some(78_810),
            None,
        ),
        (
            "java_player_episode_show_context.json",
            Kind::Episode,
            Some("The Giant Beastcast: Episode 210"),
            true,
            Some(1_625),
            Some("My fridge"),
        ),
        (
            "player_castvideo_empty_device_id.json",
            Kind::Track,
            Some("Hold the Line"),
            true,
            Some(72_640),
            Some("Living Room TV"),
        ),
        (
            "player_context_null_unicode_device.json",
            Kind::Track,
            Some("Calling My Phone"),
            true,
            Some(1_681),
            Some("Sean’s MacBook Pro"),
        ),
        (
            "pyspotify_currently_playing_track_artist_context.json",
            Kind::Track,
            Some("Witte Was"),
            true,
            Some(134_749),
            None,
        ),
        (
            "pyspotify_player_audiobook_as_episode_unicode.json",
            Kind::Episode,
            Some("Track 1"),
            true,
            Some(15_611),
            Some("Nothing phone (1)"),
        ),
        (
            "pyspotify_player_device_id_null_restricted_collection.json",
            Kind::Track,
            Some("Ome Robert"),
            true,
            Some(7_919),
            Some("Sonos Roam SL"),
        ),
        (
            "pyspotify_player_episode_html_description.json",
            Kind::Episode,
            Some("My Squirrel Has Brain Damage - Safety Third 119"),
            true,
            Some(5_410),
            Some("Sonos Roam SL"),
        ),
        (
            "pyspotify_player_local_file_null_ids_smart_shuffle.json",
            Kind::Track,
            Some("Coachella 2023"),
            true,
            Some(22_215),
            Some("Joost’s MacBook Pro"),
        ),
        (
            "pyspotify_player_speaker_user_playlist_uri.json",
            Kind::Track,
            Some("The Spirit Of Radio"),
            true,
            Some(249_367),
            Some("Master Bathroom Speaker"),
        ),
        (
            "readme_ad_item_null_disallows.json",
            Kind::Ad,
            None,
            true,
            Some(14_544),
            None,
        ),
        (
            "rspotify_currently_playing_linked_from.json",
            Kind::Track,
            Some("Playinwitme (feat. Kehlani)"),
            true,
            Some(22_270),
            None,
        ),
        (
            "rspotify_player_no_progress_ms.json",
            Kind::Track,
            Some("Playinwitme (feat. Kehlani)"),
            true,
            None,
            Some("Web Player (Firefox)"),
        ),
        (
            "swift_player_paused_repeat_context_escaped_slashes.json",
            Kind::Track,
            Some("Meet You in the Dark"),
            false,
            Some(28_514),
            Some("Peter’s MacBook Pro"),
        ),
        (
            "zmb3_currently_playing_paused.json",
            Kind::Track,
            Some("Bubbly"),
            false,
            Some(102_509),
            None,
        ),
        (
            "zmb3_player_state_paused_volume_null.json",
            Kind::Track,
            Some("Bubbly"),
            false,
            Some(102_509),
            Some("Pixel"),
        ),
    ];
    for &(file, kind, title, playing, progress, device) in table {
        let np = corpus(file);
        assert_eq!(np.kind, kind, "{file}");
        assert_eq!(np.title.as_deref(), title, "{file}");
        assert_eq!(np.is_playing, playing, "{file}");
        assert_eq!(np.progress_ms, progress, "{file}");
        assert_eq!(
            np.device.as_ref().map(|d| d.name.as_str()),
            device,
            "{file}"
        );
        assert!(!np.truncated, "{file}");
    }
}

#[test]
#[cfg_attr(
    not(tonearm_corpus),
    ignore = "needs the API corpus: ../shared/api-corpus beside this checkout, or TONEARM_SHARED=<folder holding api-corpus>"
)]
fn corpus_details() {
    let local = corpus("pyspotify_player_local_file_null_ids_smart_shuffle.json");
    assert!(local.is_local && local.images.is_empty());
    let zmb3 = corpus("zmb3_player_state_paused_volume_null.json");
    assert_eq!(zmb3.device.as_ref().unwrap().volume_percent, None);
    assert!(!zmb3.device.as_ref().unwrap().is_restricted);
    let sonos = corpus("pyspotify_player_device_id_null_restricted_collection.json");
    assert!(
        sonos.device.as_ref().unwrap().is_restricted,
        "Sonos: is_restricted true"
    );
    let swift = corpus("swift_player_paused_repeat_context_escaped_slashes.json");
    assert_eq!(swift.repeat, Some(Repeat::Context));
    assert!(swift.disallows.pausing);
    assert!(
        swift
            .images
            .iter()
            .all(|i| i.url.starts_with("https://i.scdn.co/image/")),
        "\\/ unescaped"
    );
    let dart = corpus("dart_player_shuffle_artist_context_year_precision.json");
    assert_eq!(
        (dart.shuffle, dart.context),
        (Some(true), Some(ContextKind::Artist))
    );
    let audiobook = corpus("pyspotify_player_audiobook_as_episode_unicode.json");
    assert!(audiobook.show.is_some());
    let ep = corpus("docstring_currently_playing_episode_item_null.json");
    assert!(ep.title.is_none() && ep.disallows.pausing);
}

// ---------------------------------------------------------------------------------------
// Generated bodies.

#[test]
fn huge_unknown_field_is_skipped() {
    let mut body = Vec::from(&b"{\"item\":{\"type\":\"track\",\"junk\":\""[..]);
    body.extend(std::iter::repeat_n(b'x', 1 << 20));
    body.extend(b"\\n\\u00e9\",\"more\":[");
    for i in 0..50_000 {
        body.extend(format!("{{\"a\":[{i},true,null,\"s\"]}},").as_bytes());
    }
    body.extend(b"{}],\"name\":\"After the junk\"}}");
    let np = parse_all_ways(&body).unwrap();
    assert_eq!(np.title.as_deref(), Some("After the junk"));
    assert_eq!(oracle(&body), Some(np));
}

#[test]
fn nesting_cap() {
    let nested = |n: usize| {
        let mut s = String::from("{\"deep\":");
        s.push_str(&"[".repeat(n - 1));
        s.push_str(&"]".repeat(n - 1));
        s.push_str(",\"item\":{\"name\":\"x\"}}");
        s.into_bytes()
    };
    let max = usize::from(MAX_DEPTH);
    assert_eq!(
        parse_all_ways(&nested(max)).unwrap().title.as_deref(),
        Some("x")
    );
    assert_eq!(
        parse_all_ways(&nested(max + 1)).unwrap_err().kind,
        JsonErrorKind::TooDeep
    );
    assert_eq!(
        parse_all_ways(&nested(10_000)).unwrap_err().kind,
        JsonErrorKind::TooDeep
    );
}

#[test]
fn every_truncation_of_a_body_is_an_error_at_its_end() {
    let body = read(&fixture_dir(), "seed_no_markets.json");
    let end = body.iter().rposition(|b| *b == b'}').unwrap();
    for len in 0..=end {
        let err = parse_chunked(&body[..len], 7).unwrap_err();
        assert_eq!(
            err,
            JsonError {
                kind: JsonErrorKind::UnexpectedEnd,
                offset: len
            },
            "prefix {len}"
        );
    }
}

#[test]
fn malformed_variants_name_the_offset() {
    let seed = String::from_utf8(read(&fixture_dir(), "seed_no_markets.json")).unwrap();
    let at = |needle: &str| seed.find(needle).unwrap();
    let table: Vec<(String, JsonErrorKind, usize)> = vec![
        (
            seed.replacen("\"is_playing\": true", "\"is_playing\": tru", 1),
            JsonErrorKind::UnexpectedByte,
            at("\"is_playing\": true") + 17,
        ),
        (
            seed.replacen("\"duration_ms\": 151933", "\"duration_ms\": 0151933", 1),
            JsonErrorKind::InvalidNumber,
            at("\"duration_ms\": 151933") + 16,
        ),
        (
            seed.replacen("\"name\": \"Yume", "\"name\": \"\\qYume", 1),
            JsonErrorKind::InvalidEscape,
            at("\"name\": \"Yume") + 10,
        ),
        (
            seed.replacen("\"name\": \"Yume", "\"name\": \"\\udc00Yume", 1),
            JsonErrorKind::LoneSurrogate,
            at("\"name\": \"Yume") + 14,
        ),
        (
            format!("{}garbage", seed.trim_end()),
            JsonErrorKind::TrailingData,
            seed.trim_end().len(),
        ),
        (
            seed.replacen("\"timestamp\": ", "\"timestamp\" ", 1),
            JsonErrorKind::UnexpectedByte,
            at("\"timestamp\": ") + 12,
        ),
    ];
    for (body, kind, offset) in table {
        assert_eq!(
            parse_all_ways(body.as_bytes()),
            Err(JsonError { kind, offset })
        );
        assert!(oracle(body.as_bytes()).is_none());
    }
    let mut bad_utf8 = seed.clone().into_bytes();
    let i = at("Yume") + 1;
    bad_utf8[i] = 0xFF;
    assert_eq!(
        parse_all_ways(&bad_utf8),
        Err(JsonError {
            kind: JsonErrorKind::InvalidUtf8,
            offset: i
        })
    );
}

#[test]
fn the_parser_is_reusable_and_its_size_is_constant() {
    let mut p = NowPlayingParser::new();
    let a = read(&fixture_dir(), "seed_track.json");
    let b = read(&fixture_dir(), "ad_item_null.json");
    for body in [&a, &b, &a] {
        for c in body.chunks(100) {
            p.feed(c).unwrap();
        }
        assert_eq!(Some(p.finish().unwrap()), oracle(body));
    }
    assert!(p.feed(b"nope").is_err());
    assert!(p.finish().is_err());
    assert!(p.is_blank(), "finish resets, even after an error");
    let size = size_of::<NowPlayingParser>();
    assert!(size < 6 * 1024, "parser state is {size} bytes");
}

#[test]
fn duplicate_keys_last_one_wins() {
    let table: &[&str] = &[
        r#"{"item":{"name":"a","name":"b"}}"#,
        r#"{"item":{"name":"a"},"item":null}"#,
        r#"{"item":{"name":"a","name":5}}"#,
        r#"{"device":{"name":"a"},"device":{"type":"TV"}}"#,
        r#"{"is_playing":true,"is_playing":"yes"}"#,
        r#"{"item":{"artists":[{"name":"a","name":null},{"name":"b"}]}}"#,
        r#"{"item":{"type":"episode","images":[{"url":"u","url":1}],"show":{"images":[{"url":"s"}]}}}"#,
        r#"{"currently_playing_type":"track","currently_playing_type":null,"item":{"type":"episode"}}"#,
    ];
    for body in table {
        assert_eq!(
            parse_all_ways(body.as_bytes()).ok(),
            oracle(body.as_bytes()),
            "{body}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Property tests: random documents with the API's shape, random whitespace, escapes,
// unknown fields and chunking.

fn ws() -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop::sample::select(vec![" ", "\n", "\r\n", "\t", ""]),
        0..3,
    )
    .prop_map(|v| v.concat())
}

/// A string literal with escapes of every kind.
fn string_lit() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        "[a-zA-Z0-9 '()-]{0,12}",
        "[\u{e9}\u{fc}\u{65e5}\u{672c}\u{0416}\u{03a9}\u{d55c}\u{1f600}]{0,4}",
        prop::sample::select(vec![
            "\\\"",
            "\\\\",
            "\\/",
            "\\n",
            "\\t",
            "\\b",
            "\\f",
            "\\r",
            "\\u00e9",
            "\\u65E5",
            "\\ud83d\\ude00",
            "\\u0000",
            "\\u2019",
        ])
        .prop_map(String::from),
    ];
    prop::collection::vec(piece, 0..6).prop_map(|v| format!("\"{}\"", v.concat()))
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        string_lit(),
        any::<u64>().prop_map(|n| n.to_string()),
        (0u32..100_000).prop_map(|n| n.to_string()),
        Just("-12".to_string()),
        Just("1.5e3".to_string()),
        Just("640.0".to_string()),
        Just("true".to_string()),
        Just("false".to_string()),
        Just("null".to_string()),
    ]
}

/// Any JSON value (for unknown fields), a few levels deep.
fn value() -> impl Strategy<Value = String> {
    scalar().prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(","))),
            prop::collection::vec(("[a-z_]{1,10}", inner), 0..4).prop_map(|v| {
                let fields: Vec<String> =
                    v.into_iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
                format!("{{{}}}", fields.join(","))
            }),
        ]
    })
}

fn object(fields: Vec<(String, String)>, ws: String) -> String {
    let fields: Vec<String> = fields
        .into_iter()
        .map(|(k, v)| format!("{ws}\"{k}\"{ws}:{ws}{v}"))
        .collect();
    format!("{{{}{ws}}}", fields.join(","))
}

/// A field known at this level (sometimes of the wrong type), or an unknown one.
fn field(
    known: Vec<(&'static str, BoxedStrategy<String>)>,
) -> impl Strategy<Value = (String, String)> {
    let known: Vec<BoxedStrategy<(String, String)>> = known
        .into_iter()
        .map(|(k, v)| {
            prop_oneof![4 => v, 1 => scalar()]
                .prop_map(move |v| (k.to_string(), v))
                .boxed()
        })
        .collect();
    prop_oneof![
        3 => prop::strategy::Union::new(known),
        1 => ("[a-z_]{1,12}", value()),
    ]
}

fn obj_of(known: Vec<(&'static str, BoxedStrategy<String>)>, max: usize) -> BoxedStrategy<String> {
    (prop::collection::vec(field(known), 0..max), ws())
        .prop_map(|(f, w)| object(f, w))
        .boxed()
}

fn image() -> BoxedStrategy<String> {
    let dim = prop_oneof![
        (0u32..1000).prop_map(|n| n.to_string()),
        Just("null".to_string())
    ]
    .boxed();
    obj_of(
        vec![
            ("url", string_lit().boxed()),
            ("width", dim.clone()),
            ("height", dim),
        ],
        4,
    )
}

fn list(of: BoxedStrategy<String>, max: usize) -> BoxedStrategy<String> {
    prop::collection::vec(of, 0..max)
        .prop_map(|v| format!("[{}]", v.join(",")))
        .boxed()
}

fn document() -> impl Strategy<Value = String> {
    let kind = prop::sample::select(vec![
        "\"track\"",
        "\"episode\"",
        "\"ad\"",
        "\"unknown\"",
        "\"x\"",
    ])
    .prop_map(String::from)
    .boxed();
    let boolean = prop::sample::select(vec!["true", "false", "null"])
        .prop_map(String::from)
        .boxed();
    let num = (0u64..10_000_000).prop_map(|n| n.to_string()).boxed();
    let artist = obj_of(vec![("name", string_lit().boxed())], 3);
    let album = obj_of(
        vec![("name", string_lit().boxed()), ("images", list(image(), 6))],
        4,
    );
    let show = obj_of(
        vec![
            ("name", string_lit().boxed()),
            ("publisher", string_lit().boxed()),
            ("images", list(image(), 3)),
        ],
        5,
    );
    let item = obj_of(
        vec![
            ("type", kind.clone()),
            ("name", string_lit().boxed()),
            ("duration_ms", num.clone()),
            ("is_local", boolean.clone()),
            ("artists", list(artist, 8)),
            ("album", album),
            ("images", list(image(), 5)),
            ("show", show),
        ],
        10,
    );
    let flags = obj_of(
        [
            "pausing",
            "resuming",
            "skipping_next",
            "skipping_prev",
            "seeking",
            "toggling_shuffle",
        ]
        .into_iter()
        .map(|k| (k, boolean.clone()))
        .collect(),
        6,
    );
    let actions = obj_of(vec![("disallows", flags)], 2);
    let device = obj_of(
        vec![
            ("name", string_lit().boxed()),
            ("type", string_lit().boxed()),
            (
                "volume_percent",
                (0u64..130).prop_map(|n| n.to_string()).boxed(),
            ),
        ],
        4,
    );
    let context = obj_of(
        vec![(
            "type",
            prop::sample::select(vec![
                "\"album\"",
                "\"playlist\"",
                "\"show\"",
                "\"collection\"",
                "\"x\"",
            ])
            .prop_map(String::from)
            .boxed(),
        )],
        3,
    );
    let repeat = prop::sample::select(vec!["\"off\"", "\"track\"", "\"context\"", "\"other\""])
        .prop_map(String::from)
        .boxed();
    obj_of(
        vec![
            ("timestamp", num.clone()),
            ("progress_ms", num),
            ("is_playing", boolean.clone()),
            ("currently_playing_type", kind),
            ("item", item),
            ("context", context),
            ("actions", actions),
            ("device", device),
            ("shuffle_state", boolean),
            ("repeat_state", repeat),
        ],
        14,
    )
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|s| s.parse().ok()).unwrap_or(512),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_documents_agree_with_the_oracle(doc in document(), cuts in prop::collection::vec(1usize..64, 1..8)) {
        let body = doc.as_bytes();
        let want = oracle(body);
        prop_assert!(want.is_some(), "generator made invalid JSON: {}", doc);
        // Feed in an irregular chunking.
        let mut p = NowPlayingParser::new();
        let mut rest = body;
        let mut i = 0;
        while !rest.is_empty() {
            let n = cuts[i % cuts.len()].min(rest.len());
            p.feed(&rest[..n]).unwrap();
            rest = &rest[n..];
            i += 1;
        }
        prop_assert_eq!(p.finish().ok(), want);
    }

    #[test]
    fn mangled_documents_never_panic_and_agree_on_validity(
        doc in document(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
        chunk in 1usize..40,
    ) {
        let mut body = doc.into_bytes();
        for (at, byte) in edits {
            let i = at.index(body.len());
            body[i] = byte;
        }
        prop_assume!(!serde_rejects_valid_number(&body));
        let got = parse_chunked(&body, chunk);
        prop_assert_eq!(got.ok(), oracle(&body));
    }
}
