//! One frame: a view model drawn on a profile at a time, as the screen it calls for (an
//! [`ItemScreen`] or a [`StatusScreen`]). The screen is laid out once, when the frame is
//! made. Pure: the same inputs draw the same pixels, whole or one region at a time.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use crate::color::Palette;
use crate::parts::{MAX_PARTS, Part};
use crate::profile::{Layout, Profile};
use crate::screens::{Context, ItemScreen, Parts, StatusScreen, draw_region};
use crate::view::ViewModel;

pub use crate::screens::CoverView;

/// A view model drawn on a profile at a time (see [`Context`]): the screen it calls for,
/// laid out.
#[derive(Debug, Clone)]
pub struct Frame<'a, C> {
    screen: Chosen<'a, C>,
}

#[derive(Debug, Clone)]
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; one lives at a time, on the stack"
)]
enum Chosen<'a, C> {
    Item(ItemScreen<'a, C>),
    Status(StatusScreen<'a, C>),
}

impl<'a, C: Palette> Frame<'a, C> {
    /// `vm` on `profile` at the view model's own time ([`ViewModel::at_ms`]), still
    /// (animation time 0), without a cover.
    pub fn new(vm: &'a ViewModel, profile: Profile) -> Self {
        Frame::of(Context::new(vm, profile))
    }

    /// The frame of `cx`: an item screen when the view model shows an item, a status
    /// screen otherwise (`offline` and `quota_exceeded` before anything was heard too).
    pub fn of(cx: Context<'a, C>) -> Self {
        let vm = cx.vm;
        let screen = if vm.screen.shows_item() && !vm.without_item() {
            Chosen::Item(ItemScreen::new(cx))
        } else {
            Chosen::Status(StatusScreen::new(cx))
        };
        Frame { screen }
    }

    /// This frame with `cover` (drawn when the view model's
    /// [`ArtStatus::Cover`](crate::ArtStatus::Cover) has its key and it fits the art box;
    /// otherwise the placeholder shows).
    #[must_use]
    pub fn with_cover(mut self, cover: Option<CoverView<'a, C>>) -> Self {
        if let Chosen::Item(s) = &mut self.screen {
            s.set_cover(cover);
        }
        self
    }

    /// This frame at animation time `anim_ms` (ms since the title appeared).
    #[must_use]
    pub fn at(mut self, anim_ms: u64) -> Self {
        match &mut self.screen {
            Chosen::Item(s) => s.set_anim(anim_ms),
            Chosen::Status(s) => s.set_anim(anim_ms),
        }
        self
    }

    /// This frame drawn at monotonic time `now_ms`: the view model's times move on to it
    /// (laid out again, since a badge's width may change with its age).
    #[must_use]
    pub fn at_time(self, now_ms: u64) -> Self {
        let mut cx = *self.context();
        cx.now_ms = now_ms;
        Frame::of(cx)
    }

    /// What the frame draws from.
    pub fn context(&self) -> &Context<'a, C> {
        match &self.screen {
            Chosen::Item(s) => s.context(),
            Chosen::Status(s) => s.context(),
        }
    }

    /// The view model drawn.
    pub fn vm(&self) -> &'a ViewModel {
        self.context().vm
    }

    /// The display profile.
    pub fn profile(&self) -> Profile {
        self.context().profile
    }

    /// Milliseconds since the current title appeared.
    pub fn anim_ms(&self) -> u64 {
        self.context().anim_ms
    }

    /// The item screen, when the frame is one.
    pub fn item(&self) -> Option<&ItemScreen<'a, C>> {
        match &self.screen {
            Chosen::Item(s) => Some(s),
            Chosen::Status(_) => None,
        }
    }

    /// The status screen, when the frame is one.
    pub fn status(&self) -> Option<&StatusScreen<'a, C>> {
        match &self.screen {
            Chosen::Item(_) => None,
            Chosen::Status(s) => Some(s),
        }
    }

    /// The layout of this frame's screen (with the adjustments its content needs).
    pub fn layout(&self) -> Layout {
        match &self.screen {
            Chosen::Item(s) => Layout::Item(*s.layout()),
            Chosen::Status(s) => Layout::Status(*s.layout()),
        }
    }

    /// The parts this frame draws, with the area each may touch.
    pub fn parts(&self) -> heapless::Vec<(Part, Rectangle), MAX_PARTS> {
        match &self.screen {
            Chosen::Item(s) => s.parts(),
            Chosen::Status(s) => s.parts(),
        }
    }

    /// The marquee offset of the title: `None` when it does not scroll (it fits, or the
    /// profile has no marquee), `Some(0)` at rest.
    pub fn title_scroll(&self) -> Option<u32> {
        self.item().and_then(ItemScreen::title_scroll)
    }

    /// The progress fill in pixels (for the scene's narrow bar updates).
    pub fn bar_fill(&self) -> u32 {
        self.item().map_or(0, ItemScreen::bar_fill)
    }

    /// The box a progress tick from fill `a` to fill `b` must redraw; `None` on screens
    /// without a bar.
    pub fn bar_change(&self, a: u32, b: u32) -> Option<Rectangle> {
        self.item().map(|s| s.bar_change(a, b))
    }

    /// The box holding every pixel that differs when `part` (see
    /// [`Frame::part_text`]) shows `new` instead of `old`: only the glyphs that changed.
    /// `None` when the texts cannot be compared glyph by glyph (the whole part must be
    /// redrawn).
    pub fn text_change(&self, part: Part, old: &str, new: &str) -> Option<Rectangle> {
        let slot = match &self.screen {
            Chosen::Item(s) => s.text_slot(part),
            Chosen::Status(s) => s.text_slot(part),
        }?;
        slot.face
            .changed_area(old, new, slot.rect, slot.baseline, slot.align)
    }

    /// Draws the part of the frame inside `region`: its background, then every part
    /// that reaches into it, clipped to it. Pixels outside `region` are not touched.
    pub fn draw_region<D>(&self, target: &mut D, region: Rectangle) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        match &self.screen {
            Chosen::Item(s) => draw_region(s, target, region),
            Chosen::Status(s) => draw_region(s, target, region),
        }
    }
}

impl<C: Palette> Drawable for Frame<'_, C> {
    type Color = C;
    type Output = ();

    fn draw<D>(&self, target: &mut D) -> Result<(), D::Error>
    where
        D: DrawTarget<Color = C>,
    {
        self.draw_region(target, self.profile().bounds())
    }
}
