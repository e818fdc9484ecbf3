//! A small SMTP server for tests: it accepts mail on 127.0.0.1 and keeps
//! it for assertions, so tests exercise a real SMTP client end to end
//! without a mock transport. It can also stall (a slow mail server) and
//! refuse the next messages with a 451 (a mail server in trouble).

use std::{
    sync::{
        Arc, Mutex, PoisonError,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use tokio::{
    io::{AsyncBufReadExt, AsyncWriteExt, BufReader},
    net::{TcpListener, TcpStream},
    sync::{Notify, watch},
    task::JoinHandle,
};

/// One message as the server received it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReceivedMail {
    /// The envelope sender (`MAIL FROM`).
    pub from: String,
    /// The envelope recipients (`RCPT TO`).
    pub to: Vec<String>,
    /// The message, headers and body, dot-unstuffed, CRLF line ends.
    pub data: String,
}

impl ReceivedMail {
    /// The message with quoted-printable soft breaks and escapes undone,
    /// enough to read the text of the mails the API sends.
    pub fn decoded(&self) -> String {
        decode_quoted_printable(&self.data)
    }

    /// The first `{prefix}TOKEN` in the decoded message, TOKEN being the
    /// URL-safe characters that follow `prefix`.
    pub fn link_token(&self, prefix: &str) -> Option<String> {
        let text = self.decoded();
        let start = text.find(prefix)? + prefix.len();
        let token: String = text[start..]
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_')
            .collect();
        (!token.is_empty()).then_some(token)
    }
}

#[derive(Default)]
struct Shared {
    mails: Mutex<Vec<ReceivedMail>>,
    arrived: Notify,
    refuse_next: AtomicUsize,
}

/// A running test SMTP server; stops when dropped.
pub struct SmtpServer {
    port: u16,
    shared: Arc<Shared>,
    held: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl SmtpServer {
    /// Listens on a free port of 127.0.0.1.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind the SMTP port");
        let port = listener.local_addr().expect("SMTP address").port();
        let shared = Arc::new(Shared::default());
        let (held, held_watch) = watch::channel(false);
        let task = tokio::spawn(accept(listener, shared.clone(), held_watch));
        Self {
            port,
            shared,
            held,
            task,
        }
    }

    /// `smtp://127.0.0.1:PORT`, for `SMTP_URL`.
    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    /// Stalls every conversation before its greeting until [`release`](Self::release).
    pub fn hold(&self) {
        self.held.send_replace(true);
    }

    /// Lets stalled conversations go on.
    pub fn release(&self) {
        self.held.send_replace(false);
    }

    /// Answers the next `count` messages with `451` (try again later).
    pub fn refuse_next(&self, count: usize) {
        self.shared.refuse_next.store(count, Ordering::SeqCst);
    }

    /// Every message received so far.
    pub fn received(&self) -> Vec<ReceivedMail> {
        self.shared
            .mails
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Waits until `count` messages to `recipient` have arrived, at most
    /// `timeout`; returns them, or panics saying what arrived instead.
    pub async fn wait_for_mails_to(
        &self,
        recipient: &str,
        count: usize,
        timeout: Duration,
    ) -> Vec<ReceivedMail> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let arrived = self.shared.arrived.notified();
            let to_recipient: Vec<ReceivedMail> = self
                .received()
                .into_iter()
                .filter(|mail| mail.to.iter().any(|to| to == recipient))
                .collect();
            if to_recipient.len() >= count {
                return to_recipient;
            }
            if tokio::time::timeout_at(deadline, arrived).await.is_err() {
                panic!(
                    "{count} mail(s) to {recipient} did not arrive within {timeout:?}; received: {:?}",
                    self.received()
                );
            }
        }
    }

    /// Waits for the first message to `recipient`, at most `timeout`.
    pub async fn wait_for_mail_to(&self, recipient: &str, timeout: Duration) -> ReceivedMail {
        let mut mails = self.wait_for_mails_to(recipient, 1, timeout).await;
        mails.swap_remove(0)
    }
}

async fn accept(listener: TcpListener, shared: Arc<Shared>, held: watch::Receiver<bool>) {
    while let Ok((stream, _)) = listener.accept().await {
        let (shared, mut held) = (shared.clone(), held.clone());
        tokio::spawn(async move {
            let _ = held.wait_for(|held| !*held).await;
            // A client that hangs up mid-conversation is not the test's concern.
            let _ = converse(stream, &shared).await;
        });
    }
}

/// One SMTP conversation (RFC 5321, the subset a client needs).
async fn converse(stream: TcpStream, shared: &Shared) -> std::io::Result<()> {
    let (reader, mut writer) = stream.into_split();
    let mut lines = BufReader::new(reader);
    writer.write_all(b"220 testkit ESMTP ready\r\n").await?;
    let (mut from, mut to) = (String::new(), Vec::new());
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let command = line.trim_end().to_owned();
        let verb = command
            .split([' ', ':'])
            .next()
            .unwrap_or_default()
            .to_ascii_uppercase();
        let reply: &[u8] = match verb.as_str() {
            "EHLO" => b"250-testkit\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n",
            "HELO" | "NOOP" => b"250 OK\r\n",
            "RSET" => {
                (from, to) = (String::new(), Vec::new());
                b"250 OK\r\n"
            }
            "MAIL" => {
                from = address_of(&command);
                to.clear();
                b"250 OK\r\n"
            }
            "RCPT" => {
                to.push(address_of(&command));
                b"250 OK\r\n"
            }
            "DATA" => {
                writer.write_all(b"354 end with <CRLF>.<CRLF>\r\n").await?;
                let data = read_data(&mut lines).await?;
                let refused = shared
                    .refuse_next
                    .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |left| left.checked_sub(1))
                    .is_ok();
                if refused {
                    b"451 4.3.0 try again later\r\n"
                } else {
                    let mail = ReceivedMail {
                        from: from.clone(),
                        to: std::mem::take(&mut to),
                        data,
                    };
                    shared
                        .mails
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(mail);
                    shared.arrived.notify_waiters();
                    b"250 OK queued\r\n"
                }
            }
            "QUIT" => {
                writer.write_all(b"221 bye\r\n").await?;
                return Ok(());
            }
            _ => b"502 command not implemented\r\n",
        };
        writer.write_all(reply).await?;
    }
}

/// The address between `<` and `>` of `MAIL FROM:<a@b>` or `RCPT TO:<a@b>`.
fn address_of(command: &str) -> String {
    let start = command.find('<').map_or(0, |i| i + 1);
    let end = command[start..].find('>').map_or(command.len(), |i| start + i);
    command[start..end].to_owned()
}

async fn read_data(lines: &mut BufReader<tokio::net::tcp::OwnedReadHalf>) -> std::io::Result<String> {
    let mut data = String::new();
    let mut line = String::new();
    loop {
        line.clear();
        if lines.read_line(&mut line).await? == 0 {
            return Ok(data);
        }
        if line == ".\r\n" || line == ".\n" {
            return Ok(data);
        }
        // Dot-stuffing: a line that starts with a dot was sent with two.
        data.push_str(line.strip_prefix('.').unwrap_or(&line));
    }
}

fn decode_quoted_printable(data: &str) -> String {
    let joined = data.replace("=\r\n", "").replace("=\n", "");
    let bytes = joined.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|pair| std::str::from_utf8(pair).ok())
            .and_then(|pair| u8::from_str_radix(pair, 16).ok());
        match (bytes[i], hex) {
            (b'=', Some(byte)) => {
                out.push(byte);
                i += 3;
            }
            (byte, _) => {
                out.push(byte);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::{ReceivedMail, address_of, decode_quoted_printable};

    #[test]
    fn quoted_printable_soft_breaks_and_escapes_are_undone() {
        assert_eq!(decode_quoted_printable("a=3Db=\r\nc =C3=A9"), "a=bc é");
    }

    #[test]
    fn a_link_token_is_read_across_a_soft_break() {
        let mail = ReceivedMail {
            from: String::new(),
            to: vec![],
            data: "see http://x/verify?token=3DAb-=\r\n_9\r\n".to_owned(),
        };
        assert_eq!(
            mail.link_token("http://x/verify?token=").as_deref(),
            Some("Ab-_9")
        );
    }

    #[test]
    fn envelope_addresses_are_taken_from_the_brackets() {
        assert_eq!(address_of("MAIL FROM:<a@b.co> BODY=8BITMIME"), "a@b.co");
        assert_eq!(address_of("RCPT TO:<x@y.z>"), "x@y.z");
    }
}
