//! Sizing to the function: Lambda gives CPU in proportion to memory, so the signers
//! follow `AWS_LAMBDA_FUNCTION_MEMORY_SIZE` rather than the cores the kernel shows (which is 2
//! or more even where the function gets a fraction of one).

use std::num::NonZeroUsize;

/// Megabytes of function memory that buy one vCPU ("at 1,769 MB, a function has the equivalent
/// of one vCPU", AWS Lambda developer guide, "Configuring function memory").
const MB_PER_VCPU: u64 = 1769;

/// The most vCPUs a function has (at 10,240 MB).
const MAX_VCPUS: u64 = 6;

/// The vCPUs of a function with `memory_mb` of memory: at least 1, at most 6.
pub(crate) fn vcpus(memory_mb: u64) -> NonZeroUsize {
    let n = memory_mb.div_ceil(MB_PER_VCPU).clamp(1, MAX_VCPUS);
    NonZeroUsize::new(usize::try_from(n).unwrap_or(1)).unwrap_or(NonZeroUsize::MIN)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vcpus_follow_memory() {
        for (memory, expected) in [
            (0, 1),
            (128, 1),
            (1769, 1),
            (1770, 2),
            (3008, 2),
            (5307, 3),
            (10240, 6),
            (u64::MAX, 6),
        ] {
            assert_eq!(vcpus(memory).get(), expected, "{memory} MB");
        }
    }
}
