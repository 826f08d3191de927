//! Golden images: every screen on every display profile, compared pixel-exactly with the
//! PNGs under `tests/golden/<display>/<case>.png`.
//!
//! A missing golden fails. Regenerate them only with `TONEARM_BLESS=1 cargo test -p
//! tonearm-tests --test integration golden`, and look at every one before committing.

use std::path::{Path, PathBuf};

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565, Rgb888};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use embedded_graphics_simulator::{OutputSettings, SimulatorDisplay};
use tonearm_core::text::bounded;
use tonearm_core::{Device, Kind, NowPlaying, Repeat};
use tonearm_firmware::{
    BandRenderer, ChecksumColor, ClockTime, DrawTargetSink, Frame, Notice, Palette, Profile,
    Screen, ViewModel, checksum_pixels, frame_checksum,
};

fn golden_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("golden")
}

fn track(title: &str, artists: &[&str], album: &str) -> NowPlaying {
    let mut np = NowPlaying {
        kind: Kind::Track,
        is_playing: true,
        progress_ms: Some(46_170),
        duration_ms: Some(151_933),
        title: Some(bounded(title).0),
        album: Some(bounded(album).0),
        ..Default::default()
    };
    for a in artists {
        let _ = np.artists.push(bounded(a).0);
    }
    np
}

fn with_player(mut np: NowPlaying) -> NowPlaying {
    np.device = Some(Device {
        name: bounded("Kitchen speaker").0,
        kind: bounded("Speaker").0,
        volume_percent: Some(60),
        is_restricted: false,
        volume_fixed: false,
    });
    np.shuffle = Some(true);
    np.repeat = Some(Repeat::Context);
    np
}

fn vm(np: &NowPlaying) -> ViewModel {
    ViewModel::from_now_playing(np, np.progress_ms.unwrap_or(0))
}

/// Every golden case: a file name (its screen first) and the view model.
fn cases() -> Vec<(&'static str, ViewModel)> {
    let main = with_player(track(
        "Café Tacvba",
        &["Los Ángeles Azules", "Natalia Lafourcade"],
        "De Plaza en Plaza",
    ));
    let mut paused = main.clone();
    paused.is_playing = false;
    let mut episode = NowPlaying {
        kind: Kind::Episode,
        is_playing: true,
        progress_ms: Some(2_760_000),
        duration_ms: Some(7_200_000),
        title: Some(bounded("#212 – The History of the Tonearm, Part 2").0),
        show: Some(bounded("Vinyl Hours").0),
        publisher: Some(bounded("Groove Media").0),
        ..Default::default()
    };
    episode.device = main.device.clone();
    let ad = NowPlaying {
        kind: Kind::Ad,
        is_playing: true,
        progress_ms: Some(12_000),
        ..Default::default()
    };
    let mut local = track("demo-take-3 (final).mp3", &["Unknown artist"], "");
    local.album = None;
    local.is_local = true;
    local.duration_ms = Some(184_000);
    let mut null_duration = track("Radio Edit", &["Somebody"], "Singles");
    null_duration.duration_ms = None;
    let mut zero_duration = track("Zero Length", &["Nobody"], "Edge Cases");
    zero_duration.duration_ms = Some(0);
    zero_duration.progress_ms = Some(0);
    let mut disallowed = with_player(track("Karma Police", &["Radiohead"], "OK Computer"));
    disallowed.disallows.skipping_prev = true;
    disallowed.disallows.skipping_next = true;
    disallowed.repeat = Some(Repeat::Track);
    disallowed.shuffle = Some(false);
    let mut stale = vm(&disallowed);
    stale.stale_s = Some(95);
    let mut notice = vm(&main);
    notice.notice = Some(Notice::PremiumRequired);
    let mut offline = vm(&main).with_screen(Screen::Offline);
    offline.offline_s = Some(185);
    let mut idle_clock = ViewModel::new(Screen::Idle);
    idle_clock.clock = Some(ClockTime {
        hour: 21,
        minute: 7,
    });
    // The daily quota used up: the last track dimmed with when Spotify answers again,
    // or (nothing heard) a status screen counting down.
    let mut quota = vm(&main);
    quota.screen = Screen::QuotaExceeded;
    quota.back.push_str("Back tomorrow 09:42").unwrap();
    let mut quota_countdown = ViewModel::new(Screen::QuotaExceeded);
    quota_countdown.back.push_str("Back in 13:35:26").unwrap();
    // The six-month login ending soon: a small warning, alone and beside the stale
    // badge.
    let warning = "Login ends 3 Jan";
    let mut login_warning = vm(&main);
    login_warning.warning.push_str(warning).unwrap();
    let mut idle_warning = ViewModel::new(Screen::Idle);
    idle_warning.warning.push_str(warning).unwrap();
    let mut idle_clock_warning = idle_clock.clone();
    idle_clock_warning.warning.push_str(warning).unwrap();
    let mut warning_stale = vm(&paused);
    warning_stale.warning.push_str(warning).unwrap();
    warning_stale.stale_s = Some(95);
    let mut daily_limit = vm(&main);
    daily_limit.notice = Some(Notice::DailyLimit);
    let mut premium = ViewModel::new(Screen::ConfigError);
    premium
        .message
        .push_str("Spotify Premium needed for the app's owner")
        .unwrap();
    let mut six_months = ViewModel::new(Screen::LoginNeeded);
    six_months
        .message
        .push_str("Spotify logins last six months: run tonearm login")
        .unwrap();
    let mut six_months_board = ViewModel::new(Screen::LoginNeeded);
    six_months_board
        .message
        .push_str("Spotify logins last six months: run tonearm provision")
        .unwrap();

    // The heart, the volume and up next.
    let mut liked = vm(&main);
    liked.heart = Some(Some(true));
    liked
        .up_next
        .push_str("Blackest Eyes \u{b7} Porcupine Tree")
        .unwrap();
    let mut volume = vm(&main);
    volume.heart = Some(Some(false));
    volume.volume_shown = true;
    let mut volume_fixed = volume.clone();
    volume_fixed.volume_enabled = false;
    volume_fixed.heart = None;
    let mut episode_next = vm(&episode);
    episode_next.heart = Some(None);
    episode_next
        .up_next
        .push_str("#213 \u{2013} Needles and Grooves \u{b7} Vinyl Hours")
        .unwrap();

    vec![
        ("now_playing", vm(&main)),
        ("now_playing-liked", liked),
        ("now_playing-volume", volume),
        ("now_playing-volume_fixed", volume_fixed),
        ("episode-up_next", episode_next),
        (
            "now_playing-ja",
            vm(&track("打上花火", &["DAOKO", "米津玄師"], "打上花火")),
        ),
        ("now_playing-zh", vm(&track("稻香", &["周杰伦"], "魔杰座"))),
        (
            "now_playing-ru",
            vm(&track("Группа крови", &["Кино"], "Группа крови")),
        ),
        (
            "now_playing-el",
            vm(&track("Σαββατόβραδο", &["Άλκηστις Πρωτοψάλτη"], "Ιθάκη")),
        ),
        (
            "now_playing-ko",
            vm(&track("봄날", &["방탄소년단"], "You Never Walk Alone")),
        ),
        (
            "now_playing-long",
            vm(&track(
                "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch (Extended Version)",
                &[
                    "The Longest Band Name in the Whole Wide World",
                    "Another Artist",
                    "A Third One",
                ],
                "An Album Whose Name Is Also Far Too Long to Fit on Any Small Screen",
            )),
        ),
        ("now_playing-local", vm(&local)),
        (
            "now_playing-symbols",
            vm(&track(
                "Let’s Dance — “Live” … ★ 🎵",
                &["Beyoncé"],
                "Ünïcödé",
            )),
        ),
        ("now_playing-null_duration", vm(&null_duration)),
        ("now_playing-zero_duration", vm(&zero_duration)),
        ("now_playing-stale_disallows", stale),
        ("now_playing-notice", notice),
        ("now_playing-daily_limit", daily_limit),
        ("now_playing-login-warning", login_warning),
        ("paused-login-warning-stale", warning_stale),
        ("paused", vm(&paused)),
        ("episode", vm(&episode)),
        ("ad", vm(&ad)),
        ("idle", ViewModel::new(Screen::Idle)),
        ("idle-clock", idle_clock),
        ("idle-login-warning", idle_warning),
        ("idle-clock-login-warning", idle_clock_warning),
        ("login_needed", ViewModel::new(Screen::LoginNeeded)),
        ("login_needed-six_months", six_months),
        ("login_needed-six_months-board", six_months_board),
        ("offline", offline),
        (
            "rate_limited",
            ViewModel::new(Screen::RateLimited).with_screen(Screen::RateLimited),
        ),
        (
            "config_error",
            ViewModel::new(Screen::ConfigError).with_screen(Screen::ConfigError),
        ),
        ("config_error-premium", premium),
        ("quota_exceeded", quota),
        ("quota_exceeded-countdown", quota_countdown),
        ("connecting", ViewModel::new(Screen::Connecting)),
        ("setup_needed", ViewModel::new(Screen::SetupNeeded)),
    ]
}

fn render<C>(vm: &ViewModel, profile: Profile) -> SimulatorDisplay<C>
where
    C: Palette + ChecksumColor + From<Rgb888> + Into<Rgb888>,
{
    let mut display = SimulatorDisplay::<C>::with_default_color(profile.size(), C::default());
    Frame::<C>::new(vm, profile).draw(&mut display).unwrap();
    // The band renderer and the frame checksum agree with the direct drawing.
    let mut banded = SimulatorDisplay::<C>::with_default_color(profile.size(), C::default());
    let mut buf = vec![C::default(); profile.size().width as usize * 13];
    let frame = Frame::<C>::new(vm, profile);
    BandRenderer::new(&mut buf, profile.size())
        .render(
            profile.bounds(),
            C::role(tonearm_firmware::Role::Background),
            |t| frame.draw_region(t, profile.bounds()).unwrap(),
            &mut DrawTargetSink(&mut banded),
        )
        .unwrap();
    assert!(
        display.diff(&banded).is_none(),
        "banded output differs from full output"
    );
    let pixels = profile.bounds().points().map(|p| display.get_pixel(p));
    assert_eq!(
        frame_checksum(&frame, &mut buf).unwrap(),
        checksum_pixels(pixels)
    );
    display
}

/// Compares (or with TONEARM_BLESS=1 writes) one golden; returns a failure message.
fn check<C>(display: &SimulatorDisplay<C>, path: &Path) -> Option<String>
where
    C: PixelColor + Into<Rgb888> + From<Rgb888>,
{
    let image = display.to_rgb_output_image(&OutputSettings::default());
    if std::env::var_os("TONEARM_BLESS").is_some_and(|v| v == "1") {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        image.save_png(path).unwrap();
        return None;
    }
    if !path.exists() {
        return Some(format!(
            "{}: missing golden (run with TONEARM_BLESS=1 and look at it)",
            path.display()
        ));
    }
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("golden-actual")
        .join(path.strip_prefix(golden_dir()).unwrap());
    std::fs::create_dir_all(tmp.parent().unwrap()).unwrap();
    image.save_png(&tmp).unwrap();
    let want = SimulatorDisplay::<Rgb888>::load_png(path).unwrap();
    let got = SimulatorDisplay::<Rgb888>::load_png(&tmp).unwrap();
    if want.size() != got.size() {
        return Some(format!(
            "{}: size {:?}, want {:?}",
            path.display(),
            got.size(),
            want.size()
        ));
    }
    let diff = want.diff(&got)?;
    let n = diff
        .bounding_box()
        .points()
        .filter(|p| diff.get_pixel(*p).is_on())
        .count();
    Some(format!(
        "{}: {n} pixels differ (actual: {})",
        path.display(),
        tmp.display()
    ))
}

#[test]
fn golden_images() {
    let mut failures = Vec::new();
    let cases = cases();
    for profile in Profile::ALL {
        for (name, vm) in &cases {
            let path = golden_dir()
                .join(profile.name())
                .join(format!("{name}.png"));
            let failure = match profile {
                Profile::Mono128x64 => check(&render::<BinaryColor>(vm, profile), &path),
                _ => check(&render::<Rgb565>(vm, profile), &path),
            };
            failures.extend(failure);
        }
    }
    assert!(
        failures.is_empty(),
        "{} golden failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

#[test]
fn every_screen_has_a_golden_on_every_profile() {
    let cases = cases();
    for screen in Screen::ALL {
        assert!(
            cases
                .iter()
                .any(|(name, vm)| vm.screen == screen
                    && name.split('-').next() == Some(screen.name())),
            "no golden case for {screen}"
        );
    }
}

/// `tonearm render` end to end: the PNG's size, the printed checksum, bad input.
mod render_cli {
    use super::*;
    use tonearm_core::{NowPlayingParser, position_ms};
    use tonearm_tests::{fixtures_dir, run_tonearm};

    fn tmp(name: &str) -> PathBuf {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("render-cli");
        std::fs::create_dir_all(&dir).unwrap();
        let p = dir.join(name);
        let _ = std::fs::remove_file(&p);
        p
    }

    #[test]
    fn renders_size_times_scale_and_prints_the_board_checksum() {
        let body = fixtures_dir().join("seed_track.json");
        for (display, scale, profile) in [
            ("128x64", "2", Profile::Mono128x64),
            ("240x240", "1", Profile::Square240x240),
            ("320x240", "3", Profile::Landscape320x240),
        ] {
            let out = tmp(&format!("{display}.png"));
            let o = run_tonearm(
                &[
                    "render",
                    body.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--display",
                    display,
                    "--scale",
                    scale,
                    "--elapsed-ms",
                    "5000",
                    "--checksum",
                ],
                None,
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            let png = SimulatorDisplay::<Rgb888>::load_png(&out).unwrap();
            let k: u32 = scale.parse().unwrap();
            assert_eq!(png.size(), profile.size() * k);
            // The same frame's checksum, computed here from the parsed body.
            let mut parser = NowPlayingParser::new();
            for chunk in std::fs::read(&body).unwrap().chunks(7) {
                parser.feed(chunk).unwrap();
            }
            let np = parser.finish().unwrap();
            let vm = ViewModel::from_now_playing(&np, position_ms(&np, 0, 5000));
            let want = match profile {
                Profile::Mono128x64 => {
                    let mut buf = vec![BinaryColor::Off; 128 * 4];
                    frame_checksum(&Frame::<BinaryColor>::new(&vm, profile), &mut buf).unwrap()
                }
                _ => {
                    let mut buf = vec![Rgb565::default(); 320 * 4];
                    frame_checksum(&Frame::<Rgb565>::new(&vm, profile), &mut buf).unwrap()
                }
            };
            assert_eq!(
                String::from_utf8_lossy(&o.stdout).trim(),
                format!("{want:08x}")
            );
        }
    }

    #[test]
    fn empty_body_is_idle_and_screen_can_be_forced() {
        let empty = tmp("empty.json");
        std::fs::write(&empty, b"").unwrap();
        for screen in ["idle", "rate_limited", "login_needed", "quota_exceeded"] {
            let out = tmp(&format!("{screen}.png"));
            let o = run_tonearm(
                &[
                    "render",
                    empty.to_str().unwrap(),
                    "--out",
                    out.to_str().unwrap(),
                    "--screen",
                    screen,
                ],
                None,
            );
            assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
            assert!(out.exists());
        }
    }

    #[test]
    fn invalid_input_exits_1_and_writes_nothing() {
        let bad = tmp("bad.json");
        std::fs::write(&bad, b"{\"item\": {\"name\": tru").unwrap();
        let good = fixtures_dir().join("seed_track.json");
        let cases: [(&Path, &[&str]); 4] = [
            (&bad, &[]),
            (&good, &["--display", "100x100"]),
            (&good, &["--screen", "nope"]),
            (&good, &["--scale", "0"]),
        ];
        for (body, extra) in cases {
            let out = tmp("never.png");
            let mut args = vec![
                "render",
                body.to_str().unwrap(),
                "--out",
                out.to_str().unwrap(),
            ];
            args.extend_from_slice(extra);
            let o = run_tonearm(&args, None);
            assert_eq!(o.status.code(), Some(1), "{args:?}");
            assert!(!String::from_utf8_lossy(&o.stderr).trim().is_empty());
            assert!(!out.exists(), "{args:?} wrote a file");
            let leftovers = std::fs::read_dir(out.parent().unwrap())
                .unwrap()
                .filter(|e| {
                    e.as_ref()
                        .unwrap()
                        .file_name()
                        .to_string_lossy()
                        .contains(".tmp-")
                })
                .count();
            assert_eq!(leftovers, 0);
        }
    }
}

/// Album art: covers decoded from generated JPEGs (the 300 px one on the color profiles,
/// the 64 px one at 128x64, as each profile chooses), on every profile.
mod covers {
    use super::*;
    use tonearm_firmware::ArtStatus;
    use tonearm_firmware::art::{Cover, DecodeLimits, decode_cover, pattern_rgb};
    use tonearm_firmware::view::art_key;

    pub(crate) fn jpeg(rgb: &[u8], side: u16) -> Vec<u8> {
        let mut out = Vec::new();
        jpeg_encoder::Encoder::new(&mut out, 85)
            .encode(rgb, side, side, jpeg_encoder::ColorType::Rgb)
            .unwrap();
        out
    }

    /// The generated cover of `seed` as the profile would fetch and decode it.
    fn cover<C: Palette>(profile: Profile, seed: u32) -> Cover<C> {
        let side = match profile {
            Profile::Mono128x64 => 64,
            _ => 300,
        };
        let bytes = jpeg(&pattern_rgb(seed, side.into()), side);
        decode_cover(&bytes, profile.art_size(), DecodeLimits::DESKTOP).unwrap()
    }

    fn render_cover<C>(vm: &ViewModel, profile: Profile, cover: &Cover<C>) -> SimulatorDisplay<C>
    where
        C: Palette + ChecksumColor + From<Rgb888> + Into<Rgb888>,
    {
        let key = match vm.art {
            ArtStatus::Cover { key, .. } => key,
            _ => 0,
        };
        let frame = Frame::<C>::new(vm, profile).with_cover(Some(cover.view(key)));
        let mut display = SimulatorDisplay::<C>::with_default_color(profile.size(), C::default());
        frame.draw(&mut display).unwrap();
        // Banded and direct drawing agree, covers included.
        let mut banded = SimulatorDisplay::<C>::with_default_color(profile.size(), C::default());
        let mut buf = vec![C::default(); profile.size().width as usize * 13];
        BandRenderer::new(&mut buf, profile.size())
            .render(
                profile.bounds(),
                C::role(tonearm_firmware::Role::Background),
                |t| frame.draw_region(t, profile.bounds()).unwrap(),
                &mut DrawTargetSink(&mut banded),
            )
            .unwrap();
        assert!(display.diff(&banded).is_none(), "banded output differs");
        display
    }

    fn with_cover(mut vm: ViewModel, url: &str) -> ViewModel {
        let seed = vm.art.seed().unwrap();
        vm.art = ArtStatus::Cover {
            seed,
            key: art_key(url),
        };
        vm
    }

    fn cover_cases() -> Vec<(&'static str, ViewModel, u32)> {
        let main = with_player(track(
            "Café Tacvba",
            &["Los Ángeles Azules", "Natalia Lafourcade"],
            "De Plaza en Plaza",
        ));
        let mut paused = main.clone();
        paused.is_playing = false;
        let url = "https://i.scdn.co/image/cover";
        vec![
            ("now_playing-cover", with_cover(vm(&main), url), 0x0102_0304),
            ("paused-cover", with_cover(vm(&paused), url), 0x0013_00d2),
            (
                "offline-cover",
                {
                    let mut v = with_cover(vm(&main), url).with_screen(Screen::Offline);
                    v.offline_s = Some(185);
                    v
                },
                0x0024_a0be,
            ),
        ]
    }

    #[test]
    fn golden_covers() {
        let mut failures = Vec::new();
        for profile in Profile::ALL {
            for (name, vm, seed) in cover_cases() {
                let path = golden_dir()
                    .join(profile.name())
                    .join(format!("{name}.png"));
                let failure = match profile {
                    Profile::Mono128x64 => check(
                        &render_cover::<BinaryColor>(&vm, profile, &cover(profile, seed)),
                        &path,
                    ),
                    _ => check(
                        &render_cover::<Rgb565>(&vm, profile, &cover(profile, seed)),
                        &path,
                    ),
                };
                failures.extend(failure);
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }

    /// A cover whose key is not the view model's, or that does not fit the art box,
    /// draws the placeholder: the same pixels as without a cover (color profiles).
    #[test]
    fn a_cover_that_does_not_match_draws_the_placeholder() {
        let profile = Profile::Landscape320x240;
        let (_, vm_cover, seed) = cover_cases().remove(0);
        let mut placeholder = vm_cover.clone();
        placeholder.art = ArtStatus::Placeholder {
            seed: vm_cover.art.seed().unwrap(),
        };
        let plain = render::<Rgb565>(&placeholder, profile);
        let c = cover::<Rgb565>(profile, seed);
        let wrong_key = Frame::<Rgb565>::new(&vm_cover, profile).with_cover(Some(c.view(7)));
        let mut d =
            SimulatorDisplay::<Rgb565>::with_default_color(profile.size(), Rgb565::default());
        wrong_key.draw(&mut d).unwrap();
        assert!(d.diff(&plain).is_none());
        let small = cover::<Rgb565>(Profile::Mono128x64, seed);
        let key = art_key("https://i.scdn.co/image/cover");
        let wrong_size = Frame::<Rgb565>::new(&vm_cover, profile).with_cover(Some(small.view(key)));
        let mut d =
            SimulatorDisplay::<Rgb565>::with_default_color(profile.size(), Rgb565::default());
        wrong_size.draw(&mut d).unwrap();
        assert!(d.diff(&plain).is_none());
    }

    /// A gradient cover, through JPEG, decode, scale and dither: no bands. Along the
    /// gradient, the mean of each column takes many levels in short runs, where plain
    /// 5-bit quantization would give a handful of wide bands.
    #[test]
    fn gradient_cover_shows_no_banding() {
        let side = 300u32;
        let rgb: Vec<u8> = (0..side * side)
            .flat_map(|i| {
                let x = i % side;
                let v = (48 + x * 40 / side) as u8;
                [v, v / 2, v + 20]
            })
            .collect();
        let bytes = jpeg(&rgb, side as u16);
        let size = Profile::Landscape320x240.art_size();
        let c: Cover<Rgb565> = decode_cover(&bytes, size, DecodeLimits::DESKTOP).unwrap();
        let w = size.width as usize;
        let means: Vec<u32> = (0..w)
            .map(|x| {
                (0..size.height as usize)
                    .map(|y| u32::from(c.pixels()[y * w + x].r()))
                    .sum()
            })
            .collect();
        let mut distinct = means.clone();
        distinct.sort();
        distinct.dedup();
        let longest = means
            .chunk_by(|a, b| a == b)
            .map(<[u32]>::len)
            .max()
            .unwrap();
        // The source spans 40 levels of 8 bits, 5 of Rgb565's red.
        assert!(distinct.len() >= 30, "{} levels", distinct.len());
        assert!(longest <= 6, "a band {longest} columns wide");
        // Monotonic within the noise: no step back of more than a level per row.
        for p in means.windows(2) {
            assert!(p[1] + size.height >= p[0], "{p:?}");
        }
    }
}

/// `tonearm run --headless --snapshot` against the fake Spotify: the snapshot shows the
/// cover the fake serves, fetched once, without credentials; a missing cover leaves the
/// placeholder and is not asked for again.
mod covers_live {
    use super::covers::jpeg;
    use super::*;
    use tonearm_firmware::art::{Cover, DecodeLimits, decode_cover, pattern_rgb};
    use tonearm_tests::fake_spotify::{FakeSpotify, Reply, Route};

    const ART: (i32, i32) = (16, 36);

    fn body(fake: &FakeSpotify, name: &str) -> String {
        serde_json::json!({
            "is_playing": true,
            "progress_ms": 1000,
            "currently_playing_type": "track",
            "item": {"type": "track", "name": "Cover Song", "duration_ms": 200000,
                     "artists": [{"name": "Band"}],
                     "album": {"name": "Album", "images": [
                        {"url": fake.image_url(&format!("{name}-640")), "width": 640, "height": 640},
                        {"url": fake.image_url(&format!("{name}-300")), "width": 300, "height": 300},
                        {"url": fake.image_url(&format!("{name}-64")), "width": 64, "height": 64}]}},
        })
        .to_string()
    }

    /// Runs tonearm for `secs` against `fake`; returns the snapshot.
    fn snapshot(fake: &FakeSpotify, tag: &str, secs: &str) -> SimulatorDisplay<Rgb888> {
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("covers-live-{tag}"));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        let config = dir.join("config.toml");
        std::fs::write(
            &config,
            format!(
                "client_id = \"tonearm-test-client\"\nrefresh_token = \"refresh-art\"\napi_base = \"{}\"\naccounts_base = \"{}\"\n",
                fake.api_base(),
                fake.accounts_base()
            ),
        )
        .unwrap();
        let snap = dir.join("snap.png");
        let o = tonearm_tests::run_tonearm(
            &[
                "--config",
                config.to_str().unwrap(),
                "run",
                "--headless",
                "--display",
                "320x240",
                "--timeout",
                "2",
                "--duration",
                secs,
                "--snapshot",
                snap.to_str().unwrap(),
            ],
            None,
        );
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        SimulatorDisplay::<Rgb888>::load_png(&snap).unwrap()
    }

    fn art_matches(png: &SimulatorDisplay<Rgb888>, cover: &Cover<Rgb565>) -> bool {
        let w = cover.size().width as i32;
        cover.pixels().iter().enumerate().all(|(i, c)| {
            let p = Point::new(ART.0 + i as i32 % w, ART.1 + i as i32 / w);
            png.get_pixel(p) == Rgb888::from(*c)
        })
    }

    #[test]
    fn the_snapshot_shows_the_served_cover() {
        let fake = FakeSpotify::start();
        fake.add_refresh_token("refresh-art");
        fake.set_default(Route::Player, Reply::json(200, body(&fake, "album")));
        let big = jpeg(&pattern_rgb(0x0102_0304, 300), 300);
        fake.set_image("album-300", big.clone());
        fake.set_image("album-64", jpeg(&pattern_rgb(0x0102_0304, 64), 64));
        let png = snapshot(&fake, "ok", "3");
        let want: Cover<Rgb565> = decode_cover(
            &big,
            Profile::Landscape320x240.art_size(),
            DecodeLimits::DESKTOP,
        )
        .unwrap();
        assert!(
            art_matches(&png, &want),
            "the snapshot's art is not the cover"
        );
        // The 300 px one (the smallest at least 104 px wide), once, with no token.
        let images = fake.requests_to(Route::Image);
        assert_eq!(images.len(), 1, "{images:?}");
        assert_eq!(images[0].path(), "/image/album-300");
        assert!(images[0].header("authorization").is_none());
    }

    #[test]
    fn broken_or_missing_covers_leave_the_placeholder_once() {
        for (tag, reply) in [
            ("missing", None),
            (
                "corrupt",
                Some(Reply::new(200).body(vec![0xff, 0xd8, 0xff, 0x00, 1, 2, 3])),
            ),
            (
                "oversized",
                Some(Reply::new(200).body(vec![0u8; 300 * 1024])),
            ),
            (
                "truncated",
                Some(
                    Reply::new(200)
                        .body(jpeg(&pattern_rgb(5, 300), 300))
                        .truncated_after(2000),
                ),
            ),
        ] {
            let fake = FakeSpotify::start();
            fake.add_refresh_token("refresh-art");
            fake.set_default(Route::Player, Reply::json(200, body(&fake, tag)));
            if let Some(r) = reply {
                fake.set_image_reply(&format!("{tag}-300"), r);
            }
            let png = snapshot(&fake, tag, "3");
            // The placeholder of the album's name, as `tonearm render` draws it.
            let np = ViewModel::from_now_playing(
                &{
                    let mut np = track("Cover Song", &["Band"], "Album");
                    np.is_playing = true;
                    np
                },
                0,
            );
            let placeholder = render::<Rgb565>(&np, Profile::Landscape320x240);
            let area = Rectangle::new(Point::new(ART.0, ART.1), Size::new(104, 104));
            for p in area.points() {
                assert_eq!(
                    png.get_pixel(p),
                    placeholder.get_pixel(p).into(),
                    "{tag}: {p:?} is not the placeholder"
                );
            }
            // Asked for once in 3 s (a truncated body may be retried after 15 s, not
            // sooner).
            assert_eq!(fake.requests_to(Route::Image).len(), 1, "{tag}");
        }
    }
}

/// The emulated board's 64 px cover is exactly the generated pattern encoded by this
/// code (TONEARM_BLESS=1 writes it).
#[test]
fn board_cover() {
    let path = tonearm_tests::repo_root().join("firmware/boards/qemu-m4/cover64.jpg");
    let want = covers::jpeg(&tonearm_firmware::art::pattern_rgb(0x0102_0304, 64), 64);
    if std::env::var_os("TONEARM_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(&path, &want).unwrap();
    }
    assert_eq!(std::fs::read(&path).unwrap(), want, "{}", path.display());
    // The board prints this checksum of its decode: the same pixels as here.
    let cover: tonearm_firmware::art::Cover<Rgb565> = tonearm_firmware::art::decode_cover(
        &want,
        Size::new(64, 64),
        tonearm_firmware::art::DecodeLimits::SMALL,
    )
    .unwrap();
    let mut h = tonearm_firmware::Fnv1a::new();
    for c in cover.pixels() {
        h.write(&c.into_storage().to_be_bytes());
    }
    assert_eq!(h.finish(), BOARD_COVER_CHECKSUM);
}

/// What `firmware/boards/qemu-m4` prints as the checksum of its decoded cover.
const BOARD_COVER_CHECKSUM: u32 = 0x926b_8d27;
