//! The fixed world the synthetic merchant lives in: its product catalogue, its
//! customers' names, cancel reasons and the id schemes.
//!
//! Kept in one place so that the drops and the truth agree on every attribute
//! (the product of a subscription never changes, ids are derived, not stored) and
//! so that the Windows-1252 files only ever need characters that encoding has.

use std::fmt::Write as _;

use crate::rng::mix64;

/// Merchant prefix of `<client>_…` file names; it holds an underscore on purpose.
pub(crate) const CLIENT: &str = "acme_tea";
/// Value of the `Merchant` column.
pub(crate) const MERCHANT: &str = "Acme Tea Co.";
/// Subscription ids are `SUBSCRIPTION_ID_BASE + index` as text.
pub(crate) const SUBSCRIPTION_ID_BASE: u64 = 1_000_001;
/// User ids are `USER_ID_BASE + index` as text.
pub(crate) const USER_ID_BASE: u64 = 7_000_001;
/// Orphan code-9 rows use public ids derived from this disjoint id range.
pub(crate) const ORPHAN_ID_BASE: u64 = 900_000_000;

/// One product of the catalogue.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Product {
    pub name: &'static str,
    pub product_id: &'static str,
    pub sku: &'static str,
    pub price_cents: u64,
    pub frequency_days: u32,
    /// Relative popularity.
    pub weight: u32,
}

pub(crate) const PRODUCTS: [Product; 7] = [
    Product {
        name: "Green Tea Tin 100g",
        product_id: "2001",
        sku: "GT-100",
        price_cents: 1250,
        frequency_days: 28,
        weight: 30,
    },
    Product {
        name: "Oolong Sampler",
        product_id: "2002",
        sku: "OS-5",
        price_cents: 2400,
        frequency_days: 56,
        weight: 18,
    },
    Product {
        name: "Breakfast Black Tea 250g",
        product_id: "2003",
        sku: "BT-250",
        price_cents: 975,
        frequency_days: 14,
        weight: 20,
    },
    Product {
        name: "Matcha Ceremonial 30g",
        product_id: "2004",
        sku: "MC-30",
        price_cents: 3200,
        frequency_days: 30,
        weight: 12,
    },
    Product {
        name: "Rooibos Crème 100g",
        product_id: "2005",
        sku: "RB-100",
        price_cents: 1490,
        frequency_days: 28,
        weight: 10,
    },
    Product {
        name: "Tea Club Quarterly Crate",
        product_id: "2006",
        sku: "TC-Q",
        price_cents: 8900,
        frequency_days: 90,
        weight: 8,
    },
    Product {
        name: "Estate Reserve Collection",
        product_id: "2007",
        sku: "ER-1",
        price_cents: 123_450,
        frequency_days: 90,
        weight: 2,
    },
];

pub(crate) fn product_weights() -> [u32; PRODUCTS.len()] {
    PRODUCTS.map(|product| product.weight)
}

/// (name, ASCII slug for e-mail addresses, needs CSV quoting or is otherwise "tricky").
type Name = (&'static str, &'static str, bool);

const FIRST_NAMES: [Name; 24] = [
    ("Ann", "ann", false),
    ("Ben", "ben", false),
    ("Cara", "cara", false),
    ("Dev", "dev", false),
    ("Emma", "emma", false),
    ("Finn", "finn", false),
    ("Grace", "grace", false),
    ("Hiro", "hiro", false),
    ("Ines", "ines", false),
    ("Jamal", "jamal", false),
    ("Kai", "kai", false),
    ("Lena", "lena", false),
    ("Zoë", "zoe", false),
    ("José", "jose", false),
    ("Renée", "renee", false),
    ("Chloé", "chloe", false),
    ("François", "francois", false),
    ("Björn", "bjorn", false),
    ("Søren", "soren", false),
    ("Ümit", "umit", false),
    ("Robert “Bob”", "bob", false),
    ("Ann \"Annie\"", "annie", true),
    ("Mary-Kate", "marykate", false),
    ("Siobhán", "siobhan", false),
];

const LAST_NAMES: [Name; 20] = [
    ("Smith", "smith", false),
    ("Jones", "jones", false),
    ("Nguyen", "nguyen", false),
    ("Patel", "patel", false),
    ("Okafor", "okafor", false),
    ("Kowalski", "kowalski", false),
    ("O’Brien", "obrien", false),
    ("D’Angelo", "dangelo", false),
    ("Müller", "muller", false),
    ("García", "garcia", false),
    ("Núñez", "nunez", false),
    ("Lefèvre", "lefevre", false),
    ("Brontë", "bronte", false),
    ("Ødegaard", "odegaard", false),
    ("Smith, Jr.", "smithjr", true),
    ("Rossi", "rossi", false),
    ("Andersson", "andersson", false),
    ("Dubois", "dubois", false),
    ("Wong", "wong", false),
    ("Schäfer", "schafer", false),
];

/// A customer's (first name, last name, e-mail), derived from the user index.
/// With `tricky` false, names that need quoting are replaced by plain ones.
pub(crate) fn person(user: u32, tricky: bool) -> (&'static str, &'static str, String) {
    let h = mix64(u64::from(user) ^ 0x005e_ed0f_u64);
    let pick = |list: &[Name], h: u64| {
        let name = list[(h % list.len() as u64) as usize];
        if name.2 && !tricky { list[0] } else { name }
    };
    let first = pick(&FIRST_NAMES, h);
    let last = pick(&LAST_NAMES, h >> 20);
    let email = format!("{}.{}{}@example.com", first.1, last.1, u64::from(user) + USER_ID_BASE);
    (first.0, last.0, email)
}

const PLAIN_REASONS: [&str; 7] =
    ["Too expensive", "Too much product", "Moving", "Switching brands", "Other", "Did not like the taste", ""];

const TRICKY_REASONS: [&str; 4] = [
    "Too expensive, found a cheaper shop",
    "Moving abroad\nwill be back next year",
    "Said \"too strong\", prefers herbal",
    "Gift ended, no longer needed",
];

/// The cancel reason of a subscription's `nth` cancellation.
pub(crate) fn cancel_reason(subscription: u32, nth: usize, tricky: bool) -> &'static str {
    let h = mix64(u64::from(subscription) ^ ((nth as u64) << 40) ^ 0xca7_ce1);
    if tricky && h.is_multiple_of(5) {
        TRICKY_REASONS[((h >> 8) % TRICKY_REASONS.len() as u64) as usize]
    } else {
        PLAIN_REASONS[((h >> 8) % PLAIN_REASONS.len() as u64) as usize]
    }
}

/// The `Extra Data - Reporting` value of a subscription.
pub(crate) fn extra_data(subscription: u32, tricky: bool) -> &'static str {
    const VALUES: [&str; 5] =
        ["", "", "{\"channel\":\"web\"}", "{\"channel\":\"app\",\"gift\":true}", "campaign=spring, code=TEA10"];
    let value = VALUES[(mix64(u64::from(subscription) ^ 0xe87a) % VALUES.len() as u64) as usize];
    if !tricky && value.contains([',', '"']) { "" } else { value }
}

/// Values of the unknown extra column some files carry.
pub(crate) fn loyalty_tier(user: u32) -> &'static str {
    ["Gold", "Silver", "Bronze", ""][(mix64(u64::from(user) ^ 0x10ca1) % 4) as usize]
}

/// 32 lowercase hex characters derived from an id; the first half is a bijection
/// of the id, so distinct ids always get distinct public ids.
pub(crate) fn push_public_id(buf: &mut String, id: u64) {
    let _ = write!(buf, "{:016x}{:016x}", mix64(id ^ 0x0f0f_5ca1_ab1e), mix64(id.wrapping_add(0x7075_626c_6963)));
}

#[cfg(test)]
pub(crate) fn public_id(id: u64) -> String {
    let mut buf = String::with_capacity(32);
    push_public_id(&mut buf, id);
    buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_name_and_product_fits_windows_1252() {
        let texts = FIRST_NAMES.iter().chain(LAST_NAMES.iter()).map(|n| n.0).chain(PRODUCTS.iter().map(|p| p.name));
        for text in texts {
            let (_, _, lossy) = encoding_rs::WINDOWS_1252.encode(text);
            assert!(!lossy, "{text}");
        }
    }

    #[test]
    fn public_ids_are_32_lowercase_hex_and_distinct() {
        let a = public_id(SUBSCRIPTION_ID_BASE);
        assert_eq!(a.len(), 32);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));
        assert_ne!(a, public_id(SUBSCRIPTION_ID_BASE + 1));
        assert_ne!(a, public_id(ORPHAN_ID_BASE));
    }

    #[test]
    fn plain_mode_avoids_quoting() {
        for user in 0..500 {
            let (first, last, email) = person(user, false);
            assert!(!first.contains([',', '"']) && !last.contains([',', '"']));
            assert!(email.is_ascii());
            for nth in 0..3 {
                assert!(!cancel_reason(user, nth, false).contains([',', '"', '\n']));
            }
            assert!(!extra_data(user, false).contains([',', '"']));
        }
    }
}
