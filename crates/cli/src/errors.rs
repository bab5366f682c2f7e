//! How errors reach the user: one line each, and a closed pipe is not one.

/// Whether the error comes from writing to a closed pipe (`trailscope export | head`).
/// The libraries' I/O errors carry the `io::Error` as their source, so the chain finds it.
pub fn is_broken_pipe(err: &anyhow::Error) -> bool {
    err.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
    })
}

/// The error and its causes on one line, `outer: inner`. DataFusion repeats a cause in
/// its own message and appends lists (every valid field name) on further lines: each
/// cause contributes its first line, and a cause the line already says is left out.
pub fn one_line(err: &anyhow::Error) -> String {
    let mut line = String::new();
    for cause in err.chain() {
        let text = cause.to_string();
        let first = text.lines().next().unwrap_or("").trim();
        if first.is_empty() || line.contains(first) {
            continue;
        }
        if !line.is_empty() {
            line.push_str(": ");
        }
        line.push_str(first);
    }
    if line.contains("Resources exhausted") {
        // The message ends with a list of consumers on further lines: say what to do.
        let cut = line
            .find(" with top memory consumers")
            .unwrap_or(line.len());
        line.truncate(cut);
        line.push_str(" (the query needs more than --memory-limit: raise it, or 0 for none)");
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn causes_join_on_one_line_without_repeats() {
        let inner = std::io::Error::other("disk on fire");
        let err = anyhow::Error::new(inner).context("cannot write out.csv");
        assert_eq!(one_line(&err), "cannot write out.csv: disk on fire");

        let err = anyhow::anyhow!("Schema error: No field named nope.\nValid fields are a, b.")
            .context("Schema error: No field named nope.\nValid fields are a, b.");
        assert_eq!(one_line(&err), "Schema error: No field named nope.");
    }

    #[test]
    fn a_closed_pipe_is_found_in_the_chain() {
        let pipe = std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        assert!(is_broken_pipe(
            &anyhow::Error::new(pipe).context("writing rows")
        ));
        assert!(!is_broken_pipe(&anyhow::anyhow!("no")));
    }
}
