//! E-mail to reporters: the [`Mailer`] port, its Amazon SES implementation, and the mails Lapor
//! sends, each in Bahasa Indonesia first with English beside it. Plain text only: a mail that
//! renders the same in every client and on every phone, with nothing fetched from elsewhere.
//!
//! An address or a mail's text never goes to a log: `Mail`'s `Debug` hides both, and an SES error
//! is stripped of every address before it becomes a [`NotifyError`].

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use lapor_core::{AccessKey, Color, Email, Report, Sla, Status, TrackingCode};

use crate::NotifyError;

/// One plain-text mail to one person.
#[derive(Clone, PartialEq)]
pub struct Mail {
    pub to: Email,
    pub subject: String,
    pub text: String,
}

impl std::fmt::Debug for Mail {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The subject names only the tracking code; the address and the text may be personal,
        // and the access-key mail holds a secret.
        f.debug_struct("Mail")
            .field("to", &"…")
            .field("subject", &self.subject)
            .field("text", &"…")
            .finish()
    }
}

/// Sends mail. Implementations never log the address or the text.
#[async_trait]
pub trait Mailer: Send + Sync {
    async fn send(&self, mail: &Mail) -> Result<(), NotifyError>;
}

/// Sends through Amazon SES (API v2, `SendEmail` with simple content) from one verified address.
#[derive(Debug, Clone)]
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: Email,
}

impl SesMailer {
    /// `from` must be an SES identity this account may send from (the stack's `MailFrom`).
    pub fn new(config: &aws_config::SdkConfig, from: Email) -> Self {
        Self::with_client(aws_sdk_sesv2::Client::new(config), from)
    }

    /// Over a client built elsewhere (the tests record its calls on the wire).
    pub fn with_client(client: aws_sdk_sesv2::Client, from: Email) -> Self {
        Self { client, from }
    }

    pub fn from_address(&self) -> &Email {
        &self.from
    }
}

fn utf8(text: &str) -> Result<Content, NotifyError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| NotifyError(e.to_string()))
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<(), NotifyError> {
        let message = Message::builder()
            .subject(utf8(&mail.subject)?)
            .body(Body::builder().text(utf8(&mail.text)?).build())
            .build();
        self.client
            .send_email()
            .from_email_address(self.from.as_str())
            .destination(
                Destination::builder()
                    .to_addresses(mail.to.as_str())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| {
                // SES names unverified or refused addresses in its messages: keep none of them.
                let detail = aws_sdk_sesv2::error::DisplayErrorContext(e).to_string();
                NotifyError(format!(
                    "e-mail for {} failed: {}",
                    mail.subject,
                    without_addresses(&detail)
                ))
            })?;
        Ok(())
    }
}

/// `text` with every word that holds an `@` replaced, so no address reaches a log.
pub fn without_addresses(text: &str) -> String {
    const APART: &[char] = &[
        '"', '\'', '<', '>', ',', ';', '(', ')', '[', ']', '{', '}', '`',
    ];
    let mut out = String::with_capacity(text.len());
    let mut word = String::new();
    fn flush(word: &mut String, out: &mut String) {
        if word.contains('@') {
            out.push_str("[e-mail]");
        } else {
            out.push_str(word);
        }
        word.clear();
    }
    for c in text.chars() {
        if c.is_whitespace() || APART.contains(&c) {
            flush(&mut word, &mut out);
            out.push(c);
        } else {
            word.push(c);
        }
    }
    flush(&mut word, &mut out);
    out
}

/// The address as lapor-local's outbox shows it: the first character and the domain, so a
/// developer can tell mails apart without the outbox holding whole addresses.
pub fn masked_address(to: &Email) -> String {
    let (local, domain) = to.as_str().rsplit_once('@').unwrap_or((to.as_str(), ""));
    let mut chars = local.chars();
    let first = chars.next().map(String::from).unwrap_or_default();
    format!("{first}{}@{domain}", "*".repeat(chars.count()))
}

/// The status as the reporter reads it: Indonesian, English.
fn status_words(status: Status) -> (&'static str, &'static str) {
    match status {
        Status::Diterima => ("diterima", "received"),
        Status::Terdisposisi => ("diteruskan ke instansi", "forwarded to the agency"),
        Status::Diproses => ("sedang diproses", "in process"),
        Status::Selesai => ("selesai", "done"),
        Status::Tertunda => ("tertunda", "on hold"),
        Status::Arsip => ("diarsipkan", "archived"),
        Status::BukanWewenang => (
            "dikembalikan, bukan wewenang instansi",
            "returned, outside the agency's authority",
        ),
    }
}

fn color_en(color: Color) -> &'static str {
    match color {
        Color::Grey => "grey",
        Color::Red => "red",
        Color::Yellow => "yellow",
        Color::Green => "green",
    }
}

const RULE: &str = "----------------------------------------";

const AUTOMATIC: &str =
    "Anda menerima e-mail ini karena memberikan alamat ini dan memilih menerima \
kabar saat melapor. E-mail ini dikirim otomatis; mohon tidak dibalas.\n\
You get this e-mail because you gave this address and chose to be told of progress when you \
reported. It was sent automatically; please do not reply to it.";

/// The receipt for a new report: its tracking code and what happens next, with the service
/// levels of its category. Never the access key: only the reporter's own request sends that
/// ([`access_key_mail`]). A `rahasia` report's title stays out, since a mailbox can be shared.
pub fn receipt_mail(report: &Report, sla: &Sla, to: Email) -> Mail {
    let code = &report.tracking_code;
    let verify = sla.verify_working_days;
    let follow_up = sla.follow_up_working_days;
    let title = if report.privacy.hides_report() {
        String::new()
    } else {
        format!("Judul / Title: {}\n", report.title)
    };
    let text = format!(
        "LAPOR! Laporan Anda diterima / Your report was received\n\
         \n\
         Kode pelacakan / Tracking code: {code}\n\
         {title}\
         \n\
         Apa selanjutnya:\n\
         1. Admin pusat memverifikasi laporan Anda dan meneruskannya ke instansi yang berwenang \
         dalam {verify} hari kerja.\n\
         2. Instansi menindaklanjuti dalam {follow_up} hari kerja setelah menerima laporan.\n\
         Setiap tanggapan instansi akan dikirim ke alamat ini.\n\
         \n\
         What happens next:\n\
         1. The central admin verifies your report and forwards it to the responsible agency \
         within {verify} working days.\n\
         2. The agency follows up within {follow_up} working days of receiving it.\n\
         Every answer from the agency will be sent to this address.\n\
         \n\
         Simpan kode pelacakan ini. Untuk melihat laporan, membalas atau memberi nilai, pakai \
         kode ini bersama kunci akses yang ditampilkan saat Anda melapor. E-mail ini tidak memuat \
         kunci akses; jangan berikan kunci itu kepada siapa pun.\n\
         Keep this tracking code. To see your report, reply or rate it, use the code with the \
         access key you were shown when you reported. This e-mail does not contain the access \
         key; never share it with anyone.\n\
         \n\
         {RULE}\n\
         {AUTOMATIC}\n"
    );
    Mail {
        to,
        subject: format!("Laporan {code} diterima / Report {code} received"),
        text,
    }
}

/// An agency's answer (a follow-up, or the report archived): the new status, its colour and the
/// answer's own words as the agency wrote them.
pub fn answer_mail(report: &Report, answer: Option<&str>, to: Email) -> Mail {
    let code = &report.tracking_code;
    let (status_id, status_en) = status_words(report.status);
    let color = report.color();
    let answer = answer
        .map(str::trim)
        .filter(|a| !a.is_empty())
        .unwrap_or("(tanpa pesan / no message)");
    let text = format!(
        "LAPOR! Tanggapan baru atas laporan Anda / A new answer on your report\n\
         \n\
         Kode pelacakan / Tracking code: {code}\n\
         Status: {status_id} / {status_en}\n\
         Warna / Colour: {} / {}\n\
         \n\
         Tanggapan instansi / The agency's answer:\n\
         \n\
         {answer}\n\
         \n\
         Untuk membalas, atau bila masalahnya belum selesai, buka laporan Anda dengan kode \
         pelacakan dan kunci akses, atau kirim BALAS {code} <pesan> ke 1708 dari nomor yang Anda \
         pakai saat melapor.\n\
         To reply, or if the problem is not solved, open your report with the tracking code and \
         the access key, or text BALAS {code} <message> to 1708 from the number you reported \
         with.\n\
         \n\
         {RULE}\n\
         {AUTOMATIC}\n",
        color.word(),
        color_en(color),
    );
    Mail {
        to,
        subject: format!("Tanggapan baru untuk laporan {code} / New answer on report {code}"),
        text,
    }
}

/// The access key, sent only when the reporter asks for it (the portal's "send to my e-mail").
pub fn access_key_mail(code: &TrackingCode, key: &AccessKey, to: Email) -> Mail {
    let key = key.reveal();
    let text = format!(
        "LAPOR! Kunci akses laporan Anda / The access key to your report\n\
         \n\
         Kode pelacakan / Tracking code: {code}\n\
         Kunci akses / Access key: {key}\n\
         \n\
         Kunci akses membuka laporan Anda: siapa pun yang memegangnya bersama kode pelacakan \
         dapat melihat laporan beserta data kontak Anda, membalas atas nama Anda dan memberi \
         nilai. Jangan berikan kepada siapa pun, termasuk petugas: LAPOR! tidak pernah \
         memintanya. Simpan e-mail ini di tempat yang aman, atau hapus setelah kunci dicatat.\n\
         The access key unlocks your report: whoever holds it with the tracking code can see \
         the report and your contact details, reply in your name and rate it. Do not share it \
         with anyone, officers included: LAPOR! never asks for it. Keep this e-mail somewhere \
         safe, or delete it once the key is noted.\n\
         \n\
         {RULE}\n\
         Anda menerima e-mail ini karena meminta kunci akses dikirim ke alamat ini. Bila bukan \
         Anda yang meminta, abaikan e-mail ini.\n\
         You get this e-mail because the access key was requested for this address. If you did \
         not ask for it, ignore this e-mail.\n"
    );
    Mail {
        to,
        subject: format!("Kunci akses laporan {code} / Access key for report {code}"),
        text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn email(text: &str) -> Email {
        Email::parse(text).expect("email")
    }

    #[test]
    fn addresses_never_survive_into_an_error_text() {
        let sandbox = "MessageRejected: Email address is not verified. The following identities \
                       failed the check in region AP-SOUTHEAST-3: Siti.Aminah@example.id, \
                       <lapor@lapor.example.go.id> (\"x@y.z\")";
        let cleaned = without_addresses(sandbox);
        assert!(!cleaned.contains('@'), "{cleaned}");
        assert!(cleaned.contains("MessageRejected: Email address is not verified"));
        assert_eq!(without_addresses("no address here"), "no address here");
    }

    #[test]
    fn a_masked_address_keeps_the_first_character_and_the_domain() {
        assert_eq!(masked_address(&email("siti@example.id")), "s***@example.id");
        assert_eq!(masked_address(&email("a@example.id")), "a@example.id");
    }

    #[test]
    fn debug_shows_neither_the_address_nor_the_text() {
        let key = AccessKey::presented("abcdefghjkmnpqrstvwxyz0123");
        let code = TrackingCode::generate(&mut rand::rng());
        let mail = access_key_mail(&code, &key, email("siti@example.id"));
        let shown = format!("{mail:?}");
        assert!(
            !shown.contains("siti") && !shown.contains(key.reveal()),
            "{shown}"
        );
        assert!(shown.contains(code.as_str()), "{shown}");
        assert!(mail.text.contains(key.reveal()));
        assert!(mail.text.contains("Jangan berikan") && mail.text.contains("Do not share"));
        assert!(mail.subject.starts_with("Kunci akses"));
    }
}
