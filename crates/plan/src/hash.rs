//! A fast, non-cryptographic hasher for the planner's indexes (the Fx hash of rustc).
//!
//! Planning looks up every reference of every object by group, kind, namespace and name; the
//! standard SipHash costs more than the rest of a lookup. The keys come from the user's own
//! manifests, so resistance to hash flooding is not needed here.

use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// The Fx hasher: rotate, xor, multiply, one machine word at a time.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct FxHasher {
    hash: u64,
}

const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;

impl FxHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(SEED);
    }
}

impl Hasher for FxHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            self.add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(word));
        }
    }

    fn write_u8(&mut self, value: u8) {
        self.add(u64::from(value));
    }

    fn write_usize(&mut self, value: usize) {
        self.add(value as u64);
    }

    fn finish(&self) -> u64 {
        self.hash
    }
}

/// A `HashMap` with the Fx hasher.
pub(crate) type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FxHasher>>;

#[cfg(test)]
mod tests {
    use super::FastMap;

    #[test]
    fn a_map_finds_what_it_holds() {
        let mut map: FastMap<(&str, Option<&str>), usize> = FastMap::default();
        for i in 0..1000 {
            map.insert(if i % 2 == 0 { ("a", None) } else { ("b", Some("n")) }, i);
        }
        assert_eq!(map.len(), 2);
        let keys: Vec<String> = (0..500).map(|i| format!("key-{i}")).collect();
        let map: FastMap<&str, usize> = keys.iter().enumerate().map(|(i, k)| (k.as_str(), i)).collect();
        assert!(keys.iter().enumerate().all(|(i, k)| map[k.as_str()] == i));
    }
}
