#!/usr/bin/env python3
"""A whole purchase over the public JSON API, as an API client makes it.

    scripts/purchase.py BASE_URL

Signup, token, add to cart, checkout, the dev payment provider's card form, the order
turning paid, and the confirmation in the dev mailbox. Prints one line per step and exits
non-zero, naming the step, on the first answer that is not what the contract promises.
Needs a store running with the dev payment provider and dev mailbox (APP_ENV=development).
"""

import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


class Failed(Exception):
    pass


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


OPENER = urllib.request.build_opener(NoRedirect)


def call(base, method, path, body=None, token=None, headers=None, form=None):
    """One request; returns (status, headers, parsed JSON or text)."""
    url = path if path.startswith("http") else base + path
    data, hdrs = None, dict(headers or {})
    if body is not None:
        data, hdrs["Content-Type"] = json.dumps(body).encode(), "application/json"
    if form is not None:
        data = urllib.parse.urlencode(form).encode()
        hdrs["Content-Type"] = "application/x-www-form-urlencoded"
    if token:
        hdrs["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with OPENER.open(req, timeout=15) as resp:
            status, rh, raw = resp.status, resp.headers, resp.read()
    except urllib.error.HTTPError as e:
        status, rh, raw = e.code, e.headers, e.read()
    text = raw.decode("utf-8", "replace")
    try:
        return status, rh, json.loads(text)
    except ValueError:
        return status, rh, text


def expect(step, got, want, detail):
    if got != want:
        raise Failed(f"{step}: expected {want}, got {got}: {str(detail)[:300]}")
    print(f"  ok    {step}")


def eventually(step, fetch, ok, seconds=15):
    deadline = time.monotonic() + seconds
    last = None
    while time.monotonic() < deadline:
        last = fetch()
        if ok(last):
            print(f"  ok    {step}")
            return last
        time.sleep(0.3)
    raise Failed(f"{step}: not within {seconds}s; last answer: {str(last)[:300]}")


def purchase(base):
    status, _, page = call(base, "GET", "/api/catalog/products?per_page=24")
    expect("the catalog lists products", status, 200, page)
    sku = None
    for item in page["items"]:
        if not item["in_stock"]:
            continue
        _, _, detail = call(base, "GET", f"/api/catalog/products/{item['slug']}")
        sku = next((v["sku"] for v in detail["variants"] if v["available"] > 0), None)
        if sku:
            break
    if not sku:
        raise Failed("no product in stock on the first catalog page")

    email = f"journey-{uuid.uuid4().hex[:12]}@example.test"
    password = "a long journey password"
    status, _, user = call(base, "POST", "/api/users", {"email": email, "password": password, "name": "Journey"})
    expect("signup answers 201", status, 201, user)
    status, _, tok = call(base, "POST", "/api/auth/token", {"email": email, "password": password})
    expect("a token is issued", status, 200, tok)
    token = tok["access_token"]

    status, _, cart = call(base, "POST", "/api/cart/items", {"sku": sku, "quantity": 1}, token)
    expect("add to cart answers 200", status, 200, cart)
    expect("the cart holds one item", cart.get("item_count"), 1, cart)

    address = {"name": "Journey Shopper", "line1": "1 Main St", "city": "Springfield",
               "postal_code": "12345", "country": "US"}
    key = {"Idempotency-Key": uuid.uuid4().hex}
    body = {"shipping_address": address, "shipping_method": "standard"}
    status, _, order = call(base, "POST", "/api/checkout", body, token, key)
    expect("checkout answers 201", status, 201, order)
    expect("the order awaits payment", order["status"], "pending_payment", order)
    again_status, _, again = call(base, "POST", "/api/checkout", body, token, key)
    expect("the same key gives the same order", (again_status, again.get("order_id")), (201, order["order_id"]), again)

    pay_url = urllib.parse.urljoin(base + "/", order["payment_url"])
    pay_path = urllib.parse.urlparse(pay_url).path
    status, hdrs, _ = call(base, "POST", pay_path, form={"card_number": "4242424242424242"})
    expect("the dev card form accepts 4242 with a redirect", status in (302, 303), True, hdrs)

    oid = order["order_id"]
    eventually("the order turns paid",
               lambda: call(base, "GET", f"/api/orders/{oid}", token=token)[2],
               lambda o: isinstance(o, dict) and o.get("status") == "paid")
    status, _, orders = call(base, "GET", "/api/orders", token=token)
    expect("the order is in the shopper's history", any(o.get("id") == oid for o in orders), True, orders)
    query = urllib.parse.urlencode({"to": email})
    eventually("the confirmation email is in the dev mailbox",
               lambda: call(base, "GET", f"/dev/mailbox.json?{query}")[2],
               lambda mails: isinstance(mails, list) and any("confirmed" in m.get("subject", "") for m in mails))
    return oid


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    base = sys.argv[1].rstrip("/")
    try:
        oid = purchase(base)
    except Failed as e:
        print(f"  FAIL  {e}", file=sys.stderr)
        return 1
    except (OSError, KeyError, TypeError) as e:
        print(f"  FAIL  the journey broke: {e!r}", file=sys.stderr)
        return 1
    print(f"purchase complete: order {oid} paid")
    return 0


if __name__ == "__main__":
    sys.exit(main())
