//! The three display profiles, each laid out for its own shape.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;

use crate::fonts;
use crate::screen::Screen;
use crate::text::{Align, Face};

/// A display shape and color depth.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Profile {
    /// 320x240 Rgb565 (ILI9341 / ST7789 landscape): art on the left, text beside it.
    Landscape320x240,
    /// 240x240 Rgb565 (square ST7789): art centered on top, text centered below.
    Square240x240,
    /// 128x64 BinaryColor (SSD1306 OLED): text only, inverted chips for states.
    Mono128x64,
}

impl Profile {
    /// Every profile.
    pub const ALL: [Profile; 3] = [
        Profile::Landscape320x240,
        Profile::Square240x240,
        Profile::Mono128x64,
    ];

    /// The `--display` name: `320x240`, `240x240`, `128x64`.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Landscape320x240 => "320x240",
            Profile::Square240x240 => "240x240",
            Profile::Mono128x64 => "128x64",
        }
    }

    /// The profile of a `--display` name.
    pub fn from_name(name: &str) -> Option<Profile> {
        Profile::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The display size in pixels.
    pub const fn size(self) -> Size {
        match self {
            Profile::Landscape320x240 => Size::new(320, 240),
            Profile::Square240x240 => Size::new(240, 240),
            Profile::Mono128x64 => Size::new(128, 64),
        }
    }

    /// The whole screen.
    pub const fn bounds(self) -> Rectangle {
        Rectangle::new(Point::zero(), self.size())
    }

    /// Whether the display shows only on and off (the 128x64 OLED): layouts use
    /// outlines and inverted chips instead of shades, and the shorter words. The one
    /// place that says which profiles are mono.
    pub const fn is_mono(self) -> bool {
        matches!(self, Profile::Mono128x64)
    }

    /// Whether over-long titles scroll (the color profiles) rather than only ending in
    /// an ellipsis.
    pub const fn marquee(self) -> bool {
        !self.is_mono()
    }

    /// The layout of `screen`.
    pub fn layout(self, screen: Screen) -> Layout {
        if screen.shows_item() {
            Layout::Item(self.item_layout())
        } else {
            Layout::Status(self.status_layout())
        }
    }

    /// The layout of the screens that show an item.
    pub fn item_layout(self) -> ItemLayout {
        match self {
            Profile::Landscape320x240 => landscape_item(),
            Profile::Square240x240 => square_item(),
            Profile::Mono128x64 => mono_item(),
        }
    }

    /// The layout of the status screens.
    pub fn status_layout(self) -> StatusLayout {
        match self {
            Profile::Landscape320x240 | Profile::Square240x240 => color_status(self.size()),
            Profile::Mono128x64 => mono_status(),
        }
    }
}

/// One line of text: where it may draw, its baseline, face and alignment.
#[derive(Debug, Clone, Copy)]
pub struct Slot {
    /// The box the text is clipped to (and redrawn in).
    pub rect: Rectangle,
    /// The baseline's y.
    pub baseline: i32,
    /// The face.
    pub face: &'static Face,
    /// The alignment in the box.
    pub align: Align,
}

/// Where things go on a screen.
#[derive(Debug, Clone, Copy)]
pub enum Layout {
    /// Screens that show an item (track, episode, ad, offline).
    Item(ItemLayout),
    /// Status screens (idle, login needed, rate limited, config error).
    Status(StatusLayout),
}

/// Layout of the screens that show an item.
#[derive(Debug, Clone, Copy)]
pub struct ItemLayout {
    /// The state label and device (none at 128x64).
    pub header: Option<Slot>,
    /// The badge (stale, offline) box.
    pub badge: Slot,
    /// The album-art area (none at 128x64).
    pub art: Option<Rectangle>,
    /// Title.
    pub title: Slot,
    /// Artists or show.
    pub subtitle: Slot,
    /// Album or publisher.
    pub detail: Slot,
    /// The progress track.
    pub bar: Rectangle,
    /// The progress area, knob included (what a tick redraws).
    pub bar_area: Rectangle,
    /// Elapsed time.
    pub elapsed: Slot,
    /// Total time.
    pub total: Slot,
    /// The control row.
    pub controls: Rectangle,
    /// Shuffle and repeat indicators, when they sit apart from the control row.
    pub side: Option<(Rectangle, Rectangle)>,
    /// The notice overlay.
    pub notice: Rectangle,
}

/// Layout of the status screens.
#[derive(Debug, Clone, Copy)]
pub struct StatusLayout {
    /// The icon (none at 128x64).
    pub icon: Option<Rectangle>,
    /// The heading.
    pub heading: Slot,
    /// First line of text.
    pub body: Slot,
    /// Second line of text.
    pub body2: Slot,
    /// The big number (clock, countdown).
    pub big: Slot,
    /// The notice overlay.
    pub notice: Rectangle,
}

/// The art box at 128x64, used only when a cover is shown (the text moves right).
pub const MONO_ART: Rectangle = rect(0, 0, 42, 42);

impl Profile {
    /// The size of the art box of the item screens: the cover is scaled to it, and the
    /// image chosen is the smallest at least this wide (at 128x64, [`MONO_ART`]).
    pub fn art_size(self) -> Size {
        self.item_layout().art.map_or(MONO_ART.size, |a| a.size)
    }
}

const fn rect(x: i32, y: i32, w: u32, h: u32) -> Rectangle {
    Rectangle::new(Point::new(x, y), Size::new(w, h))
}

const fn slot(
    x: i32,
    y: i32,
    w: u32,
    h: u32,
    baseline: i32,
    face: &'static Face,
    align: Align,
) -> Slot {
    Slot {
        rect: rect(x, y, w, h),
        baseline,
        face,
        align,
    }
}

fn landscape_item() -> ItemLayout {
    let (tx, tw) = (136, 172);
    ItemLayout {
        header: Some(slot(16, 4, 190, 18, 17, &fonts::SMALL_L, Align::Left)),
        badge: slot(196, 5, 108, 17, 17, &fonts::SMALL_L, Align::Right),
        art: Some(rect(16, 36, 104, 104)),
        title: slot(tx, 40, tw, 32, 64, &fonts::TITLE_L, Align::Left),
        subtitle: slot(tx, 76, tw, 22, 93, &fonts::BODY_L, Align::Left),
        detail: slot(tx, 102, tw, 18, 116, &fonts::SMALL_L, Align::Left),
        bar: rect(16, 164, 288, 4),
        bar_area: rect(10, 159, 300, 14),
        elapsed: slot(16, 176, 56, 15, 188, &fonts::SMALL_L, Align::Left),
        total: slot(240, 176, 64, 16, 188, &fonts::SMALL_L, Align::Right),
        controls: rect(16, 196, 288, 40),
        side: None,
        notice: rect(60, 96, 200, 40),
    }
}

fn square_item() -> ItemLayout {
    ItemLayout {
        header: Some(slot(12, 3, 120, 17, 15, &fonts::SMALL_L, Align::Left)),
        badge: slot(128, 4, 100, 16, 15, &fonts::SMALL_L, Align::Right),
        art: Some(rect(72, 24, 96, 96)),
        title: slot(10, 125, 220, 28, 146, &fonts::TITLE_L, Align::Center),
        subtitle: slot(10, 151, 220, 23, 168, &fonts::BODY_L, Align::Center),
        detail: slot(10, 173, 220, 17, 185, &fonts::SMALL_L, Align::Center),
        bar: rect(16, 198, 208, 4),
        bar_area: rect(10, 193, 220, 14),
        elapsed: slot(16, 215, 48, 15, 227, &fonts::SMALL_L, Align::Left),
        total: slot(168, 214, 56, 16, 227, &fonts::SMALL_L, Align::Right),
        controls: rect(76, 211, 88, 24),
        side: Some((rect(30, 64, 16, 16), rect(194, 64, 16, 16))),
        notice: rect(30, 100, 180, 40),
    }
}

fn mono_item() -> ItemLayout {
    ItemLayout {
        header: None,
        badge: slot(32, 52, 64, 12, 61, &fonts::MONO_TIME, Align::Center),
        art: None,
        // Baselines low enough for accents on capitals (Á is 14 px tall in the title
        // face, 11 px in the small one) and descenders clear of the next line.
        // Text keeps 2 px from the panel's edges (an OLED's glass ends close to its
        // pixels); the bar runs edge to edge.
        title: slot(2, 0, 124, 17, 14, &fonts::MONO_TITLE, Align::Left),
        subtitle: slot(2, 16, 124, 13, 27, &fonts::MONO_SMALL, Align::Left),
        detail: slot(2, 29, 124, 13, 40, &fonts::MONO_SMALL, Align::Left),
        bar: rect(0, 44, 128, 5),
        bar_area: rect(0, 44, 128, 5),
        elapsed: slot(2, 52, 36, 12, 62, &fonts::MONO_TIME, Align::Left),
        total: slot(90, 52, 36, 12, 62, &fonts::MONO_TIME, Align::Right),
        controls: rect(36, 52, 56, 12),
        side: None,
        // Below the title, above the bar.
        notice: rect(0, 17, 128, 26),
    }
}

fn color_status(size: Size) -> StatusLayout {
    let w = size.width;
    let h = i32::try_from(size.height).unwrap_or(240);
    let top = (h - 240) / 2 + if w > 240 { 8 } else { 0 };
    StatusLayout {
        icon: Some(Rectangle::new(
            Point::new(i32::try_from(w / 2).unwrap_or(0) - 20, top + 28),
            Size::new(40, 40),
        )),
        heading: slot(
            8,
            top + 82,
            w - 16,
            24,
            top + 100,
            &fonts::HEADING_L,
            Align::Center,
        ),
        big: slot(
            8,
            top + 110,
            w - 16,
            44,
            top + 150,
            &fonts::BIG_NUMBERS_L,
            Align::Center,
        ),
        body: slot(
            8,
            top + 160,
            w - 16,
            20,
            top + 175,
            &fonts::SMALL_L,
            Align::Center,
        ),
        // Room for a hint wrapped onto two lines.
        body2: slot(
            8,
            top + 186,
            w - 16,
            40,
            top + 202,
            &fonts::SMALL_L,
            Align::Center,
        ),
        notice: rect(i32::try_from(w / 2).unwrap_or(0) - 100, top + 96, 200, 40),
    }
}

fn mono_status() -> StatusLayout {
    StatusLayout {
        icon: None,
        heading: slot(0, 0, 128, 15, 11, &fonts::MONO_TITLE, Align::Center),
        big: slot(0, 16, 128, 22, 36, &fonts::BIG_NUMBERS_MONO, Align::Center),
        body: slot(0, 38, 128, 13, 48, &fonts::MONO_SMALL, Align::Center),
        body2: slot(0, 51, 128, 13, 61, &fonts::MONO_SMALL, Align::Center),
        notice: rect(4, 14, 120, 28),
    }
}
