//! Transparent huge pages off while FID's network runs and while a GMM is fitted.
//!
//! Both passes allocate and free large buffers (Inception's layer outputs, 20–280 MB at a batch
//! of 50; the GMM's `[n, k]` and `[n, d]` matrices, 60 MB at n = 60 000). On this 2-core virtual
//! machine, under the kernel's `transparent_hugepage=always`, every fresh 2 MiB page is slow to
//! clear (the hypervisor backs guest memory on first touch): `perf record` of `lorae bench fid`
//! put 28% of the time in `clear_page_erms` under `do_huge_pmd_anonymous_page` (12 s of 25 in the
//! kernel), and of `lorae bench gmm` 44% (3.5 s of 8, for 138 huge-page faults). With huge pages
//! off for the process (`prctl(PR_SET_THP_DISABLE)`) the kernel hands out recycled 4 KiB pages:
//! 0.5 s and 0.2 s in the kernel, FID features 1.4× faster (7.1–7.4 → 10.3–10.8 images/s, 2
//! threads), the GMM fit 6.2 → 4.0–4.15 s. Training is not helped (its step was 1–4% slower without
//! huge pages: it reuses its buffers and gains from the larger pages), so the setting is held only
//! around those passes and restored afterwards.
//!
//! The setting is process-wide and only a speed hint: where `prctl` is unavailable (not Linux,
//! or a kernel without it) nothing changes, and results are the same either way.

use std::sync::Mutex;

/// Live guards, and whether huge pages were on when the first of them took effect.
static STATE: Mutex<(usize, bool)> = Mutex::new((0, false));

/// Holds transparent huge pages off for the process until the last live guard drops, which
/// turns them back on if they were on before the first. Guards on several threads share one count.
#[must_use = "huge pages are restored when the guard drops"]
pub struct HugePagesOff(());

impl HugePagesOff {
    /// Turns transparent huge pages off for the process, where the OS supports it.
    pub fn new() -> Self {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        if state.0 == 0 {
            state.1 = imp::disable();
        }
        state.0 += 1;
        HugePagesOff(())
    }
}

impl Default for HugePagesOff {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for HugePagesOff {
    fn drop(&mut self) {
        let mut state = STATE.lock().unwrap_or_else(|e| e.into_inner());
        state.0 -= 1;
        if state.0 == 0 && state.1 {
            imp::enable();
        }
    }
}

#[cfg(target_os = "linux")]
mod imp {
    /// Turns huge pages off; true when they were on and are now off.
    pub fn disable() -> bool {
        // SAFETY: PR_GET/SET_THP_DISABLE take no pointers; they read or set one flag of the
        // calling process's memory map.
        unsafe {
            libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 0
                && libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0
        }
    }

    pub fn enable() {
        // SAFETY: as above. A failure leaves huge pages off, which changes only speed.
        unsafe {
            libc::prctl(libc::PR_SET_THP_DISABLE, 0, 0, 0, 0);
        }
    }

    /// Whether huge pages are off for the process (for the tests).
    #[cfg(test)]
    pub fn is_disabled() -> bool {
        // SAFETY: as above.
        unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) == 1 }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    pub fn disable() -> bool {
        false
    }

    pub fn enable() {}
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    #[test]
    fn guards_turn_huge_pages_off_until_the_last_drops() {
        // SAFETY: as in `imp`. A kernel or sandbox without the call has nothing to test.
        if unsafe { libc::prctl(libc::PR_GET_THP_DISABLE, 0, 0, 0, 0) } < 0 {
            eprintln!("SKIPPED: prctl(PR_GET_THP_DISABLE) is not available here");
            return;
        }
        let outer = HugePagesOff::new();
        let inner = std::thread::spawn(HugePagesOff::new).join().unwrap();
        assert!(imp::is_disabled());
        drop(outer);
        assert!(imp::is_disabled(), "one guard is still live");
        drop(inner);
        // Other tests' guards may come and go: check under the lock, when none is live.
        let state = STATE.lock().unwrap();
        if state.0 == 0 && state.1 {
            assert!(!imp::is_disabled(), "the last guard restores");
        }
    }
}
