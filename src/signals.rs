//! SIGINT and SIGTERM, handled the same way at every moment of a run: each turns the one stop
//! channel that the probes, the connection opening, every phase and the loop between steps
//! watch, so that the run stops, keeps what it measured and says which signal ended it. Neither
//! ever kills the process mid-write.
//!
//! SIGINT goes through the `ctrlc` crate, installed before goose can install its own handler
//! through the same crate (which then stands aside); SIGTERM through `signal-hook`.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::OnceLock;

use tokio::sync::watch;

/// A signal that stops a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Int,
    Term,
}

impl Signal {
    /// The shell's convention: 128 + the signal number.
    pub fn exit_code(self) -> u8 {
        match self {
            Signal::Int => 130,
            Signal::Term => 143,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Signal::Int => "SIGINT",
            Signal::Term => "SIGTERM",
        }
    }
}

/// The first signal received, as its number (0: none).
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static STOP: OnceLock<watch::Sender<bool>> = OnceLock::new();

fn receive(number: i32) {
    let _ = RECEIVED.compare_exchange(0, number, Ordering::SeqCst, Ordering::SeqCst);
    if let Some(stop) = STOP.get() {
        stop.send_replace(true);
    }
}

/// Installs the handlers (once per process) and returns the stop channel they turn.
pub fn install() -> watch::Sender<bool> {
    STOP.get_or_init(|| {
        let (tx, _) = watch::channel(false);
        // A failure leaves the default action (the process ends), as without a handler.
        let _ = ctrlc::set_handler(|| receive(signal_hook::consts::SIGINT));
        if let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGTERM]) {
            let _ = std::thread::Builder::new().name("headroom-signals".into()).spawn(move || {
                for number in signals.forever() {
                    receive(number);
                }
            });
        }
        tx
    })
    .clone()
}

/// The signal that stopped the run, if one did.
pub fn received() -> Option<Signal> {
    match RECEIVED.load(Ordering::SeqCst) {
        signal_hook::consts::SIGINT => Some(Signal::Int),
        signal_hook::consts::SIGTERM => Some(Signal::Term),
        _ => None,
    }
}

/// Waits until `stop` reads true (at once when it already does).
pub async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}
