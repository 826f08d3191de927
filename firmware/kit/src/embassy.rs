//! [`Network`] over an `embassy_net::Stack`: DNS through the stack's resolver (the DHCP
//! server's), TCP with buffers of [`TCP_RX`] and [`TCP_TX`] bytes held here, UDP with
//! small buffers on the stack. The board runs the stack's `Runner` in a task of its own.

use core::net::IpAddr;

use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::TcpSocket;
use embassy_net::udp::{PacketMetadata, UdpSocket};
use embassy_net::{IpAddress, IpEndpoint, Stack};
use embassy_time::Duration;

use crate::board::Network;

/// TCP receive buffer (the TLS layer has its own 16 KiB record buffer).
pub const TCP_RX: usize = 2048;
/// TCP send buffer.
pub const TCP_TX: usize = 1024;
/// A TCP connection with no traffic for this long fails.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(15);

/// Why an embassy-net operation failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum NetError {
    /// The name did not resolve (or to no address).
    Dns,
    /// The TCP connection was refused, reset or timed out.
    Connect,
    /// A UDP socket could not be bound, or the datagram not sent or received.
    Udp,
}

/// An `embassy_net::Stack` as a [`Network`], with the TCP buffers of the one connection.
pub struct EmbassyNet<'d> {
    stack: Stack<'d>,
    tcp_rx: [u8; TCP_RX],
    tcp_tx: [u8; TCP_TX],
}

impl<'d> EmbassyNet<'d> {
    /// Over `stack`.
    pub const fn new(stack: Stack<'d>) -> Self {
        EmbassyNet {
            stack,
            tcp_rx: [0; TCP_RX],
            tcp_tx: [0; TCP_TX],
        }
    }

    /// The stack.
    pub fn stack(&self) -> Stack<'d> {
        self.stack
    }
}

fn to_core(addr: IpAddress) -> Option<IpAddr> {
    #[allow(unreachable_patterns, reason = "IPv6 is a feature of embassy-net")]
    match addr {
        IpAddress::Ipv4(a) => Some(IpAddr::V4(a)),
        _ => None,
    }
}

fn to_embassy(addr: IpAddr) -> Option<IpAddress> {
    match addr {
        IpAddr::V4(a) => Some(IpAddress::Ipv4(a)),
        IpAddr::V6(_) => None,
    }
}

impl<'d> Network for EmbassyNet<'d> {
    type Error = NetError;
    type Tcp<'a>
        = TcpSocket<'a>
    where
        Self: 'a;

    fn is_up(&self) -> bool {
        self.stack.is_config_up()
    }

    async fn resolve(&mut self, host: &str) -> Result<IpAddr, NetError> {
        let addrs = self
            .stack
            .dns_query(host, DnsQueryType::A)
            .await
            .map_err(|_| NetError::Dns)?;
        addrs.iter().find_map(|a| to_core(*a)).ok_or(NetError::Dns)
    }

    async fn connect(&mut self, addr: IpAddr, port: u16) -> Result<TcpSocket<'_>, NetError> {
        let addr = to_embassy(addr).ok_or(NetError::Connect)?;
        let mut socket = TcpSocket::new(self.stack, &mut self.tcp_rx, &mut self.tcp_tx);
        socket.set_timeout(Some(TCP_TIMEOUT));
        socket
            .connect(IpEndpoint::new(addr, port))
            .await
            .map_err(|_| NetError::Connect)?;
        Ok(socket)
    }

    async fn exchange_udp(
        &mut self,
        addr: IpAddr,
        port: u16,
        request: &[u8],
        reply: &mut [u8],
    ) -> Result<usize, NetError> {
        let addr = to_embassy(addr).ok_or(NetError::Udp)?;
        let mut rx_meta = [PacketMetadata::EMPTY; 2];
        let mut tx_meta = [PacketMetadata::EMPTY; 2];
        let mut rx = [0u8; 128];
        let mut tx = [0u8; 128];
        let mut sock = UdpSocket::new(self.stack, &mut rx_meta, &mut rx, &mut tx_meta, &mut tx);
        sock.bind(0).map_err(|_| NetError::Udp)?;
        let to = IpEndpoint::new(addr, port);
        sock.send_to(request, to).await.map_err(|_| NetError::Udp)?;
        loop {
            let (n, meta) = sock.recv_from(reply).await.map_err(|_| NetError::Udp)?;
            if meta.endpoint == to {
                return Ok(n);
            }
        }
    }
}
