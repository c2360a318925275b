//! What the request itself says: its language, whether it wants JSON, whether its body is a
//! form (SPEC 1), the body within a limit, and the client address for rate limits (SPEC 7).

use std::net::IpAddr;

use actix_web::http::header;
use actix_web::{web, HttpRequest};
use futures_util::StreamExt;

use crate::web::i18n::Locale;
use crate::web::{AppState, WebError};

/// The `locale` parameter (given, else the query's), else the remembered choice (cookie),
/// else `Accept-Language`, else English (SPEC 14, 15).
pub fn locale(req: &HttpRequest, param: Option<&str>) -> Locale {
    let accept = req
        .headers()
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok());
    let chosen = param
        .and_then(Locale::parse)
        .or_else(|| crate::web::page_frame::chosen_locale(req.query_string()))
        .or_else(|| {
            crate::web::cookies::read(req, crate::web::cookies::LOCALE)
                .and_then(|c| Locale::parse(c.value()))
        });
    Locale::negotiate(chosen.map(Locale::code), accept)
}

pub fn wants_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|a| a.contains("application/json"))
}

/// A POST with a body must send it as `application/x-www-form-urlencoded`, in UTF-8 when
/// a charset is named (SPEC 1); anything else is 415. An empty body needs no type.
pub fn check_form_body(req: &HttpRequest) -> Result<(), WebError> {
    let headers = req.headers();
    let empty = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.trim() == "0")
        || (!headers.contains_key(header::CONTENT_LENGTH)
            && !headers.contains_key(header::TRANSFER_ENCODING));
    if req.method() != actix_web::http::Method::POST || empty {
        return Ok(());
    }
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    let mut parts = content_type.split(';').map(str::trim);
    let form = parts.next() == Some("application/x-www-form-urlencoded");
    let utf8 = parts.all(|p| match p.split_once('=') {
        Some(("charset", value)) => matches!(value.trim_matches('"'), "utf-8" | "utf8"),
        _ => true,
    });
    if form && utf8 {
        Ok(())
    } else {
        Err(WebError::UnsupportedMediaType)
    }
}

/// Reads at most `limit` bytes; more is an error, and the rest is never buffered.
pub async fn read_body(mut body: web::Payload, limit: usize) -> Result<web::BytesMut, ()> {
    let mut bytes = web::BytesMut::new();
    while let Some(chunk) = body.next().await {
        let chunk = chunk.map_err(|_| ())?;
        if bytes.len() + chunk.len() > limit {
            return Err(());
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(bytes)
}

/// The client address as a rate-limit key (SPEC 7): the TCP peer, or, only when the peer
/// is one of `trusted_proxies`, the right-most address of `X-Forwarded-For` that is not a
/// trusted proxy. IPv6 addresses count per /64 (one host usually has a whole /64). A hop
/// that a trusted proxy passed on and that is no address gets a key of its own (logged and
/// counted: the proxy is misconfigured), never the proxy's.
pub fn client_address(state: &AppState, req: &HttpRequest) -> String {
    let peer = req.peer_addr().map(|a| a.ip());
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    match peer.map(|p| client_ip(p, &forwarded, &state.config.trusted_proxies)) {
        Some(Client::Address(ip)) => rate_key(ip),
        Some(Client::Unparsed(hop)) => {
            tracing::warn!("a trusted proxy forwarded an X-Forwarded-For hop that is no address");
            crate::metrics::METRICS.refused("forwarded_unparsed");
            format!("hop:{}", hop.chars().take(64).collect::<String>())
        }
        None => "unknown".into(),
    }
}

/// Who sent a request, as far as the trusted proxies say.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Client {
    Address(IpAddr),
    /// The right-most hop a trusted proxy passed on is not an address (e.g. `unknown`).
    Unparsed(String),
}

/// Walks `X-Forwarded-For` (every header line, in order) from the right while the hop is
/// trusted. Hops may carry a port (`198.51.100.8:4711`, `[2001:db8::1]:443`).
pub fn client_ip(peer: IpAddr, forwarded: &[&str], trusted: &[ipnet::IpNet]) -> Client {
    let is_trusted = |ip: &IpAddr| trusted.iter().any(|net| net.contains(ip));
    let mut client = canonical(peer);
    if !is_trusted(&client) {
        return Client::Address(client);
    }
    let hops = forwarded.iter().flat_map(|line| line.split(','));
    let hops: Vec<&str> = hops.map(str::trim).collect();
    for hop in hops.iter().rev() {
        let Some(ip) = hop_address(hop) else {
            return Client::Unparsed((*hop).to_string());
        };
        client = ip;
        if !is_trusted(&ip) {
            return Client::Address(ip);
        }
    }
    Client::Address(client)
}

/// `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1`, `[2001:db8::1]` or `[2001:db8::1]:443`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Ok(socket) = hop.parse::<std::net::SocketAddr>() {
        return Some(canonical(socket.ip()));
    }
    let bracketed = hop.strip_prefix('[')?.strip_suffix(']')?;
    bracketed
        .parse::<std::net::Ipv6Addr>()
        .ok()
        .map(|v6| canonical(IpAddr::V6(v6)))
}

/// IPv4-mapped IPv6 (`::ffff:192.0.2.1`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// IPv4 as is; IPv6 as its /64 network.
pub fn rate_key(ip: IpAddr) -> String {
    match ip {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => ipnet::Ipv6Net::new(v6, 64)
            .map(|n| n.trunc().to_string())
            .unwrap_or_else(|_| v6.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("ip")
    }

    fn nets(list: &[&str]) -> Vec<ipnet::IpNet> {
        list.iter().map(|n| n.parse().expect("net")).collect()
    }

    fn addr(s: &str) -> Client {
        Client::Address(ip(s))
    }

    #[test]
    fn the_peer_counts_unless_it_is_a_trusted_proxy() {
        let trusted = nets(&["10.0.0.0/8"]);
        let xff = ["198.51.100.7"];
        assert_eq!(
            client_ip(ip("203.0.113.9"), &xff, &trusted),
            addr("203.0.113.9")
        );
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff, &trusted),
            addr("198.51.100.7")
        );
        assert_eq!(client_ip(ip("10.0.0.2"), &[], &trusted), addr("10.0.0.2"));
    }

    #[test]
    fn the_right_most_untrusted_hop_wins_and_forged_left_entries_do_not() {
        let trusted = nets(&["10.0.0.0/8", "192.168.1.1/32"]);
        let xff = ["1.2.3.4, 198.51.100.7", "192.168.1.1"];
        assert_eq!(
            client_ip(ip("10.0.0.2"), &xff, &trusted),
            addr("198.51.100.7")
        );
        let garbage = ["1.2.3.4, not-an-ip, 10.1.1.1"];
        assert_eq!(
            client_ip(ip("10.0.0.2"), &garbage, &trusted),
            Client::Unparsed("not-an-ip".into()),
            "a hop that is no address is its own client, not the proxy"
        );
        let all_trusted = ["10.9.9.9"];
        assert_eq!(
            client_ip(ip("10.0.0.2"), &all_trusted, &trusted),
            addr("10.9.9.9")
        );
    }

    #[test]
    fn hops_with_ports_parse() {
        let trusted = nets(&["127.0.0.1/32"]);
        for (hop, expected) in [
            ("198.51.100.8:4711", "198.51.100.8"),
            ("[2001:db8::1]:443", "2001:db8::1"),
            ("[2001:db8::1]", "2001:db8::1"),
            ("2001:db8::1", "2001:db8::1"),
            ("[::ffff:192.0.2.1]:80", "192.0.2.1"),
        ] {
            assert_eq!(
                client_ip(ip("127.0.0.1"), &[hop], &trusted),
                addr(expected),
                "{hop}"
            );
        }
        for junk in ["unknown", "198.51.100.8:x", "[2001:db8::1", "_hidden"] {
            assert_eq!(
                client_ip(ip("127.0.0.1"), &[junk], &trusted),
                Client::Unparsed(junk.into()),
                "{junk}"
            );
        }
    }

    #[test]
    fn ipv6_counts_per_64_and_mapped_ipv4_is_ipv4() {
        assert_eq!(rate_key(ip("2001:db8:1:2:aaaa::1")), "2001:db8:1:2::/64");
        assert_eq!(
            rate_key(ip("2001:db8:1:2:bbbb::9")),
            rate_key(ip("2001:db8:1:2:aaaa::1"))
        );
        assert_eq!(canonical(ip("::ffff:192.0.2.1")), ip("192.0.2.1"));
    }
}
