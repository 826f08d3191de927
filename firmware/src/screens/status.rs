//! The status screen: `idle`, `login_needed`, `rate_limited`, `config_error`,
//! `connecting`, `setup_needed`, and `offline` and `quota_exceeded` before anything was
//! heard.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use super::{Context, Parts, draw_notice, draw_warning, line, moved};
use crate::color::{Palette, Role};
use crate::parts::{MAX_PARTS, Part};
use crate::profile::{Profile, Slot, StatusLayout};
use crate::screen::Screen;
use crate::text::Align;
use crate::view::{StatusWords, ViewModel};
use crate::widgets::{Icon, MAX_LINES, draw_chip, draw_icon, wrap_lines};
use tonearm_core::TimeText;

/// The line height of a status hint wrapped onto two lines (at the 240-line displays'
/// scale).
const STATUS_LINE_PX: i32 = 17;

/// The line height of wrapped status text at 128x64.
const MONO_LINE_PX: i32 = 11;

/// The widest a wrapped status message runs on the color displays (a long line across
/// the whole 320 px screen reads as cramped; two balanced lines do not).
const MESSAGE_MAX_PX: u32 = 256;

/// A status on screen, laid out once for its view model, profile and time.
#[derive(Debug, Clone)]
pub struct StatusScreen<'a, C> {
    cx: Context<'a, C>,
    layout: StatusLayout,
    words: StatusWords,
    big: TimeText,
    lines: heapless::Vec<&'a str, MAX_LINES>,
    warning: Option<Slot>,
}

/// `slot` grown to hold `n` lines `pitch` apart.
fn grown(mut slot: Slot, n: usize, pitch: i32) -> Slot {
    let extra = i32::try_from(n.saturating_sub(1)).unwrap_or(0) * pitch;
    slot.rect.size.height += u32::try_from(extra).unwrap_or(0);
    slot
}

impl<'a, C: Palette> StatusScreen<'a, C> {
    /// The status screen of `cx`.
    pub fn new(cx: Context<'a, C>) -> Self {
        let vm = cx.vm;
        let mono = cx.mono();
        let mut l = cx.profile.status_layout();
        let k = l.scale;
        let quota_big = vm.quota_time(cx.now_ms).is_some();
        let clock = vm.screen == Screen::Idle && vm.clock.is_some();
        if clock {
            // The clock sits where the icon and heading would be.
            let up = if mono { 8 } else { k.of(40) };
            for slot in [&mut l.big, &mut l.body] {
                *slot = moved(*slot, -up);
            }
        }
        if (vm.screen == Screen::RateLimited || quota_big) && !mono {
            // "Retrying automatically in" goes between heading and countdown.
            l.body.rect.top_left.y = l.heading.rect.top_left.y + k.of(25);
            l.body.baseline = l.heading.baseline + k.of(23);
            l.big = moved(l.big, k.of(20));
        }
        if quota_big && mono {
            // "Back in" (or "Back tomorrow") above the time, as on color.
            l.body.rect.top_left.y = l.heading.rect.top_left.y + 17;
            l.body.baseline = l.heading.baseline + 17;
            l.big = moved(l.big, 16);
        }
        if mono && vm.screen == Screen::Idle && vm.clock.is_none() && vm.shows_warning() {
            // Room above the warning's chip.
            l.body = moved(l.body, -6);
        }
        let no_big = vm.screen != Screen::RateLimited && !quota_big && !clock;
        if no_big && !mono {
            // Without a big number, close the gap it leaves and center the rest.
            if let Some(icon) = &mut l.icon {
                icon.top_left.y += k.of(16);
            }
            l.heading = moved(l.heading, k.of(16));
            for slot in [&mut l.body, &mut l.body2] {
                *slot = moved(*slot, k.of(-20));
            }
        }
        let lines = message_lines(vm, &l, mono);
        if lines.len() > 1 {
            make_room_for_lines(&mut l, vm.screen, lines.len(), mono);
        }
        let warning = vm.shows_warning().then(|| {
            if mono {
                l.body2
            } else {
                // A chip as tall as the badge's, a line below the text (where a hint
                // goes; under the clock, closer).
                let mut slot = l.body2;
                slot.baseline = l.body.baseline + k.of(27);
                slot.rect.top_left.y = slot.baseline - k.of(12);
                slot.rect.size.height = k.of_u(17);
                slot
            }
        });
        StatusScreen {
            cx,
            layout: l,
            words: vm.status_words(cx.profile, cx.now_ms),
            big: vm.big_text(cx.now_ms),
            lines,
            warning,
        }
    }

    /// The context drawn.
    pub fn context(&self) -> &Context<'a, C> {
        &self.cx
    }

    /// The layout, with the adjustments this status needs (the clock, a countdown, a
    /// message on several lines).
    pub fn layout(&self) -> &StatusLayout {
        &self.layout
    }

    /// The words drawn.
    pub fn words(&self) -> &StatusWords {
        &self.words
    }

    /// The big number drawn (empty: none).
    pub fn big(&self) -> &TimeText {
        &self.big
    }

    /// This screen at animation time `anim_ms`.
    pub(crate) fn set_anim(&mut self, anim_ms: u64) {
        self.cx.anim_ms = anim_ms;
    }

    /// The slot of a part drawn as one line of text that changes by itself (the big
    /// number).
    pub fn text_slot(&self, part: Part) -> Option<Slot> {
        (part == Part::Big).then_some(self.layout.big)
    }
}

/// The lines of a status message (`config_error`, and `login_needed` when it has one),
/// wrapped to the body's width in `l`; empty for other screens.
fn message_lines<'a>(
    vm: &'a ViewModel,
    l: &StatusLayout,
    mono: bool,
) -> heapless::Vec<&'a str, MAX_LINES> {
    let max = match vm.screen {
        Screen::ConfigError => 3,
        Screen::LoginNeeded if mono => 4,
        Screen::LoginNeeded => 3,
        _ => return heapless::Vec::new(),
    };
    let width = if mono {
        l.body.rect.size.width.saturating_sub(4)
    } else {
        l.body.rect.size.width.min(l.scale.of_u(MESSAGE_MAX_PX))
    };
    wrap_lines(l.body.face, &vm.message, width, max)
}

/// Moves the status slots so `n` lines of message fit in the body.
fn make_room_for_lines(l: &mut StatusLayout, screen: Screen, n: usize, mono: bool) {
    let more = i32::try_from(n.saturating_sub(1)).unwrap_or(0);
    if mono {
        let rows = i32::try_from(n).unwrap_or(0);
        l.body = if screen == Screen::LoginNeeded {
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
    let grow = more * l.scale.of(STATUS_LINE_PX);
    l.body = grown(l.body, n, l.scale.of(STATUS_LINE_PX));
    l.body2 = moved(l.body2, grow);
    let up = -grow / 2;
    if let Some(icon) = &mut l.icon {
        icon.top_left.y += up;
    }
    for slot in [&mut l.heading, &mut l.body, &mut l.body2] {
        *slot = moved(*slot, up);
    }
}

/// The icon of a status screen and its color.
fn icon(screen: Screen) -> (Icon, Role) {
    match screen {
        Screen::LoginNeeded | Screen::SetupNeeded => (Icon::Person, Role::Accent),
        Screen::RateLimited | Screen::QuotaExceeded => (Icon::Clock, Role::Warning),
        Screen::ConfigError | Screen::Offline => (Icon::Alert, Role::Error),
        Screen::Connecting => (Icon::Clock, Role::Accent),
        _ => (Icon::Clock, Role::TextFaint),
    }
}

impl<C: Palette> Parts<C> for StatusScreen<'_, C> {
    fn profile(&self) -> Profile {
        self.cx.profile
    }

    fn parts(&self) -> heapless::Vec<(Part, Rectangle), MAX_PARTS> {
        let mut out = heapless::Vec::new();
        let mut add = |p: Part, r: Rectangle| {
            let _ = out.push((p, r));
        };
        let l = &self.layout;
        if let Some(i) = l.icon {
            add(Part::Icon, i);
        }
        add(Part::Heading, l.heading.rect);
        add(Part::Big, l.big.rect);
        add(Part::Body, l.body.rect);
        add(Part::Body2, l.body2.rect);
        if let Some(w) = self.warning {
            add(Part::Warning, w.rect);
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
        let words = &self.words;
        let idle = vm.screen == Screen::Idle;
        let clock = idle && vm.clock.is_some();
        match part {
            Part::Icon => match l.icon {
                Some(area) if !clock => {
                    let (icon, role) = icon(vm.screen);
                    draw_icon(icon, area, C::role(role), true, d)
                }
                _ => Ok(()),
            },
            Part::Heading if clock => Ok(()),
            Part::Heading => {
                let slot = &l.heading;
                let heading = words
                    .heading
                    .iter()
                    .find(|h| slot.face.width(h) <= slot.rect.size.width)
                    .or(words.heading.last())
                    .copied()
                    .unwrap_or_default();
                let role = if idle { Role::TextFaint } else { Role::Text };
                line(heading, slot, role, None, d)
            }
            Part::Big if self.big.is_empty() => Ok(()),
            Part::Big => {
                let role = if idle { Role::TextDim } else { Role::Warning };
                line(&self.big, &l.big, role, None, d)
            }
            Part::Body => {
                let role = match vm.screen {
                    Screen::RateLimited if mono => Role::Text,
                    Screen::ConfigError => Role::Error,
                    Screen::Idle => Role::TextFaint,
                    _ => Role::TextDim,
                };
                if self.lines.is_empty() {
                    return line(&words.body, &l.body, role, None, d);
                }
                // A message, on as many lines as it needs (the body grew to hold them).
                let pitch = if mono {
                    MONO_LINE_PX
                } else {
                    l.scale.of(STATUS_LINE_PX)
                };
                let mut slot = l.body;
                for text in &self.lines {
                    line(text, &slot, role, None, d)?;
                    slot.baseline += pitch;
                }
                Ok(())
            }
            Part::Body2 if words.hint.is_empty() => Ok(()),
            Part::Body2 if matches!(vm.screen, Screen::LoginNeeded | Screen::SetupNeeded) => {
                // The command, as a chip.
                let bg = if mono { Role::Text } else { Role::Accent };
                let mut slot = l.body2;
                if !mono {
                    slot.rect.size.height = l.scale.of_u(20);
                }
                draw_chip(
                    &words.hint,
                    slot.face,
                    slot.rect,
                    slot.baseline,
                    Align::Center,
                    C::role(Role::Background),
                    C::role(bg),
                    d,
                )?;
                Ok(())
            }
            Part::Body2 => {
                // A hint too long for one line goes on two.
                let slot = l.body2;
                let hint = words.hint.as_str();
                match slot.face.wrap_at(hint, slot.rect.size.width) {
                    Some(at) => {
                        let (first, rest) = hint.split_at(at);
                        line(first, &slot, Role::TextFaint, None, d)?;
                        let mut next = slot;
                        next.baseline += l.scale.of(STATUS_LINE_PX);
                        line(rest.trim_start(), &next, Role::TextFaint, None, d)
                    }
                    None => line(hint, &slot, Role::TextFaint, None, d),
                }
            }
            Part::Warning => match self.warning {
                Some(slot) => {
                    draw_warning(&vm.warning, &slot, Align::Center, Role::Warning, mono, d)
                }
                None => Ok(()),
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

impl<C: Palette> Drawable for StatusScreen<'_, C> {
    type Color = C;
    type Output = ();

    /// Draws the whole screen (its background included).
    fn draw<D: DrawTarget<Color = C>>(&self, target: &mut D) -> Result<(), D::Error> {
        super::draw_region(self, target, self.cx.profile.bounds())
    }
}
