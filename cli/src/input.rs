//! Where a subcommand's text comes from: an argument or standard input.

use std::io::Read as _;

use crate::exit::{CliError, OTHER};

/// The most standard input read: far above any token or session payload.
const STDIN_LIMIT: u64 = 1 << 20;

/// Reads the token argument: the text itself, or standard input for `-` or
/// when absent.
pub(crate) fn read_input(arg: Option<&str>) -> Result<String, CliError> {
    match arg {
        Some(text) if text != "-" => Ok(text.to_owned()),
        _ => read_stdin(),
    }
}

/// Reads standard input, at most [`STDIN_LIMIT`] bytes of it.
pub(crate) fn read_stdin() -> Result<String, CliError> {
    let mut text = String::new();
    std::io::stdin()
        .take(STDIN_LIMIT)
        .read_to_string(&mut text)
        .map_err(|e| CliError::new(OTHER, format!("cannot read standard input: {e}")))?;
    Ok(text)
}
