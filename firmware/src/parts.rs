//! The diff protocol between the screens and the [`Scene`](crate::Scene): the parts of a
//! screen, a fingerprint of what each shows, and the texts the scene redraws glyph by
//! glyph. When a part's fingerprint, area and text are unchanged, so are its pixels.

use crate::checksum::Fnv1a;
use crate::color::Palette;
use crate::frame::Frame;
use crate::screen::Screen;
use crate::view::ArtStatus;
use tonearm_core::TimeText;

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
    /// The heart (liked or not).
    Heart,
    /// The speaker standing for the volume.
    Speaker,
    /// What plays next.
    UpNext,
    /// The volume overlay (over the item, under a notice).
    Volume,
    /// The notice overlay (drawn last, over everything).
    Notice,
}

/// The most parts a screen has.
pub const MAX_PARTS: usize = 20;

fn hash_str(h: &mut Fnv1a, s: &str) {
    h.write_u32(u32::try_from(s.len()).unwrap_or(u32::MAX));
    h.write(s.as_bytes());
}

/// Badge ages change their text only at these steps, so a tick does not redraw them.
fn age_bucket(secs: u32) -> u32 {
    match secs {
        0..=59 => secs,
        60..=3599 => 100 + secs / 60,
        _ => 10_000 + secs / 3600,
    }
}

impl<C: Palette> Frame<'_, C> {
    /// The text of a part the scene redraws glyph by glyph when only its text changed
    /// (elapsed, total, the big clock or countdown); `None` for other parts.
    pub fn part_text(&self, part: Part) -> Option<TimeText> {
        match (part, self.item(), self.status()) {
            (Part::Elapsed, Some(s), _) => Some(s.times().0.clone()),
            (Part::Total, Some(s), _) => Some(s.times().1.clone()),
            (Part::Big, _, Some(s)) => Some(s.big().clone()),
            _ => None,
        }
    }

    /// A fingerprint of what `part` shows: when it and [`Frame::part_text`] are
    /// unchanged, the part's pixels are too. (The bar's fill and the texts of
    /// [`Frame::part_text`] are left out: the scene redraws only what of them changed.)
    pub fn part_key(&self, part: Part) -> u32 {
        let vm = self.vm();
        let now = self.context().now_ms;
        let stale = vm.stale_age(now);
        let offline = vm.offline_age(now);
        let mut h = Fnv1a::new();
        hash_str(&mut h, vm.screen.name());
        match part {
            Part::Header => {
                h.write(&[u8::from(vm.playing), u8::from(stale.is_some())]);
                hash_str(&mut h, &vm.device);
            }
            Part::Warning => hash_str(&mut h, &vm.warning),
            Part::Badge => {
                h.write_u32(stale.map_or(u32::MAX, age_bucket));
                h.write_u32(offline.map_or(u32::MAX, age_bucket));
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
                    u8::from(stale.is_some()),
                    u8::from(offline.is_some()),
                ]);
            }
            Part::Icon | Part::Heading | Part::Body | Part::Body2 => {
                // (Whether the quota screen is over an item or a status screen.)
                h.write(&[u8::from(vm.clock.is_some()), u8::from(vm.without_item())]);
                hash_str(&mut h, &vm.message);
                // Offline before anything was heard shows its age here.
                h.write_u32(offline.map_or(u32::MAX, age_bucket));
                if part == Part::Body && vm.screen == Screen::QuotaExceeded {
                    // The back line (only its lead when the time is a big number).
                    match vm.quota_time(now) {
                        Some((lead, _)) => hash_str(&mut h, &lead),
                        None => hash_str(&mut h, &vm.back_line(now)),
                    }
                }
            }
            Part::Heart => {
                h.write(&[match vm.heart {
                    None => 0,
                    Some(None) => 1,
                    Some(Some(false)) => 2,
                    Some(Some(true)) => 3,
                }]);
            }
            Part::Speaker => h.write(&[u8::from(vm.volume_enabled), u8::from(vm.volume.is_some())]),
            Part::UpNext => hash_str(&mut h, &vm.up_next),
            Part::Volume => {
                h.write(&[vm.volume.unwrap_or(255), u8::from(vm.volume_enabled)]);
                // Under a notice that comes and goes.
                h.write(&[u8::from(vm.notice.is_some())]);
            }
            // By its words: notices that read the same are not redrawn.
            Part::Notice => h.write(
                vm.notice
                    .map_or(&b""[..], |n| crate::view::notice_text(n).as_bytes()),
            ),
        }
        h.finish()
    }
}
