//! The line a field sits on in a YAML document, for `file:line:` output:
//! each segment of the path is looked for below its parent, indented
//! deeper; a field that is absent (a required one) points at its parent.

/// The 1-based line of `field` (`spec.condition.loginStreak.days`, `-` for
/// the document) in `document`, whose first line is `first_line`.
pub fn locate(document: &str, first_line: usize, field: &str) -> usize {
    let lines: Vec<&str> = document.lines().collect();
    let content = |line: &&str| !line.trim().is_empty() && !line.trim_start().starts_with('#');
    let mut found = lines.iter().position(content).unwrap_or(0);
    if field == "-" {
        return first_line + found;
    }
    let (mut from, mut parent_indent) = (0, None::<usize>);
    for segment in field.split('.').map(|s| s.split('[').next().unwrap_or(s)) {
        let mut hit = None;
        for (index, line) in lines.iter().enumerate().skip(from) {
            if !content(line) {
                continue;
            }
            let (indent, key_text) = key_position(line);
            if parent_indent.is_some_and(|parent| indent <= parent) {
                break;
            }
            let key = key_text.trim_start_matches('"');
            if key.starts_with(segment) && key[segment.len()..].trim_start_matches('"').starts_with(':') {
                hit = Some((index, indent));
                break;
            }
        }
        let Some((index, indent)) = hit else { break };
        (found, from, parent_indent) = (index, index + 1, Some(indent));
    }
    first_line + found
}

/// Indentation of the key on `line`, list markers (`- `) counted as indent.
fn key_position(line: &str) -> (usize, &str) {
    let mut rest = line;
    let mut indent = 0;
    loop {
        let trimmed = rest.trim_start_matches(' ');
        indent += rest.len() - trimmed.len();
        match trimmed.strip_prefix("- ") {
            Some(after) => {
                indent += 2;
                rest = after;
            }
            None => return (indent, trimmed),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::locate;

    const DOC: &str = "# a comment\napiVersion: liveops.dev/v1alpha1\nkind: Event\nmetadata:\n  name: e\nspec:\n  displayName: x\n  condition:\n    loginStreak:\n      days: 0\n  items:\n  - name: a\n    days: 3\n";

    #[test]
    fn fields_are_found_below_their_parents() {
        assert_eq!(locate(DOC, 10, "-"), 11);
        assert_eq!(locate(DOC, 1, "spec.condition.loginStreak.days"), 10);
        assert_eq!(locate(DOC, 1, "metadata.name"), 5);
        assert_eq!(locate(DOC, 1, "spec.items[0].days"), 13);
    }

    #[test]
    fn an_absent_field_points_at_its_parent() {
        assert_eq!(locate(DOC, 1, "spec.endsAt"), 6);
        assert_eq!(locate(DOC, 1, "spec.condition.referrals.count"), 8);
    }
}
