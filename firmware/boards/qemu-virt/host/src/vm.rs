//! One run of the board's firmware under QEMU (`qemu-system-riscv32 -M virt`), attached
//! to `tap0` in the test's namespace: its UART lines (logged to a file, and read here
//! with deadlines), its monitor (a Unix socket: `set_link`, `quit`), and a kill when it
//! is dropped, so no emulator outlives its scenario.

use std::io::{BufRead, BufReader, Write};
use std::os::unix::net::UnixStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::time::{Duration, Instant};

/// A running board.
pub struct Vm {
    child: Child,
    rx: Receiver<String>,
    monitor: PathBuf,
    /// Every UART line so far.
    pub lines: Vec<String>,
}

/// The board's MAC address (dnsmasq hands it 192.0.2.10).
pub const MAC: &str = "52:54:00:12:34:56";

impl Vm {
    /// Boots `elf` with `image` as pflash unit 1; the UART goes to `log` too.
    pub fn start(elf: &Path, image: &Path, log: &Path, monitor: &Path) -> std::io::Result<Vm> {
        let _ = std::fs::remove_file(monitor);
        let mut child = Command::new("qemu-system-riscv32")
            .args(["-M", "virt", "-bios", "none", "-m", "16M", "-nodefaults"])
            .args(["-display", "none", "-serial", "stdio"])
            .arg("-monitor")
            .arg(format!("unix:{},server,nowait", monitor.display()))
            .args(["-global", "virtio-mmio.force-legacy=false"])
            .args(["-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no"])
            .arg("-device")
            .arg(format!("virtio-net-device,netdev=n0,mac={MAC}"))
            .args(["-device", "virtio-rng-device"])
            .arg("-drive")
            .arg(format!(
                "if=pflash,unit=1,format=raw,file={}",
                image.display()
            ))
            .arg("-device")
            .arg(format!("loader,file={}", elf.display()))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()?;
        let (tx, rx) = channel();
        let stdout = child
            .stdout
            .take()
            .ok_or_else(|| std::io::Error::other("no stdout"))?;
        let stderr = child
            .stderr
            .take()
            .ok_or_else(|| std::io::Error::other("no stderr"))?;
        let mut file = std::fs::File::create(log)?;
        let started = Instant::now();
        let tx2 = tx.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                let _ = writeln!(file, "{:8.3} {line}", started.elapsed().as_secs_f64());
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                let _ = tx2.send(format!("qemu: {line}"));
            }
        });
        Ok(Vm {
            child,
            rx,
            monitor: monitor.to_owned(),
            lines: Vec::new(),
        })
    }

    /// The next line, waiting until `deadline`.
    fn next(&mut self, deadline: Instant) -> Option<String> {
        let left = deadline.saturating_duration_since(Instant::now());
        match self.rx.recv_timeout(left) {
            Ok(line) => {
                self.lines.push(line.clone());
                Some(line)
            }
            Err(RecvTimeoutError::Timeout | RecvTimeoutError::Disconnected) => None,
        }
    }

    /// Reads lines until one satisfies `want` (returned), or `timeout` passes (`Err`
    /// with `what`), or the board panics / QEMU ends.
    pub fn wait_for(
        &mut self,
        timeout: Duration,
        what: &str,
        mut want: impl FnMut(&str) -> bool,
    ) -> Result<String, String> {
        let deadline = Instant::now() + timeout;
        loop {
            let Some(line) = self.next(deadline) else {
                if let Ok(Some(status)) = self.child.try_wait() {
                    return Err(format!("QEMU ended ({status}) before {what}"));
                }
                return Err(format!("no {what} within {} s", timeout.as_secs()));
            };
            if line.starts_with("panic:") {
                return Err(format!("the board panicked: {line}"));
            }
            if want(&line) {
                return Ok(line);
            }
        }
    }

    /// Reads lines for `duration`; fails on a line `bad` matches.
    pub fn none_for(
        &mut self,
        duration: Duration,
        what: &str,
        mut bad: impl FnMut(&str) -> bool,
    ) -> Result<(), String> {
        let deadline = Instant::now() + duration;
        while let Some(line) = self.next(deadline) {
            if line.starts_with("panic:") {
                return Err(format!("the board panicked: {line}"));
            }
            if bad(&line) {
                return Err(format!("{what}: {line}"));
            }
        }
        Ok(())
    }

    /// Sends a command to QEMU's monitor.
    pub fn monitor(&self, cmd: &str) -> Result<(), String> {
        let mut s = UnixStream::connect(&self.monitor).map_err(|e| format!("monitor: {e}"))?;
        s.write_all(format!("{cmd}\n").as_bytes())
            .map_err(|e| format!("monitor: {e}"))?;
        // Give the monitor time to act before the socket closes.
        std::thread::sleep(Duration::from_millis(300));
        Ok(())
    }

    /// Ends QEMU (the monitor's `quit`, then a kill).
    pub fn stop(mut self) {
        let _ = self.monitor("quit");
        let deadline = Instant::now() + Duration::from_secs(5);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Vm {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The JSON of an event line (the UART lines that begin with `{`).
pub fn event(line: &str) -> Option<serde_json::Value> {
    line.starts_with('{')
        .then(|| serde_json::from_str(line).ok())
        .flatten()
}

/// The screen an event line names.
pub fn screen(line: &str) -> Option<String> {
    event(line)?.get("screen")?.as_str().map(str::to_owned)
}

/// The title an event line names.
pub fn title(line: &str) -> Option<String> {
    event(line)?.get("title")?.as_str().map(str::to_owned)
}
