//! A token bucket per client address, for the public tracking page: a citizen reloading the
//! page never notices it, a script guessing codes is slowed to a crawl (and, with 80-bit codes,
//! would need longer than the universe has anyway).
//!
//! The client is the connection's peer address; behind a reverse proxy (configured with
//! `HUB_TRUST_FORWARDED_FOR`) it is the last address in `X-Forwarded-For`, the one the proxy
//! added. Buckets live in memory: a restart forgives everybody, which is fine for this purpose.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::Instant;

use axum::http::HeaderMap;

use super::config::RateLimit;

/// More clients than this and the full buckets (clients that have been quiet) are forgotten.
const MAX_TRACKED: usize = 10_000;

pub(crate) struct RateLimiter {
    limit: RateLimit,
    buckets: Mutex<HashMap<IpAddr, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    updated: Instant,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Decision {
    Allowed,
    /// Come back in this many seconds.
    Limited {
        retry_after_s: u64,
    },
}

impl RateLimiter {
    pub fn new(limit: RateLimit) -> RateLimiter {
        RateLimiter {
            limit,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Takes one request from `client`'s bucket.
    pub(crate) fn check(&self, client: IpAddr) -> Decision {
        self.check_at(client, Instant::now())
    }

    /// Whether `client`'s bucket holds a request now, without taking it (a client never seen
    /// has a full bucket, and is not remembered for asking).
    pub(crate) fn peek(&self, client: IpAddr) -> Decision {
        self.peek_at(client, Instant::now())
    }

    fn peek_at(&self, client: IpAddr, now: Instant) -> Decision {
        let buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        match buckets.get(&client) {
            None => Decision::Allowed,
            Some(bucket) => self.decide(self.refilled(bucket, now)),
        }
    }

    fn per_second(&self) -> f64 {
        f64::from(self.limit.per_minute) / 60.0
    }

    fn refilled(&self, b: &Bucket, now: Instant) -> f64 {
        let burst = f64::from(self.limit.burst.max(1));
        (b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * self.per_second())
            .min(burst)
    }

    /// What a bucket holding `tokens` allows (without taking anything).
    fn decide(&self, tokens: f64) -> Decision {
        if tokens >= 1.0 {
            Decision::Allowed
        } else {
            let wait = (1.0 - tokens) / self.per_second();
            Decision::Limited {
                retry_after_s: wait.ceil().max(1.0) as u64,
            }
        }
    }

    fn check_at(&self, client: IpAddr, now: Instant) -> Decision {
        let burst = f64::from(self.limit.burst.max(1));
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            buckets.retain(|_, b| self.refilled(b, now) < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        bucket.tokens = self.refilled(bucket, now);
        bucket.updated = now;
        let decision = self.decide(bucket.tokens);
        if decision == Decision::Allowed {
            bucket.tokens -= 1.0;
        }
        decision
    }
}

/// The bucket every client shares whose proxy sent an `X-Forwarded-For` the hub cannot read
/// (`unknown`, an obfuscated name, garbage): `::` is never a real client's address, so these
/// clients are limited together instead of each being let through on a value of its own choosing.
pub(crate) const UNREADABLE_FORWARDED_FOR: IpAddr = IpAddr::V6(Ipv6Addr::UNSPECIFIED);

/// The address a request is counted against.
///
/// Trusted `X-Forwarded-For` (behind a proxy): only its last element counts, the one the proxy
/// added; everything before it is whatever the client chose to send. The element may be an
/// address (`198.51.100.9`, `2001:db8::1`) or carry a port (`198.51.100.9:41234`,
/// `[2001:db8::1]:41234`, as some proxies write it); anything else, or a header that is not
/// text, counts as [`UNREADABLE_FORWARDED_FOR`], never as an element further left. Without the
/// header the peer (the proxy itself) is the client.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for {
        if let Some(last) = headers.get_all("x-forwarded-for").iter().next_back() {
            let address = last
                .to_str()
                .ok()
                .and_then(|v| v.rsplit(',').next())
                .and_then(forwarded_element)
                .unwrap_or(UNREADABLE_FORWARDED_FOR);
            return address;
        }
    }
    peer.map(|p| p.to_canonical())
        .unwrap_or(IpAddr::from([0, 0, 0, 0]))
}

/// One `X-Forwarded-For` element: an address, with or without a port (IPv6 in brackets when it
/// has one); an IPv4 address written as IPv6 (`::ffff:198.51.100.9`) is the IPv4 client.
fn forwarded_element(element: &str) -> Option<IpAddr> {
    let element = element.trim();
    let address = element
        .parse::<IpAddr>()
        .or_else(|_| element.parse::<SocketAddr>().map(|s| s.ip()))
        .or_else(|_| {
            element
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .unwrap_or("")
                .parse::<Ipv6Addr>()
                .map(IpAddr::V6)
        })
        .ok()?;
    Some(address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn limiter(per_minute: u32, burst: u32) -> RateLimiter {
        RateLimiter::new(RateLimit { per_minute, burst })
    }

    #[test]
    fn a_burst_passes_then_the_client_waits_for_the_refill() {
        let l = limiter(60, 3);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        for _ in 0..3 {
            assert_eq!(l.check_at(ip, t0), Decision::Allowed);
        }
        assert_eq!(l.check_at(ip, t0), Decision::Limited { retry_after_s: 1 });
        assert_eq!(
            l.check_at(ip, t0 + Duration::from_secs(1)),
            Decision::Allowed
        );
    }

    #[test]
    fn peeking_takes_nothing_and_remembers_no_one() {
        let l = limiter(60, 2);
        let ip: IpAddr = "192.0.2.1".parse().unwrap();
        let t0 = Instant::now();
        assert_eq!(l.peek_at(ip, t0), Decision::Allowed);
        assert!(l.buckets.lock().unwrap().is_empty());
        assert_eq!(l.check_at(ip, t0), Decision::Allowed);
        assert_eq!(l.peek_at(ip, t0), Decision::Allowed);
        assert_eq!(l.check_at(ip, t0), Decision::Allowed);
        assert_eq!(l.peek_at(ip, t0), Decision::Limited { retry_after_s: 1 });
        assert_eq!(l.peek_at(ip, t0), Decision::Limited { retry_after_s: 1 });
        assert_eq!(
            l.peek_at(ip, t0 + Duration::from_secs(1)),
            Decision::Allowed
        );
    }

    #[test]
    fn clients_have_separate_buckets() {
        let l = limiter(1, 1);
        let t0 = Instant::now();
        let a: IpAddr = "192.0.2.1".parse().unwrap();
        let b: IpAddr = "192.0.2.2".parse().unwrap();
        assert_eq!(l.check_at(a, t0), Decision::Allowed);
        assert!(matches!(l.check_at(a, t0), Decision::Limited { .. }));
        assert_eq!(l.check_at(b, t0), Decision::Allowed);
    }

    #[test]
    fn forwarded_for_counts_only_when_trusted() {
        let mut h = HeaderMap::new();
        h.insert(
            "x-forwarded-for",
            "203.0.113.9, 198.51.100.7".parse().unwrap(),
        );
        let peer: IpAddr = "127.0.0.1".parse().unwrap();
        assert_eq!(client_address(Some(peer), &h, false), peer);
        assert_eq!(
            client_address(Some(peer), &h, true),
            "198.51.100.7".parse::<IpAddr>().unwrap()
        );
        assert_eq!(client_address(Some(peer), &HeaderMap::new(), true), peer);
    }

    fn forwarded(values: &[&[u8]]) -> IpAddr {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                "x-forwarded-for",
                axum::http::HeaderValue::from_bytes(v).unwrap(),
            );
        }
        client_address(Some("127.0.0.1".parse().unwrap()), &h, true)
    }

    #[test]
    fn the_last_forwarded_element_may_carry_a_port() {
        let v4: IpAddr = "198.51.100.9".parse().unwrap();
        let v6: IpAddr = "2001:db8::7".parse().unwrap();
        assert_eq!(forwarded(&[b"203.0.113.5, 198.51.100.9:41234"]), v4);
        assert_eq!(forwarded(&[b"203.0.113.5,[2001:db8::7]:41234"]), v6);
        assert_eq!(forwarded(&[b"[2001:db8::7]"]), v6);
        assert_eq!(forwarded(&[b"2001:db8::7"]), v6);
        assert_eq!(forwarded(&[b"::ffff:198.51.100.9"]), v4);
        // Of two headers, the last one's last element is the proxy's.
        assert_eq!(forwarded(&[b"203.0.113.5", b"10.0.0.1, 198.51.100.9"]), v4);
    }

    #[test]
    fn an_unreadable_last_element_is_one_shared_bucket_not_the_client_s_own_choice() {
        for garbage in [
            &b"203.0.113.5, unknown"[..],
            b"203.0.113.5, _hidden",
            b"203.0.113.5, ",
            b"203.0.113.5, 198.51.100.9:notaport",
            b"203.0.113.5, 2001:db8::7:41234:x",
            b"203.0.113.5, \xff\xfe",
        ] {
            assert_eq!(
                forwarded(&[garbage]),
                UNREADABLE_FORWARDED_FOR,
                "{}",
                String::from_utf8_lossy(garbage)
            );
        }
    }
}
