//! The reference payloads, shared by tests, examples and benches: the
//! shapes every size and speed figure of the project is measured on.
#![allow(dead_code)]

use serde::{Deserialize, Serialize};

/// The typical session: about 150 bytes of CBOR.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Typical {
    pub user_id: u64,
    pub username: String,
    pub roles: Vec<String>,
    pub csrf: String,
    pub created: i64,
    pub theme: String,
}

/// The large session: typical plus 40 history entries of 40 characters.
#[derive(Serialize, Deserialize, Debug, Clone, PartialEq)]
pub(crate) struct Large {
    pub user_id: u64,
    pub username: String,
    pub roles: Vec<String>,
    pub csrf: String,
    pub created: i64,
    pub theme: String,
    pub history: Vec<String>,
}

pub(crate) fn typical() -> Typical {
    Typical {
        user_id: 123_456_789,
        username: "alice.example".into(),
        roles: vec!["admin".into(), "editor".into()],
        // 32 random bytes as unpadded base64url: 43 characters.
        csrf: "q1xDgW0o2Vd8oS4pJq3m0mJtqS1x8b9K7q0f5kq2Zc8".into(),
        created: 1_700_000_000,
        theme: "dark".into(),
    }
}

pub(crate) fn large() -> Large {
    let t = typical();
    Large {
        user_id: t.user_id,
        username: t.username,
        roles: t.roles,
        csrf: t.csrf,
        created: t.created,
        theme: t.theme,
        history: (0..40)
            .map(|i| format!("/app/section-{i:02}/item/{:0>22}", i * 7919))
            .collect(),
    }
}
