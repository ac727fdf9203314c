//! Stable hashes. Every number the simulator derives from names and seeds
//! (template hashes, pod IPs, image sizes, noise, log text, backup runs)
//! comes from these, so a run repeats; changing one changes what every
//! simulated cluster shows.

const FNV64_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV64_PRIME: u64 = 0x0100_0000_01b3;

/// FNV-1a, 32 bits: what kube's `controller.ComputeHash` feeds a pod
/// template to.
pub(crate) fn fnv32a(bytes: &[u8]) -> u32 {
    bytes.iter().fold(0x811c_9dc5, |h, b| {
        (h ^ u32::from(*b)).wrapping_mul(0x0100_0193)
    })
}

/// FNV-1a, 64 bits.
pub(crate) fn fnv64(bytes: impl IntoIterator<Item = u8>) -> u64 {
    bytes.into_iter().fold(FNV64_OFFSET, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(FNV64_PRIME)
    })
}

/// FNV-1a, 64 bits, over the parts, each followed by `sep` so that
/// ("ab", "c") and ("a", "bc") differ.
pub(crate) fn fnv64_parts(parts: &[&str], sep: u8) -> u64 {
    fnv64(
        parts
            .iter()
            .flat_map(|p| p.bytes().chain(std::iter::once(sep))),
    )
}

/// A splitmix64 step: cheap, well mixed, stable across platforms and
/// releases.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv_matches_the_reference_vectors() {
        assert_eq!(fnv32a(b""), 0x811c_9dc5);
        assert_eq!(fnv32a(b"a"), 0xe40c_292c);
        assert_eq!(fnv64(*b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv64(*b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv64_parts(&["a"], 0), fnv64(*b"a\0"));
        assert_ne!(fnv64_parts(&["ab", "c"], 0), fnv64_parts(&["a", "bc"], 0));
    }
}
