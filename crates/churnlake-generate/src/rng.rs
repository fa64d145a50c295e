//! A small seeded pseudo-random generator (SplitMix64) and a shuffled "deck".
//!
//! The generator must produce byte-identical output for the same options on every
//! machine, so it uses integer arithmetic only (no floats, no platform `libm`) and
//! no external crate whose stream could change between versions. A [`Deck`] deals
//! every option once per shuffled round, which guarantees that each format
//! variant shows up in any run with enough files, while the order still varies.

/// SplitMix64's output function: a bijection on `u64` with good avalanche.
pub(crate) const fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64 (Steele, Lea & Flood): tiny, fast and fully deterministic.
#[derive(Clone, Debug)]
pub(crate) struct Rng {
    state: u64,
}

impl Rng {
    pub(crate) fn new(seed: u64) -> Self {
        Rng { state: mix64(seed ^ 0x6a09_e667_f3bc_c908) }
    }

    /// An independent stream for (`stream`, `index`) under the run's seed, so that
    /// one part of the generator drawing more numbers never shifts another part.
    pub(crate) fn derive(seed: u64, stream: u64, index: u64) -> Self {
        Rng::new(mix64(seed ^ mix64(stream.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ mix64(index))))
    }

    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix64(self.state)
    }

    /// Uniform in `0..n` (0 when `n` is 0), by multiply-shift.
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi` (returns `lo` when `hi < lo`).
    pub(crate) fn range(&mut self, lo: i64, hi: i64) -> i64 {
        if hi <= lo {
            return lo;
        }
        lo + self.below((hi - lo + 1) as u64) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub(crate) fn chance(&mut self, per_mille: u32) -> bool {
        self.below(1000) < u64::from(per_mille)
    }

    /// An index drawn with the given integer weights (all-zero weights give 0).
    pub(crate) fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut ticket = self.below(total);
        for (index, &weight) in weights.iter().enumerate() {
            if ticket < u64::from(weight) {
                return index;
            }
            ticket -= u64::from(weight);
        }
        0
    }

    pub(crate) fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

/// Deals a fixed set of options in shuffled rounds: every option once per round.
#[derive(Clone, Debug)]
pub(crate) struct Deck<T: Copy> {
    cards: Vec<T>,
    next: usize,
}

impl<T: Copy> Deck<T> {
    /// A deck of `cards`; an empty list is replaced by `fallback` alone.
    pub(crate) fn new(cards: &[T], fallback: T) -> Self {
        let cards = if cards.is_empty() { vec![fallback] } else { cards.to_vec() };
        Deck { cards, next: 0 }
    }

    pub(crate) fn draw(&mut self, rng: &mut Rng) -> T {
        if self.next == 0 {
            rng.shuffle(&mut self.cards);
        }
        let card = self.cards[self.next];
        self.next = (self.next + 1) % self.cards.len();
        card
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_stream_and_streams_differ() {
        let a: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        let b: Vec<u64> = (0..8)
            .map({
                let mut r = Rng::new(7);
                move |_| r.next_u64()
            })
            .collect();
        assert_eq!(a, b);
        assert_ne!(Rng::derive(7, 1, 0).next_u64(), Rng::derive(7, 2, 0).next_u64());
        assert_ne!(Rng::derive(7, 1, 0).next_u64(), Rng::derive(7, 1, 1).next_u64());
    }

    #[test]
    fn below_and_range_stay_in_bounds() {
        let mut rng = Rng::new(1);
        for _ in 0..10_000 {
            assert!(rng.below(7) < 7);
            let v = rng.range(-3, 3);
            assert!((-3..=3).contains(&v));
        }
        assert_eq!(rng.below(0), 0);
        assert_eq!(rng.range(5, 2), 5);
    }

    #[test]
    fn deck_deals_every_card_each_round() {
        let mut rng = Rng::new(3);
        let mut deck = Deck::new(&[1, 2, 3, 4], 0);
        for _ in 0..5 {
            let mut round: Vec<i32> = (0..4).map(|_| deck.draw(&mut rng)).collect();
            round.sort_unstable();
            assert_eq!(round, vec![1, 2, 3, 4]);
        }
    }
}
