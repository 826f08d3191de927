//! The virtio devices on QEMU's virt machine (MMIO slots from 0x1000_1000, modern
//! interface with `-global virtio-mmio.force-legacy=false`): the DMA HAL over static
//! memory, the device scan, the interrupt path through the PLIC, the entropy source, and
//! the embassy-net driver over virtio-net ([`NetDriver`], ours: none exists publicly).

use core::cell::RefCell;
use core::ptr::NonNull;
use core::task::Context;

use critical_section::Mutex;
use embassy_net_driver::{Capabilities, HardwareAddress, LinkState};
use embassy_sync::waitqueue::AtomicWaker;
use virtio_drivers::device::net::VirtIONetRaw;
use virtio_drivers::device::rng::VirtIORng;
use virtio_drivers::transport::mmio::{MmioTransport, VirtIOHeader};
use virtio_drivers::transport::{DeviceType, Transport};
use virtio_drivers::{BufferDirection, Hal, PhysAddr};

/// The first MMIO slot; slot `i` is at `SLOTS + i * SLOT_SIZE` and raises PLIC source
/// `i + 1`.
const SLOTS: usize = 0x1000_1000;
const SLOT_SIZE: usize = 0x1000;
const SLOT_COUNT: usize = 8;

// ---- DMA memory: whole pages from a static pool, identity-mapped ----

const PAGE: usize = 4096;
/// Pages for the virtqueues: two per queue (modern layout: the descriptor table with the
/// driver area, and the device area), three queues (net rx/tx, rng).
const DMA_PAGES: usize = 6;

#[repr(C, align(4096))]
struct Pool([u8; DMA_PAGES * PAGE]);

static mut POOL: Pool = Pool([0; DMA_PAGES * PAGE]);
/// Which pages are handed out.
static USED: Mutex<RefCell<[bool; DMA_PAGES]>> = Mutex::new(RefCell::new([false; DMA_PAGES]));

/// Pages of the DMA pool in use (for the budgets).
pub fn dma_pages_used() -> usize {
    critical_section::with(|cs| USED.borrow_ref(cs).iter().filter(|u| **u).count())
}

/// Bytes of the DMA pool.
pub const DMA_BYTES: usize = DMA_PAGES * PAGE;

/// The HAL: memory is identity-mapped and coherent (QEMU), so sharing a buffer is
/// handing out its address.
pub struct DmaHal;

// SAFETY: `dma_alloc` hands out zeroed, page-aligned, exclusively owned pages of a
// static pool, and physical addresses equal virtual ones on this machine.
unsafe impl Hal for DmaHal {
    fn dma_alloc(pages: usize, _direction: BufferDirection) -> (PhysAddr, NonNull<u8>) {
        let start = critical_section::with(|cs| {
            let mut used = USED.borrow_ref_mut(cs);
            let start = (0..=DMA_PAGES.saturating_sub(pages))
                .find(|&s| used.get(s..s + pages).is_some_and(|r| r.iter().all(|u| !u)))?;
            for u in used.iter_mut().skip(start).take(pages) {
                *u = true;
            }
            Some(start)
        });
        let Some(start) = start else {
            panic!("DMA pool exhausted ({} pages asked)", pages);
        };
        // SAFETY: the pages [start, start + pages) were free and are now ours.
        let ptr = unsafe {
            let base = (&raw mut POOL.0).cast::<u8>().add(start * PAGE);
            core::ptr::write_bytes(base, 0, pages * PAGE);
            base
        };
        (
            ptr as usize as PhysAddr,
            NonNull::new(ptr).unwrap_or(NonNull::dangling()),
        )
    }

    unsafe fn dma_dealloc(_paddr: PhysAddr, vaddr: NonNull<u8>, pages: usize) -> i32 {
        let start = (vaddr.as_ptr() as usize - (&raw const POOL) as usize) / PAGE;
        critical_section::with(|cs| {
            for u in USED.borrow_ref_mut(cs).iter_mut().skip(start).take(pages) {
                *u = false;
            }
        });
        0
    }

    unsafe fn mmio_phys_to_virt(paddr: PhysAddr, _size: usize) -> NonNull<u8> {
        NonNull::new(paddr as usize as *mut u8).unwrap_or(NonNull::dangling())
    }

    unsafe fn share(buffer: NonNull<[u8]>, _direction: BufferDirection) -> PhysAddr {
        buffer.as_ptr().cast::<u8>() as usize as PhysAddr
    }

    unsafe fn unshare(_paddr: PhysAddr, _buffer: NonNull<[u8]>, _direction: BufferDirection) {}
}

// ---- The scan and the PLIC ----

/// The device in MMIO slot `slot` of type `ty`, if there is one.
fn transport(slot: usize) -> Option<MmioTransport<'static>> {
    let header = NonNull::new((SLOTS + slot * SLOT_SIZE) as *mut VirtIOHeader)?;
    // SAFETY: the virt machine's MMIO slots; each is used by one driver only (the
    // scan hands each slot out once, see `find`).
    unsafe { MmioTransport::new(header, SLOT_SIZE) }.ok()
}

/// The first slot holding a device of type `ty`, with its transport.
fn find(ty: DeviceType) -> Option<(usize, MmioTransport<'static>)> {
    (0..SLOT_COUNT).find_map(|slot| {
        let t = transport(slot)?;
        (t.device_type() == ty).then_some((slot, t))
    })
}

const PLIC: usize = 0x0c00_0000;
/// Hart 0's machine-mode context: its enable bits and its threshold/claim registers.
const PLIC_ENABLE: usize = PLIC + 0x2000;
const PLIC_THRESHOLD: usize = PLIC + 0x20_0000;
const PLIC_CLAIM: usize = PLIC + 0x20_0004;
/// Offsets in a virtio-mmio slot.
const INTERRUPT_STATUS: usize = 0x60;
const INTERRUPT_ACK: usize = 0x64;

/// Routes `slot`'s interrupt to hart 0 (machine mode).
fn plic_enable(slot: usize) {
    let source = slot + 1;
    // SAFETY: the PLIC's registers on the virt machine.
    unsafe {
        core::ptr::write_volatile((PLIC + 4 * source) as *mut u32, 1);
        let enable = (PLIC_ENABLE + 4 * (source / 32)) as *mut u32;
        let bits = core::ptr::read_volatile(enable);
        core::ptr::write_volatile(enable, bits | (1 << (source % 32)));
        core::ptr::write_volatile(PLIC_THRESHOLD as *mut u32, 0);
    }
}

/// The network driver's waker: woken by the NIC's interrupt.
static NET_WAKER: AtomicWaker = AtomicWaker::new();

/// Claims and acknowledges pending interrupts (called by the executor's loop after
/// `wfi`), and wakes the network driver.
pub fn service_interrupts() {
    loop {
        // SAFETY: the PLIC's claim register; reading claims the highest pending source.
        let source = unsafe { core::ptr::read_volatile(PLIC_CLAIM as *const u32) } as usize;
        if source == 0 {
            return;
        }
        if (1..=SLOT_COUNT).contains(&source) {
            let slot = SLOTS + (source - 1) * SLOT_SIZE;
            // SAFETY: the slot's interrupt status and acknowledge registers (the driver
            // reads its used rings itself; acknowledging only lowers the line).
            unsafe {
                let status = core::ptr::read_volatile((slot + INTERRUPT_STATUS) as *const u32);
                core::ptr::write_volatile((slot + INTERRUPT_ACK) as *mut u32, status);
            }
        }
        // SAFETY: completing the claim.
        unsafe { core::ptr::write_volatile(PLIC_CLAIM as *mut u32, source as u32) };
        NET_WAKER.wake();
    }
}

// ---- Entropy ----

/// The virtio entropy source.
pub struct Rng(VirtIORng<DmaHal, MmioTransport<'static>>);

impl Rng {
    /// The virtio-rng device, if QEMU has one.
    pub fn new() -> Option<Rng> {
        let (_, t) = find(DeviceType::EntropySource)?;
        VirtIORng::new(t).ok().map(Rng)
    }

    /// Fills `dst` with entropy from the host (blocks until the device answered).
    pub fn fill(&mut self, dst: &mut [u8]) -> bool {
        let mut done = 0;
        while done < dst.len() {
            match dst.get_mut(done..).map(|d| self.0.request_entropy(d)) {
                Some(Ok(n)) if n > 0 => done += n,
                _ => return false,
            }
        }
        true
    }
}

// ---- The network driver ----

/// Virtqueue size of each of the NIC's queues.
const QUEUE_SIZE: usize = 16;
/// A receive buffer: the virtio-net header (12 bytes) and a full Ethernet frame.
const RX_LEN: usize = 1536;
/// Receive buffers posted to the NIC.
const RX_BUFFERS: usize = 8;
/// Transmit buffers (each in flight until the NIC used it).
const TX_BUFFERS: usize = 2;
/// The Ethernet MTU (the frame without its FCS).
const MTU: usize = 1514;
/// The link-status bit of the NIC's config space (`status`, at offset 6 of it).
const LINK_UP: u16 = 1;

/// The NIC's buffers, static (about 15 KiB).
pub struct NetBuffers {
    rx: [[u8; RX_LEN]; RX_BUFFERS],
    tx: [[u8; RX_LEN]; TX_BUFFERS],
}

impl NetBuffers {
    /// Zeroed buffers.
    pub const fn new() -> NetBuffers {
        NetBuffers {
            rx: [[0; RX_LEN]; RX_BUFFERS],
            tx: [[0; RX_LEN]; TX_BUFFERS],
        }
    }
}

/// virtio-net as an embassy-net device.
pub struct NetDriver {
    dev: VirtIONetRaw<DmaHal, MmioTransport<'static>, QUEUE_SIZE>,
    /// The slot's address (for the link status in its config space).
    slot: usize,
    rx: &'static mut [[u8; RX_LEN]; RX_BUFFERS],
    /// The virtqueue token of each receive buffer while the NIC holds it.
    rx_token: [Option<u16>; RX_BUFFERS],
    /// A buffer handed to the stack by the last `receive`, to post again.
    rx_returned: Option<usize>,
    tx: &'static mut [[u8; RX_LEN]; TX_BUFFERS],
    /// The token and length of each transmit buffer while the NIC holds it.
    tx_busy: [Option<(u16, usize)>; TX_BUFFERS],
    /// Frames received and sent (for the log).
    pub counts: (u32, u32),
}

impl NetDriver {
    /// The virtio-net device, if QEMU has one, with its receive buffers posted and its
    /// interrupt routed.
    pub fn new(buffers: &'static mut NetBuffers) -> Option<NetDriver> {
        let (slot, t) = find(DeviceType::Network)?;
        let mut dev = VirtIONetRaw::<DmaHal, _, QUEUE_SIZE>::new(t).ok()?;
        dev.enable_interrupts();
        let mut driver = NetDriver {
            dev,
            slot: SLOTS + slot * SLOT_SIZE,
            rx: &mut buffers.rx,
            rx_token: [None; RX_BUFFERS],
            rx_returned: None,
            tx: &mut buffers.tx,
            tx_busy: [None; TX_BUFFERS],
            counts: (0, 0),
        };
        for i in 0..RX_BUFFERS {
            driver.post(i);
        }
        plic_enable(slot);
        Some(driver)
    }

    /// The NIC's MAC address.
    pub fn mac(&self) -> [u8; 6] {
        self.dev.mac_address()
    }

    /// Gives receive buffer `i` to the NIC.
    fn post(&mut self, i: usize) {
        let Some(buf) = self.rx.get_mut(i) else {
            return;
        };
        // SAFETY: the buffer is static and not touched again until the NIC returned it
        // (`receive_complete` with the same buffer).
        if let Ok(token) = unsafe { self.dev.receive_begin(&mut buf[..]) }
            && let Some(t) = self.rx_token.get_mut(i)
        {
            *t = Some(token);
        }
    }

    /// Takes back the transmit buffers the NIC is done with.
    fn reclaim_tx(&mut self) {
        while let Some(token) = self.dev.poll_transmit() {
            let Some(i) = self
                .tx_busy
                .iter()
                .position(|b| b.is_some_and(|(t, _)| t == token))
            else {
                return;
            };
            if let (Some(Some((_, len))), Some(buf)) =
                (self.tx_busy.get(i).copied(), self.tx.get(i))
            {
                // SAFETY: the same buffer (and length) `transmit_begin` was given.
                let _ = unsafe {
                    self.dev
                        .transmit_complete(token, buf.get(..len).unwrap_or_default())
                };
            }
            if let Some(b) = self.tx_busy.get_mut(i) {
                *b = None;
            }
        }
    }

    fn link_up(&self) -> bool {
        // SAFETY: the `status` field of the NIC's config space (offset 0x100 + 6 of
        // the slot); reading has no side effect.
        let status = unsafe { core::ptr::read_volatile((self.slot + 0x106) as *const u16) };
        status & LINK_UP != 0
    }
}

/// A received frame, in its receive buffer.
pub struct RxToken<'a> {
    frame: &'a mut [u8],
}

impl embassy_net_driver::RxToken for RxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, f: F) -> R {
        f(self.frame)
    }
}

/// Room for one frame in a free transmit buffer.
pub struct TxToken<'a> {
    dev: &'a mut VirtIONetRaw<DmaHal, MmioTransport<'static>, QUEUE_SIZE>,
    buf: &'a mut [u8; RX_LEN],
    busy: &'a mut Option<(u16, usize)>,
    sent: &'a mut u32,
}

impl embassy_net_driver::TxToken for TxToken<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let hdr = self.dev.fill_buffer_header(&mut self.buf[..]).unwrap_or(0);
        let end = (hdr + len).min(RX_LEN);
        let r = f(&mut self.buf[hdr..end]);
        // SAFETY: the static buffer stays untouched until `reclaim_tx` got it back.
        if let Ok(token) = unsafe { self.dev.transmit_begin(&self.buf[..end]) } {
            *self.busy = Some((token, end));
            *self.sent += 1;
        }
        r
    }
}

impl embassy_net_driver::Driver for NetDriver {
    type RxToken<'a> = RxToken<'a>;
    type TxToken<'a> = TxToken<'a>;

    fn receive(&mut self, cx: &mut Context<'_>) -> Option<(RxToken<'_>, TxToken<'_>)> {
        NET_WAKER.register(cx.waker());
        if let Some(i) = self.rx_returned.take() {
            self.post(i);
        }
        self.reclaim_tx();
        let tx = self.tx_busy.iter().position(Option::is_none)?;
        let token = self.dev.poll_receive()?;
        let i = self.rx_token.iter().position(|t| *t == Some(token))?;
        self.rx_token[i] = None;
        let buf = &mut self.rx[i];
        // SAFETY: the same buffer `receive_begin` was given for this token.
        let (hdr, len) = match unsafe { self.dev.receive_complete(token, &mut buf[..]) } {
            Ok(v) => v,
            Err(_) => {
                self.rx_returned = Some(i);
                return None;
            }
        };
        self.rx_returned = Some(i);
        self.counts.0 += 1;
        let frame = self.rx[i].get_mut(hdr..hdr + len)?;
        Some((
            RxToken { frame },
            TxToken {
                dev: &mut self.dev,
                buf: &mut self.tx[tx],
                busy: &mut self.tx_busy[tx],
                sent: &mut self.counts.1,
            },
        ))
    }

    fn transmit(&mut self, cx: &mut Context<'_>) -> Option<TxToken<'_>> {
        NET_WAKER.register(cx.waker());
        self.reclaim_tx();
        let tx = self.tx_busy.iter().position(Option::is_none)?;
        Some(TxToken {
            dev: &mut self.dev,
            buf: &mut self.tx[tx],
            busy: &mut self.tx_busy[tx],
            sent: &mut self.counts.1,
        })
    }

    fn link_state(&mut self, cx: &mut Context<'_>) -> LinkState {
        NET_WAKER.register(cx.waker());
        if self.link_up() {
            LinkState::Up
        } else {
            LinkState::Down
        }
    }

    fn capabilities(&self) -> Capabilities {
        let mut caps = Capabilities::default();
        caps.max_transmission_unit = MTU;
        caps.max_burst_size = Some(TX_BUFFERS);
        caps
    }

    fn hardware_address(&self) -> HardwareAddress {
        HardwareAddress::Ethernet(self.mac())
    }
}
