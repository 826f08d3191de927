//! The display profiles, each laid out for its own shape.

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
    /// 480x320 Rgb565 (a 3.5-inch Raspberry Pi screen, ILI9486 / ILI9488): a large
    /// cover beside up to three lines of title, the controls below.
    #[cfg(feature = "large")]
    Landscape480x320,
    /// 800x480 Rgb565 (the Raspberry Pi touch display, 5 to 7 inch HDMI screens, the
    /// Car Thing): a 300 px cover, the text column beside it with room to spare, the
    /// progress and controls across the bottom.
    #[cfg(feature = "large")]
    Wide800x480,
}

impl Profile {
    /// Every profile.
    #[cfg(not(feature = "large"))]
    pub const ALL: [Profile; 3] = [
        Profile::Landscape320x240,
        Profile::Square240x240,
        Profile::Mono128x64,
    ];

    /// Every profile.
    #[cfg(feature = "large")]
    pub const ALL: [Profile; 5] = [
        Profile::Landscape320x240,
        Profile::Square240x240,
        Profile::Mono128x64,
        Profile::Landscape480x320,
        Profile::Wide800x480,
    ];

    /// The `--display` name: `320x240`, `240x240`, `128x64`, `480x320`, `800x480`.
    pub const fn name(self) -> &'static str {
        match self {
            Profile::Landscape320x240 => "320x240",
            Profile::Square240x240 => "240x240",
            Profile::Mono128x64 => "128x64",
            #[cfg(feature = "large")]
            Profile::Landscape480x320 => "480x320",
            #[cfg(feature = "large")]
            Profile::Wide800x480 => "800x480",
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
            #[cfg(feature = "large")]
            Profile::Landscape480x320 => Size::new(480, 320),
            #[cfg(feature = "large")]
            Profile::Wide800x480 => Size::new(800, 480),
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
            #[cfg(feature = "large")]
            Profile::Landscape480x320 => large::item_480x320(),
            #[cfg(feature = "large")]
            Profile::Wide800x480 => large::item_800x480(),
        }
    }

    /// The layout of the status screens.
    pub fn status_layout(self) -> StatusLayout {
        match self {
            Profile::Landscape320x240 | Profile::Square240x240 => {
                color_status(self.size(), &SMALL_FACES, Scale::ONE)
            }
            Profile::Mono128x64 => mono_status(),
            #[cfg(feature = "large")]
            Profile::Landscape480x320 => {
                color_status(self.size(), &large::FACES_M, Scale::new(4, 3))
            }
            #[cfg(feature = "large")]
            Profile::Wide800x480 => color_status(self.size(), &large::FACES_XL, Scale::new(2, 1)),
        }
    }
}

/// How much larger than the 240-line designs a layout's details are (icons, gaps, the
/// offsets the screens add): `num / den`, rounded to the nearest pixel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Scale {
    num: u8,
    den: u8,
}

impl Scale {
    /// The 240-line displays' own size.
    pub const ONE: Scale = Scale { num: 1, den: 1 };

    /// `num / den` (a zero `den` counts as one).
    pub const fn new(num: u8, den: u8) -> Scale {
        Scale {
            num,
            den: if den == 0 { 1 } else { den },
        }
    }

    /// `v` pixels at this scale.
    pub const fn of(self, v: i32) -> i32 {
        let (n, d) = (self.num as i32, self.den as i32);
        let p = v * n;
        if p >= 0 {
            (p + d / 2) / d
        } else {
            -((-p + d / 2) / d)
        }
    }

    /// `v` pixels at this scale, unsigned.
    pub const fn of_u(self, v: u32) -> u32 {
        let (n, d) = (self.num as u32, self.den as u32);
        (v * n + d / 2) / d
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
#[allow(
    clippy::large_enum_variant,
    reason = "no alloc to box into; made and used at once"
)]
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
    /// Title: its first line (the slot's box holds them all).
    pub title: Slot,
    /// The most lines the title wraps onto (1: one line that scrolls when too long).
    pub title_lines: usize,
    /// The distance between the title's baselines when it wraps.
    pub title_pitch: i32,
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
    /// The notice overlay (and the volume's, the same box).
    pub notice: Rectangle,
    /// The notice's face.
    pub notice_face: &'static Face,
    /// The size of the details.
    pub scale: Scale,
    /// The heart (a tap target too).
    pub heart: Option<Rectangle>,
    /// The speaker that stands for the volume (a tap target: it shows the volume).
    pub speaker: Option<Rectangle>,
    /// What plays next. Where it overlaps the header (the square display) it takes the
    /// header's place when there is no badge or warning, and is not shown otherwise.
    pub up_next: Option<Slot>,
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
    /// The notice's face.
    pub notice_face: &'static Face,
    /// The size of the details.
    pub scale: Scale,
}

/// The faces of a color status layout.
#[derive(Debug)]
pub(crate) struct StatusFaces {
    heading: &'static Face,
    big: &'static Face,
    body: &'static Face,
}

/// The status faces of the 240-line displays.
static SMALL_FACES: StatusFaces = StatusFaces {
    heading: &fonts::HEADING_L,
    big: &fonts::BIG_NUMBERS_L,
    body: &fonts::SMALL_L,
};

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
        notice_face: &fonts::HEADING_L,
        title_lines: 1,
        title_pitch: 0,
        scale: Scale::ONE,
        heart: Some(rect(18, 208, 16, 16)),
        speaker: Some(rect(286, 208, 16, 16)),
        up_next: Some(slot(136, 124, 172, 17, 137, &fonts::SMALL_L, Align::Left)),
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
        notice_face: &fonts::HEADING_L,
        title_lines: 1,
        title_pitch: 0,
        scale: Scale::ONE,
        heart: Some(rect(30, 96, 16, 16)),
        speaker: Some(rect(194, 96, 16, 16)),
        up_next: Some(slot(12, 3, 216, 17, 15, &fonts::SMALL_L, Align::Left)),
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
        notice_face: &fonts::MONO_SMALL,
        title_lines: 1,
        title_pitch: 0,
        scale: Scale::ONE,
        // At the end of the album's line (which gives way to it).
        heart: Some(rect(119, 31, 9, 9)),
        speaker: None,
        up_next: None,
    }
}

/// The color status layout: the 240-line design, its details at `k` and in `faces`,
/// centered on a display of `size`.
fn color_status(size: Size, faces: &StatusFaces, k: Scale) -> StatusLayout {
    let w = size.width;
    let h = i32::try_from(size.height).unwrap_or(240);
    let mid = i32::try_from(w / 2).unwrap_or(0);
    let top = (h - k.of(240)) / 2 + if w > size.height { k.of(8) } else { 0 };
    let (x, tw) = (k.of(8), w - 2 * k.of_u(8));
    let y = |v: i32| top + k.of(v);
    let icon = k.of_u(40);
    StatusLayout {
        icon: Some(Rectangle::new(
            Point::new(mid - k.of(20), y(28)),
            Size::new(icon, icon),
        )),
        heading: slot(
            x,
            y(82),
            tw,
            k.of_u(24),
            y(100),
            faces.heading,
            Align::Center,
        ),
        big: slot(x, y(110), tw, k.of_u(44), y(150), faces.big, Align::Center),
        body: slot(x, y(160), tw, k.of_u(20), y(175), faces.body, Align::Center),
        // Room for a hint wrapped onto two lines.
        body2: slot(x, y(186), tw, k.of_u(40), y(202), faces.body, Align::Center),
        notice: rect(mid - k.of(100), y(96), k.of_u(200), k.of_u(40)),
        notice_face: faces.heading,
        scale: k,
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
        notice_face: &fonts::MONO_SMALL,
        scale: Scale::ONE,
    }
}

/// The layouts of the larger displays (the `large` feature).
#[cfg(feature = "large")]
mod large {
    use super::{Align, ItemLayout, Scale, StatusFaces, fonts, rect, slot};

    /// The status faces at 480x320.
    pub(super) static FACES_M: StatusFaces = StatusFaces {
        heading: &fonts::TITLE_L,
        big: &fonts::BIG_NUMBERS_M,
        body: &fonts::SMALL_M,
    };

    /// The status faces at 800x480.
    pub(super) static FACES_XL: StatusFaces = StatusFaces {
        heading: &fonts::TITLE_XL,
        big: &fonts::BIG_NUMBERS_XL,
        body: &fonts::BODY_XL,
    };

    /// 480x320: a 184 px cover at the left; beside it the title on up to three lines,
    /// the artists and the album, the block centered on the cover (it closes up when
    /// the title takes fewer lines); the bar, the times and the controls across the
    /// bottom. The title's slot is its first line when it takes all three.
    pub(super) fn item_480x320() -> ItemLayout {
        let (tx, tw) = (220, 244);
        ItemLayout {
            header: Some(slot(16, 6, 300, 22, 22, &fonts::SMALL_M, Align::Left)),
            badge: slot(296, 6, 168, 21, 22, &fonts::SMALL_M, Align::Right),
            art: Some(rect(16, 40, 184, 184)),
            title: slot(tx, 60, tw, 32, 84, &fonts::TITLE_L, Align::Left),
            title_lines: 3,
            title_pitch: 26,
            subtitle: slot(tx, 148, tw, 23, 166, &fonts::BODY_L, Align::Left),
            detail: slot(tx, 175, tw, 20, 190, &fonts::SMALL_M, Align::Left),
            bar: rect(16, 242, 448, 5),
            bar_area: rect(10, 236, 460, 17),
            elapsed: slot(16, 253, 80, 17, 267, &fonts::SMALL_M, Align::Left),
            total: slot(384, 253, 80, 17, 267, &fonts::SMALL_M, Align::Right),
            controls: rect(16, 271, 448, 48),
            side: None,
            notice: rect(100, 136, 280, 52),
            notice_face: &fonts::TITLE_L,
            scale: Scale::new(4, 3),
            heart: Some(rect(20, 284, 22, 22)),
            speaker: Some(rect(438, 284, 22, 22)),
            up_next: Some(slot(tx, 201, tw, 20, 216, &fonts::SMALL_M, Align::Left)),
        }
    }

    /// 800x480: a 300 px cover (Spotify's middle image, drawn unscaled) at the left;
    /// beside it the title on up to three lines, the artists and the album in a column
    /// 420 px wide, centered on the cover; the bar, the times and large controls across
    /// the bottom. The column's lower part is left for the heart, the volume and the
    /// next track.
    pub(super) fn item_800x480() -> ItemLayout {
        let (tx, tw) = (356, 420);
        ItemLayout {
            header: Some(slot(24, 10, 500, 28, 32, &fonts::BODY_L, Align::Left)),
            badge: slot(520, 11, 256, 26, 32, &fonts::BODY_L, Align::Right),
            art: Some(rect(24, 56, 300, 300)),
            title: slot(tx, 119, tw, 42, 150, &fonts::TITLE_XL, Align::Left),
            title_lines: 3,
            title_pitch: 34,
            subtitle: slot(tx, 234, tw, 32, 258, &fonts::BODY_XL, Align::Left),
            detail: slot(tx, 270, tw, 24, 288, &fonts::BODY_L, Align::Left),
            bar: rect(24, 380, 752, 6),
            bar_area: rect(16, 373, 768, 20),
            elapsed: slot(24, 394, 100, 22, 412, &fonts::BODY_L, Align::Left),
            total: slot(676, 394, 100, 22, 412, &fonts::BODY_L, Align::Right),
            controls: rect(24, 418, 752, 60),
            side: None,
            notice: rect(200, 196, 400, 80),
            notice_face: &fonts::TITLE_XL,
            scale: Scale::new(2, 1),
            heart: Some(rect(30, 434, 28, 28)),
            speaker: Some(rect(742, 434, 28, 28)),
            up_next: Some(slot(tx, 320, tw, 26, 341, &fonts::BODY_L, Align::Left)),
        }
    }
}
