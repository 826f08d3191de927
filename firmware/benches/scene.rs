//! Pixels written per tick and render times of the retained scene (a benchmark, not a
//! test): `cargo bench -p tonearm-firmware --bench scene`.
//!
//! For a minute of steady playback (one tick a second) it counts, with a counting
//! `DrawTarget`, the pixels the scene writes, as a share of a full redraw every second
//! (target: at most 2% without marquee), and times a full frame and a tick, both drawn
//! through the band renderer into a 16-row buffer.

use std::convert::Infallible;
use std::hint::black_box;
use std::time::Instant;

use embedded_graphics::pixelcolor::{BinaryColor, Rgb565};
use embedded_graphics::prelude::*;
use embedded_graphics::primitives::Rectangle;
use tonearm_firmware::{
    ArtStatus, BandRenderer, BandSink, Controls, Frame, Palette, Profile, Scene, Screen, ViewModel,
};

/// Counts the pixels written to it.
struct Counter<C> {
    size: Size,
    pixels: u64,
    color: std::marker::PhantomData<C>,
}

impl<C> OriginDimensions for Counter<C> {
    fn size(&self) -> Size {
        self.size
    }
}

impl<C: PixelColor> DrawTarget for Counter<C> {
    type Color = C;
    type Error = Infallible;

    fn draw_iter<I: IntoIterator<Item = Pixel<C>>>(&mut self, pixels: I) -> Result<(), Infallible> {
        let bounds = self.bounding_box();
        self.pixels += pixels
            .into_iter()
            .filter(|Pixel(p, _)| bounds.contains(*p))
            .count() as u64;
        Ok(())
    }
}

/// Discards bands (a display driver that costs nothing).
struct NullSink;

impl<C> BandSink<C> for NullSink {
    type Error = Infallible;
    fn push_band(&mut self, _area: Rectangle, pixels: &[C]) -> Result<(), Infallible> {
        black_box(pixels);
        Ok(())
    }
}

fn track(title: &str) -> ViewModel {
    let mut vm = ViewModel::new(Screen::NowPlaying);
    vm.playing = true;
    vm.title.push_str(title).unwrap();
    vm.subtitle.push_str("Radiohead").unwrap();
    vm.detail.push_str("OK Computer").unwrap();
    vm.art = ArtStatus::Placeholder { seed: 0xdead_beef };
    vm.controls = Controls::ALL;
    vm.shuffle = Some(false);
    vm.set_position(0, Some(263_000));
    vm
}

fn minute<C: Palette>(profile: Profile, title: &str, tick_ms: u64) -> (f64, u64) {
    let mut scene = Scene::<C>::new(profile);
    let mut counter = Counter::<C> {
        size: profile.size(),
        pixels: 0,
        color: std::marker::PhantomData,
    };
    let mut vm = track(title);
    scene.redraw(&vm, 0, &mut counter).unwrap();
    counter.pixels = 0;
    let mut ticks = 0;
    let mut now = 0;
    while now < 60_000 {
        now += tick_ms;
        vm.set_position(now, Some(263_000));
        scene.redraw(&vm, now, &mut counter).unwrap();
        ticks += 1;
    }
    let full = u64::from(profile.size().width * profile.size().height);
    let share = counter.pixels as f64 / (60.0 * full as f64) * 100.0;
    (share, counter.pixels / ticks)
}

fn timings<C: Palette>(profile: Profile) -> (f64, f64) {
    let size = profile.size();
    let mut buf = vec![C::default(); size.width as usize * 16];
    let mut renderer = BandRenderer::new(&mut buf, size);
    let vm = track("Karma Police");
    let n = 30;
    let start = Instant::now();
    for _ in 0..n {
        let frame = Frame::<C>::new(&vm, profile);
        renderer
            .render(
                profile.bounds(),
                C::default(),
                |t| frame.draw_region(t, profile.bounds()).unwrap(),
                &mut NullSink,
            )
            .unwrap();
    }
    let full_ms = start.elapsed().as_secs_f64() * 1000.0 / f64::from(n);
    let mut scene = Scene::<C>::new(profile);
    let mut vm = track("Karma Police");
    scene
        .redraw_banded(&vm, 0, &mut renderer, &mut NullSink)
        .unwrap();
    let ticks = 300u64;
    let start = Instant::now();
    for s in 1..=ticks {
        vm.set_position(s * 1000, Some(400_000));
        scene
            .redraw_banded(&vm, s * 1000, &mut renderer, &mut NullSink)
            .unwrap();
    }
    let tick_ms = start.elapsed().as_secs_f64() * 1000.0 / ticks as f64;
    (full_ms, tick_ms)
}

fn report<C: Palette>(profile: Profile) {
    let (share, per_tick) = minute::<C>(profile, "Karma Police", 1000);
    let wraps = profile.item_layout().title_lines > 1;
    let scrolls = profile.marquee() && !wraps;
    // A long title: at 30 frames a second where it scrolls; where it wraps (the larger
    // layouts) or is cut (128x64) nothing moves but the progress, so one tick a second.
    let (long_fps, long_tick_ms) = if scrolls { (30, 33) } else { (1, 1000) };
    let (m_share, m_per_tick) = minute::<C>(
        profile,
        "A Title Far Too Long To Fit On This Display, So It Scrolls",
        long_tick_ms,
    );
    let (full_ms, tick_ms) = timings::<C>(profile);
    let verdict = if share <= 2.0 { "ok" } else { "over" };
    let long = match (wraps, scrolls) {
        (true, _) => "long title wrapped",
        (false, true) => "with marquee at 30 fps",
        (false, false) => "long title cut",
    };
    println!(
        "{:>7}: steady playback {per_tick} px/s, {share:.2}% of a full redraw per second (target <= 2%: {verdict}); \
         {long} {} px/s ({m_share:.1}%); full frame {full_ms:.2} ms, tick {tick_ms:.3} ms",
        profile.name(),
        m_per_tick * long_fps,
    );
}

fn main() {
    println!("tonearm-firmware scene benchmark (host CPU, band renderer with a 16-row buffer)");
    for profile in Profile::ALL {
        match profile {
            Profile::Mono128x64 => report::<BinaryColor>(profile),
            _ => report::<Rgb565>(profile),
        }
    }
}
