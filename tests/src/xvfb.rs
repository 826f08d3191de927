//! A private X server (Xvfb) for tests of the real SDL window, and screenshots of windows.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// An Xvfb server on its own display number, stopped when dropped.
pub struct Xvfb {
    child: Child,
    display: String,
}

impl Xvfb {
    /// Starts Xvfb (an 800x600 screen) on a free display number. `None` when Xvfb is not
    /// installed.
    pub fn start() -> Option<Xvfb> {
        Xvfb::start_with(800, 600)
    }

    /// Starts Xvfb with a `width` x `height` screen on a free display number.
    pub fn start_with(width: u32, height: u32) -> Option<Xvfb> {
        let screen = format!("{width}x{height}x24");
        // Tests in one process run in parallel: each takes its own range of numbers.
        static NEXT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);
        let slot = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let base = 200 + (std::process::id() % 100) * 50 + slot * 50 % 5000;
        for n in base..base + 50 {
            let socket = format!("/tmp/.X11-unix/X{n}");
            if Path::new(&socket).exists() || Path::new(&format!("/tmp/.X{n}-lock")).exists() {
                continue;
            }
            let display = format!(":{n}");
            let child = Command::new("Xvfb")
                .args([
                    display.as_str(),
                    "-screen",
                    "0",
                    screen.as_str(),
                    "-nolisten",
                    "tcp",
                ])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .ok()?;
            let mut x = Xvfb { child, display };
            let deadline = Instant::now() + Duration::from_secs(10);
            while Instant::now() < deadline {
                if let Ok(Some(_)) = x.child.try_wait() {
                    break; // lost a race for this number: try the next
                }
                if Path::new(&socket).exists() {
                    // Ours only if our server still runs once the socket is there.
                    std::thread::sleep(Duration::from_millis(100));
                    if let Ok(None) = x.child.try_wait() {
                        return Some(x);
                    }
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = x.child.kill();
        }
        None
    }

    /// The `DISPLAY` value.
    pub fn display(&self) -> &str {
        &self.display
    }

    /// Runs a command on this display and returns its stdout; a failure is tried again a
    /// few times (X tools can time out on a loaded machine), then panics.
    pub fn run(&self, program: &str, args: &[&str]) -> Vec<u8> {
        let mut last = String::new();
        for attempt in 0..4 {
            if attempt > 0 {
                std::thread::sleep(Duration::from_millis(250 * attempt));
            }
            let out = Command::new(program)
                .args(args)
                .env("DISPLAY", &self.display)
                .output()
                .unwrap_or_else(|e| panic!("cannot run {program}: {e}"));
            if out.status.success() {
                return out.stdout;
            }
            last = String::from_utf8_lossy(&out.stderr).into_owned();
        }
        panic!("{program} {args:?} failed 4 times: {last}")
    }

    /// The id of the first window whose name is `name`, waiting up to `timeout`.
    pub fn window(&self, name: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            let out = Command::new("xdotool")
                .args(["search", "--name", name])
                .env("DISPLAY", &self.display)
                .output()
                .ok()?;
            if let Some(id) = String::from_utf8_lossy(&out.stdout).lines().next() {
                return Some(id.to_string());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        None
    }

    /// A screenshot of window `id`: the screen cropped to the window's geometry, taken
    /// with ImageMagick's `import` (it applies the visual's colormap, which Xvfb's
    /// DirectColor visual needs; the window's own contents read back black from SDL).
    pub fn capture(&self, id: &str) -> Image {
        let geometry =
            String::from_utf8_lossy(&self.run("xdotool", &["getwindowgeometry", "--shell", id]))
                .to_string();
        let field = |name: &str| -> u32 {
            geometry
                .lines()
                .find_map(|l| l.strip_prefix(&format!("{name}=")))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or_else(|| panic!("no {name} in {geometry}"))
        };
        let (x, y, w, h) = (field("X"), field("Y"), field("WIDTH"), field("HEIGHT"));
        let png = self.run("import", &["-window", "root", "png24:-"]);
        Image::from_png_bytes(&png).crop(x, y, w, h)
    }
}

impl Drop for Xvfb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An RGB image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Image {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Row-major `[r, g, b]` pixels.
    pub pixels: Vec<[u8; 3]>,
}

impl Image {
    /// The pixel at (x, y).
    pub fn at(&self, x: u32, y: u32) -> [u8; 3] {
        self.pixels[(y * self.width + x) as usize]
    }

    /// Rows `y0..y1` as a flat vector (for comparing regions).
    pub fn rows(&self, y0: u32, y1: u32) -> Vec<[u8; 3]> {
        self.pixels[(y0 * self.width) as usize..(y1 * self.width) as usize].to_vec()
    }

    /// How many pixels of rows `y0..y1` differ between `self` and `other`.
    pub fn diff_rows(&self, other: &Image, y0: u32, y1: u32) -> usize {
        self.rows(y0, y1)
            .iter()
            .zip(other.rows(y0, y1))
            .filter(|(a, b)| *a != b)
            .count()
    }

    /// The `w` x `h` part at (`x`, `y`).
    pub fn crop(&self, x: u32, y: u32, w: u32, h: u32) -> Image {
        let mut pixels = Vec::with_capacity((w * h) as usize);
        for row in y..y + h {
            for col in x..x + w {
                pixels.push(self.at(col, row));
            }
        }
        Image {
            width: w,
            height: h,
            pixels,
        }
    }

    /// Decodes a PNG file (8-bit RGB or RGBA).
    pub fn from_png(path: &Path) -> Image {
        Image::from_png_bytes(
            &std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())),
        )
    }

    /// Decodes PNG bytes (8-bit RGB or RGBA).
    pub fn from_png_bytes(bytes: &[u8]) -> Image {
        let decoder = png::Decoder::new(std::io::Cursor::new(bytes));
        let mut reader = decoder.read_info().expect("a PNG");
        let mut buf = vec![0; reader.output_buffer_size().expect("a size")];
        let info = reader.next_frame(&mut buf).expect("a frame");
        let channels = info.color_type.samples();
        let pixels = buf[..info.buffer_size()]
            .chunks(channels)
            .map(|p| [p[0], p[1], p[2]])
            .collect();
        Image {
            width: info.width,
            height: info.height,
            pixels,
        }
    }
}
