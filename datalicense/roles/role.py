"""The base of every role (datalicense.roles.seller.Seller, .buyer.Buyer, .owner.DatasetOwner, .arbiter.Arbiter):
one connection (datalicense.infra.connection), its key store and its market reader."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from datalicense.infra.connection import Connection

if TYPE_CHECKING:  # annotations only: both are roles of this layer, which import this module
    from datalicense.roles.keys import KeyStore
    from datalicense.roles.reader import MarketReader


class Role:
    """What a role works with: the connection, its key store and its market reader."""

    def __init__(self, conn: Connection, keys: "KeyStore", reader: "MarketReader"):
        self.conn = conn
        self.keys = keys
        self.reader = reader

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.conn.who} on chain {self.conn.chain_id}>"


class Parts(Protocol):
    """What a function over several roles needs (datalicense.roles.replicas, .erasure): the connection, the key
    store and the market reader. A Role has them, and so has datalicense.client.Client."""

    conn: Connection
    keys: "KeyStore"
    reader: "MarketReader"
