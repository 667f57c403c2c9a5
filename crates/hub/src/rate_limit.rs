//! A token bucket per client address, for the public tracking page: a citizen reloading the
//! page never notices it, a script guessing codes is slowed to a crawl (and, with 80-bit codes,
//! would need longer than the universe has anyway).
//!
//! The client is the connection's peer address; behind a reverse proxy (configured with
//! `HUB_TRUST_FORWARDED_FOR`) it is the last address in `X-Forwarded-For`, the one the proxy
//! added. Buckets live in memory: a restart forgives everybody, which is fine for this purpose.

use std::collections::HashMap;
use std::net::IpAddr;
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

    fn check_at(&self, client: IpAddr, now: Instant) -> Decision {
        let per_second = f64::from(self.limit.per_minute) / 60.0;
        let burst = f64::from(self.limit.burst.max(1));
        let refill = |b: &Bucket| {
            (b.tokens + now.saturating_duration_since(b.updated).as_secs_f64() * per_second)
                .min(burst)
        };
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_TRACKED && !buckets.contains_key(&client) {
            buckets.retain(|_, b| refill(b) < burst);
        }
        let bucket = buckets.entry(client).or_insert(Bucket {
            tokens: burst,
            updated: now,
        });
        bucket.tokens = refill(bucket);
        bucket.updated = now;
        if bucket.tokens >= 1.0 {
            bucket.tokens -= 1.0;
            Decision::Allowed
        } else {
            let wait = (1.0 - bucket.tokens) / per_second;
            Decision::Limited {
                retry_after_s: wait.ceil().max(1.0) as u64,
            }
        }
    }
}

/// The address a request is counted against.
pub(crate) fn client_address(
    peer: Option<IpAddr>,
    headers: &HeaderMap,
    trust_forwarded_for: bool,
) -> IpAddr {
    if trust_forwarded_for {
        let forwarded = headers
            .get_all("x-forwarded-for")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(','))
            .filter_map(|a| a.trim().parse::<IpAddr>().ok())
            .next_back();
        if let Some(address) = forwarded {
            return address;
        }
    }
    peer.unwrap_or(IpAddr::from([0, 0, 0, 0]))
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
}
