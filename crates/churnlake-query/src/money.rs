//! Exact money (METRICS.md "Money"): MRR as exact fractions, rounded half to even to
//! cents only when printed.
//!
//! A subscription's MRR is `price × quantity × 30.4375 ÷ frequency_days`; with the price in
//! the lake's integer units (cents at scale 2) that is `units × quantity × 487 ÷ (16 ×
//! frequency × 10^scale)` exactly (30.4375 = 487 / 16). Amounts are summed per frequency
//! as integers ([`FrequencySums`]): the sum over subscriptions of one frequency is an
//! integer numerator over that frequency's denominator, so a day's total is exact, and its
//! value as one fraction ([`Exact`]) is reduced with big integers (no overflow whatever
//! the frequencies).

use std::collections::BTreeMap;
use std::fmt;
use std::ops::{Add, AddAssign, Neg, Sub};

use churnlake_lake::MONEY_SCALE;
use num_bigint::BigInt;
use num_integer::Integer;
use num_traits::{One, Signed, ToPrimitive, Zero};

use crate::error::{QueryError, Result};

/// The days-per-month factor of MRR (365.25 / 12), printed with every MRR figure.
pub const MRR_FACTOR: &str = "30.4375";
const FACTOR_NUM: i64 = 487;
const FACTOR_DEN: i64 = 16;

/// An exact amount in currency units: a reduced fraction with a positive denominator.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Exact {
    num: BigInt,
    den: BigInt,
}

impl Default for Exact {
    fn default() -> Exact {
        Exact::zero()
    }
}

impl Exact {
    pub fn zero() -> Exact {
        Exact { num: BigInt::zero(), den: BigInt::one() }
    }

    /// `num / den` reduced; `den` must not be zero.
    fn new(num: BigInt, den: BigInt) -> Exact {
        debug_assert!(!den.is_zero());
        let (num, den) = if den.is_negative() { (-num, -den) } else { (num, den) };
        let g = num.gcd(&den);
        if g.is_zero() || g.is_one() {
            return Exact { num, den };
        }
        Exact { num: num / &g, den: den / &g }
    }

    /// An amount in whole cents.
    pub fn from_cents(cents: i64) -> Exact {
        Exact::new(BigInt::from(cents), BigInt::from(100))
    }

    /// This amount divided by a count (`None` when the count is 0).
    pub fn per(&self, count: i64) -> Option<Exact> {
        (count != 0).then(|| Exact::new(self.num.clone(), &self.den * BigInt::from(count)))
    }

    /// Rounded half to even to whole cents.
    pub fn cents(&self) -> BigInt {
        let scaled = &self.num * BigInt::from(100);
        let (q, r) = scaled.div_mod_floor(&self.den);
        let twice = &r * BigInt::from(2);
        let up = match twice.cmp(&self.den) {
            std::cmp::Ordering::Greater => true,
            std::cmp::Ordering::Equal => q.is_odd(),
            std::cmp::Ordering::Less => false,
        };
        if up { q + BigInt::one() } else { q }
    }

    /// Rounded half to even to cents, as an `i128` for a DECIMAL column (`None` beyond it).
    pub fn cents_i128(&self) -> Option<i128> {
        self.cents().to_i128()
    }

    /// The numerator and denominator of the reduced fraction, as text.
    pub fn fraction(&self) -> (String, String) {
        (self.num.to_string(), self.den.to_string())
    }
}

impl fmt::Display for Exact {
    /// Two decimals, rounded half to even.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cents = self.cents();
        let sign = if cents.is_negative() { "-" } else { "" };
        let abs = cents.abs();
        let (units, rest) = abs.div_rem(&BigInt::from(100));
        write!(f, "{sign}{units}.{:02}", rest.to_u32().unwrap_or(0))
    }
}

impl Add<&Exact> for &Exact {
    type Output = Exact;
    fn add(self, other: &Exact) -> Exact {
        if self.den == other.den {
            return Exact::new(&self.num + &other.num, self.den.clone());
        }
        Exact::new(&self.num * &other.den + &other.num * &self.den, &self.den * &other.den)
    }
}

impl Sub<&Exact> for &Exact {
    type Output = Exact;
    fn sub(self, other: &Exact) -> Exact {
        self + &(-other.clone())
    }
}

impl Neg for Exact {
    type Output = Exact;
    fn neg(self) -> Exact {
        Exact { num: -self.num, den: self.den }
    }
}

impl AddAssign<&Exact> for Exact {
    fn add_assign(&mut self, other: &Exact) {
        *self = &*self + other;
    }
}

/// Σ price units × quantity per frequency: the exact MRR of a set of subscriptions,
/// `Σ_f sum_f × 487 ÷ (16 × f × 10^scale)`.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct FrequencySums(BTreeMap<i32, i128>);

impl FrequencySums {
    /// Adds `units` (price units × quantity, signed) at `frequency`.
    pub(crate) fn add(&mut self, frequency: i32, units: i128) -> Result<()> {
        let entry = self.0.entry(frequency).or_insert(0);
        *entry = entry.checked_add(units).ok_or(QueryError::MoneyOverflow)?;
        Ok(())
    }

    pub(crate) fn merge(&mut self, other: &FrequencySums) -> Result<()> {
        for (frequency, units) in &other.0 {
            self.add(*frequency, *units)?;
        }
        Ok(())
    }

    /// The exact amount in currency units.
    pub(crate) fn value(&self) -> Exact {
        let scale = BigInt::from(10).pow(MONEY_SCALE.max(0) as u32);
        let mut total = Exact::zero();
        for (frequency, units) in &self.0 {
            if *units == 0 {
                continue;
            }
            let num = BigInt::from(*units) * BigInt::from(FACTOR_NUM);
            let den = BigInt::from(FACTOR_DEN) * BigInt::from(*frequency) * &scale;
            total += &Exact::new(num, den);
        }
        total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sums(entries: &[(i32, i128)]) -> FrequencySums {
        let mut s = FrequencySums::default();
        for (f, u) in entries {
            s.add(*f, *u).expect("no overflow");
        }
        s
    }

    #[test]
    fn mrr_is_exact_and_rounds_half_to_even() {
        // 10.00 × 1 × 30.4375 / 30 = 10.1458333…
        assert_eq!(sums(&[(30, 1000)]).value().to_string(), "10.15");
        // 16.00 × 30.4375 / 487 … a value exactly on a half cent: 0.125 → 0.12, 0.375 → 0.38
        assert_eq!(Exact::new(BigInt::from(1), BigInt::from(8)).to_string(), "0.12");
        assert_eq!(Exact::new(BigInt::from(3), BigInt::from(8)).to_string(), "0.38");
        assert_eq!(Exact::new(BigInt::from(-1), BigInt::from(8)).to_string(), "-0.12");
        assert_eq!(Exact::new(BigInt::from(-3), BigInt::from(8)).to_string(), "-0.38");
        // 3 × (10.00 at 30 days) and 20.00 at 60 days: 30.4375 + 10.1458333 = 40.583333…
        let v = sums(&[(30, 3000), (60, 2000)]).value();
        assert_eq!(v.fraction(), ("487".into(), "12".into()));
        assert_eq!(v.to_string(), "40.58");
    }

    #[test]
    fn sums_cancel_exactly() {
        let a = sums(&[(30, 999), (7, 1)]).value();
        let b = sums(&[(30, -999), (7, -1)]).value();
        assert_eq!(&a + &b, Exact::zero());
        assert_eq!(Exact::from_cents(1050).per(2).map(|e| e.to_string()), Some("5.25".into()));
        assert_eq!(Exact::from_cents(1050).per(0), None);
    }
}
