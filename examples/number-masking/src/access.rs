//! `serve --allow` and `--trust-proxies`: which peers may post webhooks, read from the
//! command line or the environment into the core's [`AllowList`].

use callflow::allow::{AllowList, IpNet, parse_net};

/// The name of 8x8's published Singapore webhook addresses in `--allow`.
pub const EIGHT_BY_EIGHT_SINGAPORE: &str = "8x8-singapore";

/// One `--allow` entry: 8x8's published addresses, or a network (`10.0.0.0/8`, `::1`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AllowEntry {
    /// 8x8's Singapore voice webhook addresses.
    EightByEightSingapore,
    /// A network (a bare address is the network of that address alone).
    Net(IpNet),
}

/// Parses an `--allow` value.
pub fn parse_allow(s: &str) -> Result<AllowEntry, String> {
    let s = s.trim();
    if s.eq_ignore_ascii_case(EIGHT_BY_EIGHT_SINGAPORE) {
        return Ok(AllowEntry::EightByEightSingapore);
    }
    parse_net(s).map(AllowEntry::Net).map_err(|e| {
        format!(
            "{e} (give `{EIGHT_BY_EIGHT_SINGAPORE}`, an address or a network such as 10.0.0.0/8)"
        )
    })
}

/// Parses a `--trusted-proxy` value (an address or a network).
pub fn parse_proxy(s: &str) -> Result<IpNet, String> {
    parse_net(s.trim()).map_err(|e| e.to_string())
}

/// The allow-list these options describe: `None` (everyone may post, the default) when no
/// `--allow` is given. `trust_proxies` hops of `X-Forwarded-For` are believed, only from
/// `proxies` when some are given.
pub fn allow_list(
    allow: &[AllowEntry],
    trust_proxies: usize,
    proxies: &[IpNet],
) -> Result<Option<AllowList>, String> {
    if allow.is_empty() {
        if trust_proxies > 0 || !proxies.is_empty() {
            return Err("--trust-proxies and --trusted-proxy need --allow".into());
        }
        return Ok(None);
    }
    let mut list = AllowList::new();
    for entry in allow {
        list = match entry {
            AllowEntry::EightByEightSingapore => AllowList::eight_by_eight_singapore()
                .networks()
                .iter()
                .fold(list, |l, net| l.allow(*net)),
            AllowEntry::Net(net) => list.allow(*net),
        };
    }
    if trust_proxies > 0 {
        list = list.trust_proxies(trust_proxies, proxies.iter().copied());
    } else if !proxies.is_empty() {
        return Err("--trusted-proxy needs --trust-proxies N (how many proxies)".into());
    }
    Ok(Some(list))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allow_takes_the_8x8_preset_and_networks() {
        assert_eq!(
            parse_allow("8X8-Singapore"),
            Ok(AllowEntry::EightByEightSingapore)
        );
        let net = parse_allow("10.0.0.0/8").unwrap();
        let list = allow_list(&[AllowEntry::EightByEightSingapore, net], 0, &[])
            .unwrap()
            .unwrap();
        assert!(list.permits_ip("10.1.2.3".parse().unwrap()));
        assert!(!list.permits_ip("192.0.2.1".parse().unwrap()));
        let preset = AllowList::eight_by_eight_singapore();
        assert!(list.networks().len() > preset.networks().len());
        assert!(
            parse_allow("not-a-net")
                .unwrap_err()
                .contains("8x8-singapore")
        );
    }

    #[test]
    fn no_allow_means_everyone_and_proxies_need_an_allow_list() {
        assert_eq!(allow_list(&[], 0, &[]).map(|l| l.is_none()), Ok(true));
        assert!(allow_list(&[], 1, &[]).is_err());
        let lo = parse_proxy("127.0.0.1").unwrap();
        let net = AllowEntry::Net(lo);
        assert!(allow_list(std::slice::from_ref(&net), 0, &[lo]).is_err());
        assert!(allow_list(&[net], 1, &[lo]).unwrap().is_some());
    }
}
