//! Standard output for every command: `outln!` (main.rs) writes here.
/// Writes one line to standard output. A closed pipe (the reader has all
/// it wanted: `sealed-session inspect ... | head -1`) ends the process with
/// success, as `cat` does; another write error ends it with a message.
pub(crate) fn write_line(args: std::fmt::Arguments<'_>) {
    use std::io::Write as _;
    let mut out = std::io::stdout().lock();
    let written = out
        .write_fmt(args)
        .and_then(|()| out.write_all(b"\n"))
        .and_then(|()| out.flush());
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => {
            eprintln!("sealed-session: cannot write to standard output: {e}");
            std::process::exit(i32::from(crate::exit::OTHER));
        }
    }
}
