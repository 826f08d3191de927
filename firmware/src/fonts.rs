//! The faces (font fallback chains) the screens use. Fonts beyond Latin sit behind the
//! cargo features `cyrillic`, `greek`, `japanese`, `chinese`, `korean` and `symbols`;
//! without one, its characters draw as placeholder boxes.

use embedded_graphics::prelude::Size;
use u8g2_fonts::FontRenderer;
use u8g2_fonts::fonts as f;

use crate::text::Face;

macro_rules! opt_font {
    ($feature:literal, $font:ty) => {{
        #[cfg(feature = $feature)]
        let font = Some(FontRenderer::new::<$font>());
        #[cfg(not(feature = $feature))]
        let font: Option<FontRenderer> = None;
        font
    }};
}

const fn face(latin: FontRenderer, scripts: Face) -> Face {
    Face { latin, ..scripts }
}

/// The scripts at 16 px (large text on the color displays).
const SCRIPTS_16: Face = Face {
    latin: FontRenderer::new::<f::u8g2_font_helvR14_te>(),
    cyrillic: opt_font!("cyrillic", f::u8g2_font_9x15_t_cyrillic),
    greek: opt_font!("greek", f::u8g2_font_unifont_t_greek),
    japanese: opt_font!("japanese", f::u8g2_font_b16_t_japanese3),
    chinese: opt_font!("chinese", f::u8g2_font_wqy16_t_gb2312a),
    korean: opt_font!("korean", f::u8g2_font_gulim16_t_korean2),
    symbols: [
        opt_font!("symbols", f::u8g2_font_unifont_h_symbols),
        opt_font!("symbols", f::u8g2_font_t0_16_t_symbol),
    ],
    missing: Size::new(9, 12),
    cjk_x2: false,
};

/// The scripts at 12 px (small text on the color displays, all text at 128x64).
const SCRIPTS_12: Face = Face {
    latin: FontRenderer::new::<f::u8g2_font_helvR10_te>(),
    cyrillic: opt_font!("cyrillic", f::u8g2_font_6x13_t_cyrillic),
    greek: opt_font!("greek", f::u8g2_font_cu12_t_greek),
    japanese: opt_font!("japanese", f::u8g2_font_b12_t_japanese3),
    chinese: opt_font!("chinese", f::u8g2_font_wqy12_t_gb2312a),
    korean: opt_font!("korean", f::u8g2_font_gulim12_t_korean2),
    symbols: [
        opt_font!("symbols", f::u8g2_font_t0_12_t_symbol),
        opt_font!("symbols", f::u8g2_font_7x13_t_symbols),
    ],
    missing: Size::new(7, 9),
    cjk_x2: false,
};

/// Title on the color displays: Helvetica Bold 18 with bold-ish script fonts.
pub static TITLE_L: Face = face(
    FontRenderer::new::<f::u8g2_font_helvB18_te>(),
    TITLE_SCRIPTS,
);

/// The scripts of the titles: bold-ish where there is a bolder font.
const TITLE_SCRIPTS: Face = Face {
    cyrillic: opt_font!("cyrillic", f::u8g2_font_10x20_t_cyrillic),
    greek: opt_font!("greek", f::u8g2_font_10x20_t_greek),
    missing: Size::new(10, 13),
    ..SCRIPTS_16
};

/// Second line on the color displays (artists, show).
pub static BODY_L: Face = face(FontRenderer::new::<f::u8g2_font_helvR14_te>(), SCRIPTS_16);

/// Small text on the color displays (album, device, times).
pub static SMALL_L: Face = face(FontRenderer::new::<f::u8g2_font_helvR10_te>(), SCRIPTS_12);

/// Headings of the status screens on the color displays.
pub static HEADING_L: Face = face(FontRenderer::new::<f::u8g2_font_helvB14_te>(), SCRIPTS_16);

/// Title at 128x64.
pub static MONO_TITLE: Face = face(
    FontRenderer::new::<f::u8g2_font_helvB10_te>(),
    Face {
        cyrillic: opt_font!("cyrillic", f::u8g2_font_6x13B_t_cyrillic),
        ..SCRIPTS_12
    },
);

/// Other lines at 128x64.
pub static MONO_SMALL: Face = face(
    FontRenderer::new::<f::u8g2_font_helvR08_te>(),
    Face {
        missing: Size::new(5, 8),
        ..SCRIPTS_12
    },
);

/// Times at 128x64 (digits only need Latin).
pub static MONO_TIME: Face = Face::latin_only(
    FontRenderer::new::<f::u8g2_font_helvR08_tf>(),
    Size::new(5, 8),
);

/// The big numbers (idle clock, rate-limit countdown) on the color displays.
pub static BIG_NUMBERS_L: Face = Face::latin_only(
    FontRenderer::new::<f::u8g2_font_fub30_tn>(),
    Size::new(16, 30),
);

/// The big numbers at 128x64.
pub static BIG_NUMBERS_MONO: Face = Face::latin_only(
    FontRenderer::new::<f::u8g2_font_fub17_tn>(),
    Size::new(10, 17),
);

/// Small text at 480x320 (header, album, times).
#[cfg(feature = "large")]
pub static SMALL_M: Face = face(FontRenderer::new::<f::u8g2_font_helvR12_te>(), SCRIPTS_12);

/// The big numbers at 480x320.
#[cfg(feature = "large")]
pub static BIG_NUMBERS_M: Face = Face::latin_only(
    FontRenderer::new::<f::u8g2_font_fub42_tn>(),
    Size::new(22, 42),
);

/// Title and headings at 800x480: Helvetica Bold 24, the largest Helvetica; Japanese,
/// Chinese and Korean doubled to 32 px (u8g2 has none larger than 16), Cyrillic and
/// Greek at their 20 px.
#[cfg(feature = "large")]
pub static TITLE_XL: Face = face(
    FontRenderer::new::<f::u8g2_font_helvB24_te>(),
    Face {
        cjk_x2: true,
        ..TITLE_SCRIPTS
    },
);

/// Artists and show at 800x480.
#[cfg(feature = "large")]
pub static BODY_XL: Face = face(FontRenderer::new::<f::u8g2_font_helvR18_te>(), SCRIPTS_16);

/// The big numbers at 800x480.
#[cfg(feature = "large")]
pub static BIG_NUMBERS_XL: Face = Face::latin_only(
    FontRenderer::new::<f::u8g2_font_fub49_tn>(),
    Size::new(26, 49),
);

/// Every face with text from the network (for tests).
#[cfg(not(feature = "large"))]
pub static ALL_FACES: [&Face; 6] = [
    &TITLE_L,
    &BODY_L,
    &SMALL_L,
    &HEADING_L,
    &MONO_TITLE,
    &MONO_SMALL,
];

/// Every face with text from the network (for tests).
#[cfg(feature = "large")]
pub static ALL_FACES: [&Face; 9] = [
    &TITLE_L,
    &SMALL_M,
    &TITLE_XL,
    &BODY_XL,
    &BODY_L,
    &SMALL_L,
    &HEADING_L,
    &MONO_TITLE,
    &MONO_SMALL,
];
