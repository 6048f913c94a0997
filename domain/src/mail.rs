//! Outgoing email: SMTP through lettre when `SMTP_URL` is set, otherwise the dev mailbox
//! (kept in Postgres and shown at `/dev/mailbox`). Every email carries an idempotency key,
//! so an event delivered twice sends once.

use lettre::{message::Mailbox, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use sqlx::PgPool;

/// One email to send.
#[derive(Clone, Debug)]
pub struct OutgoingEmail {
    /// Unique per logical email, e.g. `welcome:{user_id}`.
    pub idempotency_key: String,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
}

/// Where mail goes.
#[derive(Clone)]
pub enum Mailer {
    /// Development: stored, never sent.
    DevMailbox {
        /// Where the mail is stored.
        db: PgPool,
    },
    /// Production: SMTP.
    Smtp {
        /// Where sent mail is recorded.
        db: PgPool,
        /// The pooled SMTP connection.
        transport: AsyncSmtpTransport<Tokio1Executor>,
        /// The sender address.
        from: Mailbox,
    },
}

impl Mailer {
    /// SMTP for `smtp_url` (e.g. `smtps://user:pass@smtp.example.com`), else the dev mailbox.
    pub fn new(db: PgPool, smtp_url: Option<&str>, from: &str) -> Result<Self, String> {
        match smtp_url {
            None => Ok(Mailer::DevMailbox { db }),
            Some(url) => {
                let transport = AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|e| format!("SMTP_URL is not usable: {e}"))?
                    .build();
                let from = from
                    .parse()
                    .map_err(|e| format!("MAIL_FROM `{from}` is not a mailbox: {e}"))?;
                Ok(Mailer::Smtp {
                    db,
                    transport,
                    from,
                })
            }
        }
    }

    /// Whether mail is kept in the dev mailbox.
    pub fn is_dev_mailbox(&self) -> bool {
        matches!(self, Mailer::DevMailbox { .. })
    }

    /// Sends `email` unless its key was sent before. Returns whether it went out now.
    pub async fn send(&self, email: &OutgoingEmail) -> Result<bool, String> {
        match self {
            Mailer::DevMailbox { db } => {
                let inserted = sqlx::query!(
                    r#"INSERT INTO emails (idempotency_key, to_address, subject, body, transport)
                       VALUES ($1, $2, $3, $4, 'dev_mailbox')
                       ON CONFLICT (idempotency_key) DO NOTHING"#,
                    email.idempotency_key,
                    email.to,
                    email.subject,
                    email.body,
                )
                .execute(db)
                .await
                .map_err(|e| e.to_string())?;
                Ok(inserted.rows_affected() == 1)
            }
            Mailer::Smtp {
                db,
                transport,
                from,
            } => {
                let seen = sqlx::query_scalar!(
                    r#"SELECT EXISTS (SELECT 1 FROM emails WHERE idempotency_key = $1) AS "seen!""#,
                    email.idempotency_key
                )
                .fetch_one(db)
                .await
                .map_err(|e| e.to_string())?;
                if seen {
                    return Ok(false);
                }
                let to: Mailbox = email
                    .to
                    .parse()
                    .map_err(|e| format!("bad recipient: {e}"))?;
                let message = Message::builder()
                    .from(from.clone())
                    .to(to)
                    .subject(&email.subject)
                    .body(email.body.clone())
                    .map_err(|e| e.to_string())?;
                transport.send(message).await.map_err(|e| e.to_string())?;
                // Bodies may hold one-time links, so production keeps only the fact of sending.
                sqlx::query!(
                    r#"INSERT INTO emails (idempotency_key, to_address, subject, body, transport)
                       VALUES ($1, $2, $3, '', 'smtp') ON CONFLICT (idempotency_key) DO NOTHING"#,
                    email.idempotency_key,
                    email.to,
                    email.subject,
                )
                .execute(db)
                .await
                .map_err(|e| e.to_string())?;
                Ok(true)
            }
        }
    }
}

/// A message in the dev mailbox.
#[derive(Clone, Debug, serde::Serialize)]
pub struct StoredEmail {
    /// Its row id.
    pub id: i64,
    /// The recipient.
    pub to: String,
    /// The subject line.
    pub subject: String,
    /// The plain-text body.
    pub body: String,
    /// When it was sent, RFC 3339.
    pub created_at: String,
}

/// The newest dev-mailbox messages, optionally for one recipient.
pub async fn dev_mailbox(
    db: &PgPool,
    to: Option<&str>,
    limit: i64,
) -> Result<Vec<StoredEmail>, types::AppError> {
    let rows = sqlx::query!(
        r#"SELECT id, to_address, subject, body, created_at FROM emails
           WHERE transport = 'dev_mailbox' AND ($1::text IS NULL OR to_address = lower($1))
           ORDER BY id DESC LIMIT $2"#,
        to,
        limit
    )
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| StoredEmail {
            id: r.id,
            to: r.to_address,
            subject: r.subject,
            body: r.body,
            created_at: r.created_at.to_string(),
        })
        .collect())
}
