//! How each file is spelled: name pattern, stamp, text encoding, header and value
//! formats — one choice per file, drawn from shuffled decks.
//!
//! FORMATS.md lists many spellings of the same data; the ingest must accept them
//! all. Decks (rather than independent coin flips) guarantee that every spelling
//! occurs in any run with enough files, and a switched-off variant family always
//! deals its canonical spelling.

use crate::calendar::{DateStyle, TimeStyle};
use crate::options::Variants;
use crate::plan::FileKind;
use crate::rng::{Deck, Rng};

/// `SubscriptionCSV_…` style (the platform's own) or `<client>_subscription_…` style.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum NameStyle {
    Platform,
    Client,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StampStyle {
    /// `MMDDYYYYHHMMSS`
    Digits14,
    /// `YYYYMMDD`
    Ymd,
    /// `YYYYMMDD_delta`
    YmdDelta,
    /// `YYYYMMDD_full`
    YmdFull,
}

impl StampStyle {
    pub(crate) const fn label(self) -> &'static str {
        match self {
            StampStyle::Digits14 => "MMDDYYYYHHMMSS",
            StampStyle::Ymd => "YYYYMMDD",
            StampStyle::YmdDelta => "YYYYMMDD_delta",
            StampStyle::YmdFull => "YYYYMMDD_full",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Encoding {
    Utf8,
    Utf8Bom,
    Windows1252,
}

impl Encoding {
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Windows1252 => "windows-1252",
        }
    }
}

/// Date-times written as one number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Compact {
    /// `MMDDYYYYHHMMSS`
    Digits14,
    /// Epoch seconds of the wall-clock time read as UTC.
    Epoch,
}

impl Compact {
    pub(crate) const fn label(self) -> &'static str {
        match self {
            Compact::Digits14 => "14-digit",
            Compact::Epoch => "epoch",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum MoneyStyle {
    /// `12.50`
    Plain,
    /// `$12.50`
    Dollar,
    /// `1,234.50` (quoted in the CSV)
    Thousands,
    /// `$1,234.50`
    DollarThousands,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum FlagStyle {
    YBlank,
    YN,
    TrueFalse,
    OneZero,
}

impl FlagStyle {
    pub(crate) const fn spell(self, value: bool) -> &'static str {
        match (self, value) {
            (FlagStyle::YBlank | FlagStyle::YN, true) => "Y",
            (FlagStyle::YBlank, false) => "",
            (FlagStyle::YN, false) => "N",
            (FlagStyle::TrueFalse, true) => "true",
            (FlagStyle::TrueFalse, false) => "false",
            (FlagStyle::OneZero, true) => "1",
            (FlagStyle::OneZero, false) => "0",
        }
    }

    pub(crate) const fn label(self) -> &'static str {
        match self {
            FlagStyle::YBlank => "Y/blank",
            FlagStyle::YN => "Y/N",
            FlagStyle::TrueFalse => "true/false",
            FlagStyle::OneZero => "1/0",
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum EventsLayout {
    /// public id, merchant user id, email, code, date
    Five,
    /// … with an undocumented column between email and code
    Six,
}

/// Encoding and line structure of one file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct TextStyle {
    pub encoding: Encoding,
    pub crlf: bool,
    pub trailing_blank: bool,
}

impl TextStyle {
    pub(crate) const fn eol(&self) -> &'static str {
        if self.crlf { "\r\n" } else { "\n" }
    }
}

/// Value spellings of one file.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ValueStyle {
    pub date: DateStyle,
    pub time: TimeStyle,
    /// `Create Date` as one number carrying the creation time.
    pub create_date: Option<Compact>,
    /// `Create Time` as a full date-time.
    pub create_time_full: bool,
    /// Cancel/event dates as one number; used only when every such value in the
    /// file has a time of day (an untimed event must stay untimed).
    pub compact_events: Option<Compact>,
    pub money: MoneyStyle,
    pub flag: FlagStyle,
}

/// The columns of the subscription and cancellation reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Column {
    Merchant,
    UserId,
    MerchantUserId,
    CreateDate,
    CreateTime,
    StartDate,
    CustomerStatus,
    SubscriptionId,
    OfferId,
    MerchantOrderId,
    GuestCheckout,
    EmailAddress,
    FirstName,
    LastName,
    Product,
    ProductId,
    Sku,
    FrequencyDays,
    ReminderDays,
    Status,
    Quantity,
    Price,
    DiscountPrice,
    TwentyFourHourCancel,
    CancelDate,
    CancelReason,
    OrdersPlaced,
    LastOrderDate,
    ExtraDataReporting,
    PublicSubscriptionId,
    /// Not in any documentation: an unknown column the ingest must keep.
    LoyaltyTier,
}

impl Column {
    pub(crate) const fn name(self) -> &'static str {
        match self {
            Column::Merchant => "Merchant",
            Column::UserId => "User ID",
            Column::MerchantUserId => "Merchant User ID",
            Column::CreateDate => "Create Date",
            Column::CreateTime => "Create Time",
            Column::StartDate => "Start Date",
            Column::CustomerStatus => "Customer Status",
            Column::SubscriptionId => "Subscription ID",
            Column::OfferId => "Offer ID",
            Column::MerchantOrderId => "Merchant Order ID",
            Column::GuestCheckout => "Guest Checkout",
            Column::EmailAddress => "Email Address",
            Column::FirstName => "First Name",
            Column::LastName => "Last Name",
            Column::Product => "Product",
            Column::ProductId => "Product ID",
            Column::Sku => "SKU",
            Column::FrequencyDays => "Frequency (days)",
            Column::ReminderDays => "Reminder (days)",
            Column::Status => "Status",
            Column::Quantity => "Quantity",
            Column::Price => "Price",
            Column::DiscountPrice => "Discount Price",
            Column::TwentyFourHourCancel => "24 Hour Cancel",
            Column::CancelDate => "Cancel Date",
            Column::CancelReason => "Cancel Reason",
            Column::OrdersPlaced => "Orders Placed",
            Column::LastOrderDate => "Last Order Date",
            Column::ExtraDataReporting => "Extra Data - Reporting",
            Column::PublicSubscriptionId => "Public Subscription ID",
            Column::LoyaltyTier => "Loyalty Tier",
        }
    }
}

/// The documented column order (FORMATS.md).
const DOCUMENTED: [Column; 30] = [
    Column::Merchant,
    Column::UserId,
    Column::MerchantUserId,
    Column::CreateDate,
    Column::CreateTime,
    Column::StartDate,
    Column::CustomerStatus,
    Column::SubscriptionId,
    Column::OfferId,
    Column::MerchantOrderId,
    Column::GuestCheckout,
    Column::EmailAddress,
    Column::FirstName,
    Column::LastName,
    Column::Product,
    Column::ProductId,
    Column::Sku,
    Column::FrequencyDays,
    Column::ReminderDays,
    Column::Status,
    Column::Quantity,
    Column::Price,
    Column::DiscountPrice,
    Column::TwentyFourHourCancel,
    Column::CancelDate,
    Column::CancelReason,
    Column::OrdersPlaced,
    Column::LastOrderDate,
    Column::ExtraDataReporting,
    Column::PublicSubscriptionId,
];

/// The header written when header variants are off (the conformance suite's).
const CANONICAL: [Column; 17] = [
    Column::SubscriptionId,
    Column::PublicSubscriptionId,
    Column::UserId,
    Column::MerchantUserId,
    Column::EmailAddress,
    Column::CreateDate,
    Column::CreateTime,
    Column::Status,
    Column::TwentyFourHourCancel,
    Column::CancelDate,
    Column::CancelReason,
    Column::Product,
    Column::ProductId,
    Column::Sku,
    Column::FrequencyDays,
    Column::Quantity,
    Column::Price,
];

/// Columns every report has (the keys, and `Product`, which the truth groups by).
fn required(column: Column, kind: FileKind) -> bool {
    matches!(
        column,
        Column::SubscriptionId | Column::PublicSubscriptionId | Column::UserId | Column::CreateDate | Column::Product
    ) || (kind == FileKind::Cancellations && column == Column::CancelDate)
}

/// A report header: the columns in file order and their spelled names.
#[derive(Clone, Debug)]
pub(crate) struct Header {
    pub columns: Vec<Column>,
    pub names: Vec<String>,
    pub shuffled: bool,
    pub optional_absent: bool,
    pub user_id_alias: bool,
    pub case_varied: bool,
    pub extra_column: bool,
}

/// Draws the spelling of each file.
pub(crate) struct Styler {
    rng: Rng,
    names: [Deck<NameStyle>; 3],
    stamps: Deck<StampStyle>,
    report_encodings: Deck<Encoding>,
    other_encodings: Deck<Encoding>,
    crlf: Deck<bool>,
    trailing_blank: Deck<bool>,
    dates: Deck<DateStyle>,
    times: Deck<TimeStyle>,
    create_dates: Deck<Option<Compact>>,
    create_time_full: Deck<bool>,
    compact_events: Deck<Option<Compact>>,
    money: Deck<MoneyStyle>,
    flags: Deck<FlagStyle>,
    layouts: Deck<EventsLayout>,
    shuffled: Deck<bool>,
    user_id_alias: Deck<bool>,
    case_varied: Deck<bool>,
    extra_column: Deck<bool>,
    headers_vary: bool,
}

/// A deck of `options` when the family is on, of `canonical` alone when off.
fn deck<T: Copy>(on: bool, options: &[T], canonical: T) -> Deck<T> {
    if on { Deck::new(options, canonical) } else { Deck::new(&[canonical], canonical) }
}

impl Styler {
    pub(crate) fn new(variants: &Variants, seed: u64) -> Self {
        let v = variants;
        let name_deck = || deck(v.file_names, &[NameStyle::Platform, NameStyle::Client], NameStyle::Client);
        use Encoding::{Utf8, Utf8Bom, Windows1252};
        Styler {
            rng: Rng::derive(seed, 0x57e1, 0),
            names: [name_deck(), name_deck(), name_deck()],
            stamps: deck(
                v.file_names,
                &[StampStyle::Digits14, StampStyle::Ymd, StampStyle::YmdDelta],
                StampStyle::Digits14,
            ),
            report_encodings: deck(v.text, &[Utf8, Utf8, Utf8Bom, Windows1252], Utf8),
            other_encodings: deck(v.text, &[Utf8, Utf8, Utf8Bom], Utf8),
            crlf: deck(v.text, &[false, false, true], false),
            trailing_blank: deck(v.text, &[false, false, false, true], false),
            dates: deck(v.values, &[DateStyle::Mdy, DateStyle::Iso], DateStyle::Mdy),
            times: deck(v.values, &[TimeStyle::Hms, TimeStyle::Hm], TimeStyle::Hms),
            create_dates: deck(v.values, &[None, None, Some(Compact::Digits14), Some(Compact::Epoch)], None),
            create_time_full: deck(v.values, &[false, false, true], false),
            compact_events: deck(v.values, &[None, Some(Compact::Digits14), Some(Compact::Epoch)], None),
            money: deck(
                v.values,
                &[MoneyStyle::Plain, MoneyStyle::Dollar, MoneyStyle::Thousands, MoneyStyle::DollarThousands],
                MoneyStyle::Plain,
            ),
            flags: deck(
                v.values,
                &[FlagStyle::YBlank, FlagStyle::YN, FlagStyle::TrueFalse, FlagStyle::OneZero],
                FlagStyle::YBlank,
            ),
            layouts: deck(v.events, &[EventsLayout::Five, EventsLayout::Six], EventsLayout::Five),
            shuffled: deck(v.headers, &[false, true, true], false),
            user_id_alias: deck(v.headers, &[false, false, true], false),
            case_varied: deck(v.headers, &[false, false, true], false),
            extra_column: deck(v.headers, &[false, false, false, false, true], false),
            headers_vary: v.headers,
        }
    }

    pub(crate) fn name(&mut self, kind: FileKind) -> NameStyle {
        match kind {
            FileKind::Subscriptions => self.names[0].draw(&mut self.rng),
            FileKind::Cancellations => self.names[1].draw(&mut self.rng),
            FileKind::Events => self.names[2].draw(&mut self.rng),
            _ => NameStyle::Client,
        }
    }

    pub(crate) fn stamp(&mut self) -> StampStyle {
        self.stamps.draw(&mut self.rng)
    }

    /// Windows-1252 only for the reports, which carry names with accents and curly quotes.
    pub(crate) fn text(&mut self, kind: FileKind) -> TextStyle {
        let encoding = match kind {
            FileKind::Subscriptions | FileKind::Cancellations => self.report_encodings.draw(&mut self.rng),
            _ => self.other_encodings.draw(&mut self.rng),
        };
        TextStyle {
            encoding,
            crlf: self.crlf.draw(&mut self.rng),
            trailing_blank: self.trailing_blank.draw(&mut self.rng),
        }
    }

    pub(crate) fn values(&mut self) -> ValueStyle {
        ValueStyle {
            date: self.dates.draw(&mut self.rng),
            time: self.times.draw(&mut self.rng),
            create_date: self.create_dates.draw(&mut self.rng),
            create_time_full: self.create_time_full.draw(&mut self.rng),
            compact_events: self.compact_events.draw(&mut self.rng),
            money: self.money.draw(&mut self.rng),
            flag: self.flags.draw(&mut self.rng),
        }
    }

    pub(crate) fn events_layout(&mut self) -> EventsLayout {
        self.layouts.draw(&mut self.rng)
    }

    /// A header for a report of `kind`; files in Windows-1252 always carry the names.
    pub(crate) fn header(&mut self, kind: FileKind, encoding: Encoding) -> Header {
        let rng = &mut self.rng;
        let mut columns: Vec<Column>;
        let mut optional_absent = false;
        if self.headers_vary {
            columns = Vec::with_capacity(DOCUMENTED.len() + 1);
            for column in DOCUMENTED {
                if column == Column::ExtraDataReporting && kind != FileKind::Subscriptions {
                    continue;
                }
                let names = matches!(column, Column::FirstName | Column::LastName);
                let keep = required(column, kind) || (names && encoding == Encoding::Windows1252) || rng.chance(750);
                // A subscription report always says what MRR needs; a cancellation
                // report may not (the attributes then come from other rows).
                let revenue = kind == FileKind::Subscriptions
                    && matches!(column, Column::Price | Column::Quantity | Column::FrequencyDays);
                if keep || revenue {
                    columns.push(column);
                } else {
                    optional_absent = true;
                }
            }
        } else {
            columns = CANONICAL.to_vec();
        }
        let extra_column = self.extra_column.draw(rng);
        if extra_column {
            let at = rng.below(columns.len() as u64 + 1) as usize;
            columns.insert(at, Column::LoyaltyTier);
        }
        let shuffled = self.shuffled.draw(rng);
        if shuffled {
            rng.shuffle(&mut columns);
        }
        let user_id_alias = self.user_id_alias.draw(rng);
        let case_varied = self.case_varied.draw(rng);
        let mut names: Vec<String> = columns
            .iter()
            .map(|&c| {
                if c == Column::UserId && user_id_alias {
                    "Ordergroove User ID".to_string()
                } else {
                    c.name().to_string()
                }
            })
            .collect();
        if case_varied {
            let mut changed = false;
            for (name, &column) in names.iter_mut().zip(&columns) {
                let per_mille = if matches!(column, Column::SubscriptionId | Column::Product) { 500 } else { 150 };
                if !rng.chance(per_mille) {
                    continue;
                }
                changed = true;
                *name = match (column, rng.below(3)) {
                    (Column::SubscriptionId, _) | (_, 0) => name.to_lowercase(),
                    (Column::Product, _) | (_, 1) => format!(" {name} "),
                    _ => name.to_uppercase(),
                };
            }
            let subscription_id = columns.iter().position(|&c| c == Column::SubscriptionId);
            if let (false, Some(i)) = (changed, subscription_id) {
                names[i] = names[i].to_lowercase();
            }
        }
        Header { columns, names, shuffled, optional_absent, user_id_alias, case_varied, extra_column }
    }

    /// Random numbers for choices that belong to the file's spelling.
    pub(crate) fn rng(&mut self) -> &mut Rng {
        &mut self.rng
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_keep_required_columns() {
        let mut styler = Styler::new(&Variants::all(), 3);
        for _ in 0..200 {
            for kind in [FileKind::Subscriptions, FileKind::Cancellations] {
                let header = styler.header(kind, Encoding::Windows1252);
                for column in [
                    Column::SubscriptionId,
                    Column::PublicSubscriptionId,
                    Column::UserId,
                    Column::CreateDate,
                    Column::Product,
                ] {
                    assert!(header.columns.contains(&column));
                }
                assert!(header.columns.contains(&Column::FirstName));
                assert!(kind != FileKind::Cancellations || header.columns.contains(&Column::CancelDate));
                assert_eq!(header.columns.len(), header.names.len());
            }
        }
        let mut plain = Styler::new(&Variants::none(), 3);
        let header = plain.header(FileKind::Subscriptions, Encoding::Utf8);
        assert_eq!(
            header.names.join(","),
            "Subscription ID,Public Subscription ID,User ID,Merchant User ID,Email Address,Create Date,Create Time,Status,24 Hour Cancel,Cancel Date,Cancel Reason,Product,Product ID,SKU,Frequency (days),Quantity,Price"
        );
    }
}
