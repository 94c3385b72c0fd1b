//! The two sides of every comparison, shared by `codec` (criterion) and
//! `interleaved`: our codec as a typical app configures it, and
//! the peer, the `cookie` crate's `PrivateJar` carrying the session as
//! serde_json (what actix-session does).

use cookie::{Cookie, CookieJar};
use sealed_session::{Codec, Key, KeyRing};
use serde::Serialize;
use serde::de::DeserializeOwned;

/// Both sides ready to race on one value: each side's token for it, checked
/// to open to the same value first (benches open real tokens).
pub(crate) struct Prepared {
    pub(crate) codec: Codec,
    pub(crate) jar_key: cookie::Key,
    pub(crate) token: String,
    pub(crate) peer_token: String,
}

pub(crate) fn prepare<T>(value: &T) -> Prepared
where
    T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug,
{
    let codec = ours();
    let jar_key = cookie::Key::generate();
    let token = codec.seal(value).expect("seals");
    let peer_token = peer_seal(&jar_key, value);
    assert_eq!(codec.open::<T>(&token).expect("opens").value(), value);
    assert_eq!(&peer_open::<T>(&jar_key, &peer_token), value);
    Prepared {
        codec,
        jar_key,
        token,
        peer_token,
    }
}

/// Our codec: purpose, two-hour idle timeout, a fresh key.
fn ours() -> Codec {
    Codec::builder(KeyRing::new(Key::generate()))
        .purpose("session")
        .idle_timeout(time::Duration::hours(2))
        .build()
        .expect("codec")
}

/// Our codec as above, with the largest budget, so that it opens alone the
/// tokens a chunked cookie carries.
#[allow(dead_code)] // used by `interleaved`, not by `codec`
pub(crate) fn prepare_codec() -> Codec {
    Codec::builder(KeyRing::new(Key::generate()))
        .purpose("session")
        .idle_timeout(time::Duration::hours(2))
        .budget(sealed_session::MAX_BUDGET)
        .build()
        .expect("codec")
}

/// The cookie value `PrivateJar` sets for `value`.
pub(crate) fn peer_seal<T: Serialize>(key: &cookie::Key, value: &T) -> String {
    let mut jar = CookieJar::new();
    let json = serde_json::to_string(value).expect("json");
    jar.private_mut(key).add(Cookie::new("session", json));
    jar.get("session").expect("added").value().to_owned()
}

/// The value back from a cookie value that `PrivateJar` sealed.
pub(crate) fn peer_open<T: DeserializeOwned>(key: &cookie::Key, token: &str) -> T {
    let jar = CookieJar::new();
    let cookie = jar
        .private(key)
        .decrypt(Cookie::new("session", token.to_owned()))
        .expect("authentic");
    serde_json::from_str(cookie.value()).expect("json")
}
