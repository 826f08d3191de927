//! The ST7789 240x240 panel over SPI (mipidsi), and its backlight on a PWM channel.
//! Rotation, colour order, inversion and offsets are the constants below: set them for
//! your module (most 240x240 modules want inversion on and RGB order; some need a
//! vertical offset of 80 when rotated).

use embedded_hal_bus::spi::ExclusiveDevice;
use esp_hal::Blocking;
use esp_hal::delay::Delay;
use esp_hal::gpio::{DriveMode, Level, Output, OutputConfig};
use esp_hal::ledc::channel::{self, ChannelIFace};
use esp_hal::ledc::timer::{self, TimerIFace};
use esp_hal::ledc::{LSGlobalClkSource, Ledc, LowSpeed};
use esp_hal::peripherals::{GPIO3, GPIO4, GPIO5, GPIO6, GPIO7, GPIO10, LEDC, SPI2};
use esp_hal::spi::Mode;
use esp_hal::spi::master::{Config as SpiConfig, Spi};
use esp_hal::time::Rate;
use mipidsi::Builder;
use mipidsi::interface::SpiInterface;
use mipidsi::models::ST7789;
use mipidsi::options::{ColorInversion, ColorOrder, Orientation, Rotation};
use static_cell::StaticCell;
use tonearm_firmware::DrawTargetSink;

/// Panel rotation.
const ROTATION: Rotation = Rotation::Deg0;
/// Colour order of the module.
const COLOR_ORDER: ColorOrder = ColorOrder::Rgb;
/// Colour inversion (most ST7789 240x240 modules are inverted).
const INVERSION: ColorInversion = ColorInversion::Inverted;
/// Offset of the visible 240x240 window in the controller's 240x320 memory.
const OFFSET: (u16, u16) = (0, 0);
/// SPI clock.
const SPI_MHZ: u32 = 40;
/// Backlight brightness while lit, in percent.
const BRIGHTNESS_PCT: u8 = 80;

type Device = ExclusiveDevice<Spi<'static, Blocking>, Output<'static>, Delay>;
type Display =
    mipidsi::Display<SpiInterface<'static, Device, Output<'static>>, ST7789, Output<'static>>;

/// The pins and peripherals the panel uses.
pub struct Pins {
    pub spi: SPI2<'static>,
    pub sck: GPIO6<'static>,
    pub mosi: GPIO7<'static>,
    pub cs: GPIO10<'static>,
    pub dc: GPIO4<'static>,
    pub rst: GPIO5<'static>,
    pub backlight: GPIO3<'static>,
    pub ledc: LEDC<'static>,
}

/// The panel and its backlight.
pub struct Panel {
    display: Option<Display>,
    backlight: Option<channel::Channel<'static, LowSpeed>>,
}

static LEDC_CELL: StaticCell<Ledc<'static>> = StaticCell::new();
static TIMER_CELL: StaticCell<timer::Timer<'static, LowSpeed>> = StaticCell::new();
static SPI_BUF: StaticCell<[u8; 512]> = StaticCell::new();

impl Panel {
    /// Sets the panel up; a panel that does not answer leaves the board running without
    /// a picture (it still polls and stores tokens), and says so on the console.
    pub fn new(p: Pins) -> Self {
        let display = Self::init_display(p.spi, p.sck, p.mosi, p.cs, p.dc, p.rst);
        if display.is_none() {
            esp_println::println!("display: init failed");
        }
        let ledc = LEDC_CELL.init(Ledc::new(p.ledc));
        ledc.set_global_slow_clock(LSGlobalClkSource::APBClk);
        let timer = TIMER_CELL.init(ledc.timer::<LowSpeed>(timer::Number::Timer0));
        let timer_ok = timer
            .configure(timer::config::Config {
                duty: timer::config::Duty::Duty8Bit,
                clock_source: timer::LSClockSource::APBClk,
                frequency: Rate::from_khz(20),
            })
            .is_ok();
        let mut ch = ledc.channel(channel::Number::Channel0, p.backlight);
        let backlight = (timer_ok
            && ch
                .configure(channel::config::Config {
                    timer: &*timer,
                    duty_pct: 0,
                    drive_mode: DriveMode::PushPull,
                })
                .is_ok())
        .then_some(ch);
        Panel { display, backlight }
    }

    fn init_display(
        spi: SPI2<'static>,
        sck: GPIO6<'static>,
        mosi: GPIO7<'static>,
        cs: GPIO10<'static>,
        dc: GPIO4<'static>,
        rst: GPIO5<'static>,
    ) -> Option<Display> {
        let config = SpiConfig::default()
            .with_frequency(Rate::from_mhz(SPI_MHZ))
            .with_mode(Mode::_0);
        let spi = Spi::new(spi, config).ok()?.with_sck(sck).with_mosi(mosi);
        let cs = Output::new(cs, Level::High, OutputConfig::default());
        let dc = Output::new(dc, Level::Low, OutputConfig::default());
        let rst = Output::new(rst, Level::High, OutputConfig::default());
        let device = ExclusiveDevice::new(spi, cs, Delay::new()).ok()?;
        let di = SpiInterface::new(device, dc, SPI_BUF.init([0; 512]));
        Builder::new(ST7789, di)
            .display_size(240, 240)
            .display_offset(OFFSET.0, OFFSET.1)
            .orientation(Orientation::new().rotate(ROTATION))
            .color_order(COLOR_ORDER)
            .invert_colors(INVERSION)
            .reset_pin(rst)
            .init(&mut Delay::new())
            .ok()
    }

    /// Backlight on (at [`BRIGHTNESS_PCT`]) or off.
    pub fn backlight(&mut self, on: bool) {
        if let Some(ch) = &mut self.backlight {
            let _ = ch.set_duty(if on { BRIGHTNESS_PCT } else { 0 });
        }
    }

    /// Where the band renderer sends finished bands (one address window per band).
    pub fn sink(&mut self) -> PanelSink<'_> {
        PanelSink(self.display.as_mut().map(DrawTargetSink))
    }
}

/// A band sink that drops bands when the panel did not initialise.
pub struct PanelSink<'a>(Option<DrawTargetSink<'a, Display>>);

impl tonearm_firmware::BandSink<embedded_graphics::pixelcolor::Rgb565> for PanelSink<'_> {
    type Error = <Display as embedded_graphics::draw_target::DrawTarget>::Error;

    fn push_band(
        &mut self,
        area: embedded_graphics::primitives::Rectangle,
        pixels: &[embedded_graphics::pixelcolor::Rgb565],
    ) -> Result<(), Self::Error> {
        match &mut self.0 {
            Some(sink) => sink.push_band(area, pixels),
            None => Ok(()),
        }
    }
}

impl tonearm_firmware::BandSink<embedded_graphics::pixelcolor::Rgb565> for Panel {
    type Error = <Display as embedded_graphics::draw_target::DrawTarget>::Error;

    fn push_band(
        &mut self,
        area: embedded_graphics::primitives::Rectangle,
        pixels: &[embedded_graphics::pixelcolor::Rgb565],
    ) -> Result<(), Self::Error> {
        self.sink().push_band(area, pixels)
    }
}

impl tonearm_kit::board::Backlight for Panel {
    fn set_backlight(&mut self, on: bool) {
        self.backlight(on);
    }
}
