//! What the shopper is told, and when: every email body lives here. The outbox worker
//! hands each event to [`Dispatcher`], which applies the state change an event stands for
//! (a payment settling) and sends the email that goes with it, keyed so a redelivered
//! event never sends twice.

use crate::mail::{Mailer, OutgoingEmail};
use crate::orders::Orders;
use crate::outbox::{topics, Event, Handler};
use serde_json::Value;
use sqlx::PgPool;
use uuid::Uuid;

/// Handles the outbox's events: emails, and settling payments.
#[derive(Clone)]
pub struct Dispatcher {
    /// The pool orders are read from.
    pub db: PgPool,
    /// Where emails go.
    pub mailer: Mailer,
    /// The shop's public address, for links in emails.
    pub public_url: String,
}

impl Handler for Dispatcher {
    /// Handles one event. Unknown topics succeed: nothing subscribes to them yet.
    async fn handle(&self, event: &Event) -> Result<(), String> {
        let text = |key: &str| {
            event
                .payload
                .get(key)
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned()
        };
        let email = match event.topic.as_str() {
            topics::USER_CREATED => welcome(
                &text("user_id"),
                &text("email"),
                &text("name"),
                &self.public_url,
            ),
            topics::PASSWORD_RESET_REQUESTED => {
                password_reset(event.id, &text("email"), &text("secret"), &self.public_url)
            }
            topics::PAYMENT_SUCCEEDED => {
                match crate::payments::settle(&self.db, &event.payload).await? {
                    Some(order_id) => self.order_confirmed(order_id).await?,
                    None => return Ok(()),
                }
            }
            topics::ORDER_STATUS_CHANGED => {
                self.order_moved(&text("order_id"), &text("status")).await?
            }
            other => {
                tracing::debug!(topic = other, id = event.id, "no handler for topic");
                return Ok(());
            }
        };
        self.mailer.send(&email).await.map(|_| ())
    }
}

fn welcome(user_id: &str, to: &str, name: &str, public_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        idempotency_key: format!("welcome:{user_id}"),
        to: to.to_owned(),
        subject: "Welcome to Bazaar".to_owned(),
        body: format!(
            "Hi {name},\n\nYour Bazaar account is ready. Sign in any time at {public_url}/login.\n\nHappy shopping!\nBazaar"
        ),
    }
}

fn password_reset(event: i64, to: &str, secret: &str, public_url: &str) -> OutgoingEmail {
    OutgoingEmail {
        idempotency_key: format!("reset:{event}"),
        to: to.to_owned(),
        subject: "Reset your Bazaar password".to_owned(),
        body: format!(
            "Someone (hopefully you) asked to reset your Bazaar password.\n\n\
             Choose a new one here within the hour:\n{public_url}/reset-password?token={secret}\n\n\
             If it wasn't you, ignore this email; your password stays as it is."
        ),
    }
}

impl Dispatcher {
    async fn order(&self, order_id: &str) -> Result<types::Order, String> {
        Orders::get_with(&self.db, order_id)
            .await
            .map_err(|e| e.to_string())?
            .ok_or_else(|| "order not found".to_owned())
    }

    /// The one confirmation of a paid order, with its lines.
    async fn order_confirmed(&self, order_id: Uuid) -> Result<OutgoingEmail, String> {
        let order = self.order(&order_id.to_string()).await?;
        let lines: String = order
            .lines
            .iter()
            .map(|l| format!("  {} × {}  {}\n", l.quantity, l.name, l.unit_price))
            .collect();
        Ok(OutgoingEmail {
            idempotency_key: format!("order-paid:{order_id}"),
            to: order.email.clone(),
            subject: "Your Bazaar order is confirmed".to_owned(),
            body: format!(
                "Thank you! We received your payment of {} for order {}.\n\n{lines}\n\
                 Track it at {}/orders/{order_id}\n\nBazaar",
                order.total, order.id, self.public_url
            ),
        })
    }

    /// Tells the shopper their order moved; one email per order and status.
    async fn order_moved(&self, order_id: &str, status: &str) -> Result<OutgoingEmail, String> {
        let order = self.order(order_id).await?;
        let link = format!("{}/orders/{order_id}", self.public_url);
        let (subject, body) = match status {
            "shipped" => (
                "Your Bazaar order has shipped",
                format!(
                    "Good news: your order is on its way.\n\nTracking number: {}\n\nFollow it at {link}",
                    order.tracking_number.as_deref().unwrap_or("-")
                ),
            ),
            "delivered" => ("Your Bazaar order was delivered", format!("Your order has arrived. Enjoy!\n\n{link}")),
            "cancelled" => (
                "Your Bazaar order was cancelled",
                format!("We cancelled your order; any payment is refunded in full.\n\n{link}"),
            ),
            "refunded" => (
                "Your Bazaar order was refunded",
                format!("We refunded {} for your order. It reaches your card in a few days.\n\n{link}", order.total),
            ),
            other => return Err(format!("no email for status {other}")),
        };
        Ok(OutgoingEmail {
            idempotency_key: format!("order-{status}:{order_id}"),
            to: order.email,
            subject: subject.to_owned(),
            body,
        })
    }
}
