//! Unicode text on a `DrawTarget`: a per-character font fallback chain built on
//! `u8g2-fonts`, typographic mapping, a placeholder box for characters no font has,
//! ellipsis and marquee.
//!
//! Every glyph is drawn at one shared baseline, so baselines stay aligned across fonts.
//! Each character goes, in order, to: the Latin font; a typographic substitute the Latin
//! font has (`…` → `...`, curly quotes → straight ones, dashes → `-`); the Cyrillic and
//! Greek fonts; the Han fonts (Japanese first when the text has kana, else Chinese);
//! the Korean font; the symbol fonts; and finally a visible placeholder box.

use embedded_graphics::draw_target::DrawTargetExt;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle};
use u8g2_fonts::types::{FontColor, VerticalPosition};
use u8g2_fonts::{Error as FontError, FontRenderer};

/// A fallback chain of fonts for one size and weight of text.
#[derive(Debug)]
pub struct Face {
    /// Latin (ASCII, Latin-1, Latin Extended-A); always present.
    pub latin: FontRenderer,
    /// Cyrillic, behind the `cyrillic` feature.
    pub cyrillic: Option<FontRenderer>,
    /// Greek, behind the `greek` feature.
    pub greek: Option<FontRenderer>,
    /// Japanese kana and kanji, behind the `japanese` feature.
    pub japanese: Option<FontRenderer>,
    /// Simplified Chinese hanzi, behind the `chinese` feature.
    pub chinese: Option<FontRenderer>,
    /// Korean hangul, behind the `korean` feature.
    pub korean: Option<FontRenderer>,
    /// Music and UI symbols, behind the `symbols` feature.
    pub symbols: [Option<FontRenderer>; 2],
    /// Width and height of the placeholder box for a missing glyph.
    pub missing: Size,
    /// Whether Japanese, Chinese and Korean glyphs are drawn at twice their size, each
    /// pixel a 2x2 block: u8g2 has them at 16 px at most, half the height of the
    /// largest Latin title, where they would read as a footnote. (Doubled pixels, not
    /// a smoothed scale: they stay crisp, and need no more font in flash.)
    pub cjk_x2: bool,
}

/// How a line of text is placed in its box.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Flush left.
    Left,
    /// Centered.
    Center,
    /// Flush right.
    Right,
}

/// One thing to draw for a character.
#[derive(Debug, Clone, Copy)]
enum Glyph<'f> {
    Font(&'f FontRenderer, char),
    /// A glyph drawn at twice its font's size, pixel for pixel (see [`Face::cjk_x2`]).
    Double(&'f FontRenderer, char),
    Missing,
}

/// A typographic character the Latin fonts lack, as something they have.
pub fn typographic_substitute(c: char) -> Option<&'static str> {
    Some(match c {
        '\u{2018}' | '\u{2019}' | '\u{201A}' | '\u{201B}' | '\u{2032}' | '\u{02BC}' => "'",
        '\u{201C}' | '\u{201D}' | '\u{201E}' | '\u{201F}' | '\u{2033}' => "\"",
        '\u{2039}' => "<",
        '\u{203A}' => ">",
        '\u{2010}' | '\u{2011}' | '\u{2012}' | '\u{2013}' | '\u{2212}' => "-",
        '\u{2014}' | '\u{2015}' => "-",
        '\u{2026}' => "...",
        '\u{2022}' | '\u{2219}' | '\u{30FB}' => "\u{B7}",
        '\u{2044}' | '\u{2215}' => "/",
        '\u{00A0}' | '\u{2000}'..='\u{200A}' | '\u{202F}' | '\u{205F}' | '\u{3000}' => " ",
        '\u{2122}' => "TM",
        '\u{FF01}'..='\u{FF5E}' => return None, // full-width forms: the CJK fonts have them
        _ => return None,
    })
}

/// Characters that take no space and draw nothing (joiners, marks, variation selectors).
fn is_invisible(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{2060}'..='\u{2064}' | '\u{FEFF}' | '\u{FE00}'..='\u{FE0F}'
        | '\u{202A}'..='\u{202E}' | '\u{E0100}'..='\u{E01EF}' | '\u{00AD}')
}

fn has_glyph(font: &FontRenderer, c: char) -> bool {
    font.get_rendered_dimensions(c, Point::zero(), VerticalPosition::Baseline)
        .is_ok()
}

fn is_kana(c: char) -> bool {
    matches!(c, '\u{3040}'..='\u{30FF}' | '\u{31F0}'..='\u{31FF}' | '\u{FF66}'..='\u{FF9F}')
}

/// Whether Han characters of `text` should come from the Japanese font (the text has
/// kana) rather than the Chinese one.
pub fn prefers_japanese(text: &str) -> bool {
    text.chars().any(is_kana)
}

impl Face {
    /// A face with only a Latin font.
    pub const fn latin_only(latin: FontRenderer, missing: Size) -> Face {
        Face {
            latin,
            cyrillic: None,
            greek: None,
            japanese: None,
            chinese: None,
            korean: None,
            symbols: [None, None],
            missing,
            cjk_x2: false,
        }
    }

    /// Calls `f` with each glyph of `text` in order; stops early when `f` returns `false`.
    fn for_each_glyph<'f>(&'f self, text: &str, mut f: impl FnMut(usize, Glyph<'f>) -> bool) {
        let ja_first = prefers_japanese(text);
        let (han1, han2) = if ja_first {
            (&self.japanese, &self.chinese)
        } else {
            (&self.chinese, &self.japanese)
        };
        for (at, c) in text.char_indices() {
            let c = if c.is_control() { ' ' } else { c };
            if is_invisible(c) {
                continue;
            }
            if has_glyph(&self.latin, c) {
                if !f(at, Glyph::Font(&self.latin, c)) {
                    return;
                }
                continue;
            }
            if let Some(sub) = typographic_substitute(c) {
                for s in sub.chars() {
                    let g = if has_glyph(&self.latin, s) {
                        Glyph::Font(&self.latin, s)
                    } else {
                        Glyph::Missing
                    };
                    if !f(at, g) {
                        return;
                    }
                }
                continue;
            }
            let chain = [
                &self.cyrillic,
                &self.greek,
                han1,
                han2,
                &self.korean,
                &self.symbols[0],
                &self.symbols[1],
            ];
            let found = chain.into_iter().flatten().find(|font| has_glyph(font, c));
            let cjk = |font: &FontRenderer| {
                [&self.japanese, &self.chinese, &self.korean]
                    .into_iter()
                    .flatten()
                    .any(|f| core::ptr::eq(f, font))
            };
            let g = match found {
                Some(font) if self.cjk_x2 && cjk(font) => Glyph::Double(font, c),
                Some(font) => Glyph::Font(font, c),
                None => Glyph::Missing,
            };
            if !f(at, g) {
                return;
            }
        }
    }

    fn advance(&self, g: Glyph<'_>) -> u32 {
        match g {
            Glyph::Font(font, c) => font
                .get_rendered_dimensions(c, Point::zero(), VerticalPosition::Baseline)
                .map(|d| u32::try_from(d.advance.x).unwrap_or(0))
                .unwrap_or(0),
            Glyph::Double(font, c) => self.advance(Glyph::Font(font, c)) * 2,
            Glyph::Missing => self.missing.width + 2,
        }
    }

    /// The width of `text` in pixels.
    pub fn width(&self, text: &str) -> u32 {
        let mut w = 0u32;
        self.for_each_glyph(text, |_, g| {
            w = w.saturating_add(self.advance(g));
            true
        });
        w
    }

    /// Whether every character of `text` has a glyph (or a typographic substitute).
    pub fn covers(&self, text: &str) -> bool {
        let mut all = true;
        self.for_each_glyph(text, |_, g| {
            all = !matches!(g, Glyph::Missing);
            all
        });
        all
    }

    fn draw_glyph<D: DrawTarget>(
        &self,
        g: Glyph<'_>,
        at: Point,
        color: D::Color,
        target: &mut D,
    ) -> Result<u32, D::Error> {
        match g {
            Glyph::Font(font, c) => {
                match font.render(
                    c,
                    at,
                    VerticalPosition::Baseline,
                    FontColor::Transparent(color),
                    target,
                ) {
                    Ok(d) => Ok(u32::try_from(d.advance.x).unwrap_or(0)),
                    Err(FontError::DisplayError(e)) => Err(e),
                    Err(_) => Ok(0),
                }
            }
            Glyph::Double(font, c) => {
                let mut doubled = Doubled { target, origin: at };
                match font.render(
                    c,
                    at,
                    VerticalPosition::Baseline,
                    FontColor::Transparent(color),
                    &mut doubled,
                ) {
                    Ok(d) => Ok(u32::try_from(d.advance.x).unwrap_or(0) * 2),
                    Err(FontError::DisplayError(e)) => Err(e),
                    Err(_) => Ok(0),
                }
            }
            Glyph::Missing => {
                let h = i32::try_from(self.missing.height).unwrap_or(0);
                Rectangle::new(at + Point::new(1, -h), self.missing)
                    .into_styled(PrimitiveStyle::with_stroke(color, 1))
                    .draw(target)?;
                Ok(self.missing.width + 2)
            }
        }
    }

    /// Draws `text` with its baseline starting at `origin`; returns the width drawn.
    pub fn draw<D: DrawTarget>(
        &self,
        text: &str,
        origin: Point,
        color: D::Color,
        target: &mut D,
    ) -> Result<u32, D::Error> {
        let mut x = 0u32;
        let mut result = Ok(());
        self.for_each_glyph(text, |_, g| {
            let at = origin + Point::new(i32::try_from(x).unwrap_or(i32::MAX), 0);
            match self.draw_glyph(g, at, color, target) {
                Ok(w) => {
                    x = x.saturating_add(w);
                    true
                }
                Err(e) => {
                    result = Err(e);
                    false
                }
            }
        });
        result.map(|()| x)
    }

    /// Where to break `text` to show it on two lines of `max` pixels: the byte index of
    /// the space that makes the longer line shortest (balanced lines, no orphan word),
    /// else of the last space whose first line fits; `None` when it fits on one line or
    /// has no such space.
    pub fn wrap_at(&self, text: &str, max: u32) -> Option<usize> {
        if self.width(text) <= max {
            return None;
        }
        let mut best: Option<(u32, usize)> = None;
        let mut last_fit = None;
        for (i, _) in text.char_indices().filter(|(_, c)| *c == ' ') {
            let (head, tail) = (text.get(..i)?, text.get(i..)?.trim_start());
            let (wh, wt) = (self.width(head), self.width(tail));
            if i == 0 || wh > max {
                continue;
            }
            last_fit = Some(i);
            let longer = wh.max(wt);
            if wt <= max && best.is_none_or(|(w, _)| longer < w) {
                best = Some((longer, i));
            }
        }
        best.map(|(_, i)| i).or(last_fit)
    }

    /// The byte length of the longest prefix of `text` that, followed by an ellipsis,
    /// fits in `max` pixels (trailing spaces dropped).
    pub fn ellipsis_cut(&self, text: &str, max: u32) -> usize {
        if self.width(text) <= max {
            return text.len();
        }
        let budget = max.saturating_sub(self.width(ELLIPSIS));
        let cut = self.fitting_prefix(text, budget);
        text.get(..cut).map_or(0, |s| s.trim_end().len())
    }

    /// The byte length of the longest prefix of `text` (whole characters) no wider than
    /// `max` pixels.
    pub fn fitting_prefix(&self, text: &str, max: u32) -> usize {
        let budget = max;
        let mut w = 0u32;
        let mut cut = 0usize;
        let mut char_start = 0usize;
        let mut char_w = 0u32;
        self.for_each_glyph(text, |at, g| {
            if at != char_start {
                // The previous character is complete.
                w = w.saturating_add(char_w);
                if w > budget {
                    return false;
                }
                cut = at;
                char_start = at;
                char_w = 0;
            }
            char_w = char_w.saturating_add(self.advance(g));
            true
        });
        if w <= budget && w.saturating_add(char_w) <= budget {
            cut = text.len();
        }
        cut
    }

    /// The x where `text` starts in `area` with `align`, when it fits (text that does
    /// not fit starts at the left edge, cut or scrolled).
    fn line_x(&self, text: &str, area: Rectangle, align: Align) -> Option<i32> {
        let width = self.width(text);
        let slack = i32::try_from(area.size.width.checked_sub(width)?).ok()?;
        let x0 = area.top_left.x;
        Some(match align {
            Align::Left => x0,
            Align::Center => x0 + slack / 2,
            Align::Right => x0 + slack,
        })
    }

    /// The box `g` inks when drawn with its baseline origin at `at` (`None`: nothing).
    fn ink_box(&self, g: Glyph<'_>, at: Point) -> Option<Rectangle> {
        match g {
            Glyph::Font(font, c) => font
                .get_rendered_dimensions(c, at, VerticalPosition::Baseline)
                .ok()
                .and_then(|d| d.bounding_box),
            Glyph::Double(font, c) => {
                let b = self.ink_box(Glyph::Font(font, c), at)?;
                Some(Rectangle::new(
                    at + (b.top_left - at) * 2,
                    Size::new(b.size.width * 2, b.size.height * 2),
                ))
            }
            Glyph::Missing => {
                let h = i32::try_from(self.missing.height).ok()?;
                Some(Rectangle::new(at + Point::new(1, -h), self.missing))
            }
        }
    }

    /// The glyphs of `text` (at most [`DIFF_GLYPHS`]) with their x when the line
    /// starts at `x0`; `None` when there are more.
    fn glyph_xs(
        &self,
        text: &str,
        x0: i32,
    ) -> Option<heapless::Vec<(Glyph<'_>, i32), DIFF_GLYPHS>> {
        let mut out = heapless::Vec::new();
        let mut x = x0;
        let mut fits = true;
        self.for_each_glyph(text, |_, g| {
            fits = out.push((g, x)).is_ok();
            x = x.saturating_add(i32::try_from(self.advance(g)).unwrap_or(i32::MAX));
            fits
        });
        fits.then_some(out)
    }

    /// The smallest rectangle holding every pixel that differs between `old` and `new`
    /// drawn by [`Face::draw_line`] in `area` (same baseline, alignment and color):
    /// the ink of each glyph that is not the same glyph at the same place in both, so
    /// `1:23` to `1:24` is one digit. Zero-sized when nothing differs; `None` (redraw
    /// the whole area) when either text does not fit or is longer than [`DIFF_GLYPHS`].
    pub fn changed_area(
        &self,
        old: &str,
        new: &str,
        area: Rectangle,
        baseline_y: i32,
        align: Align,
    ) -> Option<Rectangle> {
        let ox = self.line_x(old, area, align)?;
        let nx = self.line_x(new, area, align)?;
        let a = self.glyph_xs(old, ox)?;
        let b = self.glyph_xs(new, nx)?;
        let mut lo = Point::new(i32::MAX, i32::MAX);
        let mut hi = Point::new(i32::MIN, i32::MIN);
        let mut add = |r: Option<Rectangle>| {
            if let Some(r) = r.filter(|r| !r.is_zero_sized()) {
                let br = r.bottom_right().unwrap_or(r.top_left);
                lo = lo.component_min(r.top_left);
                hi = hi.component_max(br);
            }
        };
        for i in 0..a.len().max(b.len()) {
            let (ga, gb) = (a.get(i), b.get(i));
            let same = match (ga, gb) {
                (Some(&(g, x)), Some(&(h, y))) => same_glyph(g, h) && x == y,
                _ => false,
            };
            if !same {
                add(ga.and_then(|&(g, x)| self.ink_box(g, Point::new(x, baseline_y))));
                add(gb.and_then(|&(g, x)| self.ink_box(g, Point::new(x, baseline_y))));
            }
        }
        if lo.x > hi.x || lo.y > hi.y {
            return Some(Rectangle::new(area.top_left, Size::zero()));
        }
        Some(Rectangle::with_corners(lo, hi).intersection(&area))
    }

    /// Draws one line of `text` in `area` with its baseline at `baseline_y`, clipped to
    /// `area`. Text wider than the area ends in an ellipsis, unless `scroll` gives a
    /// marquee offset, in which case the whole text is drawn shifted left by it.
    #[allow(clippy::too_many_arguments)]
    pub fn draw_line<D: DrawTarget>(
        &self,
        text: &str,
        area: Rectangle,
        baseline_y: i32,
        align: Align,
        scroll: Option<u32>,
        color: D::Color,
        target: &mut D,
    ) -> Result<(), D::Error> {
        let mut clipped = target.clipped(&area);
        let x0 = area.top_left.x;
        if let Some(x) = self.line_x(text, area, align) {
            self.draw(text, Point::new(x, baseline_y), color, &mut clipped)?;
            return Ok(());
        }
        if let Some(off) = scroll.filter(|o| *o > 0) {
            let x = x0 - i32::try_from(off).unwrap_or(0);
            self.draw(text, Point::new(x, baseline_y), color, &mut clipped)?;
            return Ok(());
        }
        let cut = self.ellipsis_cut(text, area.size.width);
        let head = text.get(..cut).unwrap_or("");
        let w = self.draw(head, Point::new(x0, baseline_y), color, &mut clipped)?;
        let x = x0 + i32::try_from(w).unwrap_or(0);
        self.draw(ELLIPSIS, Point::new(x, baseline_y), color, &mut clipped)?;
        Ok(())
    }
}

/// The most glyphs [`Face::changed_area`] compares (times, countdowns, the clock).
pub const DIFF_GLYPHS: usize = 12;

/// Whether two glyphs draw the same pixels at the same origin.
fn same_glyph(a: Glyph<'_>, b: Glyph<'_>) -> bool {
    match (a, b) {
        (Glyph::Font(fa, ca), Glyph::Font(fb, cb))
        | (Glyph::Double(fa, ca), Glyph::Double(fb, cb)) => core::ptr::eq(fa, fb) && ca == cb,
        (Glyph::Missing, Glyph::Missing) => true,
        _ => false,
    }
}

/// A draw target that draws each pixel as a 2x2 block, `origin` staying in place.
struct Doubled<'d, D> {
    target: &'d mut D,
    origin: Point,
}

impl<D: DrawTarget> Dimensions for Doubled<'_, D> {
    fn bounding_box(&self) -> Rectangle {
        // Whatever lands inside the target once doubled: half its box, about `origin`.
        let b = self.target.bounding_box();
        let half = |p: Point| self.origin + (p - self.origin) / 2;
        let br = b.bottom_right().unwrap_or(b.top_left);
        Rectangle::with_corners(
            half(b.top_left) - Point::new(1, 1),
            half(br) + Point::new(1, 1),
        )
    }
}

impl<D: DrawTarget> DrawTarget for Doubled<'_, D> {
    type Color = D::Color;
    type Error = D::Error;

    fn draw_iter<I>(&mut self, pixels: I) -> Result<(), Self::Error>
    where
        I: IntoIterator<Item = Pixel<Self::Color>>,
    {
        for Pixel(p, c) in pixels {
            let at = self.origin + (p - self.origin) * 2;
            self.target
                .fill_solid(&Rectangle::new(at, Size::new(2, 2)), c)?;
        }
        Ok(())
    }
}

/// What an over-long line ends with.
pub const ELLIPSIS: &str = "...";

/// The marquee's pause at each end, in ms.
pub const MARQUEE_PAUSE_MS: u64 = 2_500;
/// The marquee's speed, in pixels per second (readable on a desk display).
pub const MARQUEE_PX_PER_S: u64 = 30;

/// The marquee offset of a line `overflow` pixels wider than its box, `t_ms` after it
/// appeared: at rest (0, drawn with an ellipsis) for a pause, then scrolling left at
/// [`MARQUEE_PX_PER_S`] until its end shows, a pause there, and back to the start.
pub fn marquee_offset(overflow: u32, t_ms: u64) -> u32 {
    if overflow == 0 {
        return 0;
    }
    let scroll_ms = u64::from(overflow) * 1000 / MARQUEE_PX_PER_S;
    let cycle = MARQUEE_PAUSE_MS * 2 + scroll_ms;
    let t = t_ms % cycle.max(1);
    if t < MARQUEE_PAUSE_MS {
        0
    } else if t < MARQUEE_PAUSE_MS + scroll_ms {
        let px = (t - MARQUEE_PAUSE_MS) * MARQUEE_PX_PER_S / 1000;
        u32::try_from(px).unwrap_or(overflow).clamp(1, overflow)
    } else {
        overflow
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fonts;
    use embedded_graphics::mock_display::MockDisplay;
    use embedded_graphics::pixelcolor::BinaryColor;

    /// The largest title doubles Japanese (and Chinese, Korean) glyphs pixel for pixel:
    /// twice the advance, each lit pixel of the plain glyph a lit 2x2 block at twice its
    /// distance from the baseline origin, nothing else lit; Latin stays as it is.
    #[cfg(all(feature = "large", feature = "japanese"))]
    #[test]
    fn doubled_cjk_glyphs_are_their_font_at_twice_the_size() {
        let x = &fonts::TITLE_XL;
        let plain = Face {
            latin: x.latin.clone(),
            cyrillic: x.cyrillic.clone(),
            greek: x.greek.clone(),
            japanese: x.japanese.clone(),
            chinese: x.chinese.clone(),
            korean: x.korean.clone(),
            symbols: x.symbols.clone(),
            missing: x.missing,
            cjk_x2: false,
        };
        let big = &fonts::TITLE_XL;
        assert_eq!(big.width("花火"), 2 * plain.width("花火"));
        assert_eq!(big.width("Karma"), plain.width("Karma"));
        let origin = Point::new(4, 36);
        let draw = |face: &Face| {
            let mut d = MockDisplay::<BinaryColor>::new();
            d.set_allow_out_of_bounds_drawing(false);
            face.draw("火", origin, BinaryColor::On, &mut d).unwrap();
            d
        };
        let (small, doubled) = (draw(&plain), draw(big));
        let lit = |d: &MockDisplay<BinaryColor>| {
            let area = d.affected_area();
            area.points()
                .filter(|p| d.get_pixel(*p) == Some(BinaryColor::On))
                .collect::<Vec<_>>()
        };
        let (a, b) = (lit(&small), lit(&doubled));
        assert!(!a.is_empty());
        assert_eq!(b.len(), 4 * a.len());
        for p in &a {
            let q = origin + (*p - origin) * 2;
            for dp in [
                Point::new(0, 0),
                Point::new(1, 0),
                Point::new(0, 1),
                Point::new(1, 1),
            ] {
                assert_eq!(doubled.get_pixel(q + dp), Some(BinaryColor::On), "{p:?}");
            }
        }
        // What the scene redraws for it covers its ink.
        let ink = big
            .changed_area(
                "火",
                "",
                Rectangle::new(Point::new(4, 0), Size::new(60, 64)),
                36,
                Align::Left,
            )
            .unwrap();
        assert!(ink.contains(doubled.affected_area().top_left));
        assert!(ink.contains(doubled.affected_area().bottom_right().unwrap()));
    }

    #[test]
    fn substitutes() {
        assert_eq!(typographic_substitute('…'), Some("..."));
        assert_eq!(typographic_substitute('“'), Some("\""));
        assert_eq!(typographic_substitute('—'), Some("-"));
        assert_eq!(typographic_substitute('a'), None);
        // Every substitute is drawable by every Latin font.
        for c in ['…', '“', '”', '‘', '’', '—', '–', '•', '\u{a0}', '™'] {
            for face in fonts::ALL_FACES {
                assert!(face.covers(&c.to_string()), "{c}");
            }
        }
    }

    #[test]
    fn fallback_chain_covers_scripts() {
        let f = &fonts::MONO_TITLE;
        assert!(f.covers("Café Łódź Ñandú"));
        #[cfg(feature = "cyrillic")]
        assert!(f.covers("Группа крови"));
        #[cfg(feature = "greek")]
        assert!(f.covers("Σαββατόβραδο"));
        #[cfg(feature = "japanese")]
        assert!(f.covers("打上花火 米津玄師 紅蓮華"));
        #[cfg(feature = "chinese")]
        assert!(f.covers("稻香 周杰伦 我们的爱"));
        #[cfg(feature = "korean")]
        assert!(f.covers("방탄소년단 봄날"));
        assert!(!f.covers("🎵"));
    }

    #[test]
    fn missing_glyph_is_a_box_not_nothing() {
        let f = &fonts::MONO_SMALL;
        assert_eq!(f.width("🎵"), f.missing.width + 2);
        let mut d = MockDisplay::<BinaryColor>::new();
        f.draw("🎵", Point::new(0, 8), BinaryColor::On, &mut d)
            .unwrap();
        assert_eq!(
            d.affected_area(),
            Rectangle::new(Point::new(1, 8 - f.missing.height as i32), f.missing)
        );
    }

    #[test]
    fn invisible_and_control_chars() {
        let f = &fonts::MONO_SMALL;
        assert_eq!(f.width("a\u{200B}b\u{FE0F}"), f.width("ab"));
        assert_eq!(f.width("a\nb"), f.width("a b"));
    }

    #[test]
    fn ellipsis_cuts_at_char_boundary() {
        let f = &fonts::MONO_SMALL;
        let table = [
            "Hello wonderful world",
            "日本語のタイトルです",
            "ab",
            "Привет мир",
            "",
        ];
        for text in table {
            for max in [0, 5, 20, 40, 200] {
                let cut = f.ellipsis_cut(text, max);
                assert!(text.is_char_boundary(cut), "{text} {max}");
                let head = &text[..cut];
                if cut < text.len() {
                    assert!(f.width(head) + f.width(ELLIPSIS) <= max || head.is_empty());
                }
            }
        }
        let long = "Hello wonderful world";
        assert_eq!(f.ellipsis_cut(long, f.width(long)), long.len());
        // Trailing spaces go before the ellipsis.
        let cut = f.ellipsis_cut(long, f.width("Hello ") + f.width(ELLIPSIS));
        assert_eq!(&long[..cut], "Hello");
    }

    #[test]
    fn wraps_at_the_last_space_that_fits() {
        let f = &fonts::SMALL_L;
        let t = "Fix config.toml, then restart tonearm";
        assert_eq!(f.wrap_at(t, 1000), None);
        // Balanced lines, not "..., then restart" and an orphan "tonearm".
        let at = f
            .wrap_at(t, f.width("Fix config.toml, then restart"))
            .unwrap();
        assert_eq!(
            (&t[..at], &t[at + 1..]),
            ("Fix config.toml, then", "restart tonearm")
        );
        // The last space that fits when no split fits both lines.
        let long = "a bbbbbbbbbbbbbbbbbbbbbbbbbbbbbb";
        assert_eq!(f.wrap_at(long, f.width("a bbb")), Some(1));
        assert_eq!(f.wrap_at("Unbreakable", 10), None);
        assert_eq!(f.wrap_at(" x", 1), None);
    }

    #[test]
    fn ellipsis_drawn_within_area() {
        let f = &fonts::MONO_SMALL;
        let mut d = MockDisplay::<BinaryColor>::new();
        let area = Rectangle::new(Point::new(0, 0), Size::new(40, 12));
        f.draw_line(
            "A rather long title",
            area,
            9,
            Align::Left,
            None,
            BinaryColor::On,
            &mut d,
        )
        .unwrap();
        let a = d.affected_area();
        assert!(a.size.width <= 40 && a.size.width > 30, "{a:?}");
    }

    #[test]
    fn marquee_table() {
        let p = MARQUEE_PAUSE_MS;
        let table = [
            (0, 0, 0),
            (100, 0, 0),
            (100, p - 1, 0),
            (100, p + 1, 1),
            (100, p + 1000, 30),
            (100, p + 3_400, 100),       // end pause...
            (100, 2 * p + 3_333 + 1, 0), // ...then back to the start
        ];
        for (overflow, t, want) in table {
            assert_eq!(marquee_offset(overflow, t), want, "{overflow} {t}");
        }
    }
}

#[cfg(test)]
mod no_panic {
    use crate::fonts;

    fn through_all_faces(chars: impl Iterator<Item = u32>) {
        let mut buf = [0u8; 4];
        for c in chars.filter_map(char::from_u32) {
            let s = c.encode_utf8(&mut buf);
            for face in fonts::ALL_FACES {
                let _ = face.width(s);
            }
        }
    }

    /// A sample of every block, and all of the blocks the fonts cover, go through every
    /// face's fallback chain (u8g2-fonts' lookups included) without a panic.
    #[test]
    fn sampled_chars_through_every_face() {
        let dense = (0..0x600)
            .chain(0x2000..0x2700)
            .chain(0x3000..0x3100)
            .chain(0xFF00..0x1_0000);
        let sparse = (0..0x11_0000).step_by(37);
        through_all_faces(dense.chain(sparse));
    }

    /// Every BMP character through every face (slow in debug builds: about 80 s;
    /// `cargo test -p tonearm-firmware --release -- --ignored`).
    #[test]
    #[ignore]
    fn every_char_through_every_face() {
        through_all_faces(
            (0u32..0x1_0000).chain([0x1_F3B5, 0x1_F600, 0x2_0000, 0xE_0100, 0x10_FFFF]),
        );
    }
}
