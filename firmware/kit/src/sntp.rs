//! SNTP (RFC 4330): the 48-byte client request ([`request`]), the Unix time from the
//! server's answer ([`unix_seconds`]), and one query over a [`crate::board::Network`]
//! ([`query`], feature `net`). The kit asks once at boot, so TLS can check certificate
//! dates and the idle screen can show the time.

/// Seconds from 1900-01-01 (NTP's epoch) to 1970-01-01.
const NTP_TO_UNIX: u64 = 2_208_988_800;

/// A client request: version 4, mode 3 (client), everything else zero.
pub fn request() -> [u8; 48] {
    let mut p = [0u8; 48];
    if let Some(first) = p.first_mut() {
        *first = (4 << 3) | 3;
    }
    p
}

/// The NTP server the kit asks by default.
pub const SERVER: &str = "pool.ntp.org";
/// NTP's UDP port.
pub const PORT: u16 = 123;
/// How long an answer may take.
#[cfg(feature = "net")]
pub const TIMEOUT: embassy_time::Duration = embassy_time::Duration::from_secs(3);

/// Asks `server` (a name) for the time over `net`: Unix seconds, or `None` (no address,
/// no answer within [`TIMEOUT`], or an answer that is not a usable server reply).
#[cfg(feature = "net")]
pub async fn query<N: crate::board::Network>(net: &mut N, server: &str) -> Option<u64> {
    let addr = net.resolve(server).await.ok()?;
    let mut reply = [0u8; 64];
    let n = embassy_time::with_timeout(
        TIMEOUT,
        net.exchange_udp(addr, PORT, &request(), &mut reply),
    )
    .await
    .ok()?
    .ok()?;
    unix_seconds(reply.get(..n)?)
}

/// The server's transmit time as Unix seconds; `None` for an answer that is not a
/// usable server reply (too short, wrong mode, kiss-o'-death, unsynchronised).
pub fn unix_seconds(reply: &[u8]) -> Option<u64> {
    let first = *reply.first()?;
    let mode = first & 0x7;
    let leap = first >> 6;
    let stratum = *reply.get(1)?;
    if reply.len() < 48 || mode != 4 || stratum == 0 || stratum > 15 || leap == 3 {
        return None;
    }
    let secs = u32::from_be_bytes(reply.get(40..44)?.try_into().ok()?);
    // RFC 4330 section 3: with the top bit clear, the time is in era 1 (from
    // 2036-02-07 on).
    let ntp = if secs & 0x8000_0000 != 0 {
        u64::from(secs)
    } else {
        u64::from(secs) + (1 << 32)
    };
    ntp.checked_sub(NTP_TO_UNIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(secs: u32, first: u8, stratum: u8) -> [u8; 48] {
        let mut r = [0u8; 48];
        r[0] = first;
        r[1] = stratum;
        r[40..44].copy_from_slice(&secs.to_be_bytes());
        r
    }

    #[test]
    fn request_is_v4_client() {
        let r = request();
        assert_eq!(r[0], 0x23);
        assert!(r[1..].iter().all(|&b| b == 0));
    }

    #[test]
    fn replies() {
        // 2026-11-22 00:00:00 UTC = Unix 1 795 305 600.
        let unix = 1_795_305_600u64;
        let ntp = u32::try_from(unix + NTP_TO_UNIX).unwrap();
        assert_eq!(unix_seconds(&reply(ntp, 0x24, 2)), Some(unix));
        assert_eq!(
            unix_seconds(&reply(ntp, 0x23, 2)),
            None,
            "mode 3 is a client"
        );
        assert_eq!(unix_seconds(&reply(ntp, 0x24, 0)), None, "kiss-o'-death");
        assert_eq!(unix_seconds(&reply(ntp, 0xe4, 2)), None, "unsynchronised");
        assert_eq!(unix_seconds(&reply(ntp, 0x24, 2)[..47]), None);
        assert_eq!(unix_seconds(&[]), None);
        // Era 1 (after 2036-02-07): a small seconds field.
        let era1 = unix_seconds(&reply(100_000_000, 0x24, 2)).unwrap();
        assert_eq!(era1, (1u64 << 32) + 100_000_000 - NTP_TO_UNIX);
    }
}
