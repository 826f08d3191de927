//! One frame: a view model drawn on a profile at an animation time. Pure: the same
//! inputs draw the same pixels, whole or one region at a time.

use core::marker::PhantomData;

use embedded_graphics::draw_target::DrawTargetExt;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Circle, PrimitiveStyle, Rectangle, RoundedRectangle};

use crate::checksum::Fnv1a;
use crate::color::{Palette, Role};
use crate::profile::{ItemLayout, Layout, Profile, Slot, StatusLayout};
use crate::screen::Screen;
use crate::text::{Align, marquee_offset};
use crate::view::{ArtStatus, ViewModel, age_text, back_time, countdown_text, short_age_text};
use crate::widgets::{
    CHIP_PAD, Icon, MAX_LINES, draw_art_placeholder, draw_chip, draw_icon, draw_outlined_chip,
    draw_progress, fill_px, progress_change, wrap_lines,
};
use tonearm_core::{Repeat, TimeText};

/// A part of a screen, redrawn as a unit when its content changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Part {
    /// State label and device.
    Header,
    /// The stale or offline badge.
    Badge,
    /// The login warning, a small chip: outlined beside the badge on the color item
    /// screens, inverted on the album's line at 128x64, below the text on `idle`.
    Warning,
    /// The album-art area.
    Art,
    /// Title.
    Title,
    /// Artists or show.
    Subtitle,
    /// Album or publisher.
    Detail,
    /// The progress bar.
    Bar,
    /// Elapsed time.
    Elapsed,
    /// Total time.
    Total,
    /// The control row.
    Controls,
    /// Shuffle and repeat beside the art.
    Side,
    /// Status icon.
    Icon,
    /// Status heading (and `quota_exceeded`'s over a dimmed item).
    Heading,
    /// Status big number.
    Big,
    /// Status first line, or the lines of a wrapped message (and `quota_exceeded`'s back
    /// line over a dimmed item).
    Body,
    /// Status second line.
    Body2,
    /// The notice overlay (drawn last, over everything).
    Notice,
}

/// The narrowest room the header gives the device name ("on Kitch...").
const MIN_DEVICE_PX: u32 = 56;

/// The line height of a status hint wrapped onto two lines.
const STATUS_LINE_PX: i32 = 17;

/// The line height of wrapped status text at 128x64.
const MONO_LINE_PX: i32 = 11;

/// The widest a wrapped status message runs on the color displays (a long line across
/// the whole 320 px screen reads as cramped; two balanced lines do not).
const MESSAGE_MAX_PX: u32 = 256;

/// The heading of `quota_exceeded`, longest first: the first that fits is drawn.
const QUOTA_HEADINGS: [&str; 3] = [
    "Daily Spotify limit reached",
    "Daily limit reached",
    "Daily limit",
];
/// The heading of `quota_exceeded` at 128x64.
const QUOTA_HEADING_MONO: &str = "Daily limit";

/// Where `quota_exceeded` says so over a dimmed item.
#[derive(Debug, Clone, Copy)]
struct QuotaSlots {
    /// The heading (none at 128x64, where the badge says it).
    heading: Option<Slot>,
    /// The back line.
    back: Slot,
    /// They take the place of the bar and the times too (the square display).
    tall: bool,
}

/// `slot` moved down by `dy` pixels.
fn moved(mut slot: Slot, dy: i32) -> Slot {
    slot.rect.top_left.y += dy;
    slot.baseline += dy;
    slot
}

/// `slot` grown to hold `n` lines `pitch` apart.
fn grown(mut slot: Slot, n: usize, pitch: i32) -> Slot {
    let extra = i32::try_from(n.saturating_sub(1)).unwrap_or(0) * pitch;
    slot.rect.size.height += u32::try_from(extra).unwrap_or(0);
    slot
}

/// A width as a coordinate offset.
fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The most parts a screen has.
pub const MAX_PARTS: usize = 16;

/// A decoded cover, borrowed: `size.width * size.height` pixels row by row, already in
/// the display's colors (scaled and dithered to the art box; see the `art` feature).
#[derive(Debug, Clone, Copy)]
pub struct CoverView<'a, C> {
    /// The key of the view model's [`ArtStatus::Cover`] this is the cover of.
    pub key: u32,
    /// The cover's size (the art box's).
    pub size: Size,
    /// The pixels.
    pub pixels: &'a [C],
}

/// A view model drawn on a profile at an animation time (ms since the title appeared,
/// for the marquee).
#[derive(Debug, Clone, Copy)]
pub struct Frame<'a, C> {
    /// What to draw.
    pub vm: &'a ViewModel,
    /// The display profile.
    pub profile: Profile,
    /// Milliseconds since the current title appeared (0 for a still image).
    pub anim_ms: u64,
    /// The cover, when the view model shows one ([`ArtStatus::Cover`]).
    pub cover: Option<CoverView<'a, C>>,
    color: PhantomData<C>,
}

fn hash_str(h: &mut Fnv1a, s: &str) {
    h.write_u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
    h.write(s.as_bytes());
}

impl<'a, C: Palette> Frame<'a, C> {
    /// A still frame (animation time 0).
    pub fn new(vm: &'a ViewModel, profile: Profile) -> Self {
        Frame {
            vm,
            profile,
            anim_ms: 0,
            cover: None,
            color: PhantomData,
        }
    }

    /// This frame with `cover` (drawn when the view model's [`ArtStatus::Cover`] has its
    /// key and it fits the art box; otherwise the placeholder shows).
    #[must_use]
    pub fn with_cover(mut self, cover: Option<CoverView<'a, C>>) -> Self {
        self.cover = cover;
        self
    }

    /// The cover to draw in `area`, if the view model shows one and it is here.
    fn cover_for(&self, area: Rectangle) -> Option<&'a [C]> {
        let ArtStatus::Cover { key, .. } = self.vm.art else {
            return None;
        };
        let c = self.cover?;
        let n = usize::try_from(u64::from(c.size.width) * u64::from(c.size.height)).ok()?;
        (c.key == key && c.size == area.size && c.pixels.len() >= n)
            .then(|| c.pixels.get(..n))
            .flatten()
    }

    /// This frame at animation time `anim_ms` (ms since the title appeared).
    #[must_use]
    pub fn at(mut self, anim_ms: u64) -> Self {
        self.anim_ms = anim_ms;
        self
    }

    /// The layout of this frame's screen (with the adjustments its content needs).
    pub fn layout(&self) -> Layout {
        // Offline (or out of quota) with nothing known yet has no "last played" to show:
        // a status screen.
        let screen = if self.without_item() {
            Screen::Idle
        } else {
            self.vm.screen
        };
        match self.profile.layout(screen) {
            Layout::Status(mut l) => {
                let vm = self.vm;
                let quota_big = self.quota_time().is_some();
                if vm.screen == Screen::Idle && vm.clock.is_some() {
                    // The clock sits where the icon and heading would be.
                    let up = if C::MONO { 8 } else { 40 };
                    for slot in [&mut l.big, &mut l.body] {
                        slot.rect.top_left.y -= up;
                        slot.baseline -= up;
                    }
                }
                if (vm.screen == Screen::RateLimited || quota_big) && !C::MONO {
                    // "Retrying automatically in" goes between heading and countdown.
                    l.body.rect.top_left.y = l.heading.rect.top_left.y + 25;
                    l.body.baseline = l.heading.baseline + 23;
                    l.big.rect.top_left.y += 20;
                    l.big.baseline += 20;
                }
                if quota_big && C::MONO {
                    // "Back in" (or "Back tomorrow") above the time, as on color.
                    l.body.rect.top_left.y = l.heading.rect.top_left.y + 17;
                    l.body.baseline = l.heading.baseline + 17;
                    l.big = moved(l.big, 16);
                }
                if C::MONO
                    && vm.screen == Screen::Idle
                    && vm.clock.is_none()
                    && self.shows_warning()
                {
                    // Room above the warning's chip.
                    l.body = moved(l.body, -6);
                }
                let no_big = vm.screen != Screen::RateLimited
                    && !quota_big
                    && !(vm.screen == Screen::Idle && vm.clock.is_some());
                if no_big && !C::MONO {
                    // Without a big number, close the gap it leaves and center the rest.
                    if let Some(icon) = &mut l.icon {
                        icon.top_left.y += 16;
                    }
                    l.heading.rect.top_left.y += 16;
                    l.heading.baseline += 16;
                    for slot in [&mut l.body, &mut l.body2] {
                        slot.rect.top_left.y -= 20;
                        slot.baseline -= 20;
                    }
                }
                let n = self.message_lines(&l).len();
                if n > 1 {
                    self.make_room_for_lines(&mut l, n);
                }
                Layout::Status(l)
            }
            Layout::Item(mut l) => {
                if C::MONO && matches!(self.vm.art, ArtStatus::Cover { .. }) {
                    // A cover at 128x64: beside the three lines, above the bar.
                    let art = crate::profile::MONO_ART;
                    let x = art.top_left.x + i32::try_from(art.size.width).unwrap_or(0) + 4;
                    for slot in [&mut l.title, &mut l.subtitle, &mut l.detail] {
                        let right =
                            slot.rect.top_left.x + i32::try_from(slot.rect.size.width).unwrap_or(0);
                        slot.rect.size.width = u32::try_from(right - x).unwrap_or(0);
                        slot.rect.top_left.x = x;
                    }
                    l.art = Some(art);
                }
                let (end, _) = self.header_row(&l);
                if let Some(h) = &mut l.header {
                    h.rect.size.width = u32::try_from(end - h.rect.top_left.x).unwrap_or(0);
                }
                Layout::Item(l)
            }
        }
    }

    /// Where the header ends (the x past its last pixel), and the login warning's slot
    /// on the header row (color displays): the badge's chip sits at the right, the
    /// warning's chip left of it (with a gap), and the header (state and device) gets
    /// the rest. The badge's slot and the header's left edge are the profile's.
    fn header_row(&self, l: &ItemLayout) -> (i32, Option<Slot>) {
        let right = l.badge.rect.top_left.x + px(l.badge.rect.size.width);
        let mut end = match self.badge() {
            Some((text, _)) => {
                let chip = (l.badge.face.width(&text) + 2 * CHIP_PAD).min(l.badge.rect.size.width);
                right - px(chip) - 8
            }
            None => right,
        };
        let mut warning = None;
        if let Some(h) = l.header.filter(|_| self.shows_warning()) {
            // The header keeps its state icon, at least.
            let min_left = h.rect.top_left.x + 9 + 8;
            let chip = l.badge.face.width(&self.vm.warning) + 2 * CHIP_PAD;
            let left = (end - px(chip)).max(min_left);
            let mut slot = l.badge;
            slot.rect.top_left.x = left;
            slot.rect.size.width = u32::try_from(end - left).unwrap_or(0);
            slot.align = Align::Right;
            warning = Some(slot);
            end = left - 8;
        }
        (end, warning)
    }

    /// Whether this frame shows the login warning: it is set and the screen is an item
    /// screen (not `offline` or `quota_exceeded`, which have more pressing news) or idle.
    fn shows_warning(&self) -> bool {
        !self.vm.warning.is_empty()
            && matches!(
                self.vm.screen,
                Screen::NowPlaying | Screen::Paused | Screen::Episode | Screen::Ad | Screen::Idle
            )
    }

    /// The login warning's slot in `layout`, when this frame shows it.
    fn warning_slot(&self, layout: &Layout) -> Option<Slot> {
        if !self.shows_warning() {
            return None;
        }
        match layout {
            // The album's line, a pixel lower: clear of the descenders above.
            Layout::Item(l) if C::MONO => Some(moved(
                Slot {
                    baseline: l.detail.baseline - 2,
                    ..l.detail
                },
                1,
            )),
            Layout::Item(l) => self.header_row(l).1,
            Layout::Status(l) if C::MONO => Some(l.body2),
            Layout::Status(l) => {
                // A chip as tall as the badge's, a line below the text (where a hint
                // goes; under the clock, closer).
                let mut slot = l.body2;
                slot.baseline = l.body.baseline + 27;
                slot.rect.top_left.y = slot.baseline - 12;
                slot.rect.size.height = 17;
                Some(slot)
            }
        }
    }

    /// `quota_exceeded` over a dimmed item: where its heading and back line go (the
    /// control row, which has nothing to control; on the square display, from the bar
    /// down; at 128x64 the album's line, with the badge saying "Daily limit").
    fn quota_slots(&self, l: &ItemLayout) -> Option<QuotaSlots> {
        if self.vm.screen != Screen::QuotaExceeded {
            return None;
        }
        if C::MONO {
            return Some(QuotaSlots {
                heading: None,
                back: l.detail,
                tall: false,
            });
        }
        let tall = l.controls.size.height < 36;
        let (x, w, top) = if tall {
            (
                l.title.rect.top_left.x,
                l.title.rect.size.width,
                l.bar_area.top_left.y + 2,
            )
        } else {
            (
                l.controls.top_left.x,
                l.controls.size.width,
                l.controls.top_left.y,
            )
        };
        let slot = |y: i32, h: u32, baseline: i32, face| Slot {
            rect: Rectangle::new(Point::new(x, y), Size::new(w, h)),
            baseline,
            face,
            align: Align::Center,
        };
        Some(QuotaSlots {
            heading: Some(slot(top, 22, top + 18, &crate::fonts::HEADING_L)),
            back: slot(top + 22, 18, top + 36, &crate::fonts::SMALL_L),
            tall,
        })
    }

    /// The time at the end of `quota_exceeded`'s back line, shown in big numbers when
    /// the screen is a status screen (nothing heard to show dimmed).
    fn quota_time(&self) -> Option<(&str, &str)> {
        (self.vm.screen == Screen::QuotaExceeded && self.without_item())
            .then(|| back_time(&self.vm.back))
            .flatten()
    }

    /// The lines of a status message (`config_error`, and `login_needed` when it has
    /// one), wrapped to the body's width in `l`; empty for other screens.
    fn message_lines(&self, l: &StatusLayout) -> heapless::Vec<&str, MAX_LINES> {
        let vm = self.vm;
        let max = match vm.screen {
            Screen::ConfigError => 3,
            Screen::LoginNeeded if C::MONO => 4,
            Screen::LoginNeeded => 3,
            _ => return heapless::Vec::new(),
        };
        let width = if C::MONO {
            l.body.rect.size.width.saturating_sub(4)
        } else {
            l.body.rect.size.width.min(MESSAGE_MAX_PX)
        };
        wrap_lines(l.body.face, &vm.message, width, max)
    }

    /// Moves the status slots so `n` lines of message fit in the body.
    fn make_room_for_lines(&self, l: &mut StatusLayout, n: usize) {
        let more = i32::try_from(n.saturating_sub(1)).unwrap_or(0);
        if C::MONO {
            let rows = i32::try_from(n).unwrap_or(0);
            l.body = if self.vm.screen == Screen::LoginNeeded {
                // No command chip below: the lines centered under the heading.
                let top = 15 + (49 - rows * MONO_LINE_PX) / 2;
                let first = Slot {
                    rect: Rectangle::new(Point::new(0, top), l.body.rect.size),
                    baseline: top + 9,
                    ..l.body
                };
                grown(first, n, MONO_LINE_PX)
            } else {
                // Ending on the body's line, above the hint.
                grown(moved(l.body, -more * MONO_LINE_PX), n, MONO_LINE_PX)
            };
            return;
        }
        // Color: the lines go down from the body's first, the hint below them, and the
        // whole moves up by half of what it grew to stay centered.
        let grow = more * STATUS_LINE_PX;
        l.body = grown(l.body, n, STATUS_LINE_PX);
        l.body2 = moved(l.body2, grow);
        let up = -grow / 2;
        if let Some(icon) = &mut l.icon {
            icon.top_left.y += up;
        }
        for slot in [&mut l.heading, &mut l.body, &mut l.body2] {
            *slot = moved(*slot, up);
        }
    }

    /// The badge's text and color: offline with how long, the age of stale data, or
    /// (at 128x64, where there is no header) paused or out of quota.
    fn badge(&self) -> Option<(heapless::String<32>, Role)> {
        let vm = self.vm;
        let age = |s: u32| {
            if C::MONO {
                short_age_text(s)
            } else {
                age_text(s)
            }
        };
        let mut t = heapless::String::new();
        if let Some(s) = vm.offline_s.filter(|_| vm.screen == Screen::Offline) {
            let _ = t.push_str(if C::MONO {
                "Offline "
            } else {
                "Offline \u{b7} "
            });
            let _ = t.push_str(&age(s));
            Some((t, Role::Error))
        } else if C::MONO && vm.screen == Screen::QuotaExceeded {
            let _ = t.push_str(QUOTA_HEADING_MONO);
            Some((t, Role::Text))
        } else if let Some(s) = vm.stale_s {
            let _ = t.push_str(&age(s));
            let _ = t.push_str(" ago");
            Some((t, Role::Warning))
        } else if C::MONO && vm.screen == Screen::Paused {
            let _ = t.push_str("PAUSED");
            Some((t, Role::Text))
        } else {
            None
        }
    }

    /// The parts this frame draws, with the area each may touch.
    pub fn parts(&self) -> heapless::Vec<(Part, Rectangle), MAX_PARTS> {
        let mut out = heapless::Vec::new();
        let mut add = |p: Part, r: Rectangle| {
            let _ = out.push((p, r));
        };
        let layout = self.layout();
        let warning = self.warning_slot(&layout);
        match layout {
            Layout::Item(l) => {
                let quota = self.quota_slots(&l);
                if let Some(h) = l.header {
                    add(Part::Header, h.rect);
                }
                add(Part::Badge, l.badge.rect);
                if let Some(a) = l.art {
                    add(Part::Art, a);
                }
                add(Part::Title, l.title.rect);
                add(Part::Subtitle, l.subtitle.rect);
                // At 128x64 the warning and the back line take the album's line.
                if !(C::MONO && (warning.is_some() || quota.is_some())) {
                    add(Part::Detail, l.detail.rect);
                }
                if !quota.is_some_and(|q| q.tall) {
                    add(Part::Bar, l.bar_area);
                    add(Part::Elapsed, l.elapsed.rect);
                    add(Part::Total, l.total.rect);
                }
                if quota.is_none() {
                    add(Part::Controls, l.controls);
                }
                if let Some((a, b)) = l.side {
                    add(Part::Side, envelope(a, b));
                }
                if let Some(w) = warning {
                    add(Part::Warning, w.rect);
                }
                if let Some(q) = quota {
                    if let Some(h) = q.heading {
                        add(Part::Heading, h.rect);
                    }
                    add(Part::Body, q.back.rect);
                }
                if self.vm.notice.is_some() {
                    add(Part::Notice, l.notice);
                }
            }
            Layout::Status(l) => {
                if let Some(i) = l.icon {
                    add(Part::Icon, i);
                }
                add(Part::Heading, l.heading.rect);
                add(Part::Big, l.big.rect);
                add(Part::Body, l.body.rect);
                add(Part::Body2, l.body2.rect);
                if let Some(w) = warning {
                    add(Part::Warning, w.rect);
                }
                if self.vm.notice.is_some() {
                    add(Part::Notice, l.notice);
                }
            }
        }
        out
    }

    /// The marquee offset of the title: `None` when it does not scroll (it fits, or the
    /// profile has no marquee), `Some(0)` at rest.
    pub fn title_scroll(&self) -> Option<u32> {
        if !self.profile.marquee() {
            return None;
        }
        let Layout::Item(l) = self.layout() else {
            return None;
        };
        let w = l.title.face.width(&self.vm.title);
        let overflow = w.checked_sub(l.title.rect.size.width).filter(|o| *o > 0)?;
        Some(marquee_offset(overflow, self.anim_ms))
    }

    /// The progress fill in pixels (for the scene's narrow bar updates).
    pub fn bar_fill(&self) -> u32 {
        match self.layout() {
            Layout::Item(l) => fill_px(self.vm.position_ms, self.vm.duration_ms, l.bar.size.width),
            Layout::Status(_) => 0,
        }
    }

    /// Whether the progress bar has a knob (color displays, playing, known duration).
    fn bar_knob(&self) -> bool {
        !C::MONO && self.vm.has_duration() && self.vm.playing && !self.vm.screen.dims_item()
    }

    /// The box a progress tick from fill `a` to fill `b` must redraw (see
    /// [`progress_change`]); `None` on screens without a bar.
    pub fn bar_change(&self, a: u32, b: u32) -> Option<Rectangle> {
        let Layout::Item(l) = self.layout() else {
            return None;
        };
        Some(progress_change::<C>(l.bar, a, b, self.bar_knob()).intersection(&l.bar_area))
    }

    /// The text of a part the scene redraws glyph by glyph when only its text changed
    /// (elapsed, total, the big clock or countdown); `None` for other parts.
    pub fn part_text(&self, part: Part) -> Option<TimeText> {
        let vm = self.vm;
        match part {
            Part::Elapsed => Some(vm.elapsed.clone()),
            Part::Total => Some(vm.total.clone()),
            Part::Big => Some(match vm.screen {
                Screen::RateLimited => countdown_text(vm.retry_in_s.unwrap_or(0)),
                Screen::QuotaExceeded => {
                    let mut t = TimeText::new();
                    if let Some((_, time)) = self.quota_time() {
                        tonearm_core::text::push_truncating(&mut t, time);
                    }
                    t
                }
                Screen::Idle => match vm.clock {
                    Some(c) => {
                        use core::fmt::Write as _;
                        let mut t = TimeText::new();
                        let _ = write!(t, "{}:{:02}", c.hour.min(23), c.minute.min(59));
                        t
                    }
                    None => TimeText::new(),
                },
                _ => TimeText::new(),
            }),
            _ => None,
        }
    }

    /// The box holding every pixel that differs when `part` (see [`Frame::part_text`])
    /// shows `new` instead of `old`: only the glyphs that changed. `None` when the texts
    /// cannot be compared glyph by glyph (the whole part must be redrawn).
    pub fn text_change(&self, part: Part, old: &str, new: &str) -> Option<Rectangle> {
        let slot = match (self.layout(), part) {
            (Layout::Item(l), Part::Elapsed) => l.elapsed,
            (Layout::Item(l), Part::Total) => l.total,
            (Layout::Status(l), Part::Big) => l.big,
            _ => return None,
        };
        slot.face
            .changed_area(old, new, slot.rect, slot.baseline, slot.align)
    }

    /// A fingerprint of what `part` shows: when it and [`Frame::part_text`] are
    /// unchanged, the part's pixels are too. (The bar's fill and the texts of
    /// [`Frame::part_text`] are left out: the scene redraws only what of them changed.)
    pub fn part_key(&self, part: Part) -> u32 {
        let vm = self.vm;
        let mut h = Fnv1a::new();
        hash_str(&mut h, vm.screen.name());
        match part {
            Part::Header => {
                h.write(&[u8::from(vm.playing), u8::from(vm.stale_s.is_some())]);
                hash_str(&mut h, &vm.device);
            }
            Part::Warning => hash_str(&mut h, &vm.warning),
            Part::Badge => {
                h.write_u32(vm.stale_s.map_or(u32::MAX, age_bucket));
                h.write_u32(vm.offline_s.map_or(u32::MAX, age_bucket));
                h.write(&[u8::from(vm.playing)]);
            }
            Part::Art => {
                h.write_u32(match vm.art {
                    ArtStatus::None => 0,
                    ArtStatus::Placeholder { seed } => seed ^ 0x5a5a_5a5a,
                    ArtStatus::Cover { key, .. } => key ^ 0xa5a5_a5a5,
                });
                h.write(&[u8::from(vm.playing)]);
            }
            Part::Title => {
                hash_str(&mut h, &vm.title);
                h.write_u32(self.title_scroll().unwrap_or(u32::MAX));
            }
            Part::Subtitle => {
                h.write(&[u8::from(vm.notice.is_some())]);
                hash_str(&mut h, &vm.subtitle);
            }
            Part::Detail => {
                h.write(&[u8::from(vm.notice.is_some())]);
                hash_str(&mut h, &vm.detail);
            }
            Part::Bar => {
                h.write(&[u8::from(vm.playing), u8::from(vm.has_duration())]);
            }
            // The texts of these are compared apart (see `Frame::part_text`).
            Part::Elapsed | Part::Total | Part::Big => {}
            Part::Controls | Part::Side => {
                let c = vm.controls;
                h.write(&[
                    u8::from(vm.playing),
                    u8::from(c.prev),
                    u8::from(c.play_pause),
                    u8::from(c.next),
                    vm.shuffle.map_or(2, u8::from),
                    vm.repeat.map_or(3, |r| r as u8),
                    u8::from(vm.stale_s.is_some()),
                    u8::from(vm.offline_s.is_some()),
                ]);
            }
            Part::Icon | Part::Heading | Part::Body | Part::Body2 => {
                // (Whether the quota screen is over an item or a status screen.)
                h.write(&[u8::from(vm.clock.is_some()), u8::from(self.without_item())]);
                hash_str(&mut h, &vm.message);
                // Offline before anything was heard shows its age here.
                h.write_u32(vm.offline_s.map_or(u32::MAX, age_bucket));
                if part == Part::Body {
                    // The back line (only its lead when the time is a big number).
                    hash_str(&mut h, self.back_text());
                }
            }
            Part::Notice => h.write_u32(vm.notice.map_or(u32::MAX, |n| n as u32)),
        }
        h.finish()
    }

    /// Draws the part of the frame inside `region`: its background, then every part
    /// that reaches into it, clipped to it. Pixels outside `region` are not touched.
    pub fn draw_region<D>(&self, target: &mut D, region: Rectangle) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let region = region.intersection(&self.profile.bounds());
        if region.is_zero_sized() {
            return Ok(());
        }
        let mut d = target.clipped(&region);
        d.fill_solid(&region, C::role(Role::Background))?;
        let layout = self.layout();
        for (part, area) in self.parts() {
            if !area.intersection(&region).is_zero_sized() {
                let mut clip = d.clipped(&area);
                self.draw_part(part, &layout, &mut clip)?;
            }
        }
        Ok(())
    }

    fn draw_part<D>(&self, part: Part, layout: &Layout, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        match layout {
            Layout::Item(l) => self.draw_item_part(part, l, d),
            Layout::Status(l) => self.draw_status_part(part, l, d),
        }
    }

    fn line<D>(
        &self,
        text: &str,
        slot: &Slot,
        role: Role,
        scroll: Option<u32>,
        d: &mut D,
    ) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        slot.face.draw_line(
            text,
            slot.rect,
            slot.baseline,
            slot.align,
            scroll,
            C::role(role),
            d,
        )
    }

    fn draw_item_part<D>(&self, part: Part, l: &ItemLayout, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let vm = self.vm;
        let offline = vm.screen.dims_item();
        let dim = |r: Role| {
            if offline && !C::MONO {
                Role::TextFaint
            } else {
                r
            }
        };
        match part {
            Part::Header => {
                let Some(slot) = l.header else { return Ok(()) };
                let (label, role) = match vm.screen {
                    Screen::Paused => ("PAUSED", Role::TextDim),
                    Screen::Episode => ("PODCAST", Role::Accent),
                    Screen::Ad => ("ADVERTISEMENT", Role::TextDim),
                    Screen::Offline | Screen::QuotaExceeded => ("LAST PLAYED", Role::TextFaint),
                    _ => ("NOW PLAYING", Role::Accent),
                };
                let icon = if vm.playing && !offline {
                    Icon::Play
                } else {
                    Icon::Pause
                };
                let s = 9u32;
                let top = slot.baseline - i32::try_from(s).unwrap_or(0);
                let ir = Rectangle::new(Point::new(slot.rect.top_left.x, top), Size::new(s, s));
                draw_icon(icon, ir, C::role(role), true, d)?;
                let x = slot.rect.top_left.x + 15;
                let right = slot.rect.top_left.x + i32::try_from(slot.rect.size.width).unwrap_or(0);
                if x + px(slot.face.width(label)) > right {
                    // No room beside the badge and the warning: the icon says it.
                    return Ok(());
                }
                let w = slot
                    .face
                    .draw(label, Point::new(x, slot.baseline), C::role(role), d)?;
                let x = x + i32::try_from(w).unwrap_or(0) + 6;
                let width = u32::try_from(right - x).unwrap_or(0);
                // The device only where a few letters of its name fit, never "o...".
                if !vm.device.is_empty() && width >= MIN_DEVICE_PX {
                    let r = Rectangle::new(
                        Point::new(x, slot.rect.top_left.y),
                        Size::new(width, slot.rect.size.height),
                    );
                    let mut dev: heapless::String<80> = heapless::String::new();
                    let _ = dev.push_str("on ");
                    tonearm_core::text::push_truncating(&mut dev, &vm.device);
                    slot.face.draw_line(
                        &dev,
                        r,
                        slot.baseline,
                        Align::Left,
                        None,
                        C::role(Role::TextFaint),
                        d,
                    )?;
                }
                Ok(())
            }
            Part::Badge => {
                let Some((text, bg)) = self.badge() else {
                    return Ok(());
                };
                let slot = &l.badge;
                let align = if C::MONO { Align::Center } else { slot.align };
                let fg = C::role(Role::Background);
                draw_chip(
                    &text,
                    slot.face,
                    slot.rect,
                    slot.baseline,
                    align,
                    fg,
                    C::role(bg),
                    d,
                )?;
                Ok(())
            }
            Part::Art => {
                let Some(area) = l.art else { return Ok(()) };
                match vm.art {
                    ArtStatus::Cover { .. } if self.cover_for(area).is_some() => {
                        let pixels = self.cover_for(area).unwrap_or(&[]);
                        if offline || vm.screen == Screen::Paused {
                            d.fill_contiguous(&area, pixels.iter().map(|c| c.dimmed()))?;
                        } else {
                            d.fill_contiguous(&area, pixels.iter().copied())?;
                        }
                    }
                    ArtStatus::Placeholder { seed } | ArtStatus::Cover { seed, .. } => {
                        let mut clip = d.clipped(&area);
                        draw_art_placeholder(
                            area,
                            seed,
                            offline || vm.screen == Screen::Paused,
                            &mut clip,
                        )?;
                    }
                    ArtStatus::None => {
                        RoundedRectangle::with_equal_corners(area, Size::new(8, 8))
                            .into_styled(PrimitiveStyle::with_fill(C::role(Role::Track)))
                            .draw(d)?;
                        let face = &crate::fonts::HEADING_L;
                        let b = area.center().y + 6;
                        face.draw_line(
                            "AD",
                            area,
                            b,
                            Align::Center,
                            None,
                            C::role(Role::TextFaint),
                            d,
                        )?;
                    }
                }
                if vm.screen == Screen::Paused {
                    let c = area.center();
                    let dia = area.size.width.min(area.size.height) * 2 / 5;
                    Circle::with_center(c, dia)
                        .into_styled(PrimitiveStyle::with_fill(C::role(Role::Background)))
                        .draw(d)?;
                    let s = dia * 2 / 5;
                    let half = i32::try_from(s / 2).unwrap_or(0);
                    draw_icon(
                        Icon::Pause,
                        Rectangle::new(c - Point::new(half, half), Size::new(s, s)),
                        C::role(Role::Text),
                        true,
                        d,
                    )?;
                }
                Ok(())
            }
            Part::Title => {
                let title = if vm.title.is_empty() {
                    "Unknown title"
                } else {
                    vm.title.as_str()
                };
                self.line(title, &l.title, dim(Role::Text), self.title_scroll(), d)
            }
            // At 128x64 the notice covers these (an accent would peek out above it).
            Part::Subtitle | Part::Detail | Part::Warning | Part::Body
                if C::MONO && vm.notice.is_some() =>
            {
                Ok(())
            }
            Part::Subtitle => self.line(&vm.subtitle, &l.subtitle, dim(Role::TextDim), None, d),
            Part::Detail => self.line(&vm.detail, &l.detail, dim(Role::TextFaint), None, d),
            Part::Bar => {
                let role = if vm.playing && !offline {
                    Role::Accent
                } else {
                    Role::AccentPaused
                };
                let fill = self.bar_fill();
                draw_progress(l.bar, fill, C::role(role), self.bar_knob(), d)
            }
            Part::Elapsed => self.line(&vm.elapsed, &l.elapsed, dim(Role::TextDim), None, d),
            Part::Total => self.line(&vm.total, &l.total, dim(Role::TextDim), None, d),
            Part::Controls => self.draw_controls(l, d),
            Part::Side => {
                let Some((a, b)) = l.side else { return Ok(()) };
                self.draw_shuffle_repeat(a, b, d)
            }
            Part::Warning => self.draw_warning(&Layout::Item(*l), d),
            Part::Heading => {
                let Some(slot) = self.quota_slots(l).and_then(|q| q.heading) else {
                    return Ok(());
                };
                self.line(self.quota_heading(&slot), &slot, Role::Text, None, d)
            }
            Part::Body => {
                let Some(q) = self.quota_slots(l) else {
                    return Ok(());
                };
                let role = if C::MONO { Role::Text } else { Role::Warning };
                self.line(&vm.back, &q.back, role, None, d)
            }
            Part::Notice => self.draw_notice(l.notice, d),
            _ => Ok(()),
        }
    }

    /// The login warning, as an outlined chip in its slot.
    fn draw_warning<D>(&self, layout: &Layout, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let Some(slot) = self.warning_slot(layout) else {
            return Ok(());
        };
        let (align, role) = match layout {
            Layout::Item(_) if C::MONO => (Align::Left, Role::Text),
            Layout::Item(_) => (Align::Right, Role::Warning),
            Layout::Status(_) => (Align::Center, Role::Warning),
        };
        if C::MONO {
            // Inverted, as every chip at 128x64.
            draw_chip(
                &self.vm.warning,
                slot.face,
                slot.rect,
                slot.baseline,
                align,
                C::role(Role::Background),
                C::role(role),
                d,
            )?;
            return Ok(());
        }
        draw_outlined_chip(
            &self.vm.warning,
            slot.face,
            slot.rect,
            slot.baseline,
            align,
            C::role(role),
            d,
        )?;
        Ok(())
    }

    /// `quota_exceeded`'s heading: the longest that fits `slot`.
    fn quota_heading(&self, slot: &Slot) -> &'static str {
        if C::MONO {
            return QUOTA_HEADING_MONO;
        }
        QUOTA_HEADINGS
            .into_iter()
            .find(|h| slot.face.width(h) <= slot.rect.size.width)
            .unwrap_or(QUOTA_HEADING_MONO)
    }

    /// What `quota_exceeded`'s body line says: the back line, or only its lead when its
    /// time is a big number. Empty on other screens.
    fn back_text(&self) -> &str {
        if self.vm.screen != Screen::QuotaExceeded {
            return "";
        }
        match self.quota_time() {
            Some((lead, _)) => lead,
            None => &self.vm.back,
        }
    }

    fn draw_shuffle_repeat<D>(&self, a: Rectangle, b: Rectangle, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let vm = self.vm;
        if let Some(on) = vm.shuffle {
            let role = if on { Role::Accent } else { Role::TextFaint };
            draw_icon(Icon::Shuffle, a, C::role(role), true, d)?;
        }
        if let Some(r) = vm.repeat {
            let (icon, role) = match r {
                Repeat::Off => (Icon::Repeat, Role::TextFaint),
                Repeat::Context => (Icon::Repeat, Role::Accent),
                Repeat::Track => (Icon::RepeatOne, Role::Accent),
            };
            draw_icon(icon, b, C::role(role), true, d)?;
        }
        Ok(())
    }

    fn draw_controls<D>(&self, l: &ItemLayout, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let vm = self.vm;
        let c = vm.controls;
        let area = l.controls;
        let center = area.center();
        let offline = vm.screen.dims_item();
        let role = |ok: bool| {
            if ok && !offline {
                Role::Text
            } else {
                Role::Disabled
            }
        };
        let play_icon = if vm.playing { Icon::Pause } else { Icon::Play };
        if C::MONO {
            // The badge takes this place when there is one.
            if offline || vm.stale_s.is_some() || vm.screen == Screen::Paused {
                return Ok(());
            }
            let s = 7u32;
            let y = center.y - 3;
            for (i, (icon, ok)) in [
                (Icon::Prev, c.prev),
                (play_icon, c.play_pause),
                (Icon::Next, c.next),
            ]
            .into_iter()
            .enumerate()
            {
                let x = center.x - 16 + i32::try_from(i).unwrap_or(0) * 12;
                draw_icon(
                    icon,
                    Rectangle::new(Point::new(x, y), Size::new(s, s)),
                    C::role(Role::Text),
                    ok,
                    d,
                )?;
            }
            return Ok(());
        }
        let big = if area.size.height >= 36 { 36u32 } else { 22 };
        let small = if big > 30 { 16u32 } else { 12 };
        let gap = i32::try_from(big).unwrap_or(0) / 2 + if big > 30 { 26 } else { 12 };
        let sq = |cx: i32, s: u32| {
            let h = i32::try_from(s / 2).unwrap_or(0);
            Rectangle::new(Point::new(cx - h, center.y - h), Size::new(s, s))
        };
        // Play/pause: a filled disc with the icon in the background color.
        let disc_role = role(c.play_pause);
        Circle::with_center(center, big)
            .into_styled(PrimitiveStyle::with_fill(C::role(disc_role)))
            .draw(d)?;
        let is = big * 2 / 5;
        let nudge = if play_icon == Icon::Play { 1 } else { 0 };
        draw_icon(
            play_icon,
            sq(center.x + nudge, is),
            C::role(Role::Background),
            true,
            d,
        )?;
        draw_icon(
            Icon::Prev,
            sq(center.x - gap, small),
            C::role(role(c.prev)),
            true,
            d,
        )?;
        draw_icon(
            Icon::Next,
            sq(center.x + gap, small),
            C::role(role(c.next)),
            true,
            d,
        )?;
        if l.side.is_none() {
            let far = gap * 2 + 6;
            self.draw_shuffle_repeat(sq(center.x - far, small), sq(center.x + far, small), d)?;
        }
        Ok(())
    }

    fn draw_notice<D>(&self, area: Rectangle, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let Some(n) = self.vm.notice else {
            return Ok(());
        };
        let face = if C::MONO {
            &crate::fonts::MONO_SMALL
        } else {
            &crate::fonts::HEADING_L
        };
        let r = Size::new(6, 6);
        RoundedRectangle::with_equal_corners(area, r)
            .into_styled(PrimitiveStyle::with_fill(C::role(Role::Overlay)))
            .draw(d)?;
        RoundedRectangle::with_equal_corners(area, r)
            .into_styled(PrimitiveStyle::with_stroke(C::role(Role::Warning), 2))
            .draw(d)?;
        let baseline = area.center().y + if C::MONO { 3 } else { 6 };
        let inner = area.offset(-4);
        face.draw_line(
            n.text(),
            inner,
            baseline,
            Align::Center,
            None,
            C::role(Role::Text),
            d,
        )
    }

    /// `offline` or `quota_exceeded` before anything was ever heard (no title to show
    /// dimmed): drawn as a status screen.
    fn without_item(&self) -> bool {
        self.vm.screen.dims_item() && self.vm.title.is_empty()
    }

    fn draw_status_part<D>(&self, part: Part, l: &StatusLayout, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let vm = self.vm;
        let mono = C::MONO;
        let mut offline_for: heapless::String<24> = heapless::String::new();
        if let Some(secs) = vm.offline_s {
            use core::fmt::Write as _;
            let _ = write!(offline_for, "for {}", age_text(secs));
        }
        let (icon, icon_role, heading, body, body2): (Icon, Role, &str, &str, &str) =
            match vm.screen {
                Screen::LoginNeeded => (
                    Icon::Person,
                    Role::Accent,
                    if mono {
                        "Login needed"
                    } else {
                        "Log in to Spotify"
                    },
                    if mono {
                        "On your computer run"
                    } else {
                        "On your computer, run"
                    },
                    "tonearm login",
                ),
                Screen::RateLimited => (
                    Icon::Clock,
                    Role::Warning,
                    if mono {
                        "Rate limited"
                    } else {
                        "Spotify asked us to wait"
                    },
                    "Retrying automatically in",
                    "",
                ),
                Screen::ConfigError => (
                    Icon::Alert,
                    Role::Error,
                    if mono {
                        "Config error"
                    } else {
                        "Configuration error"
                    },
                    vm.message.as_str(),
                    if mono {
                        "Check config.toml"
                    } else {
                        "Fix config.toml, then restart tonearm"
                    },
                ),
                Screen::Connecting => (
                    Icon::Clock,
                    Role::Accent,
                    "Connecting",
                    if vm.message.is_empty() {
                        "Joining the network"
                    } else {
                        vm.message.as_str()
                    },
                    "",
                ),
                Screen::Offline => (
                    Icon::Alert,
                    Role::Error,
                    "Offline",
                    if mono {
                        "No answer from Spotify"
                    } else {
                        "No answer from Spotify yet"
                    },
                    offline_for.as_str(),
                ),
                Screen::SetupNeeded => (
                    Icon::Person,
                    Role::Accent,
                    if mono {
                        "Setup needed"
                    } else {
                        "Set up this display"
                    },
                    if mono {
                        "On your computer run"
                    } else {
                        "On your computer, run"
                    },
                    "tonearm provision",
                ),
                Screen::QuotaExceeded => (
                    Icon::Clock,
                    Role::Warning,
                    self.quota_heading(&l.heading),
                    self.back_text(),
                    "",
                ),
                _ => (
                    Icon::Clock,
                    Role::TextFaint,
                    "Nothing playing",
                    if mono {
                        "Play on Spotify"
                    } else {
                        "Play something on Spotify"
                    },
                    "",
                ),
            };
        let idle = vm.screen == Screen::Idle;
        let heading_role = if idle { Role::TextFaint } else { Role::Text };
        match part {
            Part::Icon => {
                let Some(area) = l.icon else { return Ok(()) };
                if idle && vm.clock.is_some() {
                    return Ok(());
                }
                draw_icon(icon, area, C::role(icon_role), true, d)
            }
            Part::Heading => {
                if idle && vm.clock.is_some() {
                    return Ok(());
                }
                self.line(heading, &l.heading, heading_role, None, d)
            }
            Part::Big => {
                let text = self.part_text(Part::Big).unwrap_or_default();
                if text.is_empty() {
                    return Ok(());
                }
                let role = if idle { Role::TextDim } else { Role::Warning };
                self.line(&text, &l.big, role, None, d)
            }
            Part::Body => {
                let slot = l.body;
                if vm.screen == Screen::RateLimited && mono {
                    return self.line("retrying automatically", &slot, Role::Text, None, d);
                }
                if idle && vm.clock.is_some() {
                    return self.line("Nothing playing", &slot, Role::TextFaint, None, d);
                }
                let role = if vm.screen == Screen::ConfigError {
                    Role::Error
                } else {
                    Role::TextDim
                };
                let lines = self.message_lines(l);
                if !lines.is_empty() {
                    // A message, on as many lines as it needs (the body grew to hold them).
                    let pitch = if mono { MONO_LINE_PX } else { STATUS_LINE_PX };
                    let mut line = slot;
                    for text in lines {
                        self.line(text, &line, role, None, d)?;
                        line.baseline += pitch;
                    }
                    return Ok(());
                }
                self.line(
                    body,
                    &slot,
                    if idle { Role::TextFaint } else { role },
                    None,
                    d,
                )
            }
            Part::Body2 => {
                // A login message says what to run itself: no command chip under it.
                let said = vm.screen == Screen::LoginNeeded && !vm.message.is_empty();
                if body2.is_empty() || said {
                    return Ok(());
                }
                if matches!(vm.screen, Screen::LoginNeeded | Screen::SetupNeeded) {
                    // The command, as a chip.
                    let (fg, bg) = if mono {
                        (C::role(Role::Background), C::role(Role::Text))
                    } else {
                        (C::role(Role::Background), C::role(Role::Accent))
                    };
                    let mut slot = l.body2;
                    if !mono {
                        slot.rect.size.height = 20;
                    }
                    draw_chip(
                        body2,
                        slot.face,
                        slot.rect,
                        slot.baseline,
                        Align::Center,
                        fg,
                        bg,
                        d,
                    )?;
                    return Ok(());
                }
                // A hint too long for one line goes on two.
                let slot = l.body2;
                match slot.face.wrap_at(body2, slot.rect.size.width) {
                    Some(at) => {
                        let (first, rest) = body2.split_at(at);
                        self.line(first, &slot, Role::TextFaint, None, d)?;
                        let mut next = slot;
                        next.baseline += STATUS_LINE_PX;
                        self.line(rest.trim_start(), &next, Role::TextFaint, None, d)
                    }
                    None => self.line(body2, &slot, Role::TextFaint, None, d),
                }
            }
            Part::Warning => self.draw_warning(&Layout::Status(*l), d),
            Part::Notice => self.draw_notice(l.notice, d),
            _ => Ok(()),
        }
    }
}

fn envelope(a: Rectangle, b: Rectangle) -> Rectangle {
    let (a0, b0) = (a.top_left, b.top_left);
    let a1 = a.bottom_right().unwrap_or(a0);
    let b1 = b.bottom_right().unwrap_or(b0);
    Rectangle::with_corners(
        Point::new(a0.x.min(b0.x), a0.y.min(b0.y)),
        Point::new(a1.x.max(b1.x), a1.y.max(b1.y)),
    )
}

/// Badge ages change their text only at these steps, so a tick does not redraw them.
fn age_bucket(secs: u32) -> u32 {
    match secs {
        0..=59 => secs,
        60..=3599 => 100 + secs / 60,
        _ => 10_000 + secs / 3600,
    }
}

impl<C: Palette> Drawable for Frame<'_, C> {
    type Color = C;
    type Output = ();

    fn draw<D>(&self, target: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        self.draw_region(target, self.profile.bounds())
    }
}
