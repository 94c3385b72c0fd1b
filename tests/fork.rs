//! Fork safety: a child forked after its parent sealed never repeats a
//! nonce or a session id of the parent, although the thread's generator
//! state is copied into the child.
//!
//! Its own test binary without the test harness, so that the process that
//! forks has one thread only.

#[cfg(unix)]
fn main() {
    use std::collections::HashSet;
    use std::io::Write as _;

    use sealed_session::{Codec, Key, KeyRing, UntrustedToken};

    const DRAWS: usize = 16;

    let codec = Codec::builder(KeyRing::new(Key::generate()))
        .build()
        .expect("codec");
    // Nonces and session ids of `DRAWS` new sessions, as hex lines.
    let draw = || -> Vec<String> {
        (0..DRAWS)
            .flat_map(|i| {
                let token = codec.seal(&i).expect("seal");
                let nonce = UntrustedToken::parse(&token)
                    .expect("parse")
                    .nonce()
                    .expect("encrypted")
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>();
                let id = codec
                    .open::<usize>(&token)
                    .expect("open")
                    .claims()
                    .session_id();
                [format!("nonce {nonce}"), format!("session id {id}")]
            })
            .collect()
    };
    // The parent seals first, so that its generator is seeded and in use.
    let before = draw();

    let out = std::env::temp_dir().join(format!("sealed-session-fork-{}", std::process::id()));
    match fork::fork().expect("fork") {
        fork::Fork::Child => {
            let lines = draw().join("\n");
            let written =
                std::fs::File::create(&out).and_then(|mut f| f.write_all(lines.as_bytes()));
            std::process::exit(i32::from(written.is_err()));
        }
        fork::Fork::Parent(child) => {
            let parent = draw();
            let status = fork::waitpid(child).expect("waitpid");
            assert_eq!(status, 0, "the child failed");
            let text = std::fs::read_to_string(&out).expect("the child's draws");
            let _ = std::fs::remove_file(&out);
            let child: HashSet<&str> = text.lines().collect();
            assert_eq!(child.len(), 2 * DRAWS, "the child's draws are distinct");
            let shared: Vec<&String> = parent
                .iter()
                .chain(&before)
                .filter(|line| child.contains(line.as_str()))
                .collect();
            assert!(
                shared.is_empty(),
                "the child repeated the parent's draws: {shared:?}"
            );
            println!(
                "fork: parent and child each drew {DRAWS} nonces and session ids after the fork; none repeats"
            );
        }
    }
}

#[cfg(not(unix))]
fn main() {
    println!("fork: skipped, fork() exists only on unix");
}
