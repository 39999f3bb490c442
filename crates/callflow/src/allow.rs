//! Source IP allow-list: which peers may reach the webhook.
//!
//! Off by default. When on, the peer address of the connection is checked, and refused peers
//! get 403 before the body is read. Behind a reverse proxy, the peer is the proxy: configure
//! [`AllowList::trust_proxies`] with the number of proxies in front, and the client address is
//! then read from `X-Forwarded-For`, counting from the right (the entries your own proxies
//! appended); `X-Forwarded-For` is never trusted unless you say so.
//!
//! ```
//! use callflow::allow::{AllowList, IpNet, parse_net};
//! let list = AllowList::eight_by_eight_singapore().allow("10.0.0.0/8".parse::<IpNet>().unwrap());
//! let list = list.allow(parse_net("192.0.2.7").unwrap()); // a single address
//! assert!(list.permits_ip("192.0.2.7".parse().unwrap()));
//! assert!(list.permits_ip("52.74.232.241".parse().unwrap()));
//! assert!(list.permits_ip("10.1.2.3".parse().unwrap()));
//! assert!(!list.permits_ip("203.0.113.7".parse().unwrap()));
//! ```

use std::fmt;
use std::net::{IpAddr, SocketAddr};

use http::HeaderMap;

/// 8x8's published source addresses for all voice webhooks, Asia Pacific (Singapore),
/// "updated January 1st, 2026". No voice addresses are published for other regions.
pub const EIGHT_BY_EIGHT_SINGAPORE: [&str; 4] = [
    "18.140.80.2",
    "52.220.253.234",
    "54.255.116.8",
    "52.74.232.241",
];

pub use ipnet::IpNet;

/// A text that is not an IP network or address.
///
/// ```
/// use callflow::allow::{IpNetParseErrorKind, parse_net};
/// assert_eq!(parse_net("10.0.0.0/33").unwrap_err().kind(), IpNetParseErrorKind::Prefix);
/// assert_eq!(parse_net("hello").unwrap_err().kind(), IpNetParseErrorKind::Address);
/// ```
#[derive(Clone, PartialEq, Eq)]
pub struct IpNetParseError {
    kind: IpNetParseErrorKind,
    /// The text as given, with anything that looks like a phone number masked.
    input: Box<str>,
}

/// What is wrong with a text given as an IP network.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum IpNetParseErrorKind {
    /// The part before `/` is not an IPv4 or IPv6 address.
    Address,
    /// The part after `/` is not a prefix length of the address's family.
    Prefix,
}

impl IpNetParseError {
    fn new(kind: IpNetParseErrorKind, input: &str) -> Self {
        Self {
            kind,
            input: crate::phone::redact(input).into(),
        }
    }

    /// What is wrong with the text.
    pub fn kind(&self) -> IpNetParseErrorKind {
        self.kind
    }
}

impl fmt::Display for IpNetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "not an IP address or network: {:?} (expected e.g. 10.0.0.0/8 or 18.140.80.2)",
            self.input
        )
    }
}

impl fmt::Debug for IpNetParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IpNetParseError")
            .field("kind", &self.kind)
            .field("input", &self.input)
            .finish()
    }
}

impl std::error::Error for IpNetParseError {}

/// Parses an IP network (`10.0.0.0/8`, `2001:db8::/32`) or a single address
/// (`18.140.80.2`, the network of that address alone); surrounding spaces are ignored and an
/// IPv4-mapped IPv6 network counts as IPv4.
///
/// ```
/// use callflow::allow::parse_net;
/// assert_eq!(parse_net("18.140.80.2").unwrap().to_string(), "18.140.80.2/32");
/// assert_eq!(parse_net(" 10.0.0.0/8 ").unwrap().to_string(), "10.0.0.0/8");
/// assert_eq!(parse_net("::ffff:127.0.0.1").unwrap().to_string(), "127.0.0.1/32");
/// ```
pub fn parse_net(s: &str) -> Result<IpNet, IpNetParseError> {
    let t = s.trim();
    let (addr, prefix) = match t.split_once('/') {
        Some((a, p)) => (a, Some(p)),
        None => (t, None),
    };
    let addr: IpAddr = addr
        .parse()
        .map_err(|_| IpNetParseError::new(IpNetParseErrorKind::Address, s))?;
    let max = if addr.to_canonical().is_ipv4() {
        32
    } else {
        128
    };
    let prefix = match prefix {
        Some(p) => p
            .parse::<u8>()
            .ok()
            .filter(|p| *p <= max)
            .ok_or_else(|| IpNetParseError::new(IpNetParseErrorKind::Prefix, s))?,
        None => max,
    };
    Ok(canonical(match addr.to_canonical() {
        IpAddr::V4(a) => IpNet::V4(ipnet::Ipv4Net::new(a, prefix).expect("prefix checked")),
        IpAddr::V6(a) => IpNet::V6(ipnet::Ipv6Net::new(a, prefix).expect("prefix checked")),
    }))
}

/// An IPv4-mapped IPv6 network (`::ffff:10.0.0.0/104`) as the IPv4 network it maps, so that
/// it contains the (canonical) IPv4 addresses the allow-list compares.
fn canonical(net: IpNet) -> IpNet {
    match net {
        IpNet::V6(n) if n.prefix_len() >= 96 => match n.addr().to_ipv4_mapped() {
            Some(a) => IpNet::V4(ipnet::Ipv4Net::new(a, n.prefix_len() - 96).expect("<= 32")),
            None => net,
        },
        _ => net,
    }
}

/// Which peers may call the webhook; see the [module docs](self).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AllowList {
    networks: Vec<IpNet>,
    proxy_hops: usize,
    proxies: Vec<IpNet>,
}

/// Why a peer was refused (for the `warn` log).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Refusal {
    /// The adapter did not know the peer address.
    PeerUnknown,
    /// The connection did not come from a configured proxy, so its `X-Forwarded-For` is not
    /// trusted and the peer itself is not allowed.
    NotFromProxy(IpAddr),
    /// `X-Forwarded-For` has fewer entries than the configured proxy hops (or is invalid).
    ForwardedForMissing,
    /// The client address is not in the list.
    NotAllowed(IpAddr),
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::PeerUnknown => f.write_str("peer address unknown"),
            Refusal::NotFromProxy(ip) => write!(f, "{ip} is not a trusted proxy"),
            Refusal::ForwardedForMissing => {
                f.write_str("X-Forwarded-For missing or shorter than the proxy hops")
            }
            Refusal::NotAllowed(ip) => write!(f, "{ip} is not in the allow-list"),
        }
    }
}

impl std::error::Error for Refusal {}

impl AllowList {
    /// An empty list (refuses everyone until networks are added).
    pub fn new() -> Self {
        Self::default()
    }

    /// 8x8's published Singapore voice webhook addresses ([`EIGHT_BY_EIGHT_SINGAPORE`]).
    pub fn eight_by_eight_singapore() -> Self {
        EIGHT_BY_EIGHT_SINGAPORE.iter().fold(Self::new(), |l, ip| {
            l.allow(parse_net(ip).expect("valid preset"))
        })
    }

    /// Adds a network (an IPv4-mapped IPv6 network counts as IPv4). A single address is the
    /// network of that address alone (see [`parse_net`]).
    pub fn allow(mut self, net: IpNet) -> Self {
        self.networks.push(canonical(net));
        self
    }

    /// Trusts `hops` reverse proxies in front of the service: the client address is the
    /// `hops`-th `X-Forwarded-For` entry from the right. With `proxies` non-empty, only
    /// connections from those networks may use `X-Forwarded-For` at all.
    pub fn trust_proxies(mut self, hops: usize, proxies: impl IntoIterator<Item = IpNet>) -> Self {
        self.proxy_hops = hops;
        self.proxies = proxies.into_iter().map(canonical).collect();
        self
    }

    /// The networks.
    pub fn networks(&self) -> &[IpNet] {
        &self.networks
    }

    /// Whether `ip` is in the list (no proxy logic).
    pub fn permits_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.networks.iter().any(|n| n.contains(&ip))
    }

    /// The client address for a request, following the proxy configuration.
    pub fn client_ip(
        &self,
        peer: Option<SocketAddr>,
        headers: &HeaderMap,
    ) -> Result<IpAddr, Refusal> {
        let peer = peer.ok_or(Refusal::PeerUnknown)?.ip().to_canonical();
        if self.proxy_hops == 0 {
            return Ok(peer);
        }
        if !self.proxies.is_empty() && !self.proxies.iter().any(|p| p.contains(&peer)) {
            return Err(Refusal::NotFromProxy(peer));
        }
        // All X-Forwarded-For headers, in order, as one comma-separated list.
        let mut entries: Vec<&str> = Vec::new();
        for v in headers.get_all("x-forwarded-for") {
            let s = v.to_str().map_err(|_| Refusal::ForwardedForMissing)?;
            entries.extend(s.split(',').map(str::trim).filter(|e| !e.is_empty()));
        }
        let pick = entries
            .len()
            .checked_sub(self.proxy_hops)
            .and_then(|i| entries.get(i))
            .ok_or(Refusal::ForwardedForMissing)?;
        pick.parse::<IpAddr>()
            .or_else(|_| pick.parse::<SocketAddr>().map(|s| s.ip()))
            .map(|ip| ip.to_canonical())
            .map_err(|_| Refusal::ForwardedForMissing)
    }

    /// Checks a request: `Ok` with the client address, or why it is refused.
    pub fn check(&self, peer: Option<SocketAddr>, headers: &HeaderMap) -> Result<IpAddr, Refusal> {
        let ip = self.client_ip(peer, headers)?;
        if self.permits_ip(ip) {
            Ok(ip)
        } else {
            Err(Refusal::NotAllowed(ip))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn net(s: &str) -> IpNet {
        parse_net(s).unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn networks_parse_and_match() {
        let contains = |n: &str, a: &str| AllowList::new().allow(net(n)).permits_ip(ip(a));
        assert!(contains("10.0.0.0/8", "10.200.3.4"));
        assert!(!contains("10.0.0.0/8", "11.0.0.1"));
        assert!(contains("0.0.0.0/0", "1.2.3.4"));
        assert!(contains("18.140.80.2", "18.140.80.2"));
        assert!(!contains("18.140.80.2", "18.140.80.3"));
        assert!(contains("2001:db8::/32", "2001:db8:1::5"));
        assert!(!contains("2001:db8::/32", "10.0.0.1"));
        assert!(
            contains("127.0.0.1", "::ffff:127.0.0.1"),
            "IPv4-mapped IPv6"
        );
        for bad in ["", "10.0.0.0/33", "hello", "10.0.0/8", "::/129", "1.2.3.4/"] {
            assert!(parse_net(bad).is_err(), "{bad}");
        }
        assert!(
            !parse_net("+6591234567")
                .unwrap_err()
                .to_string()
                .contains("91234567"),
            "a phone number given by mistake is masked"
        );
    }

    #[test]
    fn singapore_preset_has_the_four_published_addresses() {
        let l = AllowList::eight_by_eight_singapore();
        assert_eq!(l.networks().len(), 4);
        for a in EIGHT_BY_EIGHT_SINGAPORE {
            assert!(l.permits_ip(ip(a)));
        }
        assert!(
            !l.permits_ip(ip("52.220.117.120")),
            "messaging IPs are not voice IPs"
        );
    }

    #[test]
    fn forwarded_for_is_ignored_unless_proxies_are_trusted() {
        let l = AllowList::new().allow(net("203.0.113.0/24"));
        let mut h = HeaderMap::new();
        h.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.9"));
        let peer = Some(SocketAddr::from(([198, 51, 100, 1], 4000)));
        assert_eq!(
            l.check(peer, &h),
            Err(Refusal::NotAllowed(ip("198.51.100.1")))
        );
        assert_eq!(l.check(None, &h), Err(Refusal::PeerUnknown));
    }

    #[test]
    fn forwarded_for_is_read_from_the_right_with_the_hop_count() {
        let l = AllowList::new()
            .allow(net("203.0.113.0/24"))
            .trust_proxies(2, [net("10.0.0.0/8")]);
        let mut h = HeaderMap::new();
        // spoofed, client (added by our first proxy), first proxy (added by the second)
        h.append(
            "x-forwarded-for",
            HeaderValue::from_static("203.0.113.66, 198.51.100.7"),
        );
        h.append("x-forwarded-for", HeaderValue::from_static("10.0.0.2"));
        let via_proxy = Some(SocketAddr::from(([10, 0, 0, 3], 4000)));
        assert_eq!(l.client_ip(via_proxy, &h), Ok(ip("198.51.100.7")));
        assert_eq!(
            l.check(via_proxy, &h),
            Err(Refusal::NotAllowed(ip("198.51.100.7")))
        );
        let direct = Some(SocketAddr::from(([203, 0, 113, 5], 4000)));
        assert_eq!(
            l.check(direct, &h),
            Err(Refusal::NotFromProxy(ip("203.0.113.5")))
        );
        let mut short = HeaderMap::new();
        short.insert("x-forwarded-for", HeaderValue::from_static("203.0.113.66"));
        assert_eq!(
            l.check(via_proxy, &short),
            Err(Refusal::ForwardedForMissing)
        );
        let one_hop = AllowList::new()
            .allow(net("203.0.113.0/24"))
            .trust_proxies(1, []);
        assert_eq!(one_hop.check(via_proxy, &short), Ok(ip("203.0.113.66")));
    }
}
