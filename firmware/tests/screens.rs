//! The quota screen, the login warning and the status messages under hostile input: every
//! screen on every profile, with texts at their capacities (cut inside multi-byte
//! characters by `push_truncating`), odd back lines and notices, draws without a panic
//! and inside the display, its parts inside it, and the scene going from each to the next
//! ends where a full redraw does.

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use tonearm_core::text::push_truncating;
use tonearm_firmware::{Frame, Notice, Palette, Part, Profile, Scene, Screen, ViewModel};

/// A display that fails the test on a pixel outside it, and remembers what was drawn.
struct Strict<C> {
    size: Size,
    lit: Vec<Option<C>>,
}

impl<C: PixelColor> Strict<C> {
    fn new(size: Size) -> Self {
        Strict {
            size,
            lit: vec![None; (size.width * size.height) as usize],
        }
    }
}

impl<C: PixelColor> OriginDimensions for Strict<C> {
    fn size(&self) -> Size {
        self.size
    }
}

impl<C: PixelColor> DrawTarget for Strict<C> {
    type Color = C;
    type Error = core::convert::Infallible;
    fn draw_iter<I: IntoIterator<Item = Pixel<C>>>(&mut self, it: I) -> Result<(), Self::Error> {
        for Pixel(p, c) in it {
            assert!(
                p.x >= 0
                    && p.y >= 0
                    && (p.x as u32) < self.size.width
                    && (p.y as u32) < self.size.height,
                "{p:?} is outside the display"
            );
            self.lit[(p.y as u32 * self.size.width + p.x as u32) as usize] = Some(c);
        }
        Ok(())
    }
}

fn set<const N: usize>(field: &mut heapless::String<N>, s: &str) {
    field.clear();
    push_truncating(field, s);
}

/// View models with the new fields at their worst.
fn hostile() -> Vec<ViewModel> {
    let backs = [
        "",
        "Back in 13:35:26",
        "Back tomorrow 09:42",
        "Back at 0:00:00:00:00:00:00",
        "::::",
        "9",
        "Zurück übermorgen um 09:42 Uhr…",
        "ÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄÄ",
        "           ",
    ];
    let warnings = [
        "",
        "Login ends 3 Jan",
        "ログインは一月三日に終わります",
        "Wwwwwwwwwwwwwwwwwwwwwwwwwwww",
    ];
    let messages = [
        "",
        "Spotify Premium needed for the app's owner",
        "Spotify logins last six months: run tonearm provision",
        "     ",
        ":",
        "a: b: c: d: e: f: g: h: i: j: k: l: m: n: o: p: q: r: s: t: u: v: w: x: y: z: 0",
        "Ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé and more",
        "日本語 のメッセージ 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀 😀",
    ];
    let mut out = Vec::new();
    for screen in Screen::ALL {
        for (i, back) in backs.iter().enumerate() {
            let mut vm = ViewModel::new(screen);
            if i % 2 == 0 {
                set(&mut vm.title, "Café Tacvba");
                set(&mut vm.subtitle, "Los Ángeles Azules");
                set(&mut vm.detail, "De Plaza en Plaza");
                vm.set_position(46_000, Some(151_000));
            }
            set(&mut vm.back, back);
            set(&mut vm.warning, warnings[i % warnings.len()]);
            set(&mut vm.message, messages[i % messages.len()]);
            vm.stale_s = (i % 3 == 0).then_some(95);
            vm.notice = (i % 4 == 1).then_some(Notice::DailyLimit);
            vm.offline_s = (i % 3 == 1).then_some(4000);
            vm.retry_in_s = Some(42);
            out.push(vm);
        }
        for message in messages {
            let mut vm = ViewModel::new(screen);
            set(&mut vm.message, message);
            set(&mut vm.warning, "Login ends 30 Sep");
            out.push(vm);
        }
    }
    out
}

fn draw_all<C: Palette>(profile: Profile, vms: &[ViewModel]) {
    let mut scene = Scene::<C>::new(profile);
    let mut shown = Strict::<C>::new(profile.size());
    for (i, vm) in vms.iter().enumerate() {
        let mut full = Strict::<C>::new(profile.size());
        Frame::<C>::new(vm, profile).draw(&mut full).unwrap();
        // The scene, going from each to the next, ends where a full redraw does.
        let update = scene.redraw(vm, i as u64 * 1000, &mut shown).unwrap();
        let mut again = Strict::<C>::new(profile.size());
        Frame::<C>::new(vm, profile)
            .at(update.anim_ms)
            .draw(&mut again)
            .unwrap();
        assert!(
            shown.lit == again.lit,
            "{profile:?} {}: the scene differs from a full redraw ({vm:?})",
            vm.screen
        );
        let parts = Frame::<C>::new(vm, profile).parts();
        for (_, r) in &parts {
            assert!(
                profile.bounds().intersection(r) == *r,
                "{profile:?}: {r:?} leaves the display"
            );
        }
    }
}

#[test]
fn hostile_texts_draw_on_every_profile() {
    let vms = hostile();
    for profile in Profile::ALL {
        match profile {
            Profile::Mono128x64 => draw_all::<BinaryColor>(profile, &vms),
            _ => draw_all::<Rgb565>(profile, &vms),
        }
    }
}

/// The quota screen shows its last item only when there is one; `shows_item` is the
/// screen's, the frame decides with the title.
#[test]
fn quota_screen_with_and_without_an_item() {
    assert!(Screen::QuotaExceeded.shows_item());
    assert_eq!(
        Screen::from_name("quota_exceeded"),
        Some(Screen::QuotaExceeded)
    );
    let mut vm = ViewModel::new(Screen::QuotaExceeded);
    set(&mut vm.back, "Back in 13:35:26");
    let parts = |vm: &ViewModel| {
        Frame::<Rgb565>::new(vm, Profile::Landscape320x240)
            .parts()
            .iter()
            .map(|(p, _)| *p)
            .collect::<Vec<_>>()
    };
    let status = parts(&vm);
    assert!(status.contains(&Part::Big) && !status.contains(&Part::Title));
    // The countdown is compared glyph by glyph.
    let big = Frame::<Rgb565>::new(&vm, Profile::Landscape320x240).part_text(Part::Big);
    assert_eq!(big.unwrap().as_str(), "13:35:26");
    set(&mut vm.title, "Karma Police");
    let item = parts(&vm);
    assert!(item.contains(&Part::Title) && item.contains(&Part::Body));
    assert!(!item.contains(&Part::Controls) && !item.contains(&Part::Big));
}

/// Draws `frame` into a fresh display.
fn pixels<C: Palette>(frame: &Frame<'_, C>) -> Vec<Option<C>> {
    let mut d = Strict::<C>::new(frame.profile().size());
    frame.draw(&mut d).unwrap();
    d.lit
}

/// A view model kept from `at_ms` and drawn later shows what one built at that later
/// time shows: the position, the ages and the countdowns move on as it is drawn.
#[test]
fn times_move_on_when_drawn() {
    let later = |mut vm: ViewModel, at: u64| {
        vm.at_ms = Some(at);
        vm
    };
    let mut playing = ViewModel::new(Screen::NowPlaying);
    playing.playing = true;
    set(&mut playing.title, "Karma Police");
    playing.set_position(46_000, Some(263_000));
    let mut moved_on = playing.clone();
    moved_on.set_position(53_400, Some(263_000));
    let mut stale = playing.clone();
    stale.stale_s = Some(10);
    let mut stale_later = moved_on.clone();
    stale_later.stale_s = Some(17);
    let mut limited = ViewModel::new(Screen::RateLimited);
    limited.retry_in_s = Some(42);
    let mut limited_later = limited.clone();
    limited_later.retry_in_s = Some(35);
    let mut offline = ViewModel::new(Screen::Offline);
    offline.offline_s = Some(100);
    let mut offline_later = offline.clone();
    offline_later.offline_s = Some(107);
    let mut quota = ViewModel::new(Screen::QuotaExceeded);
    quota.back_in_s = Some(3_700);
    let mut quota_later = ViewModel::new(Screen::QuotaExceeded);
    set(&mut quota_later.back, "Back in 1:01:33");
    let cases = [
        (playing, moved_on),
        (stale, stale_later),
        (limited, limited_later),
        (offline, offline_later),
        (quota, quota_later),
    ];
    for (kept, fresh) in cases {
        let kept = later(kept, 20_000);
        for profile in Profile::ALL {
            let same = match profile {
                Profile::Mono128x64 => {
                    let a = Frame::<BinaryColor>::new(&kept, profile).at_time(27_400);
                    pixels(&a) == pixels(&Frame::<BinaryColor>::new(&fresh, profile))
                }
                _ => {
                    let a = Frame::<Rgb565>::new(&kept, profile).at_time(27_400);
                    pixels(&a) == pixels(&Frame::<Rgb565>::new(&fresh, profile))
                }
            };
            assert!(same, "{profile:?} {}: {kept:?}", kept.screen);
        }
    }
}

/// One view model, kept while the clock runs: every second redraws the changed digits
/// and the bar's changed columns only, and ends where a full redraw does.
#[test]
fn a_kept_view_model_ticks_partially() {
    let mut vm = ViewModel::new(Screen::NowPlaying);
    vm.playing = true;
    set(&mut vm.title, "Karma Police");
    vm.set_position(46_000, Some(263_000));
    vm.at_ms = Some(0);
    let profile = Profile::Landscape320x240;
    let mut scene = Scene::<Rgb565>::new(profile);
    let mut shown = Strict::<Rgb565>::new(profile.size());
    assert!(scene.redraw(&vm, 0, &mut shown).unwrap().full);
    for s in 1..=12u64 {
        let now = s * 1000;
        let update = scene.redraw(&vm, now, &mut shown).unwrap();
        assert!(!update.full && !update.is_empty(), "{s}: {update:?}");
        assert!(update.pixels() < 3_000, "{s}: {update:?}");
        let full = Frame::<Rgb565>::new(&vm, profile).at_time(now);
        assert!(
            shown.lit == pixels(&full),
            "{s}: differs from a full redraw"
        );
    }
}

/// On the larger layouts the title wraps onto up to three lines instead of scrolling, and
/// the text block closes up around its middle when it takes fewer: the artists' line
/// sits one line pitch higher for every line the title does not take, and no line of
/// the block overlaps another.
#[cfg(feature = "large")]
#[test]
fn larger_layouts_wrap_the_title_and_close_up_the_text_block() {
    for profile in [Profile::Landscape480x320, Profile::Wide800x480] {
        let layout = profile.item_layout();
        assert_eq!(layout.title_lines, 3, "{profile:?}");
        let pitch = layout.title_pitch;
        let mut subtitle_at = Vec::new();
        for title in [
            "Creep",
            "Everything In Its Right Place (Live)",
            "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch (Extended Version) \
             and a great deal more besides",
        ] {
            let mut vm = ViewModel::new(Screen::NowPlaying);
            set(&mut vm.title, title);
            set(&mut vm.subtitle, "Radiohead");
            set(&mut vm.detail, "Kid A");
            vm.playing = true;
            let frame = Frame::<Rgb565>::new(&vm, profile);
            let item = frame.item().expect("an item screen");
            assert_eq!(
                item.title_scroll(),
                None,
                "{profile:?}: wrapped, not scrolled"
            );
            let l = item.layout();
            let lines = (l.title.rect.size.height as i32 - (layout.title.rect.size.height as i32))
                / pitch
                + 1;
            subtitle_at.push((lines, l.subtitle.baseline));
            // Title, artists and album one under the other.
            let title_bottom = l.title.rect.top_left.y + l.title.rect.size.height as i32;
            assert!(
                title_bottom <= l.subtitle.rect.top_left.y + 2,
                "{profile:?} {title}"
            );
            assert!(
                l.subtitle.rect.bottom_right().unwrap().y < l.detail.rect.top_left.y + 2,
                "{profile:?} {title}"
            );
            assert!(l.detail.rect.bottom_right().unwrap().y < l.bar_area.top_left.y);
        }
        assert_eq!(
            subtitle_at.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            [1, 2, 3],
            "{profile:?}: lines the titles take"
        );
        for pair in subtitle_at.windows(2) {
            let moved = pair[1].1 - pair[0].1;
            assert!(
                (pitch / 2..=pitch / 2 + 1).contains(&moved),
                "{profile:?}: the artists move {moved} for a line of title (pitch {pitch})"
            );
        }
    }
    // The smaller layouts keep one line that scrolls.
    let mut vm = ViewModel::new(Screen::NowPlaying);
    set(
        &mut vm.title,
        "Everything In Its Right Place (Live in Paris, 2001)",
    );
    let frame = Frame::<Rgb565>::new(&vm, Profile::Landscape320x240);
    assert_eq!(frame.item().unwrap().title_scroll(), Some(0));
}
