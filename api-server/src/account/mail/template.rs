//! The text of account mails, in plain text and HTML. Links are the
//! contracted ones (DESIGN.md, "Accounts"); the HTML is escaped.

use super::OutgoingMail;

/// The mail sent at signup and on resend.
pub fn verification(link: &str) -> OutgoingMail {
    OutgoingMail {
        subject: "Confirm your email address".to_owned(),
        text: format!(
            "Welcome to liveops.\n\n\
             Confirm that this is your email address by opening this link \
             within 24 hours:\n\n{link}\n\n\
             If you did not sign up, ignore this mail.\n"
        ),
        html: html_page(
            "Confirm your email address",
            "Welcome to liveops. Confirm that this is your email address by opening this link within 24 hours:",
            link,
            "Confirm my address",
            "If you did not sign up, ignore this mail.",
        ),
    }
}

/// The mail sent by `POST /auth/password/forgot`.
pub fn password_reset(link: &str) -> OutgoingMail {
    OutgoingMail {
        subject: "Reset your password".to_owned(),
        text: format!(
            "Someone asked to reset the password of your liveops account.\n\n\
             To choose a new password, open this link within 30 minutes:\n\n{link}\n\n\
             If it was not you, ignore this mail: your password stays as it is.\n"
        ),
        html: html_page(
            "Reset your password",
            "Someone asked to reset the password of your liveops account. \
             To choose a new password, open this link within 30 minutes:",
            link,
            "Choose a new password",
            "If it was not you, ignore this mail: your password stays as it is.",
        ),
    }
}

fn html_page(title: &str, lead: &str, link: &str, button: &str, footer: &str) -> String {
    let (title, lead, link, button, footer) = (
        escape(title),
        escape(lead),
        escape(link),
        escape(button),
        escape(footer),
    );
    format!(
        "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{title}</title></head>\n\
         <body style=\"font-family: sans-serif; line-height: 1.5\">\n\
         <h1 style=\"font-size: 1.3em\">{title}</h1>\n<p>{lead}</p>\n\
         <p><a href=\"{link}\">{button}</a></p>\n\
         <p style=\"font-size: 0.9em\">Or paste this address into your browser:<br>{link}</p>\n\
         <p style=\"color: #666\">{footer}</p>\n</body></html>\n"
    )
}

fn escape(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#39;"),
            c => escaped.push(c),
        }
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::{password_reset, verification};

    #[test]
    fn both_alternatives_carry_the_link() {
        let link = "http://127.0.0.1:8080/auth/verify-email?token=abc";
        let mail = verification(link);
        assert!(mail.text.contains(link));
        assert!(
            mail.html
                .contains("href=\"http://127.0.0.1:8080/auth/verify-email?token=abc\"")
        );
        let reset = password_reset("https://x.example/auth/password/reset?token=t");
        assert!(reset.text.contains("30 minutes") && reset.subject.contains("password"));
    }

    #[test]
    fn html_escapes_what_it_interpolates() {
        let mail = verification("https://x.example/?a=1&b=\"<script>");
        assert!(mail.html.contains("a=1&amp;b=&quot;&lt;script&gt;"));
        assert!(!mail.html.contains("<script>"));
    }
}
