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

/// The dev payment provider, or 404 where it is not in use.
fn dev_provider(state: &AppState) -> Result<&domain::payments::dev::DevProvider, AppError> {
    match state.services.payments.dev() {
        Some(p) if !state.config.is_production() => Ok(p),
        _ => Err(AppError::NotFound("not found".to_owned())),
    }
}

/// The card form of `POST /dev/pay/{session_id}`.
#[derive(Deserialize)]
pub struct PayForm {
    #[serde(default)]
    card_number: String,
}

const PAY_STYLE: &str = "body{font:16px/1.5 system-ui,sans-serif;background:#f6f7fb;color:#1a1f36;margin:0}\
main{max-width:28rem;margin:3rem auto;background:#fff;border-radius:12px;padding:2rem;box-shadow:0 4px 24px #0001}\
h1{font-size:1.25rem;margin:0 0 .25rem}.total{font-size:2rem;font-weight:700;margin:.5rem 0 1rem}\
table{width:100%;border-collapse:collapse;margin-bottom:1rem}td{padding:.25rem 0}td.n{text-align:right}\
label{display:block;font-weight:600;margin-top:1rem}input{width:100%;box-sizing:border-box;font:inherit;padding:.6rem;border:1px solid #c9cdd8;border-radius:6px}\
button{width:100%;margin-top:1.25rem;padding:.75rem;font:inherit;font-weight:600;color:#fff;background:#635bff;border:0;border-radius:6px;cursor:pointer}\
.error{background:#fdecea;color:#8a1c12;padding:.75rem;border-radius:6px}.hint{color:#5b6275;font-size:.875rem}";

fn pay_page(session: &domain::payments::dev::DevSession, error: Option<&str>) -> String {
    let money = |amount: i64| {
        types::Currency::parse(&session.currency)
            .map(|c| types::Money::new(amount, c).to_string())
            .unwrap_or_else(|_| format!("{amount} {}", session.currency))
    };
    let lines: String = session
        .lines
        .iter()
        .map(|(name, qty, unit)| {
            format!(
                "<tr><td>{} × {}</td><td class=\"n\">{}</td></tr>",
                qty,
                escape(name),
                money(unit * qty)
            )
        })
        .collect();
    let open = session.status == "open" && !session.expired;
    let body = if open {
        format!(
            "{}<form method=\"post\"><label for=\"card\">Card number</label>\
             <input id=\"card\" name=\"card_number\" inputmode=\"numeric\" autocomplete=\"cc-number\" required placeholder=\"4242 4242 4242 4242\">\
             <p class=\"hint\">Test cards: 4242 4242 4242 4242 pays · 4000 0000 0000 0002 is declined.</p>\
             <button type=\"submit\">Pay {}</button></form>\
             <p><a href=\"{}\">Cancel and return to the shop</a></p>",
            error
                .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
                .unwrap_or_default(),
            money(session.amount),
            escape(&session.cancel_url)
        )
    } else {
        format!(
            "<p class=\"error\" role=\"alert\">This checkout is no longer open.</p><p><a href=\"{}\">Back to your order</a></p>",
            escape(&session.success_url)
        )
    };
    format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Pay · Bazaar (dev payments)</title><style>{PAY_STYLE}</style></head>\
         <body><main><h1>Bazaar</h1><p class=\"hint\">Dev payment provider · no real money moves · {}</p>\
         <p class=\"total\" data-testid=\"pay-total\">{}</p><table>{lines}</table>{body}</main></body></html>",
        escape(&session.customer_email),
        money(session.amount)
    )
}

/// The hosted page's own policy: its inline stylesheet, nothing else.
fn pay_response(status: axum::http::StatusCode, html: String) -> Response {
    (
        status,
        [(
            axum::http::header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'",
        )],
        Html(html),
    )
        .into_response()
}

/// The dev provider and session `id`, or 404.
async fn open_session<'a>(
    state: &'a AppState,
    id: &str,
) -> Result<
    (
        &'a domain::payments::dev::DevProvider,
        domain::payments::dev::DevSession,
    ),
    AppError,
> {
    let provider = dev_provider(state)?;
    let session = provider
        .session(id)
        .await?
        .ok_or_else(|| AppError::not_found("payment session"))?;
    Ok((provider, session))
}

/// `GET /dev/pay/{session_id}`: the stand-in for Stripe's hosted checkout page.
pub async fn pay_form(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, AppError> {
    let (_, session) = open_session(&state, &id).await?;
    Ok(pay_response(
        axum::http::StatusCode::OK,
        pay_page(&session, None),
    ))
}

/// `POST /dev/pay/{session_id}`: pays with 4242…, declines 4000…0002; either way the
/// result reaches our webhook as a signed event before the shopper is sent back.
pub async fn pay(
    State(state): State<AppState>,
    axum::extract::Path(id): axum::extract::Path<String>,
    axum::Form(form): axum::Form<PayForm>,
) -> Result<Response, AppError> {
    use axum::http::StatusCode;
    use domain::payments::dev::Attempt;
    let (provider, session) = open_session(&state, &id).await?;
    match provider.pay(&id, &form.card_number).await {
        Ok(Attempt::Paid { redirect }) => {
            Ok(axum::response::Redirect::to(&redirect).into_response())
        }
        Ok(Attempt::Declined { message }) => Ok(pay_response(
            StatusCode::PAYMENT_REQUIRED,
            pay_page(&session, Some(&message)),
        )),
        Err(e @ AppError::Validation { .. }) => Ok(pay_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            pay_page(&session, Some(&e.to_string())),
        )),
        Err(AppError::Conflict(_)) => {
            let closed = provider.session(&id).await?.unwrap_or(session);
            Ok(pay_response(StatusCode::CONFLICT, pay_page(&closed, None)))
        }
        Err(e) => Err(e),
    }
}
