//! The screens, each an embedded-graphics [`Drawable`]: the [`ItemScreen`] (an item:
//! `now_playing`, `paused`, `episode`, `ad`, and the last item dimmed on `offline` and
//! `quota_exceeded`) and the [`StatusScreen`] (the rest: `idle`, `login_needed`,
//! `rate_limited`, `config_error`, ...).
//!
//! A screen is made from a [`Context`] (a view model on a profile at a time) and lays
//! itself out once, when it is made; then it draws, whole or part by part. The words come
//! from the view model; a screen only places and colors them.

pub mod item;
pub mod status;

use core::fmt::Write as _;

use embedded_graphics::draw_target::DrawTargetExt;
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::{PrimitiveStyle, Rectangle, RoundedRectangle};

use crate::color::{Palette, Role};
use crate::parts::{MAX_PARTS, Part};
use crate::profile::{Profile, Scale, Slot};
use crate::text::{Align, Face};
use crate::view::ViewModel;
use crate::widgets::{Icon, draw_chip, draw_outlined_chip, draw_progress};

pub use item::ItemScreen;
pub use status::StatusScreen;

/// A decoded cover, borrowed: `size.width * size.height` pixels row by row, already in
/// the display's colors (scaled and dithered to the art box; see the `art` feature).
#[derive(Debug, Clone, Copy)]
pub struct CoverView<'a, C> {
    /// The key of the view model's [`ArtStatus::Cover`](crate::ArtStatus::Cover) this is
    /// the cover of.
    pub key: u32,
    /// The cover's size (the art box's).
    pub size: Size,
    /// The pixels.
    pub pixels: &'a [C],
}

/// What a screen draws from: a view model on a profile, at a time.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a, C> {
    /// What to draw.
    pub vm: &'a ViewModel,
    /// The display profile (its shape, and whether it is mono).
    pub profile: Profile,
    /// The monotonic time drawn at: the view model's times move on to it (see
    /// [`ViewModel::at_ms`]).
    pub now_ms: u64,
    /// Milliseconds since the current title appeared (the marquee; 0 for a still image).
    pub anim_ms: u64,
    /// The cover, when the view model shows one.
    pub cover: Option<CoverView<'a, C>>,
}

impl<'a, C> Context<'a, C> {
    /// `vm` on `profile`, at the view model's own time, still, without a cover.
    pub fn new(vm: &'a ViewModel, profile: Profile) -> Self {
        Context {
            vm,
            profile,
            now_ms: vm.at_ms.unwrap_or(0),
            anim_ms: 0,
            cover: None,
        }
    }

    /// Whether the display is mono (the profile says).
    pub(crate) fn mono(&self) -> bool {
        self.profile.is_mono()
    }
}

/// What the frame and the scene need of a screen: its parts and how to draw one.
pub(crate) trait Parts<C: Palette> {
    /// The display profile.
    fn profile(&self) -> Profile;

    /// The parts this screen draws, with the area each may touch.
    fn parts(&self) -> heapless::Vec<(Part, Rectangle), MAX_PARTS>;

    /// Draws `part` (into a target clipped to its area).
    fn draw_part<D: DrawTarget<Color = C>>(&self, part: Part, d: &mut D) -> Result<(), D::Error>;
}

/// Draws the part of `screen` inside `region`: its background, then every part that
/// reaches into it, clipped to it. Pixels outside `region` are not touched.
pub(crate) fn draw_region<C, S, D>(
    screen: &S,
    target: &mut D,
    region: Rectangle,
) -> Result<(), D::Error>
where
    C: Palette,
    S: Parts<C>,
    D: DrawTarget<Color = C>,
{
    let region = region.intersection(&screen.profile().bounds());
    if region.is_zero_sized() {
        return Ok(());
    }
    let mut d = target.clipped(&region);
    d.fill_solid(&region, C::role(Role::Background))?;
    for (part, area) in screen.parts() {
        if !area.intersection(&region).is_zero_sized() {
            let mut clip = d.clipped(&area);
            screen.draw_part(part, &mut clip)?;
        }
    }
    Ok(())
}

/// One line of text in its slot.
pub(crate) fn line<C: Palette, D: DrawTarget<Color = C>>(
    text: &str,
    slot: &Slot,
    role: Role,
    scroll: Option<u32>,
    d: &mut D,
) -> Result<(), D::Error> {
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

/// `slot` moved down by `dy` pixels.
pub(crate) fn moved(mut slot: Slot, dy: i32) -> Slot {
    slot.rect.top_left.y += dy;
    slot.baseline += dy;
    slot
}

/// A width as a coordinate offset.
pub(crate) fn px(v: u32) -> i32 {
    i32::try_from(v).unwrap_or(i32::MAX)
}

/// The notice overlay: a rounded panel with a warning-colored edge and the text.
pub(crate) fn draw_notice<C: Palette, D: DrawTarget<Color = C>>(
    text: &str,
    area: Rectangle,
    (face, k): (&Face, Scale),
    mono: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    let r = Size::new(k.of_u(6), k.of_u(6));
    RoundedRectangle::with_equal_corners(area, r)
        .into_styled(PrimitiveStyle::with_fill(C::role(Role::Overlay)))
        .draw(d)?;
    RoundedRectangle::with_equal_corners(area, r)
        .into_styled(PrimitiveStyle::with_stroke(
            C::role(Role::Warning),
            k.of_u(2),
        ))
        .draw(d)?;
    let baseline = area.center().y + if mono { 3 } else { k.of(6) };
    let inner = area.offset(-k.of(4));
    face.draw_line(
        text,
        inner,
        baseline,
        Align::Center,
        None,
        C::role(Role::Text),
        d,
    )
}

/// The volume overlay in the notice's box: a panel with the speaker, a bar and the
/// percent; greyed out when the volume cannot be changed.
pub(crate) fn draw_volume<C: Palette, D: DrawTarget<Color = C>>(
    volume: u8,
    enabled: bool,
    area: Rectangle,
    (face, k): (&Face, Scale),
    mono: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    let (edge, ink, fill) = if enabled {
        (Role::Accent, Role::Text, Role::Accent)
    } else {
        (Role::Disabled, Role::Disabled, Role::Disabled)
    };
    let r = Size::new(k.of_u(6), k.of_u(6));
    RoundedRectangle::with_equal_corners(area, r)
        .into_styled(PrimitiveStyle::with_fill(C::role(Role::Overlay)))
        .draw(d)?;
    RoundedRectangle::with_equal_corners(area, r)
        .into_styled(PrimitiveStyle::with_stroke(C::role(edge), k.of_u(2)))
        .draw(d)?;
    let inner = area.offset(-k.of(if mono { 5 } else { 10 }));
    let icon = inner.size.height.min(k.of_u(if mono { 9 } else { 18 }));
    let mid = inner.center().y;
    let icon_top = mid - px(icon / 2);
    crate::widgets::draw_icon(
        Icon::Speaker,
        Rectangle::new(
            Point::new(inner.top_left.x, icon_top),
            Size::new(icon, icon),
        ),
        C::role(ink),
        true,
        d,
    )?;
    let mut text: heapless::String<8> = heapless::String::new();
    let _ = write!(text, "{volume}%");
    let text_w = face.width("100%");
    let right = inner.top_left.x + px(inner.size.width);
    let baseline = mid + if mono { 3 } else { k.of(6) };
    let slot = Rectangle::new(
        Point::new(right - px(text_w), inner.top_left.y),
        Size::new(text_w, inner.size.height),
    );
    face.draw_line(&text, slot, baseline, Align::Right, None, C::role(ink), d)?;
    let gap = k.of(if mono { 4 } else { 10 });
    let bar_x = inner.top_left.x + px(icon) + gap;
    let bar_w = u32::try_from(right - px(text_w) - gap - bar_x).unwrap_or(0);
    let bar_h = k.of_u(if mono { 4 } else { 6 });
    let bar = Rectangle::new(
        Point::new(bar_x, mid - px(bar_h / 2)),
        Size::new(bar_w, bar_h),
    );
    let filled = u32::from(volume.min(100)) * bar_w / 100;
    draw_progress(bar, filled, C::role(fill), false, mono, d)
}

/// The login warning in `slot`: inverted on a mono display (as every chip there), an
/// outline elsewhere.
pub(crate) fn draw_warning<C: Palette, D: DrawTarget<Color = C>>(
    text: &str,
    slot: &Slot,
    align: Align,
    role: Role,
    mono: bool,
    d: &mut D,
) -> Result<(), D::Error> {
    if mono {
        draw_chip(
            text,
            slot.face,
            slot.rect,
            slot.baseline,
            align,
            C::role(Role::Background),
            C::role(role),
            d,
        )?;
    } else {
        draw_outlined_chip(
            text,
            slot.face,
            slot.rect,
            slot.baseline,
            align,
            C::role(role),
            d,
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::view::ViewModel;
    use embedded_graphics::draw_target::DrawTargetExt;
    use embedded_graphics::mock_display::MockDisplay;
    use embedded_graphics::pixelcolor::BinaryColor;

    /// Draws `part` of the item screen of `vm` at 128x64 into a mock display, its slot
    /// moved to the display's corner.
    fn item_part(vm: &ViewModel, part: Part) -> MockDisplay<BinaryColor> {
        let screen = ItemScreen::<BinaryColor>::new(Context::new(vm, Profile::Mono128x64));
        let area = screen
            .parts()
            .into_iter()
            .find(|(p, _)| *p == part)
            .map(|(_, r)| r)
            .unwrap();
        let mut d = MockDisplay::new();
        d.set_allow_overdraw(true);
        let mut t = d.translated(Point::zero() - area.top_left);
        screen.draw_part(part, &mut t.clipped(&area)).unwrap();
        d
    }

    /// The stale badge at 128x64: an inverted chip with the short age, centered where
    /// the controls were (which it replaces).
    #[test]
    fn stale_badge_pattern() {
        let mut vm = ViewModel::new(crate::Screen::NowPlaying);
        vm.stale_s = Some(95);
        let d = item_part(&vm, Part::Badge);
        d.assert_pattern(&[
            "              ####################################              ", //
            "            #####.##################################            ", //
            "           #####..###################################           ", //
            "           ######.###...#..#####...###..#.##...######           ", //
            "          #######.###.##.##.#######.#.##..#.###.######          ", //
            "          #######.###.##.##.#####...#.###.#.###.######          ", //
            "          #######.###.##.##.####.##.#.###.#.###.######          ", //
            "          #######.###.##.##.####.##.#.##..#.###.######          ", //
            "           ######.###.##.##.#####..#.#..#.##...######           ", //
            "           ##############################.###########           ", //
            "            ##########################...###########            ", //
            "              ####################################              ", //
        ]);
        // Younger than the badge's threshold: nothing.
        vm.stale_s = Some(crate::view::STALE_BADGE_AFTER_S - 1);
        assert!(item_part(&vm, Part::Badge).affected_area().is_zero_sized());
        // Drawn later, the same age is reached from a younger view model.
        vm.stale_s = Some(35);
        vm.at_ms = Some(1_000);
        let screen = ItemScreen::<BinaryColor>::new(Context {
            now_ms: 61_500,
            ..Context::new(&vm, Profile::Mono128x64)
        });
        assert_eq!(screen.badge(), Some("1m ago"));
    }

    /// The notice at 128x64: a panel with a two-pixel edge, the text centered in it.
    #[test]
    fn notice_pattern() {
        let mut d = MockDisplay::<BinaryColor>::new();
        d.set_allow_overdraw(true);
        let area = Rectangle::new(Point::new(1, 1), Size::new(62, 16));
        draw_notice::<BinaryColor, _>(
            "No device",
            area,
            (&crate::fonts::MONO_SMALL, Scale::ONE),
            true,
            &mut d,
        )
        .unwrap();
        d.assert_pattern(&[
            "    ########################################################    ", //
            "   ##########################################################   ", //
            "  ###......................................................###  ", //
            " ##..........................................................## ", //
            "###..........................................................###", //
            "##........#.#..#..###......##.#..##..#...#.#..##...##.........##", //
            "##........#.#..#.#...#....#..##.#..#.#...#.#.#..#.#..#........##", //
            "##........#..#.#.#...#....#...#.####..#.#..#.#....####........##", //
            "##........#..#.#.#...#....#...#.#.....#.#..#.#....#...........##", //
            "##........#...##.#...#....#..##.#..#...#...#.#..#.#..#........##", //
            "##........#...##..###......##.#..##....#...#..##...##.........##", //
            "##............................................................##", //
            "##............................................................##", //
            "###..........................................................###", //
            " ##..........................................................## ", //
            "  ###......................................................###  ", //
            "   ##########################################################   ", //
            "    ########################################################    ", //
        ]);
    }

    /// The login warning: inverted on a mono display, outlined on a color one.
    #[test]
    fn warning_chip_patterns() {
        let slot = Slot {
            rect: Rectangle::new(Point::zero(), Size::new(64, 12)),
            baseline: 9,
            face: &crate::fonts::MONO_SMALL,
            align: Align::Left,
        };
        let draw = |mono: bool| {
            let mut d = MockDisplay::<BinaryColor>::new();
            d.set_allow_overdraw(true);
            draw_warning::<BinaryColor, _>(
                "Login 3 Jan",
                &slot,
                Align::Left,
                Role::Warning,
                mono,
                &mut d,
            )
            .unwrap();
            d
        };
        draw(true).assert_pattern(&[
            "    ########################################################    ", //
            "  ####.################.###########...########.###############  ", //
            " #####.###########################.###.#######.################ ", //
            " #####.#####...###..#.#.#.#..#########.#######.#...##.#..###### ", //
            "######.####.###.#.##..#.#..##.######..########.####.#..##.######", //
            "######.####.###.#.###.#.#.###.########.#######.##...#.###.######", //
            "######.####.###.#.###.#.#.###.########.#######.#.##.#.###.######", //
            "######.####.###.#.##..#.#.###.####.###.####.##.#.##.#.###.######", //
            " #####....##...###..#.#.#.###.#####...######..###..#..###.##### ", //
            " ####################.######################################### ", //
            "  ################...#########################################  ", //
            "    ########################################################    ", //
        ]);
        draw(false).assert_pattern(&[
            "    ########################################################    ", //
            "  ##  #                #           ###        #             ##  ", //
            " #    #                           #   #       #               # ", //
            " #    #     ###   ## # # # ##         #       # ###  # ##     # ", //
            "#     #    #   # #  ## # ##  #      ##        #    # ##  #     #", //
            "#     #    #   # #   # # #   #        #       #  ### #   #     #", //
            "#     #    #   # #   # # #   #        #       # #  # #   #     #", //
            "#     #    #   # #  ## # #   #    #   #    #  # #  # #   #     #", //
            " #    ####  ###   ## # # #   #     ###      ##   ## ##   #    # ", //
            " #                   #                                        # ", //
            "  ##              ###                                       ##  ", //
            "    ########################################################    ", //
        ]);
    }
}
