//! The small pages the browser gets from the loopback server (no scripts, no outside
//! resources).

/// Escapes text for HTML.
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// A small page.
fn page(title: &str, class: &str, heading: &str, body: &str) -> String {
    format!(
        r#"<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #121212; color: #eee; display: flex; min-height: 90vh; align-items: center; justify-content: center; }}
main {{ max-width: 32rem; padding: 2rem; border-radius: 12px; background: #1e1e1e; }}
h1 {{ font-size: 1.4rem; }} .ok h1 {{ color: #1db954; }} .fail h1 {{ color: #f87171; }}
p {{ line-height: 1.5; }}
</style></head>
<body class="{class}"><main><h1 id="heading">{heading}</h1>{body}</main></body></html>
"#
    )
}

/// The page after a successful login.
pub fn success_page() -> String {
    page(
        "Tonearm: logged in",
        "ok",
        "Tonearm is connected to Spotify",
        "<p id=\"message\">You are logged in. You can close this tab and go back to the terminal.</p>",
    )
}

/// The page after a failed login: `reason` is what the terminal says too.
pub fn failure_page(reason: &str) -> String {
    page(
        "Tonearm: login failed",
        "fail",
        "Tonearm could not log in",
        &format!(
            "<p id=\"message\">{}</p><p>You can close this tab; the terminal says the same.</p>",
            html_escape(reason)
        ),
    )
}

/// The page for any other path, method or an over-long request.
pub fn not_found_page() -> String {
    page(
        "Tonearm",
        "fail",
        "Nothing here",
        "<p>Tonearm is waiting for Spotify's redirect to /callback.</p>",
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_escape_the_reason() {
        let page = failure_page("<b>&\"'");
        assert!(page.contains("&lt;b&gt;&amp;&quot;&#39;"), "{page}");
        assert!(page.contains("<title>Tonearm: login failed</title>"));
        assert!(success_page().contains("<title>Tonearm: logged in</title>"));
        assert!(not_found_page().contains("/callback"));
    }
}
