//! `keygen`: a new random key, printed, or a new key-ring file.

use std::path::PathBuf;

use sealed_session::{Key, KeyRingFile};
use serde_json::json;

use crate::exit::{CliError, OTHER};
use crate::output::{Context, print_json};

#[derive(clap::Args, Debug)]
pub(crate) struct Args {
    /// Write a new key-ring file holding the new key as primary, instead of
    /// printing the key. Refuses to overwrite an existing file.
    #[arg(long, value_name = "FILE")]
    ring: Option<PathBuf>,
}

pub(crate) fn run(ctx: &Context, args: Args) -> Result<(), CliError> {
    let key = Key::generate();
    let Some(path) = args.ring else {
        // The one place key bytes are printed: that is the point of keygen.
        let text = key.export_base64();
        if ctx.json {
            print_json(&json!({ "key": text.as_str(), "key_id": key.id().to_string() }))?;
        } else {
            outln!("{}", text.as_str());
        }
        return Ok(());
    };
    if path.exists() {
        return Err(CliError::new(
            OTHER,
            format!(
                "{} exists; refusing to overwrite a key ring",
                path.display()
            ),
        ));
    }
    // `save_new` also refuses a file created between the check and the write.
    crate::ring_store::save_new(&KeyRingFile::new(key.clone(), ctx.now), &path)?;
    if ctx.json {
        print_json(&json!({
            "ring": path.display().to_string(),
            "key_id": key.id().to_string(),
            "role": "primary",
        }))?;
    } else {
        outln!("wrote {} with primary key {}", path.display(), key.id());
    }
    Ok(())
}
