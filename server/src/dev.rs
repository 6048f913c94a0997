//! Development-only pages. In production every route here is a 404.

use crate::AppState;
use axum::{
    extract::{Query, State},
    response::{Html, IntoResponse, Response},
    Json,
};
use serde::Deserialize;
use types::AppError;

/// `?to=` filters the mailbox by recipient.
#[derive(Deserialize)]
pub struct MailboxQuery {
    to: Option<String>,
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn enabled(state: &AppState) -> Result<(), AppError> {
    if state.config.is_production() || !state.services.mailer.is_dev_mailbox() {
        Err(AppError::NotFound("not found".to_owned()))
    } else {
        Ok(())
    }
}

/// `GET /dev/mailbox`: the emails the store would have sent, newest first.
pub async fn mailbox(
    State(state): State<AppState>,
    Query(q): Query<MailboxQuery>,
) -> Result<Response, AppError> {
    enabled(&state)?;
    let mails = domain::mail::dev_mailbox(&state.services.db, q.to.as_deref(), 100).await?;
    let mut html = String::from(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Dev mailbox · Bazaar</title></head>\
         <body><main><h1>Dev mailbox</h1><p>Mail is kept here instead of being sent (development only).</p>",
    );
    if mails.is_empty() {
        html.push_str("<p>No mail yet.</p>");
    }
    for m in &mails {
        html.push_str(&format!(
            "<article class=\"mail\"><h2>{}</h2><p>To: <span class=\"to\">{}</span> · {}</p><pre>{}</pre></article>",
            escape(&m.subject),
            escape(&m.to),
            escape(&m.created_at),
            escape(&m.body)
        ));
    }
    html.push_str("</main></body></html>");
    Ok(Html(html).into_response())
}

/// `GET /dev/mailbox.json`: the same, for tests.
pub async fn mailbox_json(
    State(state): State<AppState>,
    Query(q): Query<MailboxQuery>,
) -> Result<Response, AppError> {
    enabled(&state)?;
    Ok(
        Json(domain::mail::dev_mailbox(&state.services.db, q.to.as_deref(), 100).await?)
            .into_response(),
    )
}
