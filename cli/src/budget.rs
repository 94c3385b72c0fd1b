//! `--budget`: the token size limit of `open`, `inspect` and `seal`. The
//! library's default unless raised, so that a token the CLI accepts also
//! opens in an app built with the defaults; for a token pasted with its
//! cookies, what those cookies can carry.

use sealed_session::{DEFAULT_BUDGET, Error, Extracted, MAX_BUDGET, MIN_BUDGET};

#[derive(clap::Args, Debug, Clone, Copy)]
pub(crate) struct Budget {
    /// The largest token, in bytes of text (128 to 8192). Browsers drop a
    /// cookie over 4096 bytes with its name and attributes.
    #[arg(
        long = "budget",
        value_name = "BYTES",
        default_value_t = DEFAULT_BUDGET,
        value_parser = parse_budget
    )]
    pub(crate) bytes: usize,
    /// The budget is the pasted cookies', not `--budget`'s.
    #[arg(skip)]
    pub(crate) from_cookies: bool,
}

impl Budget {
    pub(crate) fn is_default(self) -> bool {
        self.bytes == DEFAULT_BUDGET
    }

    /// The budget for a token taken from `input`: `--budget` if given,
    /// else its cookies' (FORMAT.md §7: a token carried in cookies has
    /// their budget), else the library's default.
    pub(crate) fn for_input(self, found: &Extracted<'_>) -> Self {
        match found.cookie_budget {
            Some(bytes) if self.is_default() => Self {
                bytes,
                from_cookies: true,
            },
            _ => self,
        }
    }

    /// The message for [`Error::TooLarge`] and [`Error::InputTooLarge`], saying where the limit comes
    /// from: `verb` is what a larger budget would let the user do.
    pub(crate) fn over(self, e: &Error, verb: &str) -> String {
        if self.from_cookies {
            format!("{e} (the most the pasted cookies can carry)")
        } else if self.is_default() {
            format!("{e} (the default budget; pass --budget to {verb} larger tokens)")
        } else {
            format!("{e} (set by --budget)")
        }
    }
}

fn parse_budget(text: &str) -> Result<usize, String> {
    text.parse::<usize>()
        .ok()
        .filter(|n| (MIN_BUDGET..=MAX_BUDGET).contains(n))
        .ok_or_else(|| format!("expected a number of bytes from {MIN_BUDGET} to {MAX_BUDGET}"))
}
