//! Widgets: icons, the progress bar, chips and the generated art placeholder. Each is a
//! small function drawing into any `DrawTarget` inside a given rectangle.

use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{
    Arc, Circle, CornerRadii, Line, PrimitiveStyle, Rectangle, RoundedRectangle, Triangle,
};

use crate::color::{Palette, Role};
use crate::text::{Align, Face};

/// An icon.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Icon {
    /// ▶
    Play,
    /// ❚❚
    Pause,
    /// ⏮
    Prev,
    /// ⏭
    Next,
    /// Two crossing arrows.
    Shuffle,
    /// A loop.
    Repeat,
    /// A loop with a 1.
    RepeatOne,
    /// An exclamation mark.
    Alert,
    /// A clock face.
    Clock,
    /// A person (log in).
    Person,
    /// A broken link (offline).
    Offline,
    /// A heart (liked: filled; not liked: an outline).
    Heart,
    /// A speaker with sound waves (the volume).
    Speaker,
}

/// Whether the centre of pixel `(x, y)` of an `s`-pixel square lies inside the heart:
/// two circles side by side over a point, in half-pixel units.
fn in_heart(x: u32, y: u32, s: u32) -> bool {
    let big = i64::from(s) * 2;
    let (u, v) = (i64::from(x) * 2 + 1, i64::from(y) * 2 + 1);
    let r = big * 27 / 100;
    let cy = big * 30 / 100;
    let in_circle = |cx: i64| (u - cx) * (u - cx) + (v - cy) * (v - cy) <= r * r;
    if in_circle(big * 27 / 100) || in_circle(big * 73 / 100) {
        return true;
    }
    // The point: below the circles' centres, narrowing to the bottom middle.
    let top = cy;
    let bottom = big * 96 / 100;
    if v < top || v > bottom {
        return false;
    }
    let half = big / 2;
    let reach = (bottom - v) * (half - big * 2 / 100) / (bottom - top).max(1);
    (u - half).abs() <= reach
}

fn pt(x: u32, y: u32) -> Point {
    Point::new(i32::try_from(x).unwrap_or(0), i32::try_from(y).unwrap_or(0))
}

/// Draws `icon` inside the square `area` (its smaller side is used). `filled` icons are
/// solid; unfilled ones are drawn as outlines (unavailable controls on mono displays).
pub fn draw_icon<D: DrawTarget>(
    icon: Icon,
    area: Rectangle,
    color: D::Color,
    filled: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    let s = area.size.width.min(area.size.height);
    let o = area.top_left;
    let fill = if filled {
        PrimitiveStyle::with_fill(color)
    } else {
        PrimitiveStyle::with_stroke(color, 1)
    };
    let stroke_w = (s / 8).max(1);
    let stroke = PrimitiveStyle::with_stroke(color, stroke_w);
    let p = |x: u32, y: u32| o + pt(x, y);
    let last = s.saturating_sub(1);
    match icon {
        Icon::Play => {
            // Row by row, so it stays symmetric and crisp at every size.
            let x0 = s / 8;
            let room = s - x0;
            for y in 0..s {
                let w = ((y.min(last - y) * 2 + 1) * room / s.max(1)).max(1);
                if filled {
                    Rectangle::new(p(x0, y), Size::new(w, 1))
                        .into_styled(PrimitiveStyle::with_fill(color))
                        .draw(d)?;
                } else {
                    let edge = if y == 0 || y == last { w } else { 1 };
                    Rectangle::new(p(x0, y), Size::new(edge, 1))
                        .into_styled(PrimitiveStyle::with_fill(color))
                        .draw(d)?;
                    Rectangle::new(p(x0 + w - 1, y), Size::new(1, 1))
                        .into_styled(PrimitiveStyle::with_fill(color))
                        .draw(d)?;
                }
            }
            Ok(())
        }
        Icon::Pause => {
            let bar = (s * 3 / 10).max(1);
            let mid = (s / 5).max(1);
            let margin = s.saturating_sub(2 * bar + mid) / 2;
            Rectangle::new(p(margin, 0), Size::new(bar, s))
                .into_styled(fill)
                .draw(d)?;
            Rectangle::new(p(margin + bar + mid, 0), Size::new(bar, s))
                .into_styled(fill)
                .draw(d)
        }
        Icon::Prev | Icon::Next => {
            let bar = (s / 6).max(1);
            let tri_w = s - bar - s / 10;
            if icon == Icon::Prev {
                Rectangle::new(p(0, 0), Size::new(bar, s))
                    .into_styled(fill)
                    .draw(d)?;
                Triangle::new(p(last, 0), p(last, last), p(last - tri_w, s / 2))
                    .into_styled(fill)
                    .draw(d)
            } else {
                Rectangle::new(p(s - bar, 0), Size::new(bar, s))
                    .into_styled(fill)
                    .draw(d)?;
                Triangle::new(p(0, 0), p(0, last), p(tri_w, s / 2))
                    .into_styled(fill)
                    .draw(d)
            }
        }
        Icon::Shuffle => {
            let a = s / 4;
            Line::new(p(0, a), p(a, a)).into_styled(stroke).draw(d)?;
            Line::new(p(a, a), p(last - a, last - a))
                .into_styled(stroke)
                .draw(d)?;
            Line::new(p(last - a, last - a), p(last, last - a))
                .into_styled(stroke)
                .draw(d)?;
            Line::new(p(0, last - a), p(a, last - a))
                .into_styled(stroke)
                .draw(d)?;
            Line::new(p(a, last - a), p(last - a, a))
                .into_styled(stroke)
                .draw(d)?;
            Line::new(p(last - a, a), p(last, a))
                .into_styled(stroke)
                .draw(d)?;
            let h = (s / 5).max(1);
            Triangle::new(p(last, a), p(last - h, a - h.min(a)), p(last - h, a + h))
                .into_styled(PrimitiveStyle::with_fill(color))
                .draw(d)?;
            Triangle::new(
                p(last, last - a),
                p(last - h, last - a - h),
                p(last - h, (last - a + h).min(last)),
            )
            .into_styled(PrimitiveStyle::with_fill(color))
            .draw(d)
        }
        Icon::Repeat | Icon::RepeatOne => {
            let top = s / 5;
            let bottom = last - s / 5;
            RoundedRectangle::with_equal_corners(
                Rectangle::with_corners(p(0, top), p(last, bottom)),
                Size::new(s / 4, s / 4),
            )
            .into_styled(stroke)
            .draw(d)?;
            let h = (s / 5).max(1);
            let ax = s * 3 / 5;
            Triangle::new(p(ax + h, top), p(ax, top - h.min(top)), p(ax, top + h))
                .into_styled(PrimitiveStyle::with_fill(color))
                .draw(d)?;
            if icon == Icon::RepeatOne {
                let cx = s / 2;
                Line::new(
                    p(cx, top + stroke_w + 1),
                    p(cx, bottom.saturating_sub(stroke_w + 1)),
                )
                .into_styled(PrimitiveStyle::with_stroke(color, stroke_w))
                .draw(d)?;
            }
            Ok(())
        }
        Icon::Alert => {
            Triangle::new(p(s / 2, 0), p(0, last), p(last, last))
                .into_styled(stroke)
                .draw(d)?;
            let cx = s / 2;
            Line::new(p(cx, s * 3 / 10), p(cx, s * 6 / 10))
                .into_styled(stroke)
                .draw(d)?;
            Rectangle::new(
                p(cx - stroke_w / 2, s * 3 / 4),
                Size::new(stroke_w, stroke_w),
            )
            .into_styled(PrimitiveStyle::with_fill(color))
            .draw(d)
        }
        Icon::Clock => {
            Circle::new(o, s).into_styled(stroke).draw(d)?;
            let c = p(s / 2, s / 2);
            Line::new(c, p(s / 2, s / 5)).into_styled(stroke).draw(d)?;
            Line::new(c, p(s * 7 / 10, s * 6 / 10))
                .into_styled(stroke)
                .draw(d)
        }
        Icon::Person => {
            Circle::new(p(s * 3 / 10, 0), s * 2 / 5)
                .into_styled(fill)
                .draw(d)?;
            RoundedRectangle::new(
                Rectangle::with_corners(p(s / 10, s / 2), p(last - s / 10, last)),
                CornerRadii {
                    top_left: Size::new(s / 3, s / 3),
                    top_right: Size::new(s / 3, s / 3),
                    bottom_right: Size::zero(),
                    bottom_left: Size::zero(),
                },
            )
            .into_styled(fill)
            .draw(d)
        }
        Icon::Heart => {
            // Pixel by pixel, so that it is the same shape at every size; the outline
            // is the heart's pixels that have a neighbour outside it.
            let width = (s / 10).max(1);
            for y in 0..s {
                for x in 0..s {
                    if !in_heart(x, y, s) {
                        continue;
                    }
                    let edge = !filled
                        && (1..=width).any(|k| {
                            x < k
                                || y < k
                                || !in_heart(x - k, y, s)
                                || !in_heart(x + k, y, s)
                                || !in_heart(x, y - k, s)
                                || !in_heart(x, y + k, s)
                        });
                    if filled || edge {
                        Pixel(p(x, y), color).draw(d)?;
                    }
                }
            }
            Ok(())
        }
        Icon::Speaker => {
            // A box and a cone on the left half, two waves on the right.
            let box_top = s * 3 / 8;
            Rectangle::with_corners(p(0, box_top), p(s / 5, last - box_top))
                .into_styled(PrimitiveStyle::with_fill(color))
                .draw(d)?;
            Triangle::new(p(s / 5, box_top), p(s / 2, s / 8), p(s / 5, last - box_top))
                .into_styled(PrimitiveStyle::with_fill(color))
                .draw(d)?;
            Triangle::new(
                p(s / 5, last - box_top),
                p(s / 2, s / 8),
                p(s / 2, last - s / 8),
            )
            .into_styled(PrimitiveStyle::with_fill(color))
            .draw(d)?;
            let wave = PrimitiveStyle::with_stroke(color, (s / 12).max(1));
            for k in [3u32, 5] {
                let dia = s * k / 6;
                let c = p(s / 2, s / 2);
                let half = i32::try_from(dia / 2).unwrap_or(0);
                Arc::new(
                    c - Point::new(half, half),
                    dia,
                    Angle::from_degrees(-50.0),
                    Angle::from_degrees(100.0),
                )
                .into_styled(wave)
                .draw(d)?;
            }
            Ok(())
        }
        Icon::Offline => {
            Circle::new(o, s).into_styled(stroke).draw(d)?;
            Line::new(p(s / 5, s / 5), p(last - s / 5, last - s / 5))
                .into_styled(stroke)
                .draw(d)
        }
    }
}

/// Pixels of a bar `width` wide filled for `position` of `duration` (rounded down, so
/// the bar is full only at the end). Zero when there is no duration.
pub fn fill_px(position_ms: u64, duration_ms: Option<u64>, width: u32) -> u32 {
    match duration_ms {
        Some(d) if d > 0 => {
            let p = u128::from(position_ms.min(d));
            u32::try_from(p * u128::from(width) / u128::from(d)).unwrap_or(width)
        }
        _ => 0,
    }
}

/// The progress bar: a track of `track` color with `fill` pixels of `color` from the
/// left; on color displays rounded, with a knob at the end of the fill (on `mono` ones an
/// outline with a square fill). `area` is the track; the knob reaches 3 pixels above
/// and below it.
pub fn draw_progress<C: Palette, D: DrawTarget<Color = C>>(
    area: Rectangle,
    fill: u32,
    color: C,
    knob: bool,
    mono: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    let h = area.size.height;
    let fill = fill.min(area.size.width);
    if mono {
        area.into_styled(PrimitiveStyle::with_stroke(C::role(Role::Text), 1))
            .draw(d)?;
        if fill > 0 {
            Rectangle::new(area.top_left, Size::new(fill, h))
                .into_styled(PrimitiveStyle::with_fill(color))
                .draw(d)?;
        }
        return Ok(());
    }
    let r = Size::new(h / 2, h / 2);
    RoundedRectangle::with_equal_corners(area, r)
        .into_styled(PrimitiveStyle::with_fill(C::role(Role::Track)))
        .draw(d)?;
    if fill > 0 {
        RoundedRectangle::with_equal_corners(
            Rectangle::new(area.top_left, Size::new(fill.max(h), h)),
            r,
        )
        .into_styled(PrimitiveStyle::with_fill(color))
        .draw(d)?;
    }
    if knob {
        knob_circle(area, fill)
            .into_styled(PrimitiveStyle::with_fill(C::role(Role::Text)))
            .draw(d)?;
    }
    Ok(())
}

/// The knob of a color progress bar filled `fill` pixels (3 pixels beyond the track
/// above and below).
fn knob_circle(area: Rectangle, fill: u32) -> Circle {
    let h = area.size.height;
    let x = area.top_left.x + i32::try_from(fill).unwrap_or(0);
    let cy = area.top_left.y + i32::try_from(h / 2).unwrap_or(0);
    Circle::with_center(Point::new(x, cy), h + 6)
}

/// The smallest box holding both `a` and `b` (a zero-sized one counts as nothing).
pub fn union(a: Rectangle, b: Rectangle) -> Rectangle {
    match (a.bottom_right(), b.bottom_right()) {
        (None, _) => b,
        (_, None) => a,
        (Some(a1), Some(b1)) => {
            Rectangle::with_corners(a.top_left.component_min(b.top_left), a1.component_max(b1))
        }
    }
}

/// A box holding every pixel that differs between [`draw_progress`] with fill `a` and
/// with fill `b` (same `area`, color, knob and `mono`): what a progress tick must
/// redraw. Zero-sized when both draw the same pixels.
///
/// At 128x64 that is the interior rows of the columns between the two fills (the
/// outline is lit either way); on color displays, the rounded end of the fill and the
/// knob at both places.
pub fn progress_change(area: Rectangle, a: u32, b: u32, knob: bool, mono: bool) -> Rectangle {
    let (w, h) = (area.size.width, area.size.height);
    let (a, b) = (a.min(b).min(w), a.max(b).min(w));
    let nothing = Rectangle::new(area.top_left, Size::zero());
    if a == b {
        return nothing;
    }
    let x = |f: u32| area.top_left.x + i32::try_from(f).unwrap_or(0);
    if mono {
        // The outline is lit either way: only the interior can change.
        let (a, b) = (a.max(1), b.min(w.saturating_sub(1)));
        return Rectangle::new(
            Point::new(x(a), area.top_left.y + 1),
            Size::new(b.saturating_sub(a), h.saturating_sub(2)),
        );
    }
    // The fill ends at this column (exclusive); its right corners are rounded.
    let end = |f: u32| if f == 0 { 0 } else { f.max(h) };
    let fill = if end(a) == end(b) {
        nothing
    } else {
        let from = end(a).saturating_sub(h / 2);
        Rectangle::new(
            Point::new(x(from), area.top_left.y),
            Size::new(end(b) - from, h),
        )
    };
    if knob {
        let knobs = union(
            knob_circle(area, a).bounding_box(),
            knob_circle(area, b).bounding_box(),
        );
        union(fill, knobs)
    } else {
        fill
    }
}

/// The room on each side of a chip's text.
pub const CHIP_PAD: u32 = 5;

/// A rounded chip with text (badges): `bg` box, `fg` text, right- or left-anchored in
/// `area` according to `align`. Returns the chip's rectangle.
#[allow(clippy::too_many_arguments)]
pub fn draw_chip<D: DrawTarget>(
    text: &str,
    face: &Face,
    area: Rectangle,
    baseline: i32,
    align: Align,
    fg: D::Color,
    bg: D::Color,
    d: &mut D,
) -> Result<Rectangle, D::Error> {
    let chip = chip_rect(text, face, area, align);
    let r = area.size.height / 2;
    RoundedRectangle::with_equal_corners(chip, Size::new(r, r))
        .into_styled(PrimitiveStyle::with_fill(bg))
        .draw(d)?;
    chip_text(text, face, chip, baseline, fg, d)?;
    Ok(chip)
}

/// A chip drawn as an outline: a one-pixel rounded border and the text, both `color`,
/// placed as [`draw_chip`] places its chip. Lighter than a filled chip, for something
/// to notice without it taking over (the login warning). Returns the chip's rectangle.
pub fn draw_outlined_chip<D: DrawTarget>(
    text: &str,
    face: &Face,
    area: Rectangle,
    baseline: i32,
    align: Align,
    color: D::Color,
    d: &mut D,
) -> Result<Rectangle, D::Error> {
    let chip = chip_rect(text, face, area, align);
    let r = area.size.height / 2;
    RoundedRectangle::with_equal_corners(chip, Size::new(r, r))
        .into_styled(PrimitiveStyle::with_stroke(color, 1))
        .draw(d)?;
    chip_text(text, face, chip, baseline, color, d)?;
    Ok(chip)
}

/// The box of a chip with `text` in `area`: the text's width and [`CHIP_PAD`] on each
/// side (at most the area's width), the area's height, anchored by `align`.
pub fn chip_rect(text: &str, face: &Face, area: Rectangle, align: Align) -> Rectangle {
    let w = (face.width(text) + 2 * CHIP_PAD).min(area.size.width);
    let x = match align {
        Align::Left => area.top_left.x,
        Align::Center => area.top_left.x + i32::try_from((area.size.width - w) / 2).unwrap_or(0),
        Align::Right => area.top_left.x + i32::try_from(area.size.width - w).unwrap_or(0),
    };
    Rectangle::new(
        Point::new(x, area.top_left.y),
        Size::new(w, area.size.height),
    )
}

/// The text of a chip, centered between its pads (cut with an ellipsis if too long).
fn chip_text<D: DrawTarget>(
    text: &str,
    face: &Face,
    chip: Rectangle,
    baseline: i32,
    color: D::Color,
    d: &mut D,
) -> Result<(), D::Error> {
    let inner = Rectangle::new(
        chip.top_left + Point::new(i32::try_from(CHIP_PAD).unwrap_or(0), 0),
        Size::new(
            chip.size.width.saturating_sub(2 * CHIP_PAD),
            chip.size.height,
        ),
    );
    face.draw_line(text, inner, baseline, Align::Center, None, color, d)
}

/// The most lines [`wrap_lines`] gives.
pub const MAX_LINES: usize = 4;

/// The most words [`wrap_lines`] balances (a status message has a few; beyond this the
/// rest stays on the last line).
const MAX_WORDS: usize = 32;

/// A word: its byte range in the text and its width.
#[derive(Clone, Copy)]
struct Word {
    start: usize,
    end: usize,
    width: u32,
}

/// The index of each line's first word when `words` are set greedily in lines no wider
/// than `w`, and whether they all fit in [`MAX_LINES`].
fn greedy(words: &[Word], space: u32, w: u32) -> (heapless::Vec<usize, MAX_LINES>, bool) {
    let mut starts = heapless::Vec::new();
    let mut line_w: Option<u32> = None;
    for (i, word) in words.iter().enumerate() {
        match line_w.map(|l| l.saturating_add(space).saturating_add(word.width)) {
            Some(n) if n <= w => line_w = Some(n),
            _ => {
                if starts.push(i).is_err() {
                    return (starts, false);
                }
                line_w = Some(word.width);
            }
        }
    }
    (starts, true)
}

/// Greedy lines no wider than `width`, balanced: as narrow as their number allows.
fn balanced(words: &[Word], space: u32, width: u32) -> (heapless::Vec<usize, MAX_LINES>, bool) {
    let (full, fits) = greedy(words, space, width);
    if !fits {
        return (full, false);
    }
    let widest = words.iter().map(|w| w.width).max().unwrap_or(0).min(width);
    let (mut lo, mut hi) = (widest, width);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let (s, ok) = greedy(words, space, mid);
        if ok && s.len() <= full.len() {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    greedy(words, space, lo)
}

/// `text` broken at spaces into at most `max_lines` lines (and at most [`MAX_LINES`]) of
/// at most `width` pixels in `face`, balanced: the widest line as narrow as that number of
/// lines allows, so a message on two lines does not leave a word alone on the second.
/// A break after a colon or a full stop is taken when it costs at most one more line
/// (`"Logins last six months:"` / `"run tonearm login"`).
///
/// A word wider than `width` gets a line of its own; what does not fit in `max_lines`
/// stays on the last line. Either is cut at a character boundary with an ellipsis when
/// drawn ([`Face::draw_line`]). Empty text gives no lines.
pub fn wrap_lines<'t>(
    face: &Face,
    text: &'t str,
    width: u32,
    max_lines: usize,
) -> heapless::Vec<&'t str, MAX_LINES> {
    let max_lines = max_lines.clamp(1, MAX_LINES);
    // Words with their widths (advances add up: no kerning).
    let mut words: heapless::Vec<Word, MAX_WORDS> = heapless::Vec::new();
    let mut at = 0;
    for word in text.split(' ') {
        let start = at;
        at += word.len() + 1;
        if word.is_empty() {
            continue;
        }
        if words.is_full() {
            // The rest joins the last word (it ends up on the last line).
            if let Some(last) = words.last_mut() {
                last.end = text.trim_end().len();
                last.width = u32::MAX;
            }
            break;
        }
        let end = start + word.len();
        let _ = words.push(Word {
            start,
            end,
            width: face.width(word),
        });
    }
    let space = face.width(" ");
    let (mut starts, fits) = balanced(&words, space, width);
    if fits && starts.len() <= max_lines {
        // A break after punctuation, when it costs at most one more line.
        let ends_clause = |w: &Word| {
            text.get(w.start..w.end)
                .is_some_and(|s| s.ends_with(':') || s.ends_with('.'))
        };
        let limit = max_lines.min(starts.len() + 1);
        let split = words
            .iter()
            .take(words.len().saturating_sub(1))
            .position(ends_clause)
            .map(|k| k + 1);
        if let Some(k) = split.filter(|_| starts.len() > 1) {
            let (head, tail) = words.split_at(k);
            let (a, a_fits) = balanced(head, space, width);
            let (b, b_fits) = balanced(tail, space, width);
            if a_fits && b_fits && a.len() + b.len() <= limit {
                starts = a;
                for s in b {
                    let _ = starts.push(s + k);
                }
            }
        }
    }
    let mut lines = heapless::Vec::new();
    for (n, &first) in starts.iter().enumerate().take(max_lines) {
        let last_line = n + 1 == max_lines;
        let next = if last_line {
            words.len()
        } else {
            starts.get(n + 1).copied().unwrap_or(words.len())
        };
        let (Some(a), Some(b)) = (words.get(first), words.get(next.saturating_sub(1))) else {
            continue;
        };
        let end = if last_line {
            text.trim_end().len()
        } else {
            b.end
        };
        if let Some(line) = text.get(a.start..end.max(a.start)) {
            let _ = lines.push(line);
        }
    }
    lines
}

/// A title broken into at most `max_lines` lines (and at most [`MAX_LINES`]) of at most
/// `width` pixels in `face`: at spaces, or, in a word wider than the line or in text
/// without spaces (Chinese, Japanese), at the last character that fits. When the whole
/// title fits, its lines are balanced: as narrow as their number allows, so a title on
/// two lines does not leave one word alone on the second (`Episode 12 - The` / `"Long"
/// One`, not `Episode 12 - The "Long"` / `One`). What does not fit in `max_lines` stays
/// on the last line (cut with an ellipsis when drawn). Empty text gives no lines.
pub fn title_lines<'t>(
    face: &Face,
    text: &'t str,
    width: u32,
    max_lines: usize,
) -> heapless::Vec<&'t str, MAX_LINES> {
    let max_lines = max_lines.clamp(1, MAX_LINES);
    let lines = fill_lines(face, text, width, max_lines);
    let fits =
        |lines: &heapless::Vec<&str, MAX_LINES>, w: u32| lines.iter().all(|l| face.width(l) <= w);
    let n = lines.len();
    if n < 2 || !fits(&lines, width) {
        return lines;
    }
    // The narrowest width that keeps the number of lines, never breaking inside a word
    // that the full width kept whole.
    let widest_word = text
        .split(' ')
        .map(|w| face.width(w))
        .filter(|w| *w <= width)
        .max()
        .unwrap_or(0);
    let mut lo = widest_word.max(width / u32::try_from(n).unwrap_or(1));
    let mut hi = width;
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let t = fill_lines(face, text, mid, max_lines);
        if t.len() <= n && fits(&t, mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    fill_lines(face, text, lo, max_lines)
}

/// `text` filled line by line in lines of at most `width` pixels, the rest on the last
/// of `max_lines` (see [`title_lines`]).
fn fill_lines<'t>(
    face: &Face,
    text: &'t str,
    width: u32,
    max_lines: usize,
) -> heapless::Vec<&'t str, MAX_LINES> {
    let mut lines = heapless::Vec::new();
    let mut rest = text.trim();
    while !rest.is_empty() {
        if lines.len() + 1 >= max_lines || face.width(rest) <= width {
            let _ = lines.push(rest);
            break;
        }
        let fit = face.fitting_prefix(rest, width);
        // A line may end at a space, but not before a lone dash ("Song - Live" breaks
        // after the dash, never before it).
        let breaks_at = |i: usize| {
            rest.get(i..).is_some_and(|t| t.starts_with(' '))
                && !rest
                    .get(i + 1..)
                    .and_then(|t| t.split(' ').next())
                    .is_some_and(|w| matches!(w, "-" | "\u{2013}" | "\u{2014}" | "|" | "\u{b7}"))
        };
        let last_space = rest.get(..fit).and_then(|h| {
            h.rmatch_indices(' ')
                .map(|(i, _)| i)
                .find(|&i| breaks_at(i))
        });
        let cut = match last_space {
            _ if breaks_at(fit) => fit,
            Some(space) if space > 0 => space,
            _ => fit,
        };
        // At least one character a line, however narrow the box.
        let cut = match cut {
            0 => rest.chars().next().map_or(rest.len(), char::len_utf8),
            n => n,
        };
        let Some((head, tail)) = rest.split_at_checked(cut) else {
            let _ = lines.push(rest);
            break;
        };
        let _ = lines.push(head.trim_end());
        rest = tail.trim_start();
    }
    lines
}

/// The generated art placeholder: two colors and a pattern chosen from `seed`, so each
/// album or show has its own, and the same one every time (on `mono` displays an
/// outline with diagonal hatching).
pub fn draw_art_placeholder<C: Palette, D: DrawTarget<Color = C>>(
    area: Rectangle,
    seed: u32,
    dim: bool,
    mono: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    let hue = u16::try_from(seed % 360).unwrap_or(0);
    let hue2 = (hue + 30 + u16::try_from((seed >> 9) % 90).unwrap_or(0)) % 360;
    let val: u8 = if dim { 70 } else { 150 };
    let val2: u8 = if dim { 40 } else { 80 };
    let sat = 150 + u8::try_from((seed >> 17) % 90).unwrap_or(0);
    let (w, h) = (area.size.width, area.size.height);
    if mono {
        area.into_styled(PrimitiveStyle::with_stroke(C::role(Role::Text), 1))
            .draw(d)?;
        let step = 3 + (seed >> 3) % 4;
        let mut x = 0;
        while x < w + h {
            let a = area.top_left + pt(x.min(w), x.saturating_sub(w));
            let b = area.top_left + pt(x.saturating_sub(h), x.min(h));
            Line::new(a, b)
                .into_styled(PrimitiveStyle::with_stroke(C::role(Role::Text), 1))
                .draw(d)?;
            x += step;
        }
        return Ok(());
    }
    // Vertical gradient from hue to hue2.
    for row in 0..h {
        let t = row * 255 / h.max(1);
        let mix = |a: u16, b: u16| -> u16 {
            let (a, b) = (u32::from(a), u32::from(b));
            u16::try_from((a * (255 - t) + b * t) / 255).unwrap_or(0)
        };
        let v = u8::try_from((u32::from(val) * (255 - t) + u32::from(val2) * t) / 255).unwrap_or(0);
        let c = C::hsv(mix(hue, hue2), sat, v);
        Rectangle::new(area.top_left + pt(0, row), Size::new(w, 1))
            .into_styled(PrimitiveStyle::with_fill(c))
            .draw(d)?;
    }
    let light = C::hsv((hue + 180) % 360, sat / 3, if dim { 110 } else { 225 });
    let dark = C::hsv(hue2, sat, val2 / 2);
    let center = area.center();
    let s = w.min(h);
    match (seed >> 24) % 4 {
        0 => {
            // A record: dark disc, grooves, a colored label.
            Circle::with_center(center, s * 4 / 5)
                .into_styled(PrimitiveStyle::with_fill(dark))
                .draw(d)?;
            let mut r = s * 4 / 5 - 8;
            while r > s * 3 / 10 {
                Circle::with_center(center, r)
                    .into_styled(PrimitiveStyle::with_stroke(C::hsv(hue2, sat / 3, val2), 1))
                    .draw(d)?;
                r -= 6;
            }
            Circle::with_center(center, s / 4)
                .into_styled(PrimitiveStyle::with_fill(light))
                .draw(d)?;
            Circle::with_center(center, 4)
                .into_styled(PrimitiveStyle::with_fill(dark))
                .draw(d)
        }
        1 => {
            // Diagonal bands.
            let step = s / 6 + (seed >> 5) % 8;
            let mut x = step / 2;
            let mut i = 0u32;
            let clip = &mut d.clipped(&area);
            while x < w + h {
                let c = if i.is_multiple_of(2) { light } else { dark };
                let a = area.top_left + pt(x, 0);
                let b = area.top_left
                    + Point::new(
                        i32::try_from(x).unwrap_or(0) - i32::try_from(h).unwrap_or(0),
                        i32::try_from(h).unwrap_or(0),
                    );
                Line::new(a, b)
                    .into_styled(PrimitiveStyle::with_stroke(c, step / 3 + 1))
                    .draw(clip)?;
                x += step;
                i += 1;
            }
            Ok(())
        }
        2 => {
            // A grid of dots.
            let n = 4 + (seed >> 6) % 3;
            let cell = s / n;
            for gy in 0..n {
                for gx in 0..n {
                    let big = (seed >> ((gx + gy * n) % 31)) & 1 == 1;
                    let dia = if big { cell * 2 / 3 } else { cell / 3 };
                    let c = area.top_left + pt(gx * cell + cell / 2, gy * cell + cell / 2);
                    Circle::with_center(c, dia.max(2))
                        .into_styled(PrimitiveStyle::with_fill(if big { light } else { dark }))
                        .draw(d)?;
                }
            }
            Ok(())
        }
        _ => {
            // Two overlapping suns.
            let off = i32::try_from(s / 6).unwrap_or(0);
            Circle::with_center(center + Point::new(-off, -off), s / 2)
                .into_styled(PrimitiveStyle::with_fill(light))
                .draw(d)?;
            Circle::with_center(center + Point::new(off, off), s / 2)
                .into_styled(PrimitiveStyle::with_stroke(dark, (s / 24).max(2)))
                .draw(d)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use embedded_graphics::mock_display::MockDisplay;
    use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};

    #[test]
    fn fill_rounding_and_ends() {
        let table = [
            (0, Some(1000), 100, 0),
            (9, Some(1000), 100, 0), // rounds down
            (10, Some(1000), 100, 1),
            (999, Some(1000), 100, 99), // full only at the end
            (1000, Some(1000), 100, 100),
            (5000, Some(1000), 100, 100), // clamped
            (500, None, 100, 0),
            (500, Some(0), 100, 0),
            (u64::MAX, Some(u64::MAX), u32::MAX, u32::MAX),
        ];
        for (pos, dur, w, want) in table {
            assert_eq!(fill_px(pos, dur, w), want, "{pos} {dur:?} {w}");
        }
    }

    #[test]
    fn mono_progress_bar_pattern() {
        let mut d = MockDisplay::<BinaryColor>::new();
        d.set_allow_overdraw(true);
        let area = Rectangle::new(Point::zero(), Size::new(10, 4));
        draw_progress(area, 4, BinaryColor::On, false, true, &mut d).unwrap();
        d.assert_pattern(&[
            "##########", //
            "####     #", //
            "####     #", //
            "##########", //
        ]);
    }

    #[test]
    fn mono_progress_bar_empty_and_full() {
        for (fill, rows) in [
            (0, ["######", "#    #", "######"]),
            (6, ["######", "######", "######"]),
            (60, ["######", "######", "######"]),
        ] {
            let mut d = MockDisplay::<BinaryColor>::new();
            d.set_allow_overdraw(true);
            let area = Rectangle::new(Point::zero(), Size::new(6, 3));
            draw_progress(area, fill, BinaryColor::On, false, true, &mut d).unwrap();
            d.assert_pattern(&rows);
        }
    }

    /// A small frame buffer for comparing two drawings.
    struct Grid<C>([[C; 48]; 24]);

    impl<C: PixelColor> OriginDimensions for Grid<C> {
        fn size(&self) -> Size {
            Size::new(48, 24)
        }
    }

    impl<C: PixelColor> DrawTarget for Grid<C> {
        type Color = C;
        type Error = core::convert::Infallible;
        fn draw_iter<I: IntoIterator<Item = Pixel<C>>>(
            &mut self,
            it: I,
        ) -> Result<(), Self::Error> {
            for Pixel(p, c) in it {
                if (0..48).contains(&p.x) && (0..24).contains(&p.y) {
                    self.0[p.y as usize][p.x as usize] = c;
                }
            }
            Ok(())
        }
    }

    /// For every pair of fills, every pixel that differs lies in `progress_change`, and
    /// the change is no wider than the fills' distance plus a knob.
    fn check_progress_change<C: Palette>(area: Rectangle, knob: bool, mono: bool) {
        let draw = |fill: u32| {
            let mut g = Grid([[C::role(Role::Background); 48]; 24]);
            draw_progress(area, fill, C::role(Role::Accent), knob, mono, &mut g).unwrap();
            g
        };
        let w = area.size.width;
        for a in 0..=w + 1 {
            let ga = draw(a);
            for b in 0..=w + 1 {
                let gb = draw(b);
                let change = progress_change(area, a, b, knob, mono);
                let mut differs = 0;
                for y in 0..24 {
                    for x in 0..48 {
                        if ga.0[y][x] != gb.0[y][x] {
                            differs += 1;
                            let p = Point::new(x as i32, y as i32);
                            assert!(change.contains(p), "{a}->{b}: {p:?} outside {change:?}");
                        }
                    }
                }
                assert_eq!(differs == 0, change.is_zero_sized() || a == b, "{a}->{b}");
                let span = a.min(w).abs_diff(b.min(w));
                assert!(
                    change.size.width <= span + area.size.height + 7,
                    "{a}->{b}: {change:?}"
                );
            }
        }
    }

    #[test]
    fn progress_change_holds_every_changed_pixel() {
        let area = Rectangle::new(Point::new(6, 8), Size::new(30, 4));
        check_progress_change::<Rgb565>(area, true, false);
        check_progress_change::<Rgb565>(area, false, false);
        check_progress_change::<BinaryColor>(
            Rectangle::new(Point::new(2, 3), Size::new(40, 5)),
            false,
            true,
        );
        // At 128x64 a one-pixel step is three pixels: the interior of one column.
        let mono = Rectangle::new(Point::new(0, 44), Size::new(128, 5));
        let c = progress_change(mono, 20, 21, false, true);
        assert_eq!(c, Rectangle::new(Point::new(20, 45), Size::new(1, 3)));
    }

    /// Titles fill their lines in reading order, break at spaces, or inside a word (and
    /// text without spaces) only when they must; the last line takes the rest.
    #[test]
    fn title_lines_fill_in_order_and_keep_the_rest_on_the_last() {
        let f = &crate::fonts::TITLE_L;
        let w = f.width("Paranoid Android");
        assert!(title_lines(f, "   ", w, 3).is_empty());
        assert_eq!(
            title_lines(f, "Karma Police", w, 3).as_slice(),
            ["Karma Police"]
        );
        // Never a line that starts with a lone dash.
        for w in [f.width("Let's Dance"), f.width("Let's Dance - Live")] {
            let lines = title_lines(f, "Let's Dance - Live at the Hammersmith", w, 3);
            assert!(lines.iter().all(|l| !l.starts_with('-')), "{lines:?}");
            assert!(lines.iter().any(|l| l.ends_with(" -")), "{lines:?}");
        }
        // Balanced: no word alone on the last line when the lines can share them.
        let ep = "Episode 12 - The \"Long\" One";
        let wide = f.width("Episode 12 - The \"Long\"");
        assert_eq!(
            title_lines(f, ep, wide, 3).as_slice(),
            ["Episode 12 -", "The \"Long\" One"]
        );
        // As few lines as filling them would take, none wider than the box, in order.
        for (title, max) in [
            ("Paranoid Android Live at Glastonbury", 3),
            ("Everything In Its Right Place", 2),
            ("I Might Be Wrong", 3),
        ] {
            let lines = title_lines(f, title, w, max);
            assert_eq!(lines.len(), fill_lines(f, title, w, max).len(), "{title}");
            assert!(lines.iter().all(|l| f.width(l) <= w), "{title}: {lines:?}");
            assert_eq!(lines.join(" "), title);
        }
        // The rest stays on the last line (drawn with an ellipsis).
        let long = "One Two Three Four Five Six Seven Eight Nine Ten Eleven Twelve";
        let lines = title_lines(f, long, f.width("One Two Three"), 2);
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0], "One Two Three");
        assert!(lines[1].starts_with("Four") && lines[1].ends_with("Twelve"));
        // A word wider than the line breaks at the last character that fits.
        let word = "Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch";
        let w = f.width("Llanfairpwll");
        let lines = title_lines(f, word, w, 3);
        assert_eq!(lines.len(), 3);
        for l in &lines[..2] {
            assert!(f.width(l) <= w, "{l}");
            assert!(f.width(l) + f.width("g") > w, "{l} leaves room");
        }
        assert_eq!(lines.concat(), word);
    }

    #[cfg(feature = "japanese")]
    #[test]
    fn title_lines_break_text_without_spaces_between_characters() {
        let f = &crate::fonts::TITLE_L;
        let title = "夜に駆けるアイドル群青紅蓮華";
        let w = f.width("夜に駆ける");
        let lines = title_lines(f, title, w, 3);
        assert_eq!(lines.as_slice(), ["夜に駆ける", "アイドル群", "青紅蓮華"]);
        // However narrow the line, each takes at least one character.
        let lines = title_lines(f, title, 1, 4);
        assert_eq!(lines.len(), 4);
        assert_eq!(lines[0], "夜");
    }

    #[test]
    fn wrapped_lines_are_balanced_and_bounded() {
        let f = &crate::fonts::SMALL_L;
        let w = |s: &str| f.width(s);
        let premium = "Spotify Premium needed for the app's owner";
        // Fits: one line.
        assert_eq!(wrap_lines(f, premium, 1000, 3).as_slice(), &[premium]);
        // Two balanced lines rather than a full one and a short one.
        let two = wrap_lines(f, premium, w(premium) - 1, 3);
        assert_eq!(two.len(), 2, "{two:?}");
        let (a, b) = (w(two[0]), w(two[1]));
        assert!(a.abs_diff(b) < w("Premium "), "{two:?}");
        assert_eq!(two.join(" "), premium);
        // Every line fits; the text is kept whole, in order.
        for width in [60, 90, 130, 200] {
            let lines = wrap_lines(f, premium, width, 4);
            if lines.len() < 4 {
                assert!(lines.iter().all(|l| w(l) <= width), "{width}: {lines:?}");
                assert_eq!(lines.join(" "), premium, "{width}");
            }
        }
        // Too many lines: the rest stays on the last one (drawn with an ellipsis).
        let cut = wrap_lines(f, premium, 60, 2);
        assert_eq!(cut.len(), 2);
        assert!(premium.ends_with(cut[1]) && cut[1].len() > 20, "{cut:?}");
        // A break after a colon, at one more line than the balanced wrapping.
        let login = "Spotify logins last six months: run tonearm login";
        assert_eq!(
            wrap_lines(f, login, 256, 3).as_slice(),
            &["Spotify logins last six months:", "run tonearm login"]
        );
        let mono = &crate::fonts::MONO_SMALL;
        assert_eq!(
            wrap_lines(mono, login, 124, 4).as_slice(),
            &["Spotify logins", "last six months:", "run tonearm login"]
        );
        // Not when it would need more lines than there are.
        assert_eq!(wrap_lines(mono, login, 124, 2).len(), 2);
        // Edge cases never panic: empty, spaces only, one huge word, multi-byte text,
        // more words than are balanced, zero width.
        assert!(wrap_lines(f, "", 100, 3).is_empty());
        assert!(wrap_lines(f, "   ", 100, 3).is_empty());
        assert_eq!(
            wrap_lines(f, "Ünïcödé-without-any-space-at-all", 40, 3).as_slice(),
            &["Ünïcödé-without-any-space-at-all"]
        );
        assert_eq!(
            wrap_lines(f, "  two  spaces ", 1000, 2).as_slice(),
            &["two  spaces"]
        );
        let many = "a ".repeat(60);
        let lines = wrap_lines(f, &many, 30, 4);
        assert_eq!(lines.len(), 4);
        assert!(lines[3].ends_with('a'));
        for width in [0, 1, u32::MAX] {
            for max in [0, 1, 9] {
                let _ = wrap_lines(f, "日本語 のテキスト ok", width, max);
            }
        }
    }

    #[test]
    fn unavailable_controls_are_outlines() {
        let mut d = MockDisplay::<BinaryColor>::new();
        d.set_allow_overdraw(true);
        let area = Rectangle::new(Point::zero(), Size::new(7, 7));
        draw_icon(Icon::Play, area, BinaryColor::On, false, &mut d).unwrap();
        d.assert_pattern(&[
            "#      ", //
            "# #    ", //
            "#   #  ", //
            "#     #", //
            "#   #  ", //
            "# #    ", //
            "#      ", //
        ]);
    }

    #[test]
    fn play_and_pause_icons() {
        let mut d = MockDisplay::<BinaryColor>::new();
        draw_icon(
            Icon::Pause,
            Rectangle::new(Point::zero(), Size::new(7, 7)),
            BinaryColor::On,
            true,
            &mut d,
        )
        .unwrap();
        d.assert_pattern(&[
            " ## ## ", //
            " ## ## ", //
            " ## ## ", //
            " ## ## ", //
            " ## ## ", //
            " ## ## ", //
            " ## ## ", //
        ]);
        let mut d = MockDisplay::<BinaryColor>::new();
        draw_icon(
            Icon::Play,
            Rectangle::new(Point::zero(), Size::new(7, 7)),
            BinaryColor::On,
            true,
            &mut d,
        )
        .unwrap();
        d.assert_pattern(&[
            "#      ", //
            "###    ", //
            "#####  ", //
            "#######", //
            "#####  ", //
            "###    ", //
            "#      ", //
        ]);
    }
}
