//! The item screen: `now_playing`, `paused`, `episode`, `ad`, and the last item dimmed
//! on `offline` and `quota_exceeded`.

use embedded_graphics::draw_target::DrawTargetExt;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{Circle, PrimitiveStyle, Rectangle, RoundedRectangle};

use super::{Context, Parts, draw_notice, draw_volume, draw_warning, line, moved, px};
use crate::color::{Palette, Role};
use crate::parts::{MAX_PARTS, Part};
use crate::profile::{ItemLayout, MONO_ART, Profile, Scale, Slot};
use crate::screen::Screen;
use crate::text::{Align, marquee_offset};
use crate::view::{ArtStatus, BADGE_CAP, BadgeKind, NO_ART_TEXT, ViewModel};
use crate::widgets::{
    CHIP_PAD, Icon, MAX_LINES, draw_art_placeholder, draw_chip, draw_icon, draw_progress, fill_px,
    progress_change, title_lines,
};
use tonearm_core::session::Control;
use tonearm_core::{Repeat, TimeText};

/// The narrowest room the header gives the device name ("on Kitch...").
const MIN_DEVICE_PX: u32 = 56;

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

/// An item on screen, laid out once for its view model, profile and time.
#[derive(Debug, Clone)]
pub struct ItemScreen<'a, C> {
    cx: Context<'a, C>,
    layout: ItemLayout,
    badge: Option<(heapless::String<BADGE_CAP>, BadgeKind)>,
    warning: Option<Slot>,
    quota: Option<QuotaSlots>,
    elapsed: TimeText,
    total: TimeText,
    /// The title's lines where it wraps (empty: one line, scrolling when too long).
    title_lines: heapless::Vec<&'a str, MAX_LINES>,
    /// Where the heart is drawn, when it is.
    heart: Option<Rectangle>,
    /// Where the speaker is drawn, when it is.
    speaker: Option<Rectangle>,
    /// Where what plays next is drawn, when it is.
    up_next: Option<Slot>,
}

impl<'a, C: Palette> ItemScreen<'a, C> {
    /// The item screen of `cx` (whatever its view model's screen; the frame chooses).
    pub fn new(cx: Context<'a, C>) -> Self {
        let vm = cx.vm;
        let mono = cx.mono();
        let badge = vm.badge(cx.profile, cx.now_ms);
        let mut l = cx.profile.item_layout();
        if mono && matches!(vm.art, ArtStatus::Cover { .. }) {
            // A cover at 128x64: beside the three lines, above the bar.
            let x = MONO_ART.top_left.x + px(MONO_ART.size.width) + 4;
            for slot in [&mut l.title, &mut l.subtitle, &mut l.detail] {
                let right = slot.rect.top_left.x + px(slot.rect.size.width);
                slot.rect.size.width = u32::try_from(right - x).unwrap_or(0);
                slot.rect.top_left.x = x;
            }
            l.art = Some(MONO_ART);
        }
        let title_lines = wrap_title(&mut l, vm.title_line());
        let live = !vm.screen.dims_item();
        let heart = l.heart.filter(|_| vm.heart.is_some() && live);
        if let Some(h) = heart.filter(|h| !h.intersection(&l.detail.rect).is_zero_sized()) {
            // The album's line gives way to the heart at its end (128x64).
            let right = h.top_left.x - 2 - l.detail.rect.top_left.x;
            l.detail.rect.size.width = u32::try_from(right).unwrap_or(0);
        }
        let speaker = l.speaker.filter(|_| vm.volume.is_some() && live);
        let up_next = l
            .up_next
            .filter(|_| !vm.up_next.is_empty() && live)
            .filter(|slot| {
                // In the header's place only when the header has nothing else to say.
                l.header
                    .is_none_or(|h| h.rect.intersection(&slot.rect).is_zero_sized())
                    || (badge.is_none() && !vm.shows_warning())
            });
        if let (Some(slot), Some(h)) = (up_next, l.header)
            && !h.rect.intersection(&slot.rect).is_zero_sized()
        {
            l.header = None;
        }
        let (end, header_warning) = header_row(&l, badge.as_ref().map(|(t, _)| t.as_str()), vm);
        if let Some(h) = &mut l.header {
            h.rect.size.width = u32::try_from(end - h.rect.top_left.x).unwrap_or(0);
        }
        let warning = match vm.shows_warning() {
            false => None,
            // The album's line, a pixel lower: clear of the descenders above.
            true if mono => Some(moved(
                Slot {
                    baseline: l.detail.baseline - 2,
                    ..l.detail
                },
                1,
            )),
            true => header_warning,
        };
        let quota = quota_slots(&l, vm.screen, mono);
        let (elapsed, total) = vm.times_at(cx.now_ms);
        ItemScreen {
            cx,
            layout: l,
            badge,
            warning,
            quota,
            elapsed,
            total,
            title_lines,
            heart,
            speaker,
            up_next,
        }
    }

    /// What a tap at `at` does on this screen: a control of the control row, the heart,
    /// the speaker (shows the volume), or the halves of the volume overlay while it is up
    /// (down, up). `None`: nothing there.
    pub fn hit(&self, at: Point) -> Option<Control> {
        let vm = self.cx.vm;
        if vm.screen.dims_item() {
            return None;
        }
        let l = &self.layout;
        let k = l.scale;
        let near = |r: Rectangle| r.offset(k.of(6)).contains(at);
        // (The overlay's halves only while it is drawn: a notice covers it.)
        if vm.volume_shown && vm.notice.is_none() && l.notice.contains(at) {
            let up = at.x >= l.notice.center().x;
            return Some(if up {
                Control::VolumeUp
            } else {
                Control::VolumeDown
            });
        }
        if self.heart.is_some_and(near) {
            return Some(Control::ToggleLike);
        }
        if self.speaker.is_some_and(near) {
            return vm.volume.map(Control::SetVolume);
        }
        if self.cx.mono() || !l.controls.contains(at) {
            return None;
        }
        let g = self.control_geometry();
        let dx = at.x - g.center.x;
        let reach = g.gap / 2;
        if dx.abs() <= reach {
            Some(Control::PlayPause)
        } else if (dx + g.gap).abs() <= reach {
            Some(Control::Previous)
        } else if (dx - g.gap).abs() <= reach {
            Some(Control::Next)
        } else {
            None
        }
    }

    /// Where the control row's icons go (color displays).
    fn control_geometry(&self) -> ControlGeometry {
        let area = self.layout.controls;
        // The play disc as large as the row and the scale allow; the other icons and
        // the gaps grow with it.
        let k = self.layout.scale;
        let big = match area.size.height {
            h if h >= k.of_u(36) => k.of_u(36),
            h if h >= 36 => (h - 4) & !1,
            _ => 22,
        };
        ControlGeometry {
            center: area.center(),
            big,
            small: if big > 30 { big * 4 / 9 } else { 12 },
            gap: px(big) / 2 + if big > 30 { k.of(26) } else { 12 },
        }
    }

    /// The context drawn.
    pub fn context(&self) -> &Context<'a, C> {
        &self.cx
    }

    /// The layout, with the adjustments this item needs (a cover at 128x64, the header
    /// shortened for the badge and the warning).
    pub fn layout(&self) -> &ItemLayout {
        &self.layout
    }

    /// This screen at animation time `anim_ms` (the marquee).
    pub(crate) fn set_anim(&mut self, anim_ms: u64) {
        self.cx.anim_ms = anim_ms;
    }

    /// This screen with `cover`.
    pub(crate) fn set_cover(&mut self, cover: Option<super::CoverView<'a, C>>) {
        self.cx.cover = cover;
    }

    /// The elapsed and total texts drawn.
    pub fn times(&self) -> (&TimeText, &TimeText) {
        (&self.elapsed, &self.total)
    }

    /// The badge drawn, if any.
    pub fn badge(&self) -> Option<&str> {
        self.badge.as_ref().map(|(t, _)| t.as_str())
    }

    /// The marquee offset of the title: `None` when it does not scroll (it fits, or the
    /// profile has no marquee), `Some(0)` at rest.
    pub fn title_scroll(&self) -> Option<u32> {
        if !self.cx.profile.marquee() || self.layout.title_lines > 1 {
            return None;
        }
        let l = &self.layout;
        let w = l.title.face.width(&self.cx.vm.title);
        let overflow = w.checked_sub(l.title.rect.size.width).filter(|o| *o > 0)?;
        Some(marquee_offset(overflow, self.cx.anim_ms))
    }

    /// The progress fill in pixels.
    pub fn bar_fill(&self) -> u32 {
        let vm = self.cx.vm;
        fill_px(
            vm.position_at(self.cx.now_ms),
            vm.duration_ms,
            self.layout.bar.size.width,
        )
    }

    /// Whether the progress bar has a knob (color displays, playing, known duration).
    fn bar_knob(&self) -> bool {
        let vm = self.cx.vm;
        !self.cx.mono() && vm.has_duration() && vm.playing && !vm.screen.dims_item()
    }

    /// The box a progress tick from fill `a` to fill `b` must redraw.
    pub fn bar_change(&self, a: u32, b: u32) -> Rectangle {
        let l = &self.layout;
        progress_change(l.bar, a, b, self.bar_knob(), self.cx.mono()).intersection(&l.bar_area)
    }

    /// The slot of a part drawn as one line of text that changes by itself (elapsed,
    /// total).
    pub fn text_slot(&self, part: Part) -> Option<Slot> {
        match part {
            Part::Elapsed => Some(self.layout.elapsed),
            Part::Total => Some(self.layout.total),
            _ => None,
        }
    }

    /// The cover to draw in `area`, if the view model shows one and it is here.
    fn cover_for(&self, area: Rectangle) -> Option<&'a [C]> {
        let ArtStatus::Cover { key, .. } = self.cx.vm.art else {
            return None;
        };
        let c = self.cx.cover?;
        let n = usize::try_from(u64::from(c.size.width) * u64::from(c.size.height)).ok()?;
        (c.key == key && c.size == area.size && c.pixels.len() >= n)
            .then(|| c.pixels.get(..n))
            .flatten()
    }

    fn draw_header<D: DrawTarget<Color = C>>(
        &self,
        slot: &Slot,
        d: &mut D,
    ) -> Result<(), D::Error> {
        let vm = self.cx.vm;
        let label = vm.header_label();
        let role = match vm.screen {
            Screen::Paused | Screen::Ad => Role::TextDim,
            Screen::Offline | Screen::QuotaExceeded => Role::TextFaint,
            _ => Role::Accent,
        };
        let icon = if vm.playing && !vm.screen.dims_item() {
            Icon::Play
        } else {
            Icon::Pause
        };
        let k = self.layout.scale;
        let s = k.of_u(9);
        let top = slot.baseline - px(s);
        let ir = Rectangle::new(Point::new(slot.rect.top_left.x, top), Size::new(s, s));
        draw_icon(icon, ir, C::role(role), true, d)?;
        let x = slot.rect.top_left.x + k.of(15);
        let right = slot.rect.top_left.x + px(slot.rect.size.width);
        if x + px(slot.face.width(label)) > right {
            // No room beside the badge and the warning: the icon says it.
            return Ok(());
        }
        let w = slot
            .face
            .draw(label, Point::new(x, slot.baseline), C::role(role), d)?;
        let x = x + px(w) + k.of(6);
        let width = u32::try_from(right - x).unwrap_or(0);
        let device = vm.device_line();
        // The device only where a few letters of its name fit, never "o...".
        if !device.is_empty() && width >= k.of_u(MIN_DEVICE_PX) {
            let r = Rectangle::new(
                Point::new(x, slot.rect.top_left.y),
                Size::new(width, slot.rect.size.height),
            );
            slot.face.draw_line(
                &device,
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

    fn draw_art<D: DrawTarget<Color = C>>(
        &self,
        area: Rectangle,
        d: &mut D,
    ) -> Result<(), D::Error> {
        let vm = self.cx.vm;
        let dim = vm.screen.dims_item() || vm.screen == Screen::Paused;
        match vm.art {
            ArtStatus::Cover { .. } if self.cover_for(area).is_some() => {
                let pixels = self.cover_for(area).unwrap_or(&[]);
                if dim {
                    d.fill_contiguous(&area, pixels.iter().map(|c| c.dimmed()))?;
                } else {
                    d.fill_contiguous(&area, pixels.iter().copied())?;
                }
            }
            ArtStatus::Placeholder { seed } | ArtStatus::Cover { seed, .. } => {
                let mut clip = d.clipped(&area);
                draw_art_placeholder(area, seed, dim, self.cx.mono(), &mut clip)?;
            }
            ArtStatus::None => {
                let k = self.layout.scale;
                RoundedRectangle::with_equal_corners(area, Size::new(k.of_u(8), k.of_u(8)))
                    .into_styled(PrimitiveStyle::with_fill(C::role(Role::Track)))
                    .draw(d)?;
                let face = self.layout.notice_face;
                let b = area.center().y + k.of(6);
                face.draw_line(
                    NO_ART_TEXT,
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
            let half = px(s / 2);
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

    fn draw_shuffle_repeat<D>(&self, a: Rectangle, b: Rectangle, d: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        let vm = self.cx.vm;
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

    fn draw_controls<D: DrawTarget<Color = C>>(&self, d: &mut D) -> Result<(), D::Error> {
        let vm = self.cx.vm;
        let l = &self.layout;
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
        if self.cx.mono() {
            // The badge takes this place when there is one.
            if offline || self.badge.is_some() || vm.screen == Screen::Paused {
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
        let ControlGeometry {
            big, small, gap, ..
        } = self.control_geometry();
        let sq = |cx: i32, s: u32| {
            let h = px(s / 2);
            Rectangle::new(Point::new(cx - h, center.y - h), Size::new(s, s))
        };
        // Play/pause: a filled disc with the icon in the background color.
        Circle::with_center(center, big)
            .into_styled(PrimitiveStyle::with_fill(C::role(role(c.play_pause))))
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
}

/// Where the header ends (the x past its last pixel), and the login warning's slot on
/// the header row (color displays): the badge's chip sits at the right, the warning's
/// chip left of it (with a gap), and the header (state and device) gets the rest. The
/// badge's slot and the header's left edge are the profile's.
fn header_row(l: &ItemLayout, badge: Option<&str>, vm: &ViewModel) -> (i32, Option<Slot>) {
    let k = l.scale;
    let right = l.badge.rect.top_left.x + px(l.badge.rect.size.width);
    let mut end = match badge {
        Some(text) => {
            let chip = (l.badge.face.width(text) + 2 * CHIP_PAD).min(l.badge.rect.size.width);
            right - px(chip) - k.of(8)
        }
        None => right,
    };
    let mut warning = None;
    if let Some(h) = l.header.filter(|_| vm.shows_warning()) {
        // The header keeps its state icon, at least.
        let min_left = h.rect.top_left.x + k.of(9) + k.of(8);
        let chip = l.badge.face.width(&vm.warning) + 2 * CHIP_PAD;
        let left = (end - px(chip)).max(min_left);
        let mut slot = l.badge;
        slot.rect.top_left.x = left;
        slot.rect.size.width = u32::try_from(end - left).unwrap_or(0);
        slot.align = Align::Right;
        warning = Some(slot);
        end = left - k.of(8);
    }
    (end, warning)
}

/// `quota_exceeded` over a dimmed item: where its heading and back line go (the control
/// row, which has nothing to control; on the square display, from the bar down; at
/// 128x64 the album's line, with the badge saying "Daily limit").
fn quota_slots(l: &ItemLayout, screen: Screen, mono: bool) -> Option<QuotaSlots> {
    if screen != Screen::QuotaExceeded {
        return None;
    }
    if mono {
        return Some(QuotaSlots {
            heading: None,
            back: l.detail,
            tall: false,
        });
    }
    let k = l.scale;
    // The larger displays give the two lines the whole bottom, bar and times included,
    // and center them there.
    let tall = l.controls.size.height < 36 || k != Scale::ONE;
    let (heading_h, back_h) = (k.of(22), k.of(18));
    let (x, w, top) = if tall {
        let wide = if l.title.rect.size.width >= l.controls.size.width {
            l.title.rect
        } else {
            l.controls
        };
        let top = if k == Scale::ONE {
            l.bar_area.top_left.y + 2
        } else {
            let bottom = l.controls.top_left.y + px(l.controls.size.height);
            let room = bottom - l.bar_area.top_left.y;
            l.bar_area.top_left.y + (room - heading_h - back_h) / 2
        };
        (wide.top_left.x, wide.size.width, top)
    } else {
        (
            l.controls.top_left.x,
            l.controls.size.width,
            l.controls.top_left.y,
        )
    };
    let slot = |y: i32, h: i32, baseline: i32, face| Slot {
        rect: Rectangle::new(
            Point::new(x, y),
            Size::new(w, u32::try_from(h).unwrap_or(0)),
        ),
        baseline,
        face,
        align: Align::Center,
    };
    Some(QuotaSlots {
        heading: Some(slot(top, heading_h, top + k.of(18), l.notice_face)),
        back: slot(top + heading_h, back_h, top + k.of(36), l.detail.face),
        tall,
    })
}

/// Where the control row's icons go.
struct ControlGeometry {
    center: Point,
    /// The play disc's diameter.
    big: u32,
    /// The other icons' size.
    small: u32,
    /// From the play disc's centre to previous's and next's.
    gap: i32,
}

/// `Next:` in the accent colour, then what plays next.
fn draw_up_next<C: Palette, D: DrawTarget<Color = C>>(
    text: &str,
    slot: &Slot,
    d: &mut D,
) -> Result<(), D::Error> {
    let label = "Next: ";
    let x0 = slot.rect.top_left.x;
    let w = slot.face.draw(
        label,
        Point::new(x0, slot.baseline),
        C::role(Role::Accent),
        d,
    )?;
    let mut rest = *slot;
    rest.rect.top_left.x = x0 + px(w);
    rest.rect.size.width = slot.rect.size.width.saturating_sub(w);
    rest.align = Align::Left;
    line(text, &rest, Role::TextDim, None, d)
}

/// The title's lines on a layout where it wraps, and the layout made to fit them: the
/// title's box grows to hold them, and when they are fewer than the most the text block
/// closes up around its middle (the title moves down by half the room saved, the lines
/// below it up by the other half). Empty, and the layout unchanged, where titles take
/// one line.
fn wrap_title<'t>(l: &mut ItemLayout, title: &'t str) -> heapless::Vec<&'t str, MAX_LINES> {
    if l.title_lines <= 1 {
        return heapless::Vec::new();
    }
    let lines = title_lines(l.title.face, title, l.title.rect.size.width, l.title_lines);
    let n = lines.len().clamp(1, l.title_lines);
    let pitch = l.title_pitch;
    let spare = i32::try_from(l.title_lines - n).unwrap_or(0) * pitch;
    let more = i32::try_from(n - 1).unwrap_or(0) * pitch;
    l.title = moved(l.title, spare / 2);
    l.title.rect.size.height += u32::try_from(more).unwrap_or(0);
    for slot in [&mut l.subtitle, &mut l.detail] {
        *slot = moved(*slot, spare / 2 - spare);
    }
    lines
}

/// The box around both `a` and `b`.
fn envelope(a: Rectangle, b: Rectangle) -> Rectangle {
    let (a0, b0) = (a.top_left, b.top_left);
    let a1 = a.bottom_right().unwrap_or(a0);
    let b1 = b.bottom_right().unwrap_or(b0);
    Rectangle::with_corners(
        Point::new(a0.x.min(b0.x), a0.y.min(b0.y)),
        Point::new(a1.x.max(b1.x), a1.y.max(b1.y)),
    )
}

impl<C: Palette> Parts<C> for ItemScreen<'_, C> {
    fn profile(&self) -> Profile {
        self.cx.profile
    }

    fn parts(&self) -> heapless::Vec<(Part, Rectangle), MAX_PARTS> {
        let mut out = heapless::Vec::new();
        let mut add = |p: Part, r: Rectangle| {
            let _ = out.push((p, r));
        };
        let l = &self.layout;
        let quota = self.quota;
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
        if !(self.cx.mono() && (self.warning.is_some() || quota.is_some())) {
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
        if let Some(w) = self.warning {
            add(Part::Warning, w.rect);
        }
        if let Some(q) = quota {
            if let Some(h) = q.heading {
                add(Part::Heading, h.rect);
            }
            add(Part::Body, q.back.rect);
        }
        if let Some(h) = self.heart {
            add(Part::Heart, h);
        }
        if let Some(s) = self.speaker {
            add(Part::Speaker, s);
        }
        if let Some(u) = self.up_next {
            add(Part::UpNext, u.rect);
        }
        if self.cx.vm.volume_shown {
            add(Part::Volume, l.notice);
        }
        if self.cx.vm.notice.is_some() {
            add(Part::Notice, l.notice);
        }
        out
    }

    fn draw_part<D: DrawTarget<Color = C>>(&self, part: Part, d: &mut D) -> Result<(), D::Error> {
        let vm = self.cx.vm;
        let l = &self.layout;
        let mono = self.cx.mono();
        let offline = vm.screen.dims_item();
        let dim = |r: Role| {
            if offline && !mono { Role::TextFaint } else { r }
        };
        match part {
            Part::Header => match l.header {
                Some(slot) => self.draw_header(&slot, d),
                None => Ok(()),
            },
            Part::Badge => {
                let Some((text, kind)) = &self.badge else {
                    return Ok(());
                };
                let slot = &l.badge;
                let align = if mono { Align::Center } else { slot.align };
                let bg = match kind {
                    BadgeKind::Offline => Role::Error,
                    BadgeKind::Stale => Role::Warning,
                    BadgeKind::DailyLimit | BadgeKind::Paused => Role::Text,
                };
                draw_chip(
                    text,
                    slot.face,
                    slot.rect,
                    slot.baseline,
                    align,
                    C::role(Role::Background),
                    C::role(bg),
                    d,
                )?;
                Ok(())
            }
            Part::Art => match l.art {
                Some(area) => self.draw_art(area, d),
                None => Ok(()),
            },
            Part::Title if self.title_lines.len() > 1 => {
                let mut slot = l.title;
                for text in &self.title_lines {
                    line(text, &slot, dim(Role::Text), None, d)?;
                    slot.baseline += l.title_pitch;
                }
                Ok(())
            }
            Part::Title => line(
                vm.title_line(),
                &l.title,
                dim(Role::Text),
                self.title_scroll(),
                d,
            ),
            // At 128x64 the notice covers these (an accent would peek out above it).
            Part::Subtitle | Part::Detail | Part::Warning | Part::Body
                if mono && vm.notice.is_some() =>
            {
                Ok(())
            }
            Part::Subtitle => line(&vm.subtitle, &l.subtitle, dim(Role::TextDim), None, d),
            Part::Detail => line(&vm.detail, &l.detail, dim(Role::TextFaint), None, d),
            Part::Bar => {
                let role = if vm.playing && !offline {
                    Role::Accent
                } else {
                    Role::AccentPaused
                };
                draw_progress(
                    l.bar,
                    self.bar_fill(),
                    C::role(role),
                    self.bar_knob(),
                    mono,
                    d,
                )
            }
            Part::Elapsed => line(&self.elapsed, &l.elapsed, dim(Role::TextDim), None, d),
            Part::Total => line(&self.total, &l.total, dim(Role::TextDim), None, d),
            Part::Controls => self.draw_controls(d),
            Part::Side => match l.side {
                Some((a, b)) => self.draw_shuffle_repeat(a, b, d),
                None => Ok(()),
            },
            Part::Warning => {
                let Some(slot) = self.warning else {
                    return Ok(());
                };
                let (align, role) = if mono {
                    (Align::Left, Role::Text)
                } else {
                    (Align::Right, Role::Warning)
                };
                draw_warning(&vm.warning, &slot, align, role, mono, d)
            }
            Part::Heading => {
                let Some(slot) = self.quota.and_then(|q| q.heading) else {
                    return Ok(());
                };
                let headings = ViewModel::quota_headings(self.cx.profile);
                let heading = headings
                    .iter()
                    .find(|h| slot.face.width(h) <= slot.rect.size.width)
                    .or(headings.last())
                    .copied()
                    .unwrap_or_default();
                line(heading, &slot, Role::Text, None, d)
            }
            Part::Body => {
                let Some(q) = self.quota else {
                    return Ok(());
                };
                let role = if mono { Role::Text } else { Role::Warning };
                line(&vm.back_line(self.cx.now_ms), &q.back, role, None, d)
            }
            Part::Heart => {
                let (Some(area), Some(liked)) = (self.heart, vm.heart) else {
                    return Ok(());
                };
                let role = match liked {
                    _ if mono => Role::Text,
                    Some(true) => Role::Accent,
                    Some(false) => Role::TextDim,
                    None => Role::TextFaint,
                };
                draw_icon(Icon::Heart, area, C::role(role), liked == Some(true), d)
            }
            Part::Speaker => match self.speaker {
                Some(area) => {
                    let role = if vm.volume_enabled {
                        Role::TextDim
                    } else {
                        Role::Disabled
                    };
                    draw_icon(Icon::Speaker, area, C::role(role), true, d)
                }
                None => Ok(()),
            },
            Part::UpNext => match self.up_next {
                Some(slot) => draw_up_next(&vm.up_next, &slot, d),
                None => Ok(()),
            },
            Part::Volume => match vm.volume {
                Some(v) if vm.notice.is_none() => draw_volume(
                    v,
                    vm.volume_enabled,
                    l.notice,
                    (l.notice_face, l.scale),
                    mono,
                    d,
                ),
                _ => Ok(()),
            },
            Part::Notice => match vm.notice {
                Some(n) => draw_notice(
                    crate::view::notice_text(n),
                    l.notice,
                    (l.notice_face, l.scale),
                    mono,
                    d,
                ),
                None => Ok(()),
            },
            _ => Ok(()),
        }
    }
}

impl<C: Palette> Drawable for ItemScreen<'_, C> {
    type Color = C;
    type Output = ();

    /// Draws the whole screen (its background included).
    fn draw<D: DrawTarget<Color = C>>(&self, target: &mut D) -> Result<(), D::Error> {
        super::draw_region(self, target, self.cx.profile.bounds())
    }
}
