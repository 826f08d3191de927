//! The retained scene: it remembers what each part of the screen shows and, given the
//! next view model, names only the regions whose content changed. While a track plays,
//! a tick redraws the glyphs of the elapsed time that changed (`1:23` to `1:24` is one
//! digit) and the columns of the progress bar that changed, never the whole screen; a
//! rate-limit countdown and the idle clock tick the same way. A screen change redraws
//! everything once.

use core::marker::PhantomData;

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use crate::band::{BandError, BandRenderer, BandSink};
use crate::checksum::Fnv1a;
use crate::color::{Palette, Role};
use crate::frame::{CoverView, Frame};
use crate::parts::{MAX_PARTS, Part};
use crate::profile::Profile;
use crate::screen::Screen;
use crate::screens::Context;
use crate::view::ViewModel;
use tonearm_core::TimeText;

/// The most regions one update names (beyond this it redraws the whole screen).
pub const MAX_REGIONS: usize = MAX_PARTS + 1;

/// What one update must redraw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The whole screen (a screen change, or the first frame).
    pub full: bool,
    /// The regions to redraw, in drawing order (the whole screen when `full`).
    pub regions: heapless::Vec<Rectangle, MAX_REGIONS>,
    /// The animation time to draw them at (see [`Frame::anim_ms`]).
    pub anim_ms: u64,
}

impl Update {
    /// Whether nothing needs redrawing.
    pub fn is_empty(&self) -> bool {
        self.regions.is_empty()
    }

    /// The number of pixels the regions cover.
    pub fn pixels(&self) -> u64 {
        self.regions
            .iter()
            .map(|r| u64::from(r.size.width) * u64::from(r.size.height))
            .sum()
    }
}

/// What one part showed: its area, its fingerprint and, for the parts redrawn glyph
/// by glyph, its text.
#[derive(Debug, Clone)]
struct ShownPart {
    part: Part,
    rect: Rectangle,
    key: u32,
    text: Option<TimeText>,
}

/// What each part of the display showed last: the diff protocol's memory (see
/// [`crate::parts`]).
#[derive(Debug, Clone)]
struct Shown {
    screen: Screen,
    parts: heapless::Vec<ShownPart, MAX_PARTS>,
    bar_fill: u32,
}

/// The retained scene of one display.
#[derive(Debug, Clone)]
pub struct Scene<C> {
    profile: Profile,
    shown: Option<Shown>,
    title_hash: u32,
    title_since_ms: u64,
    color: PhantomData<C>,
}

fn title_hash(vm: &ViewModel) -> u32 {
    let mut h = Fnv1a::new();
    h.write(vm.title.as_bytes());
    h.finish()
}

impl<C: Palette> Scene<C> {
    /// A scene that has drawn nothing yet (the first update is a full redraw).
    pub fn new(profile: Profile) -> Self {
        Scene {
            profile,
            shown: None,
            title_hash: 0,
            title_since_ms: 0,
            color: PhantomData,
        }
    }

    /// The display profile.
    pub fn profile(&self) -> Profile {
        self.profile
    }

    /// Forgets what is on the display: the next update redraws everything.
    pub fn invalidate(&mut self) {
        self.shown = None;
    }

    /// The frame of `vm` at `now_ms` (monotonic), as the last update saw it: laid out
    /// once, its times at `now_ms`, its marquee at the time since the title appeared.
    pub fn frame<'a>(&self, vm: &'a ViewModel, now_ms: u64) -> Frame<'a, C> {
        Frame::of(Context {
            vm,
            profile: self.profile,
            now_ms,
            anim_ms: now_ms.saturating_sub(self.title_since_ms),
            cover: None,
        })
    }

    /// Whether something animates (an over-long title scrolling), so the shell should
    /// tick faster than once a second.
    pub fn is_animating(&self, vm: &ViewModel) -> bool {
        Frame::<C>::new(vm, self.profile).title_scroll().is_some()
    }

    /// Takes the next view model at `now_ms` (monotonic) and returns the regions to
    /// redraw; the scene then assumes they were drawn.
    pub fn update(&mut self, vm: &ViewModel, now_ms: u64) -> Update {
        self.update_frame(vm, now_ms).0
    }

    /// [`Scene::update`], and the frame it laid out (to draw the regions with).
    fn update_frame<'a>(&mut self, vm: &'a ViewModel, now_ms: u64) -> (Update, Frame<'a, C>) {
        let th = title_hash(vm);
        if th != self.title_hash || self.shown.is_none() {
            self.title_hash = th;
            self.title_since_ms = now_ms;
        }
        let frame = self.frame(vm, now_ms);
        let mut parts = heapless::Vec::new();
        for (part, rect) in frame.parts() {
            let _ = parts.push(ShownPart {
                part,
                rect,
                key: frame.part_key(part),
                text: frame.part_text(part),
            });
        }
        let next = Shown {
            screen: vm.screen,
            parts,
            bar_fill: frame.bar_fill(),
        };
        let regions = match &self.shown {
            Some(old) if old.screen == vm.screen => self.changed(old, &next, &frame),
            _ => None,
        };
        self.shown = Some(next);
        let update = match regions {
            Some(regions) => Update {
                full: false,
                regions,
                anim_ms: frame.anim_ms(),
            },
            None => {
                let mut regions = heapless::Vec::new();
                let _ = regions.push(self.profile.bounds());
                Update {
                    full: true,
                    regions,
                    anim_ms: frame.anim_ms(),
                }
            }
        };
        (update, frame)
    }

    /// The changed regions from `old` to `new`; `None` when too many to list.
    fn changed(
        &self,
        old: &Shown,
        new: &Shown,
        frame: &Frame<'_, C>,
    ) -> Option<heapless::Vec<Rectangle, MAX_REGIONS>> {
        let mut out: heapless::Vec<Rectangle, MAX_REGIONS> = heapless::Vec::new();
        for now in &new.parts {
            let before = old.parts.iter().find(|p| p.part == now.part);
            // A part that moved or shrank (a cover arriving at 128x64 moves the text):
            // where it was is redrawn too.
            if let Some(b) = before.filter(|b| b.rect != now.rect) {
                out.push(b.rect).ok()?;
            }
            let region = match before {
                Some(b) if b.key == now.key && b.rect == now.rect => {
                    match (&b.text, &now.text) {
                        // Only the glyphs that changed (or the whole part if the texts
                        // cannot be compared glyph by glyph).
                        (Some(t0), Some(t1)) if t0 != t1 => {
                            Some(frame.text_change(now.part, t0, t1).unwrap_or(now.rect))
                        }
                        // Only the bar's columns that changed.
                        _ if now.part == Part::Bar && old.bar_fill != new.bar_fill => {
                            frame.bar_change(old.bar_fill, new.bar_fill)
                        }
                        _ => None,
                    }
                }
                _ => Some(now.rect),
            };
            if let Some(r) = region.filter(|r| !r.is_zero_sized()) {
                out.push(r).ok()?;
            }
        }
        for gone in &old.parts {
            if !new.parts.iter().any(|p| p.part == gone.part) {
                out.push(gone.rect).ok()?;
            }
        }
        Some(out)
    }

    /// Updates and draws the changed regions straight into `target`.
    ///
    /// On a display without a frame buffer this draws each region's background before
    /// its content; [`Scene::redraw_banded`] composes in RAM first and never shows that.
    pub fn redraw<D>(
        &mut self,
        vm: &ViewModel,
        now_ms: u64,
        target: &mut D,
    ) -> Result<Update, D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        self.redraw_with_cover(vm, None, now_ms, target)
    }

    /// [`Scene::redraw`] with the cover the view model's
    /// [`ArtStatus::Cover`](crate::ArtStatus::Cover) names.
    pub fn redraw_with_cover<D>(
        &mut self,
        vm: &ViewModel,
        cover: Option<CoverView<'_, C>>,
        now_ms: u64,
        target: &mut D,
    ) -> Result<Update, D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let (update, frame) = self.update_frame(vm, now_ms);
        let frame = frame.with_cover(cover);
        for r in &update.regions {
            frame.draw_region(target, *r)?;
        }
        Ok(update)
    }

    /// Updates and draws the changed regions band by band through `renderer` into
    /// `sink` (flicker-free: each band is composed in RAM, then pushed once).
    pub fn redraw_banded<S>(
        &mut self,
        vm: &ViewModel,
        now_ms: u64,
        renderer: &mut BandRenderer<'_, C>,
        sink: &mut S,
    ) -> Result<Update, BandError<S::Error>>
    where
        S: BandSink<C>,
    {
        self.redraw_banded_with_cover(vm, None, now_ms, renderer, sink)
    }

    /// [`Scene::redraw_banded`] with the cover the view model names.
    pub fn redraw_banded_with_cover<S>(
        &mut self,
        vm: &ViewModel,
        cover: Option<CoverView<'_, C>>,
        now_ms: u64,
        renderer: &mut BandRenderer<'_, C>,
        sink: &mut S,
    ) -> Result<Update, BandError<S::Error>>
    where
        S: BandSink<C>,
    {
        let (update, frame) = self.update_frame(vm, now_ms);
        let frame = frame.with_cover(cover);
        for r in &update.regions {
            renderer.render(
                *r,
                C::role(Role::Background),
                |t| {
                    let _ = frame.draw_region(t, *r);
                },
                sink,
            )?;
        }
        Ok(update)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::{Controls, Notice};
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
    use std::vec;
    use std::vec::Vec;

    /// A frame buffer that records which pixels were written.
    struct Canvas<C> {
        size: Size,
        pixels: Vec<C>,
        touched: Vec<bool>,
    }

    impl<C: Palette> Canvas<C> {
        fn new(size: Size) -> Self {
            let n = (size.width * size.height) as usize;
            Canvas {
                size,
                pixels: vec![C::default(); n],
                touched: vec![false; n],
            }
        }
    }

    impl<C: Palette> OriginDimensions for Canvas<C> {
        fn size(&self) -> Size {
            self.size
        }
    }

    impl<C: Palette> DrawTarget for Canvas<C> {
        type Color = C;
        type Error = core::convert::Infallible;
        fn draw_iter<I: IntoIterator<Item = Pixel<C>>>(
            &mut self,
            it: I,
        ) -> Result<(), Self::Error> {
            for Pixel(p, c) in it {
                if p.x >= 0
                    && p.y >= 0
                    && (p.x as u32) < self.size.width
                    && (p.y as u32) < self.size.height
                {
                    let i = p.y as usize * self.size.width as usize + p.x as usize;
                    self.pixels[i] = c;
                    self.touched[i] = true;
                }
            }
            Ok(())
        }
    }

    fn playing() -> ViewModel {
        let mut vm = ViewModel::new(Screen::NowPlaying);
        vm.playing = true;
        vm.title.push_str("Karma Police").unwrap();
        vm.subtitle.push_str("Radiohead").unwrap();
        vm.detail.push_str("OK Computer").unwrap();
        vm.art = crate::view::ArtStatus::Placeholder { seed: 1234 };
        vm.controls = Controls::ALL;
        vm.shuffle = Some(false);
        vm.set_position(46_000, Some(263_000));
        vm
    }

    /// Steps through `states` (time, view model), checking after each that only pixels
    /// inside the update's regions were written and that the result equals a full
    /// redraw. Returns the pixels written per step.
    /// Every color profile (the larger ones too, with the `large` feature).
    fn color_profiles() -> impl Iterator<Item = Profile> {
        Profile::ALL.into_iter().filter(|p| !p.is_mono())
    }

    fn run<C: Palette>(profile: Profile, states: &[(u64, ViewModel)]) -> Vec<(bool, u64)> {
        let mut scene = Scene::<C>::new(profile);
        let mut canvas = Canvas::<C>::new(profile.size());
        let mut out = Vec::new();
        for (now, vm) in states {
            canvas.touched.iter_mut().for_each(|t| *t = false);
            let update = scene.redraw(vm, *now, &mut canvas).unwrap();
            let mut full = Canvas::<C>::new(profile.size());
            Frame::<C>::new(vm, profile)
                .at(update.anim_ms)
                .draw(&mut full)
                .unwrap();
            for (i, touched) in canvas.touched.iter().enumerate() {
                let p = Point::new(
                    (i % profile.size().width as usize) as i32,
                    (i / profile.size().width as usize) as i32,
                );
                if *touched {
                    assert!(
                        update.regions.iter().any(|r| r.contains(p)),
                        "{profile:?} t={now}: {p:?} written outside {:?}",
                        update.regions
                    );
                }
            }
            assert!(
                canvas.pixels == full.pixels,
                "{profile:?} t={now}: composite differs from full redraw"
            );
            out.push((
                update.full,
                canvas.touched.iter().filter(|t| **t).count() as u64,
            ));
        }
        out
    }

    fn transitions() -> Vec<(u64, ViewModel)> {
        let base = playing();
        let mut states = vec![(0, base.clone())];
        for s in 1..=5u64 {
            let mut vm = base.clone();
            vm.set_position(46_000 + s * 1000, Some(263_000));
            states.push((s * 1000, vm));
        }
        let mut last = states.last().unwrap().1.clone();
        last.stale_s = Some(75);
        states.push((6000, last.clone()));
        last.notice = Some(Notice::NoActiveDevice);
        states.push((7000, last.clone()));
        last.notice = None;
        last.shuffle = Some(true);
        last.controls.next = false;
        states.push((8000, last.clone()));
        last.stale_s = None;
        last.title.clear();
        last.title
            .push_str("A New Title That Is Much Too Long To Fit On One Line")
            .unwrap();
        states.push((9000, last.clone()));
        states.push((13_000, last.clone())); // marquee moved
        let mut paused = last.clone().with_screen(Screen::Paused);
        states.push((14_000, paused.clone()));
        paused.message.push_str("x").unwrap();
        states.push((15_000, paused));
        states.push((
            16_000,
            ViewModel::new(Screen::RateLimited).with_screen(Screen::RateLimited),
        ));
        let mut rl = ViewModel::new(Screen::RateLimited).with_screen(Screen::RateLimited);
        rl.retry_in_s = Some(41);
        states.push((17_000, rl));
        states
    }

    #[test]
    fn partial_redraw_touches_only_changed_regions_and_equals_full_redraw() {
        for profile in color_profiles() {
            let steps = run::<Rgb565>(profile, &transitions());
            assert!(steps[0].0, "first frame is full");
            let full = u64::from(profile.size().width * profile.size().height);
            for (full_redraw, px) in &steps[1..6] {
                assert!(!full_redraw);
                // A playback tick: the changed digits of the elapsed time and the
                // knob's few columns of the bar (at most 264 pixels, under 0.5%).
                assert!(
                    *px * 1000 <= full * 5,
                    "{profile:?}: tick wrote {px} of {full}"
                );
            }
        }
        let steps = run::<BinaryColor>(Profile::Mono128x64, &transitions());
        for (full_redraw, px) in &steps[1..6] {
            assert!(!full_redraw);
            // The changed digits of the elapsed time and a column of the bar's interior
            // (at most 91 pixels, under 1.2%).
            assert!(*px * 1000 <= 128 * 64 * 12, "mono tick wrote {px}");
        }
    }

    /// Ticks across minute and hour boundaries, a rate-limit countdown and the idle
    /// clock: every one redraws only its changed glyphs, and the composite stays equal
    /// to a full redraw.
    #[test]
    fn text_ticks_redraw_changed_glyphs_only() {
        let mut states = Vec::new();
        let base = playing();
        for (i, pos) in [58_000, 59_000, 60_000, 61_000, 599_000, 600_000, 3_599_000]
            .into_iter()
            .enumerate()
        {
            let mut vm = base.clone();
            vm.set_position(pos, Some(4_000_000));
            states.push((i as u64 * 1000, vm));
        }
        for s in [42, 41, 40, 39, 10, 9, 0] {
            let mut rl = ViewModel::new(Screen::RateLimited);
            rl.retry_in_s = Some(s);
            states.push((100_000 + u64::from(60 - s) * 1000, rl));
        }
        for m in [58, 59, 0] {
            let mut idle = ViewModel::new(Screen::Idle);
            idle.clock = Some(crate::view::ClockTime { hour: 9, minute: m });
            states.push((200_000 + u64::from(m) * 60_000, idle));
        }
        for profile in color_profiles() {
            let steps = run::<Rgb565>(profile, &states);
            let full = u64::from(profile.size().width * profile.size().height);
            // Within a minute: one digit and the knob's few columns.
            assert!(steps[1].1 * 100 <= full, "{profile:?}: {:?}", steps[1]);
            // A countdown second: one or two big digits, not the screen.
            assert!(
                !steps[8].0 && steps[8].1 * 100 <= full * 2,
                "{profile:?}: {:?}",
                steps[8]
            );
        }
        let steps = run::<BinaryColor>(Profile::Mono128x64, &states);
        assert!(steps[1].1 <= 80, "mono: {:?}", steps[1]);
        // (The big slot is 128x22: 2816 pixels.)
        assert!(
            !steps[8].0 && steps[8].1 <= 300,
            "mono countdown: {:?}",
            steps[8]
        );
    }

    fn with_text<const N: usize>(s: &str) -> heapless::String<N> {
        let mut out = heapless::String::new();
        out.push_str(s).unwrap();
        out
    }

    /// The login warning coming, changing and going beside the stale badge and a
    /// notice; the quota screen over a dimmed item and as a status screen, its back line
    /// and countdown ticking; messages growing onto more lines. Every step touches only
    /// its regions and equals a full redraw.
    fn quota_and_warning_states() -> Vec<(u64, ViewModel)> {
        let mut states = Vec::new();
        let mut vm = playing();
        states.push((0, vm.clone()));
        vm.warning = with_text("Login ends 3 Jan");
        states.push((1000, vm.clone())); // 1: the warning appears
        vm.stale_s = Some(95);
        states.push((2000, vm.clone())); // 2: and the stale badge
        vm.warning = with_text("Login ends 2 Jan");
        states.push((3000, vm.clone())); // 3: the warning changes
        vm.notice = Some(Notice::DailyLimit);
        states.push((4000, vm.clone())); // 4: a notice over it
        vm.notice = None;
        vm.warning.clear();
        states.push((5000, vm.clone())); // 5: the warning goes
        let mut quota = vm.clone();
        quota.screen = Screen::QuotaExceeded;
        quota.stale_s = None;
        quota.back = with_text("Back in 13:35:26");
        states.push((6000, quota.clone())); // 6: the quota screen over the item
        quota.back = with_text("Back in 13:35:25");
        states.push((7000, quota.clone())); // 7: its back line ticks
        quota.back = with_text("Back tomorrow 09:42");
        states.push((8000, quota.clone())); // 8
        quota.warning = with_text("Login ends 3 Jan"); // (not shown here)
        quota.notice = Some(Notice::DailyLimit);
        states.push((9000, quota.clone())); // 9
        let mut status = ViewModel::new(Screen::QuotaExceeded);
        status.back = with_text("Back in 13:35:26");
        states.push((10_000, status.clone())); // 10: nothing heard: a status screen
        status.back = with_text("Back in 13:35:25");
        states.push((11_000, status.clone())); // 11: the countdown ticks
        status.back = with_text("Back in 13:34:59");
        states.push((12_000, status.clone())); // 12
        status.back = with_text("Back soon");
        states.push((13_000, status.clone())); // 13: no time: no big number
        status.back.clear();
        states.push((14_000, status)); // 14
        let mut idle = ViewModel::new(Screen::Idle);
        states.push((15_000, idle.clone()));
        idle.warning = with_text("Login ends 3 Jan");
        states.push((16_000, idle.clone())); // 16: the warning on idle
        idle.clock = Some(crate::view::ClockTime { hour: 9, minute: 5 });
        states.push((17_000, idle.clone())); // 17: and the clock
        let mut error = ViewModel::new(Screen::ConfigError);
        error.message = with_text("invalid client id");
        states.push((18_000, error.clone()));
        error.message = with_text("Spotify Premium needed for the app's owner");
        states.push((19_000, error)); // 19: a message on more lines
        let mut login = ViewModel::new(Screen::LoginNeeded);
        states.push((20_000, login.clone()));
        login.message = with_text("Spotify logins last six months: run tonearm login");
        states.push((21_000, login)); // 21: the message replaces the command chip
        states
    }

    #[test]
    fn quota_and_warning_redraw_partially_and_equal_full_redraws() {
        let states = quota_and_warning_states();
        let check = |profile: Profile, back_line: Rectangle, steps: &[(bool, u64)]| {
            let full = u64::from(profile.size().width * profile.size().height);
            for i in [1, 2, 3, 5, 7, 8, 11, 12, 16, 19, 21] {
                assert!(!steps[i].0, "{profile:?} step {i} redrew everything");
            }
            // (10, the quota screen losing its item, is the same screen: its parts are
            // redrawn one by one.)
            for i in [6, 15, 18, 20] {
                assert!(steps[i].0, "{profile:?} step {i} is a screen change");
            }
            // The back line ticking over the item: its line only.
            let line = u64::from(back_line.size.width * back_line.size.height);
            assert!(steps[7].1 <= line, "{profile:?}: {:?}", steps[7]);
            // The countdown: its changed digits only (at 128x64 the big slot is 2816
            // pixels).
            let most = if profile == Profile::Mono128x64 {
                400
            } else {
                full / 50
            };
            assert!(steps[11].1 <= most, "{profile:?}: {:?}", steps[11]);
            // The warning: its chip (and the header beside it, or at 128x64 the album's
            // line it takes), not the screen.
            let share = if profile == Profile::Mono128x64 {
                25
            } else {
                15
            };
            assert!(
                steps[1].1 * 100 <= full * share,
                "{profile:?}: {:?}",
                steps[1]
            );
        };
        let back_line = |parts: heapless::Vec<(Part, Rectangle), MAX_PARTS>| {
            parts
                .into_iter()
                .find(|(p, _)| *p == Part::Body)
                .map(|(_, r)| r)
                .unwrap()
        };
        let ticking = &states[7].1;
        for profile in color_profiles() {
            let line = back_line(Frame::<Rgb565>::new(ticking, profile).parts());
            check(profile, line, &run::<Rgb565>(profile, &states));
        }
        let mono = Profile::Mono128x64;
        let line = back_line(Frame::<BinaryColor>::new(ticking, mono).parts());
        check(mono, line, &run::<BinaryColor>(mono, &states));
    }

    #[test]
    fn the_parts_of_the_new_elements_do_not_overlap_their_neighbours() {
        let mut vm = playing();
        vm.warning = with_text("Login ends 30 Sep");
        vm.stale_s = Some(4000);
        for profile in Profile::ALL {
            let parts = match profile {
                Profile::Mono128x64 => Frame::<BinaryColor>::new(&vm, profile).parts(),
                _ => Frame::<Rgb565>::new(&vm, profile).parts(),
            };
            let rect = |p: Part| parts.iter().find(|(q, _)| *q == p).map(|(_, r)| *r);
            let warning = rect(Part::Warning).expect("the warning is shown");
            assert!(!warning.is_zero_sized(), "{profile:?}");
            for other in [Part::Header, Part::Title, Part::Subtitle, Part::Detail] {
                if let Some(r) = rect(other) {
                    assert!(
                        r.intersection(&warning).is_zero_sized(),
                        "{profile:?}: the warning {warning:?} overlaps {other:?} {r:?}"
                    );
                }
            }
        }
        // On the quota screen the heading and the back line stay clear of the times.
        let mut quota = playing();
        quota.screen = Screen::QuotaExceeded;
        quota.back = with_text("Back tomorrow 09:42");
        for profile in color_profiles() {
            let parts = Frame::<Rgb565>::new(&quota, profile).parts();
            let rect = |p: Part| parts.iter().find(|(q, _)| *q == p).map(|(_, r)| *r);
            let body = rect(Part::Body).expect("the back line");
            let heading = rect(Part::Heading).expect("the heading");
            assert!(rect(Part::Controls).is_none(), "{profile:?}");
            for other in [Part::Elapsed, Part::Total, Part::Bar, Part::Detail] {
                if let Some(r) = rect(other) {
                    for mine in [body, heading] {
                        assert!(
                            r.intersection(&mine).is_zero_sized(),
                            "{profile:?} {other:?}"
                        );
                    }
                }
            }
            assert!(profile.bounds().contains(body.bottom_right().unwrap()));
        }
    }

    #[test]
    fn changed_glyphs_of_a_time() {
        let f = &crate::fonts::MONO_TIME;
        let area = Rectangle::new(Point::new(0, 52), Size::new(36, 12));
        let one = f
            .changed_area("1:23", "1:24", area, 62, crate::text::Align::Left)
            .unwrap();
        let x3 = f.width("1:2") as i32;
        assert!(
            one.top_left.x >= x3 && one.size.width <= f.width("4") + 1,
            "{one:?}"
        );
        assert!(
            f.changed_area("1:23", "1:23", area, 62, crate::text::Align::Left)
                .unwrap()
                .is_zero_sized()
        );
        // A right-aligned text that grows shifts every glyph.
        let right = Rectangle::new(Point::new(92, 52), Size::new(36, 12));
        let all = f
            .changed_area("9:59", "10:00", right, 62, crate::text::Align::Right)
            .unwrap();
        assert!(all.size.width >= f.width("0:00"), "{all:?}");
        // Text that does not fit is redrawn whole.
        assert!(
            f.changed_area("1:23", "12:34:56:78:90", area, 62, crate::text::Align::Left)
                .is_none()
        );
    }

    #[test]
    fn a_screen_change_redraws_everything_once() {
        let mut scene = Scene::<Rgb565>::new(Profile::Square240x240);
        let vm = playing();
        assert!(scene.update(&vm, 0).full);
        assert!(scene.update(&vm, 0).is_empty());
        let paused = vm.clone().with_screen(Screen::Paused);
        let u = scene.update(&paused, 10);
        assert!(u.full);
        assert_eq!(u.regions.len(), 1);
        assert!(scene.update(&paused, 20).is_empty());
        scene.invalidate();
        assert!(scene.update(&paused, 30).full);
    }
}
