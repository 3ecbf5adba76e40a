//! Business hours in an IANA time zone, with holidays: decides `off_hours`.

use jiff::Timestamp;
use jiff::civil::{Date, Time, Weekday};
use jiff::tz::TimeZone;

#[derive(Debug, Clone)]
pub struct BusinessHours {
    zone: TimeZone,
    zone_name: String,
    windows: Vec<Window>,
    holidays: Vec<Date>,
}

/// One weekly window: on each listed day, from `start` (inclusive) to `end` (exclusive). An end at
/// or before the start runs past midnight into the next day.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Window {
    days: Vec<Weekday>,
    start: Time,
    /// `None` means midnight at the end of the day (`24:00`).
    end: Option<Time>,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HoursError {
    #[error("unknown time zone `{0}` (use an IANA name such as Europe/Berlin)")]
    UnknownZone(String),
    #[error(
        "time zone `{0}`: this machine has no time-zone database (install the tzdata package, \
         or use UTC)"
    )]
    NoZoneDatabase(String),
    #[error(
        "business hours `{spec}`: {reason} (expected e.g. `Mon-Fri 08:00-18:00; Sat 10:00-14:00`)"
    )]
    BadHours { spec: String, reason: String },
    #[error("holiday `{0}` is not a date of the form YYYY-MM-DD")]
    BadHoliday(String),
}

impl BusinessHours {
    pub fn parse(zone_name: &str, hours: &str, holidays: &str) -> Result<Self, HoursError> {
        let zone_name = zone_name.trim();
        let zone = zone_in(jiff::tz::db(), zone_name)?;
        let windows = hours
            .split(';')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|part| {
                parse_window(part).map_err(|reason| HoursError::BadHours {
                    spec: hours.to_string(),
                    reason,
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        let holidays = holidays
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|d| {
                d.parse::<Date>()
                    .map_err(|_| HoursError::BadHoliday(d.to_string()))
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(BusinessHours {
            zone,
            zone_name: zone_name.to_string(),
            windows,
            holidays,
        })
    }

    pub fn zone(&self) -> &TimeZone {
        &self.zone
    }

    pub fn zone_name(&self) -> &str {
        &self.zone_name
    }

    pub fn is_business_time(&self, at: Timestamp) -> bool {
        let local = at.to_zoned(self.zone.clone());
        let (date, time) = (local.date(), local.time());
        self.windows.iter().any(|w| {
            let wraps = w.end.is_some_and(|end| end <= w.start);
            let today = w.days.contains(&date.weekday()) && !self.holidays.contains(&date);
            if !wraps {
                return today && time >= w.start && w.end.is_none_or(|end| time < end);
            }
            // A window such as `Mon-Fri 22:00-06:00` belongs to the day it starts on.
            let yesterday = date.yesterday().ok();
            let started_yesterday = yesterday
                .is_some_and(|y| w.days.contains(&y.weekday()) && !self.holidays.contains(&y));
            (today && time >= w.start) || (started_yesterday && w.end.is_some_and(|end| time < end))
        })
    }
}

/// The zone `name` in `db`. UTC, the default, needs no database: the `warden` CLI reads the
/// system's, which a minimal machine may not have.
fn zone_in(db: &jiff::tz::TimeZoneDatabase, name: &str) -> Result<TimeZone, HoursError> {
    if name.eq_ignore_ascii_case("UTC") {
        return Ok(TimeZone::UTC);
    }
    db.get(name).map_err(|_| {
        if db.is_definitively_empty() {
            HoursError::NoZoneDatabase(name.to_string())
        } else {
            HoursError::UnknownZone(name.to_string())
        }
    })
}

fn parse_window(part: &str) -> Result<Window, String> {
    let (days, range) = part
        .split_once(char::is_whitespace)
        .ok_or_else(|| format!("`{part}` needs days and a time range"))?;
    let days = parse_days(days.trim())?;
    let (start, end) = range
        .trim()
        .split_once('-')
        .ok_or_else(|| format!("`{}` is not a time range HH:MM-HH:MM", range.trim()))?;
    let start = parse_time(start)?.ok_or_else(|| "a window cannot start at 24:00".to_string())?;
    let end = parse_time(end)?;
    if end == Some(start) {
        return Err(format!("`{}` is an empty window", range.trim()));
    }
    Ok(Window { days, start, end })
}

fn parse_days(text: &str) -> Result<Vec<Weekday>, String> {
    let mut days = Vec::new();
    for item in text.split(',') {
        match item.split_once('-') {
            Some((from, to)) => {
                let (from, to) = (parse_day(from)?, parse_day(to)?);
                let mut day = from;
                loop {
                    days.push(day);
                    if day == to {
                        break;
                    }
                    day = day.next();
                }
            }
            None => days.push(parse_day(item)?),
        }
    }
    Ok(days)
}

fn parse_day(text: &str) -> Result<Weekday, String> {
    let lower = text.trim().to_ascii_lowercase();
    let day = match lower.get(..3).unwrap_or("") {
        "mon" => Weekday::Monday,
        "tue" => Weekday::Tuesday,
        "wed" => Weekday::Wednesday,
        "thu" => Weekday::Thursday,
        "fri" => Weekday::Friday,
        "sat" => Weekday::Saturday,
        "sun" => Weekday::Sunday,
        _ => return Err(format!("`{}` is not a day name", text.trim())),
    };
    Ok(day)
}

/// `HH:MM`; `24:00` is returned as `None`, the end of the day.
fn parse_time(text: &str) -> Result<Option<Time>, String> {
    let text = text.trim();
    let bad = || format!("`{text}` is not a time HH:MM");
    let (h, m) = text.split_once(':').ok_or_else(bad)?;
    let (h, m): (i8, i8) = (h.parse().map_err(|_| bad())?, m.parse().map_err(|_| bad())?);
    if h == 24 && m == 0 {
        return Ok(None);
    }
    Time::new(h, m, 0, 0).map(Some).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ts: &str) -> Timestamp {
        ts.parse().unwrap()
    }

    fn default_hours() -> BusinessHours {
        BusinessHours::parse("UTC", "Mon-Fri 08:00-18:00", "").unwrap()
    }

    #[test]
    fn weekday_afternoon_is_business_time() {
        assert!(default_hours().is_business_time(at("2026-11-24T13:00:00Z")));
    }

    #[test]
    fn start_is_inclusive_and_end_exclusive() {
        let hours = default_hours();
        assert!(hours.is_business_time(at("2026-11-24T08:00:00Z")));
        assert!(hours.is_business_time(at("2026-11-24T17:59:59Z")));
        assert!(!hours.is_business_time(at("2026-11-24T18:00:00Z")));
        assert!(!hours.is_business_time(at("2026-11-24T07:59:59Z")));
    }

    #[test]
    fn weekend_is_off_hours() {
        assert!(!default_hours().is_business_time(at("2026-11-28T12:00:00Z")));
    }

    #[test]
    fn holidays_are_off_hours_in_the_local_calendar() {
        let hours =
            BusinessHours::parse("America/New_York", "Mon-Fri 08:00-18:00", "2026-11-26").unwrap();
        // 14:00 UTC on Thanksgiving is 09:00 in New York.
        assert!(!hours.is_business_time(at("2026-11-26T14:00:00Z")));
        assert!(hours.is_business_time(at("2026-11-27T14:00:00Z")));
    }

    #[test]
    fn daylight_saving_time_shifts_the_utc_window() {
        let hours = BusinessHours::parse("Europe/Berlin", "Mon-Fri 08:00-18:00", "").unwrap();
        // Summer (UTC+2): 06:30 UTC is 08:30 local. Winter (UTC+1): 06:30 UTC is 07:30 local.
        assert!(hours.is_business_time(at("2026-07-15T06:30:00Z")));
        assert!(!hours.is_business_time(at("2026-01-14T06:30:00Z")));
        // The Monday after the spring-forward Sunday (2026-03-29).
        assert!(hours.is_business_time(at("2026-03-30T06:00:00Z")));
    }

    #[test]
    fn several_windows_and_day_lists() {
        let hours =
            BusinessHours::parse("UTC", "Mon,Wed 09:00-12:00; Sat 10:00-14:00", "").unwrap();
        assert!(hours.is_business_time(at("2026-11-25T10:00:00Z"))); // Wednesday
        assert!(!hours.is_business_time(at("2026-11-24T10:00:00Z"))); // Tuesday
        assert!(hours.is_business_time(at("2026-11-28T13:59:00Z"))); // Saturday
    }

    #[test]
    fn overnight_window_belongs_to_the_day_it_starts() {
        let hours = BusinessHours::parse("UTC", "Mon-Fri 22:00-06:00", "").unwrap();
        assert!(hours.is_business_time(at("2026-11-27T23:00:00Z"))); // Friday night
        assert!(hours.is_business_time(at("2026-11-28T05:00:00Z"))); // Saturday early, from Friday
        assert!(!hours.is_business_time(at("2026-11-29T05:00:00Z"))); // Sunday early, from Saturday
    }

    #[test]
    fn end_of_day_can_be_written_24_00() {
        let hours = BusinessHours::parse("UTC", "Sun 00:00-24:00", "").unwrap();
        assert!(hours.is_business_time(at("2026-11-29T23:59:59Z")));
    }

    #[test]
    fn wrapping_day_ranges_work() {
        let hours = BusinessHours::parse("UTC", "Fri-Mon 10:00-11:00", "").unwrap();
        assert!(hours.is_business_time(at("2026-11-29T10:30:00Z"))); // Sunday
        assert!(!hours.is_business_time(at("2026-11-25T10:30:00Z"))); // Wednesday
    }

    #[test]
    fn utc_needs_no_time_zone_database() {
        let none = jiff::tz::TimeZoneDatabase::none();
        assert_eq!(zone_in(&none, "UTC"), Ok(TimeZone::UTC));
        assert_eq!(zone_in(&none, "utc"), Ok(TimeZone::UTC));
        let err = zone_in(&none, "Europe/Berlin").unwrap_err();
        assert_eq!(err, HoursError::NoZoneDatabase("Europe/Berlin".into()));
        assert!(
            err.to_string().contains("install the tzdata package"),
            "{err}"
        );
    }

    #[test]
    fn errors_name_what_is_wrong() {
        assert_eq!(
            BusinessHours::parse("Mars/Olympus", "Mon-Fri 08:00-18:00", "").unwrap_err(),
            HoursError::UnknownZone("Mars/Olympus".into())
        );
        let err = BusinessHours::parse("UTC", "Mon-Fry 08:00-18:00", "").unwrap_err();
        assert!(err.to_string().contains("`Fry` is not a day name"), "{err}");
        let err = BusinessHours::parse("UTC", "Mon-Fri 8h-18h", "").unwrap_err();
        assert!(err.to_string().contains("8h"), "{err}");
        assert_eq!(
            BusinessHours::parse("UTC", "Mon-Fri 08:00-18:00", "2026-13-01").unwrap_err(),
            HoursError::BadHoliday("2026-13-01".into())
        );
        assert!(BusinessHours::parse("UTC", "Mon 25:00-26:00", "").is_err());
        assert!(BusinessHours::parse("UTC", "Mon 09:00-09:00", "").is_err());
    }

    #[test]
    fn empty_hours_mean_always_off_hours() {
        let hours = BusinessHours::parse("UTC", "", "").unwrap();
        assert!(!hours.is_business_time(at("2026-11-24T13:00:00Z")));
    }
}
