//! Cluster-wide rate limits in Redis, shared by every replica.

use crate::redis::Redis;
use std::net::IpAddr;
use std::time::Duration;
use types::AppError;

/// A limit: at most `max` counted events per `window`.
#[derive(Clone, Copy, Debug)]
pub struct Limit {
    /// Attempts allowed in one window.
    pub max: u32,
    /// The window's length.
    pub window: Duration,
}

/// Counts events per key in fixed windows. Every limit guards a credential (login, API
/// tokens, signup, password reset and change), so when Redis is unreachable it fails
/// closed with a 503: an outage must not become a window for unthrottled guessing, nor
/// tell a guesser whether a password was right (logging in needs the session store too).
#[derive(Clone)]
pub struct RateLimiter {
    redis: Redis,
    trusted_proxies: std::sync::Arc<Vec<Cidr>>,
    window: Duration,
}

impl RateLimiter {
    /// A limiter on `redis`; `trusted_proxies` may set the client IP through `X-Forwarded-For`.
    /// `window` is the base window the limits are expressed in (a minute in production).
    pub fn new(redis: Redis, trusted_proxies: Vec<Cidr>, window: Duration) -> Self {
        RateLimiter {
            redis,
            trusted_proxies: std::sync::Arc::new(trusted_proxies),
            window,
        }
    }

    /// The base window.
    pub fn window(&self) -> Duration {
        self.window
    }

    fn key(&self, key: &str) -> String {
        self.redis.key(&format!("rl:{key}"))
    }

    /// Counts this event and refuses with 429 once a key goes over `limit`. The count is
    /// taken first, atomically, so concurrent callers can never all pass a check that none
    /// of them has counted yet.
    pub async fn consume(&self, keys: &[String], limit: Limit) -> Result<(), AppError> {
        self.attempt(keys, limit).await.map(|_| ())
    }

    /// Counts one attempt against each of `keys` before it is evaluated: `INCR` first,
    /// then compare. Past `limit` on any key the attempt is refused with 429 and its count
    /// taken back, so at most `limit.max` attempts per window are ever evaluated, however
    /// many arrive at once. An attempt that should not count after all (a login that
    /// succeeded) is handed back with [`Attempt::refund`].
    pub async fn attempt(&self, keys: &[String], limit: Limit) -> Result<Attempt, AppError> {
        let Ok(mut conn) = self.redis.conn().await else {
            tracing::warn!("rate limiter unavailable; refusing");
            return Err(unavailable());
        };
        let secs = limit.window.as_secs().max(1) as i64;
        let mut pipe = redis::pipe();
        for key in keys {
            let full = self.key(key);
            // NX: the window starts at the first event and is not extended by later ones.
            pipe.incr(&full, 1)
                .cmd("EXPIRE")
                .arg(&full)
                .arg(secs)
                .arg("NX")
                .ignore()
                .ttl(&full);
        }
        let replies: Vec<i64> = match pipe.query_async(&mut conn).await {
            Ok(r) => r,
            Err(e) => {
                self.redis.failed(e);
                tracing::warn!("rate limiter unavailable; refusing");
                return Err(unavailable());
            }
        };
        let attempt = Attempt {
            limiter: self.clone(),
            keys: keys.to_vec(),
        };
        let over = replies
            .chunks(2)
            .find(|pair| pair.first().is_some_and(|&n| n > i64::from(limit.max)));
        if let Some(pair) = over {
            let ttl = pair.get(1).copied().unwrap_or(0);
            attempt.refund().await;
            return Err(limited(ttl, limit));
        }
        Ok(attempt)
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the
    /// right-most address in `X-Forwarded-For` that is not itself a trusted proxy.
    ///
    /// `forwarded_for` is every `X-Forwarded-For` header joined with commas, in order.
    /// Walking from the right, each hop was written by the trusted hop after it; a hop that
    /// does not parse ends the walk at the last trusted hop, since what lies left of it
    /// could have been written by anyone. Ports (`1.2.3.4:5678`, `[2001:db8::1]:443`) are
    /// dropped and IPv4-mapped IPv6 addresses compare as IPv4.
    pub fn client_ip(&self, peer: Option<IpAddr>, forwarded_for: Option<&str>) -> Option<IpAddr> {
        let peer = peer?.to_canonical();
        if !self.trusted(peer) {
            return Some(peer);
        }
        let mut nearest = peer;
        for hop in forwarded_for.unwrap_or_default().rsplit(',') {
            let hop = hop.trim();
            if hop.is_empty() {
                continue;
            }
            let Some(ip) = parse_hop(hop) else {
                return Some(nearest);
            };
            if !self.trusted(ip) {
                return Some(ip);
            }
            nearest = ip;
        }
        Some(nearest)
    }

    fn trusted(&self, ip: IpAddr) -> bool {
        self.trusted_proxies.iter().any(|c| c.contains(ip))
    }
}

/// One attempt, counted against its keys by [`RateLimiter::attempt`].
#[must_use = "an attempt that should not count must be refunded"]
pub struct Attempt {
    limiter: RateLimiter,
    keys: Vec<String>,
}

impl Attempt {
    /// Takes the count back: the attempt is not one the limit is about (a successful login).
    pub async fn refund(self) {
        if self.keys.is_empty() {
            return;
        }
        let Ok(mut conn) = self.limiter.redis.conn().await else {
            return;
        };
        let mut pipe = redis::pipe();
        for key in &self.keys {
            pipe.decr(self.limiter.key(key), 1).ignore();
        }
        if let Err(e) = pipe.query_async::<()>(&mut conn).await {
            self.limiter.redis.failed(e);
            tracing::warn!("rate limiter unavailable; an attempt stays counted");
        }
    }
}

/// One `X-Forwarded-For` hop: an address, with or without a port.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    hop.parse::<std::net::SocketAddr>()
        .ok()
        .map(|a| a.ip().to_canonical())
}

fn unavailable() -> AppError {
    AppError::Unavailable(
        "Signing in is briefly unavailable. Please try again in a moment.".to_owned(),
    )
}

fn limited(ttl: i64, limit: Limit) -> AppError {
    let retry = if ttl > 0 {
        ttl as u64
    } else {
        limit.window.as_secs().max(1)
    };
    AppError::RateLimited {
        message: format!("Too many attempts. Try again in {retry} seconds."),
        retry_after_secs: retry,
    }
}

/// An IP network such as `10.0.0.0/8` or `2001:db8::/32`, or a single address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cidr {
    addr: IpAddr,
    prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`, `a.b.c.d`, or their IPv6 forms.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let (ip, prefix) = match raw.trim().split_once('/') {
            Some((ip, p)) => (ip, Some(p)),
            None => (raw.trim(), None),
        };
        let addr: IpAddr = ip
            .parse()
            .map_err(|_| format!("`{raw}` is not an IP address or network"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("bad prefix in `{raw}`"))?,
        };
        Ok(Cidr { addr, prefix })
    }

    /// Whether `ip` lies in this network.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    #[test]
    fn cidrs_match_their_networks_only() {
        let net = Cidr::parse("10.0.0.0/8").expect("valid");
        assert!(net.contains(ip("10.1.2.3")));
        assert!(!net.contains(ip("11.0.0.1")));
        assert!(!net.contains(ip("::1")));
        assert!(Cidr::parse("0.0.0.0/0")
            .expect("valid")
            .contains(ip("8.8.8.8")));
        assert!(Cidr::parse("fd00::/8")
            .expect("valid")
            .contains(ip("fd12::1")));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
        assert!(Cidr::parse("nope").is_err());
    }

    #[test]
    fn forwarded_for_counts_only_behind_a_trusted_proxy() {
        let redis = Redis::new("redis://127.0.0.1:1", "t:").expect("url");
        let rl = RateLimiter::new(
            redis,
            vec![Cidr::parse("10.0.0.0/8").expect("valid")],
            Duration::from_secs(60),
        );
        // Straight from the internet: the header is the client's to forge, so ignore it.
        assert_eq!(
            rl.client_ip(Some(ip("203.0.113.9")), Some("1.2.3.4")),
            Some(ip("203.0.113.9"))
        );
        // Through our proxy: the right-most untrusted hop is the client.
        assert_eq!(
            rl.client_ip(
                Some(ip("10.0.0.5")),
                Some("1.2.3.4, 198.51.100.7, 10.0.0.9")
            ),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), None),
            Some(ip("10.0.0.5"))
        );
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("garbage")),
            Some(ip("10.0.0.5"))
        );
    }

    fn limiter(trusted: &[&str]) -> RateLimiter {
        let redis = Redis::new("redis://127.0.0.1:1", "t:").expect("url");
        let cidrs = trusted
            .iter()
            .map(|c| Cidr::parse(c).expect("valid"))
            .collect();
        RateLimiter::new(redis, cidrs, Duration::from_secs(60))
    }

    #[test]
    fn a_hop_that_does_not_parse_ends_the_walk_at_the_last_trusted_hop() {
        let rl = limiter(&["10.0.0.0/8"]);
        // A trusted proxy wrote "unknown": everything to its left is the client's to forge.
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("6.6.6.6, unknown, 10.0.0.9")),
            Some(ip("10.0.0.9"))
        );
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("6.6.6.6, unknown")),
            Some(ip("10.0.0.5"))
        );
    }

    #[test]
    fn every_hop_through_a_chain_of_trusted_proxies_is_skipped() {
        let rl = limiter(&["10.0.0.0/8", "192.168.0.0/16"]);
        assert_eq!(
            rl.client_ip(
                Some(ip("10.0.0.5")),
                Some("6.6.6.6, 198.51.100.7, 192.168.1.1, 10.1.1.1")
            ),
            Some(ip("198.51.100.7"))
        );
        // Only trusted hops: the farthest one is as close to the client as we can know.
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("192.168.1.1, 10.1.1.1")),
            Some(ip("192.168.1.1"))
        );
    }

    #[test]
    fn ports_and_ipv4_mapped_addresses_are_read_as_the_address() {
        let rl = limiter(&["10.0.0.0/8"]);
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("198.51.100.7:4711")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            rl.client_ip(Some(ip("10.0.0.5")), Some("[2001:db8::1]:443")),
            Some(ip("2001:db8::1"))
        );
        // A dual-stack listener reports an IPv4 proxy as ::ffff:10.0.0.5: still trusted.
        assert_eq!(
            rl.client_ip(Some(ip("::ffff:10.0.0.5")), Some("198.51.100.7")),
            Some(ip("198.51.100.7"))
        );
        assert_eq!(
            rl.client_ip(Some(ip("::ffff:203.0.113.9")), Some("1.2.3.4")),
            Some(ip("203.0.113.9"))
        );
    }
}
