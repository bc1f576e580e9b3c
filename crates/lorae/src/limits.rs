//! Memory bounds checked before large allocations, so that an absurd size (a flag, a value read
//! from `config.json`, a header field of a file) is an error naming it and the estimate, not an
//! abort of the process (or a machine swapping to a halt).
//!
//! The bound is the memory the system reports as available (`MemAvailable` of `/proc/meminfo`),
//! or the address-space limit (`ulimit -v`, `RLIMIT_AS`) when that is lower, or
//! `LORAE_MEMORY_LIMIT` (bytes, e.g. `8G`) when set; where neither exists it is
//! [`FALLBACK_BYTES`], stated in the error. Estimates are deliberately rough (the largest buffers
//! of the operation, in `u128` so that they cannot overflow): they catch sizes that cannot fit,
//! not sizes that fit tightly.

use crate::error::{Error, Result};

/// The bound when the system tells nothing (no `/proc/meminfo`, no `LORAE_MEMORY_LIMIT`): 16 GiB.
pub const FALLBACK_BYTES: u64 = 16 << 30;

/// The largest allocation lorae attempts, in bytes, and where that number came from. The
/// available memory is read once per process: the allocator keeps freed memory for reuse, so
/// later readings would count it as used.
pub fn memory_bound() -> Result<(u64, &'static str)> {
    if let Ok(text) = std::env::var("LORAE_MEMORY_LIMIT") {
        return match parse_bytes(&text) {
            Some(limit) => Ok((limit, "LORAE_MEMORY_LIMIT")),
            None => Err(Error::invalid(
                "LORAE_MEMORY_LIMIT",
                text,
                "a number of bytes, optionally with K, M or G (powers of 1024), e.g. 8G",
            )),
        };
    }
    static AVAILABLE: std::sync::OnceLock<Option<u64>> = std::sync::OnceLock::new();
    let available = *AVAILABLE.get_or_init(available_memory);
    Ok(match (available, address_space_limit()) {
        (Some(a), Some(l)) if l < a => (l, "the address-space limit (ulimit -v)"),
        (None, Some(l)) => (l, "the address-space limit (ulimit -v)"),
        (Some(bytes), _) => (bytes, "available memory"),
        (None, None) => (FALLBACK_BYTES, "lorae's default bound"),
    })
}

/// The soft `RLIMIT_AS` (`ulimit -v`) in bytes, when one is set: an allocation beyond it fails
/// however much memory the machine has.
fn address_space_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes one rlimit through a valid pointer to a local.
    let ok = unsafe { libc::getrlimit(libc::RLIMIT_AS, &mut limit) } == 0;
    if !ok || limit.rlim_cur == libc::RLIM_INFINITY {
        return None;
    }
    // What the process has mapped already (binary, stacks, allocations) counts against it.
    let mapped = std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status
                .lines()
                .find(|l| l.starts_with("VmSize:"))?
                .to_string();
            line.split_whitespace().nth(1)?.parse::<u64>().ok()
        })
        .map_or(0, |kib| kib.saturating_mul(1024));
    Some(limit.rlim_cur.saturating_sub(mapped))
}

/// `MemAvailable` of `/proc/meminfo`, in bytes.
fn available_memory() -> Option<u64> {
    let text = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = text.lines().find(|l| l.starts_with("MemAvailable:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    kib.checked_mul(1024)
}

/// `123`, `64K`, `8M`, `16G` (powers of 1024) as bytes.
pub fn parse_bytes(text: &str) -> Option<u64> {
    let text = text.trim();
    let (digits, shift) = match text.chars().last()?.to_ascii_uppercase() {
        'K' => (&text[..text.len() - 1], 10),
        'M' => (&text[..text.len() - 1], 20),
        'G' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// A byte count for messages: `3.1 GB`, `512.0 MB`.
pub fn human(bytes: u128) -> String {
    let b = bytes as f64;
    if b >= 1e12 {
        format!("{:.1} TB", b / 1e12)
    } else if b >= 1e9 {
        format!("{:.1} GB", b / 1e9)
    } else {
        format!("{:.1} MB", b / 1e6)
    }
}

/// Fails when `bytes` (the estimate of what `field = value` makes lorae allocate) exceeds the
/// memory bound; the error names the setting, the estimate and the bound.
pub fn check(field: &'static str, value: impl std::fmt::Display, bytes: u128) -> Result<()> {
    let (bound, source) = memory_bound()?;
    if bytes > bound as u128 {
        return Err(Error::invalid(
            field,
            value,
            format!(
                "needs about {} of memory, more than the {} ({}): lower it",
                human(bytes),
                human(bound as u128),
                source
            ),
        ));
    }
    Ok(())
}

/// Fails when decoding `count` images of `shape` (`[C, H, W]`: as floats, their grid and its
/// PNG) cannot fit in memory; the error names `field = value`, the setting that asked for them.
pub fn check_images(
    field: &'static str,
    value: impl std::fmt::Display,
    count: u128,
    shape: [usize; 3],
) -> Result<()> {
    check(
        field,
        value,
        count.saturating_mul(product(&shape)).saturating_mul(4 * 3),
    )
}

/// `a × b × …` in `u128` (no overflow for any product of a few `usize`s).
pub fn product(factors: &[usize]) -> u128 {
    factors
        .iter()
        .fold(1u128, |p, &f| p.saturating_mul(f as u128))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_sizes_and_refuses_the_impossible() {
        assert_eq!(parse_bytes("64K"), Some(64 << 10));
        assert_eq!(parse_bytes("8g"), Some(8 << 30));
        assert_eq!(parse_bytes("123"), Some(123));
        assert_eq!(parse_bytes("lots"), None);
        let err = check("n", 1u64 << 62, product(&[1 << 62, 4])).unwrap_err();
        let text = err.to_string();
        assert!(
            text.contains("`n`") && text.contains("needs about"),
            "{text}"
        );
        check("n", 1, 1024).unwrap();
    }
}
