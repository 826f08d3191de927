//! A small SNTP responder on the test network (never a time daemon: namespaces do not
//! isolate the clock): answers each request with the host's time, as a stratum-1
//! server.

use std::net::UdpSocket;
use std::time::{SystemTime, UNIX_EPOCH};

const NTP_TO_UNIX: u64 = 2_208_988_800;

/// Answers on `addr` (`192.0.2.1:123`) on a thread of its own, for ever.
pub fn serve(addr: &str) -> std::io::Result<()> {
    let sock = UdpSocket::bind(addr)?;
    std::thread::Builder::new()
        .name("sntp".into())
        .spawn(move || {
            let mut buf = [0u8; 512];
            while let Ok((n, from)) = sock.recv_from(&mut buf) {
                if n < 48 {
                    continue;
                }
                let now = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .unwrap_or_default();
                let secs = u32::try_from((now.as_secs() + NTP_TO_UNIX) & 0xffff_ffff).unwrap_or(0);
                let frac = u32::try_from((u64::from(now.subsec_nanos()) << 32) / 1_000_000_000)
                    .unwrap_or(0);
                let mut reply = [0u8; 48];
                reply[0] = 4 << 3 | 4; // no leap warning, version 4, server
                reply[1] = 1; // stratum 1
                reply[2] = buf[2];
                reply[3] = 0xec; // precision
                reply[12..16].copy_from_slice(b"TEST");
                for at in [16, 32, 40] {
                    reply[at..at + 4].copy_from_slice(&secs.to_be_bytes());
                    reply[at + 4..at + 8].copy_from_slice(&frac.to_be_bytes());
                }
                // The client's transmit time as our originate time.
                reply[24..32].copy_from_slice(&buf[40..48]);
                let _ = sock.send_to(&reply, from);
            }
        })?;
    Ok(())
}
