//! The server's open descriptors, sampled from `/proc/PID/fd`.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// Samples a process's descriptor count every 200 ms and keeps the peak.
#[derive(Debug)]
pub struct Sampler {
    peak: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    thread: std::thread::JoinHandle<()>,
}

/// The number of entries of `/proc/PID/fd`, or `None` if it cannot be read.
pub fn count(pid: u32) -> Option<usize> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count())
}

impl Sampler {
    /// Starts sampling `pid` on a thread of its own (so that a busy runtime cannot skip
    /// samples).
    pub fn start(pid: u32) -> Self {
        let peak = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (peak, stop) = (peak.clone(), stop.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    if let Some(n) = count(pid) {
                        peak.fetch_max(n, Ordering::Relaxed);
                    }
                    std::thread::sleep(Duration::from_millis(200));
                }
            })
        };
        Self { peak, stop, thread }
    }

    /// Stops sampling; the peak seen.
    pub fn stop(self) -> usize {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.thread.join();
        self.peak.load(Ordering::Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn descriptors_are_counted_and_a_missing_process_has_none() {
        // stdin, stdout, stderr at least.
        assert!(count(std::process::id()).unwrap() >= 3);
        assert_eq!(count(u32::MAX), None);
        let sampler = Sampler::start(std::process::id());
        std::thread::sleep(Duration::from_millis(50));
        assert!(sampler.stop() >= 3);
    }
}
