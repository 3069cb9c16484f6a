# The shop's web app: counts visits in redis, keeps orders in postgres and a receipt per order
# in a persistent state directory, so that "the data was kept" can be checked over HTTP.
import os
import time

import psycopg2
import redis
from flask import Flask, abort, jsonify, request

VERSION = "v1"

app = Flask(__name__)
cache = redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=5)
RECEIPTS = os.environ["RECEIPTS_DIR"]


def database():
    return psycopg2.connect(os.environ["DATABASE_URL"], connect_timeout=5)


@app.get("/")
def index():
    visits = cache.incr("visits")
    return f"shop {VERSION}: visit {visits}\n"


@app.get("/version")
def version():
    return VERSION


@app.get("/healthz")
def healthz():
    return "ok"


@app.get("/slow")
def slow():
    # A request that takes a while (a report, an upload): it keeps a replica busy while it stops.
    time.sleep(min(float(request.args.get("seconds", "1")), 10))
    return "done"


@app.get("/visits")
def visits():
    return str(int(cache.get("visits") or 0))


@app.post("/orders")
def place_order():
    item = request.get_json(force=True).get("item", "")
    with database() as connection, connection.cursor() as cursor:
        cursor.execute("INSERT INTO orders (item) VALUES (%s) RETURNING id", (item,))
        order_id = cursor.fetchone()[0]
    with open(os.path.join(RECEIPTS, f"{order_id}.txt"), "w") as receipt:
        receipt.write(f"order {order_id}: {item}\n")
    return jsonify(id=order_id, item=item), 201


@app.get("/orders/<int:order_id>")
def show_order(order_id):
    with database() as connection, connection.cursor() as cursor:
        cursor.execute("SELECT item FROM orders WHERE id = %s", (order_id,))
        row = cursor.fetchone()
    if row is None:
        abort(404)
    path = os.path.join(RECEIPTS, f"{order_id}.txt")
    receipt = open(path).read() if os.path.exists(path) else None
    return jsonify(id=order_id, item=row[0], receipt=receipt)
